"""Widgets several pages share: the drawing canvas, clear buttons, and crisp enlargements of small images."""
from __future__ import annotations

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas


def enlarge(image: np.ndarray, side: int = 140) -> np.ndarray:
    """A small model input shown large with crisp pixels."""
    image = np.asarray(image).squeeze()
    factor = max(1, side // image.shape[0])
    return np.kron(image, np.ones((factor, factor) + ((1,) if image.ndim == 3 else ()))).astype(np.uint8)


def widget_key(name: str) -> str:
    """The current key of a widget that `clear_button` can empty: a new key mounts an empty widget."""
    return f"{name}_{st.session_state.get(f'{name}_generation', 0)}"


def clear_button(name: str, label: str) -> None:
    def renew():  # runs before the rerun, so the widget is empty wherever the button sits
        st.session_state[f"{name}_generation"] = st.session_state.get(f"{name}_generation", 0) + 1

    st.button(label, icon=":material/ink_eraser:", key=f"clear_{name}", on_click=renew)


def drawing_canvas(name: str, width: int, height: int, stroke: int):
    """A stroke-width slider, a Clear button and the canvas; returns its RGBA pixels or None.

    Black ink on a transparent background: the ink is the alpha channel.
    """
    stroke = st.slider("Stroke width", 4, 40, stroke, key=f"stroke_{name}")
    clear_button(f"canvas_{name}", "Clear")
    result = st_canvas(stroke_width=stroke, stroke_color="#000000", background_color="", width=width,
                       height=height, drawing_mode="freedraw", return_image_data=True,
                       key=widget_key(f"canvas_{name}"))
    data = result.image_data
    return None if data is None else np.asarray(data)
