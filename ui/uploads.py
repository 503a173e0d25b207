"""Uploaded pictures answered once each, for the galleries of Predict and Your classes."""
import streamlit as st

from core.errors import StudioError
from core.images import decode_image, thumbnail_rgb
from ui import resources


def answered(sent, info, predictor, key: str, thumbnail: int) -> list:
    """(name, thumbnail or None, answer or the sentence why there is none) for every `(name, uploaded file)` in
    `sent`, in order. A file is decoded and answered once per model version, and kept in the session under
    `key`: new files join those sent before, and every rerun of a gallery (one more file, a toggle) would
    otherwise answer them all again. Only thumbnails are kept, never the decoded photos."""
    version = resources.model_version(info)
    kept_for, before = st.session_state.get(key, (None, {}))
    known = before if kept_for == version else {}
    fresh, pictures = [], []
    for name, upload in (pair for pair in sent if pair[1].file_id not in known):
        try:
            pictures.append(decode_image(upload.getvalue()))
            fresh.append((name, upload))
        except StudioError as exc:
            known[upload.file_id] = (name, None, exc)
    for (name, upload), picture, outcome in zip(fresh, pictures, predictor.predict_many(pictures)):
        known[upload.file_id] = (name, thumbnail_rgb(picture, thumbnail), outcome)
    st.session_state[key] = (version, {upload.file_id: known[upload.file_id] for _, upload in sent})
    return [known[upload.file_id] for _, upload in sent]
