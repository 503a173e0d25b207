"""Whose workspace this session works in: the signed-in person's, else this browser's.

Where Streamlit's login is configured (`[auth]` in secrets.toml) and the visitor signed in, the workspace
follows their identity. Otherwise a browser gets a new, unguessable workspace on its first visit, kept in
a cookie (never in the address, so a shared link never shares it) across reloads and server restarts.
A visitor who asks for a link to their workspace gets one; opening it adopts that workspace.
"""
import json
import re
from urllib.parse import urlsplit, urlunsplit

import streamlit as st

from core import workspace
from core.workspace import Workspace

COOKIE = "studio_workspace"
BROWSER_ID = re.compile(r"^[0-9a-f]{32}$")  # what workspace.new() makes; a cookie holding anything else is ignored
LINK_PARAM = "workspace"
YEAR = 365 * 24 * 3600


def login_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets.toml at all
        return False


def signed_in() -> bool:
    try:
        return bool(st.user.is_logged_in)
    except (AttributeError, KeyError):  # no [auth] in secrets.toml: nobody signs in
        return False


def current() -> Workspace:
    """This session's workspace, decided once per session."""
    if signed_in():
        return workspace.of_user(str(st.user.get("iss", "")), str(st.user.get("sub") or st.user.get("email")))
    if "workspace" not in st.session_state:
        st.session_state["workspace"] = _from_link() or _from_cookie() or workspace.new()
    chosen = st.session_state["workspace"]
    if st.context.cookies.get(COOKIE) != chosen.name:
        _keep_in_cookie(chosen.name)
    return chosen


def _from_link() -> Workspace | None:
    """A workspace link the visitor opened: adopted, then taken out of the address again."""
    name = st.query_params.get(LINK_PARAM)
    if name is None:
        return None
    del st.query_params[LINK_PARAM]
    return Workspace(name) if BROWSER_ID.match(name) else None


def _from_cookie() -> Workspace | None:
    name = st.context.cookies.get(COOKIE, "")
    return Workspace(name) if isinstance(name, str) and BROWSER_ID.match(name) else None


def _keep_in_cookie(name: str) -> None:
    # Script elements of st.html run in the page itself, so the cookie is this site's; the next visit sends it.
    cookie = f"{COOKIE}={name}; max-age={YEAR}; path=/; SameSite=Strict"
    st.html(f"<script>document.cookie = {json.dumps(cookie)};</script>", unsafe_allow_javascript=True)


def link(page_url: str) -> str:
    """The address that opens this browser's workspace in another browser."""
    address = urlsplit(page_url)
    return urlunsplit((address.scheme, address.netloc, "/", f"{LINK_PARAM}={current().name}", ""))
