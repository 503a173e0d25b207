"""The photo gate: a natural photo uploaded to a digit model is answered with a sentence; digits written on paper,
scans and drawings are still read, and the canvas never passes through it. The command line's error line for a
photo is checked with the digit gate's (`test_digit_gate`), in the same run."""
import numpy as np
import pytest
from PIL import Image
from skimage import data

from core.data import digit_sets
from core.data.drawn_digits import draw_digit_mask, low_resolution_scan
from core.errors import NaturalPhotoError
from core.inference import predictor as predictor_module
from core.inference.predictor import Predictor
from core.model import photo_gate
from tests.support import SEVEN, canvas_rgba

pytestmark = [pytest.mark.skipif(not photo_gate.GATE_FILE.is_file(), reason="no photo gate has been made"),
              pytest.mark.slow]  # loads the shipped digit model and the backbone
PHOTOS = {"astronaut": data.astronaut, "coffee": data.coffee, "cat": data.chelsea, "rocket": data.rocket}


@pytest.fixture(scope="module")
def predictor():
    return Predictor.from_registry("mnist")  # the shipped digit model


def test_natural_photos_are_answered_with_a_sentence_in_their_place(predictor):
    outcomes = predictor.predict_many([Image.fromarray(make()) for make in PHOTOS.values()])
    assert all(isinstance(o, NaturalPhotoError) for o in outcomes), outcomes
    assert "looks like a photo, not a handwritten digit" in str(outcomes[0])
    assert "it looks more like" in str(outcomes[2])


@pytest.mark.parametrize("seed", [2_000_000, 2_000_001, 2_000_002])
def test_digits_on_paper_scans_and_drawings_are_still_read(predictor, seed):
    paper, label = digit_sets.photo_digit(seed, digit_sets.machine_fonts())
    assert predictor.predict(paper.convert("RGB")).label == str(label)
    rng = np.random.default_rng(seed)
    scan = low_resolution_scan(draw_digit_mask(seed % 10, rng, size=200, scale=(0.6, 0.9), thickness=(12, 24)), rng)
    drawing, _ = digit_sets.canvas_digit(seed)  # a drawing saved from a paint program and uploaded
    outcomes = predictor.predict_many([Image.fromarray(scan).convert("RGB"), drawing])
    assert not any(isinstance(o, NaturalPhotoError) for o in outcomes), outcomes


def test_the_canvas_never_passes_through_the_gate(predictor, monkeypatch):
    monkeypatch.setattr(photo_gate, "natural_photo", lambda picture: pytest.fail("the gate saw a canvas"))
    assert predictor.predict(canvas_rgba(SEVEN, width=16), is_sketch=True).label.isdigit()
    assert predictor.read_number(canvas_rgba(SEVEN, width=16), is_sketch=True).text.isdigit()
    with pytest.raises(pytest.fail.Exception):
        predictor.predict(canvas_rgba(SEVEN, width=16))  # an upload does


def test_without_the_gate_file_no_photo_is_refused(monkeypatch):
    monkeypatch.setattr(photo_gate, "load", lambda: None)
    assert predictor_module.refuse_natural_photo(Image.fromarray(data.astronaut())) is None


def test_an_upload_through_tflite_sees_the_features_the_gate_was_made_with():
    picture = photo_gate.pictures_input(Image.fromarray(data.astronaut()))[None]
    lite_features, lite_imagenet = photo_gate.single_pass()(picture)
    features, imagenet = (np.asarray(part) for part in photo_gate.backbone_pass()(picture))
    np.testing.assert_allclose(lite_features, features, atol=1e-4)
    np.testing.assert_allclose(lite_imagenet, imagenet, atol=1e-5)


def test_a_damaged_cached_tflite_gate_is_converted_again(tmp_path, monkeypatch):
    import tensorflow as tf

    from core import config

    monkeypatch.setattr(config, "backbone_cache_dir", lambda: tmp_path)
    cached = tmp_path / f"photo-gate-{photo_gate.lite0.weights_key()}-tf{tf.__version__}.tflite"
    cached.write_bytes(b"half a file")
    runner = photo_gate._lite_runner()
    outputs = runner.every_output(np.zeros((1, *photo_gate.lite0.IMAGE_SIZE, 3), np.float32))
    assert sorted(o.shape[-1] for o in outputs) == [1000, 1280]
    assert cached.stat().st_size > 1_000_000  # the converted model replaced the damaged one
