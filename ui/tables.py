"""pandas tables shown by the pages."""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.feature_maps import Scale


def report_frame(result: dict):
    """The classification report as a table: one row per class plus the averages."""
    frame = pd.DataFrame(result["report"]).T
    frame = frame.drop(index="accuracy", errors="ignore")
    frame["support"] = frame["support"].astype(int)
    return frame


def number_grid(values: np.ndarray):
    """A small grid of numbers (a filter's window, its kernel, their products), each cell coloured by its sign
    and size on the diverging scale of the feature maps, white at zero."""
    values = np.asarray(values, float)
    edge = max(float(np.abs(values).max()), 1e-6)
    scale = Scale(-edge, edge, True)

    def cell(value: float) -> str:
        red, green, blue = scale.colour(np.array([value]))[0]
        ink = "white" if abs(value) > edge * 0.6 else "black"
        return f"background-color: rgb({red},{green},{blue}); color: {ink}"

    frame = pd.DataFrame(values)
    return frame.style.map(cell).format("{:.3f}").hide(axis="index").hide(axis="columns")
