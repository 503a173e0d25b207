"""The teacher's view: who may open it, set in secrets.toml; what it shows comes from core.

`[studio] teacher_password = "..."` opens it to anyone who types the password; `[studio] teachers = [...]`
(e-mail addresses) opens it without one to those people once signed in with `st.login`.
"""
import hmac

import streamlit as st

from ui import workspace


def _settings() -> dict:
    try:
        return dict(st.secrets.get("studio", {}))
    except FileNotFoundError:  # no secrets.toml at all
        return {}


def configured() -> bool:
    """Whether this studio has a teacher's view at all (the navigation offers it only then)."""
    settings = _settings()
    return bool(settings.get("teacher_password") or settings.get("teachers"))


def is_teacher() -> bool:
    """The signed-in person is one of `teachers`, or this session typed the password."""
    if workspace.signed_in() and st.user.get("email") in _settings().get("teachers", []):
        return True
    return bool(st.session_state.get("teacher"))


def check_password(typed: str) -> bool:
    expected = str(_settings().get("teacher_password", ""))
    granted = bool(expected) and hmac.compare_digest(typed.encode(), expected.encode())
    st.session_state["teacher"] = granted
    return granted
