"""Widgets several pages share: the drawing canvas, clear buttons, crisp enlargements of small images,
and the Download button of a dataset that is not here yet."""
from __future__ import annotations

import re

import numpy as np
import streamlit as st
from streamlit.runtime import exists, get_instance
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit_drawable_canvas import st_canvas

from core.data import acquire, catalog
from core.errors import StudioError
from ui import resources

MARKDOWN_SIGNS = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~$])")


def literal(text: str) -> str:
    """Text a person chose (a class or folder name) made safe inside Markdown: shown as typed, never a link,
    a heading or emphasis."""
    return MARKDOWN_SIGNS.sub(r"\\\1", text)


def enlarge(image: np.ndarray, side: int = 140) -> np.ndarray:
    """A small model input shown large with crisp pixels."""
    image = np.asarray(image).squeeze()
    factor = max(1, side // image.shape[0])
    return np.kron(image, np.ones((factor, factor) + ((1,) if image.ndim == 3 else ()))).astype(np.uint8)


def answer_line(outcome) -> str:
    """A model's answer to one picture in a gallery: the label and its confidence, the top guesses when it is not
    sure, or the sentence of a picture it refused."""
    if isinstance(outcome, StudioError):
        return str(outcome)
    if outcome.unsure:
        return "Not sure: " + ", ".join(f"{label} {p:.0%}" for label, p in outcome.top(3))
    return f"**{outcome.label}** · {outcome.confidence:.0%}"


def rerun_part() -> None:
    """Rerun the fragment this runs in when this is that fragment's own rerun; during a full run of the page
    (its first, or a change outside the fragment), Streamlit allows only a rerun of the page."""
    context = get_script_run_ctx()
    st.rerun(scope="fragment" if context is not None and context.fragment_ids_this_run else "app")


def widget_key(name: str) -> str:
    """The current key of a widget that `clear_button` can empty: a new key mounts an empty widget."""
    return f"{name}_{st.session_state.get(f'{name}_generation', 0)}"


def renew_widget(name: str) -> None:
    """Empty a widget keyed by `widget_key(name)` from the next run on, dropping any files it held."""
    release_uploads(st.session_state.get(widget_key(name)))
    st.session_state[f"{name}_generation"] = st.session_state.get(f"{name}_generation", 0) + 1


def clear_button(name: str, label: str) -> None:
    # As a callback it runs before the rerun, so the widget is empty wherever the button sits.
    st.button(label, icon=":material/ink_eraser:", key=f"clear_{name}", on_click=renew_widget, args=(name,))


def release_uploads(files) -> None:
    """Drop uploaded files from the server's memory now, not when the session ends.

    An uploader that is replaced by a fresh one (`clear_button`) leaves its files in Streamlit's
    upload store for the rest of the session: eight large photos would stay there, twice over
    after a second batch."""
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


def explain_unavailable(spec: str, problem: str) -> None:
    """Why a dataset cannot be used: its problem, or for one that is not here yet, the Download button."""
    if catalog.is_present(spec):
        st.error(problem)
    else:
        dataset_download(spec)


def dataset_download(spec: str) -> None:
    """Where a missing dataset goes, and a Download button with a progress bar when it can be fetched."""
    if spec not in catalog.SOURCES:
        st.warning(catalog.missing_sentence(spec, catalog.folder_of(spec)))
        return
    st.caption(f"{catalog.describe_spec(spec)} is not on this machine yet. Download it here, or "
               f"{catalog.SOURCES[spec].by_hand}.")
    if st.button("Download", icon=":material/download:", key=f"download_{spec}"):
        bar = st.progress(0.0, text="Connecting…")

        def show(done, total):
            share = min(done / total, 1.0) if total else 0.0
            bar.progress(share, text=f"Downloaded {done / 1e6:.0f} MB" + (f" of {total / 1e6:.0f} MB" if total else ""))

        try:
            with st.status(f"Fetching {catalog.describe_spec(spec)}…", expanded=True) as status:
                report = acquire.fetch(spec, show, scan_progress=lambda d, t: bar.progress(
                    d / t, text=f"Checking photos: {d:,} of {t:,}"))
                status.update(label=f"Ready: {report['kept']:,} photos, {report['skipped']} skipped", state="complete")
            resources.forget_dataset(spec)  # shared, so not cleared with what is derived from it
            st.cache_data.clear()
            st.rerun()
        except StudioError as exc:
            st.error(str(exc))
