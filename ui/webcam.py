"""A webcam that records bursts: hold its button and it takes a few photos a second; let go and they arrive here
together, one rerun for the whole burst (`st.camera_input` takes one photo per click, each its own rerun).

The recorder is a static component (`webcam_frontend/index.html`): no build step, no server-side video. The
browser sends JPEG data URIs; they are checked here and bounded in number and size before anything reads them.
"""
from __future__ import annotations

import base64
import binascii
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

FPS = 4
MAX_FRAMES = 40  # ten seconds of holding; the recorder stops by itself there
MAX_FRAME_BYTES = 2 * 1024 * 1024
PREFIX = "data:image/jpeg;base64,"

_recorder = components.declare_component("webcam_burst", path=str(Path(__file__).with_name("webcam_frontend")))


def burst(label: str, key: str) -> list[bytes]:
    """The JPEG photos of a burst recorded since the last call, once each; an empty list when there is none new.

    The component keeps returning its last burst on every rerun, so each burst's id is remembered and a
    burst is handed out only the first time it is seen."""
    value = _recorder(label=label, fps=FPS, max_frames=MAX_FRAMES, side=640, key=key, default=None)
    if not isinstance(value, dict) or value.get("burst") == st.session_state.get(f"{key}_seen"):
        return []
    st.session_state[f"{key}_seen"] = value.get("burst")
    frames = value.get("frames")
    return [photo for photo in map(jpeg_bytes, frames[:MAX_FRAMES] if isinstance(frames, list) else [])
            if photo is not None]


def jpeg_bytes(data_uri) -> bytes | None:
    """The bytes of one JPEG data URI from the recorder, or None for anything else (too large, not base64)."""
    if not isinstance(data_uri, str) or not data_uri.startswith(PREFIX):
        return None
    payload = data_uri[len(PREFIX):]
    if len(payload) > MAX_FRAME_BYTES * 4 // 3 + 4:
        return None
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None
