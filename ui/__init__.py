"""Streamlit pieces shared by several pages (the sidebar, the shell guard)."""
import streamlit as st


def use_shell() -> None:
    """Make sure a page runs inside `streamlit_app.py`'s navigation and sidebar.

    A `pages/` folder next to the entry point makes Streamlit start in its old
    folder-based mode, so a deep link (`/eda`) opened first after a server start
    would run the page alone, without the shared sidebar. `st.navigation` switches
    that mode off for good; here we switch it off and rerun through the entry point.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
