"""Streamlit pieces shared by several pages (the sidebar, the shell)."""
import threading

import streamlit as st

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
    the page alone. We switch that mode off for the next runs (as `st.navigation`
    does) and draw the sidebar here, without a rerun that would drop a button click.
    """
    if getattr(_run, "inside_shell", False):
        return
    from streamlit.runtime.pages_manager import PagesManager

    from ui import sidebar

    PagesManager.uses_pages_directory = False
    sidebar.render()


def selected_model() -> str:
    """The sidebar's model; with an empty registry, say which page makes one and stop the page."""
    name = st.session_state.get("model")
    if not name:
        st.info("There is no model yet: the **Train** page makes one.")
        st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
        st.stop()
    return name
