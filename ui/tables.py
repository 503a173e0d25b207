"""pandas tables shown by the pages."""
from __future__ import annotations

import pandas as pd


def report_frame(result: dict):
    """The classification report as a table: one row per class plus the averages."""
    frame = pd.DataFrame(result["report"]).T
    frame = frame.drop(index="accuracy", errors="ignore")
    frame["support"] = frame["support"].astype(int)
    return frame
