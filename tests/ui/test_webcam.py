"""The webcam burst recorder's values: each burst handed out once, and only JPEG data URIs within bounds."""
import base64
import io

import numpy as np
import pytest
from PIL import Image

from ui import webcam


def data_uri(seed: int) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (48, 64, 3), np.uint8)).save(buffer, "JPEG")
    return webcam.PREFIX + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def recorder(monkeypatch):
    sent = {"value": None}
    monkeypatch.setattr(webcam.st, "session_state", {})
    monkeypatch.setattr(webcam, "_recorder", lambda **kwargs: sent["value"])
    return sent


def test_a_burst_is_handed_out_once_however_many_reruns_follow(recorder):
    assert webcam.burst("Hold", key="k") == []  # nothing recorded yet
    recorder["value"] = {"burst": "one", "frames": [data_uri(1), data_uri(2), data_uri(3)]}
    photos = webcam.burst("Hold", key="k")
    assert len(photos) == 3 and all(Image.open(io.BytesIO(p)).format == "JPEG" for p in photos)
    assert webcam.burst("Hold", key="k") == []  # the component repeats its last value on every rerun
    recorder["value"] = {"burst": "two", "frames": [data_uri(4)]}
    assert len(webcam.burst("Hold", key="k")) == 1


def test_anything_but_bounded_jpeg_data_uris_is_left_out(recorder):
    huge = webcam.PREFIX + "A" * (webcam.MAX_FRAME_BYTES * 2)
    recorder["value"] = {"burst": "odd", "frames": [data_uri(1), "data:text/html;base64,PGI+", huge,
                                                    webcam.PREFIX + "not base64!", 42, None]}
    assert len(webcam.burst("Hold", key="k")) == 1
    recorder["value"] = {"burst": "long", "frames": [data_uri(1)] * (webcam.MAX_FRAMES + 10)}
    assert len(webcam.burst("Hold", key="k")) == webcam.MAX_FRAMES
    for value in ({"burst": "x", "frames": "not a list"}, "a string", [1, 2]):
        recorder["value"] = value
        assert webcam.burst("Hold", key="k") == []
