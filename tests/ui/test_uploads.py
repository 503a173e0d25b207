"""The galleries' uploads are decoded and answered once each (issue 27, finding 6: a batch of more than 16
large photos re-decoded every photo on every rerun, and the server kept hundreds of MB for good)."""
import io
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from core.errors import StudioError
from ui import uploads


class Upload:
    def __init__(self, file_id: str, data: bytes):
        self.file_id, self.data, self.reads = file_id, data, 0

    def getvalue(self) -> bytes:
        self.reads += 1
        return self.data


class CountingPredictor:
    def __init__(self):
        self.sent = []

    def predict_many(self, pictures):
        if pictures:  # an empty call costs nothing
            self.sent.append(len(pictures))
        return [f"answer {picture.size}" for picture in pictures]


def photo(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(side).integers(0, 256, (side, side, 3), np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def session(monkeypatch):
    state, version = {}, ["v1"]
    monkeypatch.setattr(uploads.st, "session_state", state)
    monkeypatch.setattr(uploads.resources, "model_version", lambda info: version[0])
    return SimpleNamespace(state=state, version=version)


def test_each_file_is_answered_once_and_only_its_thumbnail_is_kept(session):
    predictor = CountingPredictor()
    first, second, broken = Upload("a", photo(900)), Upload("b", photo(700)), Upload("c", b"not an image")
    sent = [("a.png", first), ("broken.png", broken)]
    results = uploads.answered(sent, None, predictor, "answers", 64)
    assert [r[0] for r in results] == ["a.png", "broken.png"]
    assert results[0][2] == "answer (900, 900)"
    assert results[1][1] is None and isinstance(results[1][2], StudioError)

    results = uploads.answered([*sent, ("b.png", second)], None, predictor, "answers", 64)  # one more joins
    assert predictor.sent == [1, 1]  # the new file alone went to the model
    assert first.reads == second.reads == broken.reads == 1
    assert [r[2] for r in results if r[1] is not None] == ["answer (900, 900)", "answer (700, 700)"]
    kept = session.state["answers"][1]
    assert all(thumbnail is None or max(thumbnail.shape[:2]) <= 64 for _, thumbnail, _ in kept.values())


def test_a_file_removed_is_forgotten_and_a_new_model_version_answers_again(session):
    predictor = CountingPredictor()
    first, second = Upload("a", photo(300)), Upload("b", photo(200))
    uploads.answered([("a.png", first), ("b.png", second)], None, predictor, "answers", 64)
    uploads.answered([("b.png", second)], None, predictor, "answers", 64)
    assert set(session.state["answers"][1]) == {"b"}  # nothing of a removed file stays in the session
    session.version[0] = "v2"  # the model was retrained
    uploads.answered([("b.png", second)], None, predictor, "answers", 64)
    assert predictor.sent == [2, 1]
