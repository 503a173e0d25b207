"""Streamlit pieces shared by several pages (the sidebar, the shell)."""
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from core.errors import StudioError
from core.model import registry
from ui import workspace

INSIDE_INPUT = "inside_input"  # Predict's button leaves {"model": name, "input": model input} here for Look inside
INSIDE_SOURCE = "input"  # Look inside's input source: its widget's key and the address's name
_run = threading.local()  # Streamlit runs each session's script in its own thread


def run_page(navigation) -> None:
    """Run the selected page inside the shell (called by streamlit_app.py)."""
    _run.inside_shell = True
    try:
        navigation.run()
    finally:
        _run.inside_shell = False


def use_shell() -> None:
    """Give a page the shared sidebar even when Streamlit ran it without the entry point.

    A `pages/` folder next to `streamlit_app.py` makes Streamlit start in its old
    folder-based mode: a deep link (`/eda`) opened first after a server start runs
    the page alone, with a navigation made from the file names. We switch that mode off
    (as `st.navigation` does) and run the app again once, now through the entry point.
    Should that rerun not reach the shell, the page draws the sidebar itself.
    """
    if getattr(_run, "inside_shell", False):
        return

    from ui import sidebar

    PagesManager.uses_pages_directory = False
    if not st.session_state.get("_shell_rerun"):
        st.session_state["_shell_rerun"] = True
        st.rerun(scope="app")
    sidebar.render()


def selected_model() -> str:
    """The sidebar's model; with an empty registry, say which page makes one and stop the page."""
    name = st.session_state.get("model")
    if not name:
        st.info("There is no model yet: the **Train** page makes one.")
        st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
        st.stop()
    return name


@contextmanager
def sentence_or_stop() -> Iterator[None]:
    """What a page cannot go on without: a StudioError raised inside is shown as its sentence, and the page stops."""
    try:
        yield
    except StudioError as exc:
        st.error(str(exc))
        st.stop()


def selected_model_info():
    """The sidebar's model as this workspace reaches it (its own, or a shipped one); else a sentence, and the page
    stops."""
    name = selected_model()
    with sentence_or_stop():
        return registry.resolve(name, workspace.current().models)
