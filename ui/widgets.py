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
        release_uploads(st.session_state.get(widget_key(name)))
        st.session_state[f"{name}_generation"] = st.session_state.get(f"{name}_generation", 0) + 1

    st.button(label, icon=":material/ink_eraser:", key=f"clear_{name}", on_click=renew)


def release_uploads(files) -> None:
    """Drop uploaded files from the server's memory now, not when the session ends.

    An uploader that is replaced by a fresh one (`clear_button`) leaves its files in Streamlit's
    upload store for the rest of the session: eight large photos would stay there, twice over
    after a second batch."""
    from streamlit.runtime import exists, get_instance
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    if not files or context is None or not exists():
        return
    store = get_instance().uploaded_file_mgr
    for upload in files if isinstance(files, list) else [files]:
        if hasattr(upload, "file_id"):
            store.remove_file(context.session_id, upload.file_id)


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
