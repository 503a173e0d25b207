"""The digit gate: letters, symbols and drawings are "not a digit"; digits are still read."""
import json

import numpy as np
import pytest
from PIL import Image

from core.data.not_digits import FAMILIES, SHAPES, drawn, family_of, machine_fonts, not_a_digit
from core.errors import NotADigitError
from core.inference import predictor as predictor_module
from core.inference.predictor import Predictor
from core.model import gate
from tests.support import SEVEN, canvas_rgba, run_cli

LETTER_A = [[(60, 240), (140, 40), (220, 240)], [(95, 160), (185, 160)]]
STAR = [[(140, 30), (205, 240), (35, 105), (245, 105), (75, 240), (140, 30)]]
pytestmark = pytest.mark.skipif(not gate.GATE_FILE.is_file(), reason="no digit gate has been trained")


@pytest.fixture
def predictor(studio_with_model):
    return Predictor.from_registry("tiny")


@pytest.mark.parametrize("strokes", [LETTER_A, STAR], ids=["letter A", "star"])
def test_a_drawing_that_is_not_a_digit_is_refused_in_a_sentence(predictor, strokes):
    with pytest.raises(NotADigitError, match="doesn't look like a digit"):
        predictor.predict(canvas_rgba(strokes), is_sketch=True)


def test_a_drawn_digit_is_still_read(predictor):
    assert predictor.predict(canvas_rgba(SEVEN, width=16), is_sketch=True).label.isdigit()


def test_a_number_with_a_mark_that_is_no_digit_is_reported_not_guessed(predictor):
    strokes = [[(30 + x, y) for x, y in stroke] for stroke in SEVEN] + \
        [[(300 + x * 0.8, y) for x, y in stroke] for stroke in STAR]
    with pytest.raises(NotADigitError, match="Mark 2 of 2"):
        predictor.read_number(canvas_rgba(strokes, size=(560, 280)), is_sketch=True)


def test_the_command_line_answers_a_letter_and_a_photo_with_error_lines(studio_with_model, tmp_path):
    from skimage import data

    Image.fromarray(canvas_rgba(LETTER_A)).save(tmp_path / "a.png")
    Image.fromarray(canvas_rgba(SEVEN)).save(tmp_path / "seven.png")
    Image.fromarray(data.astronaut()).save(tmp_path / "astronaut.jpg")  # the photo gate (issue 25)
    result = run_cli("predict", "--model", "tiny", *(str(tmp_path / f) for f in ("a.png", "seven.png",
                                                                                 "astronaut.jpg")))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1 and "doesn't look like a digit" in lines[0]["error"]
    assert lines[1]["label"].isdigit()
    assert "looks like a photo, not a handwritten digit" in lines[2]["error"]


def test_without_a_gate_nothing_is_refused(studio_with_model, monkeypatch):
    monkeypatch.setattr(predictor_module, "load_gate", lambda: (None, None))
    assert Predictor.from_registry("tiny").predict(canvas_rgba(STAR), is_sketch=True).label.isdigit()


def test_a_drawing_is_held_to_the_canvas_threshold_and_an_upload_to_its_own(studio_with_model, monkeypatch):
    import keras

    inputs = keras.Input(gate.INPUT_SHAPE)
    halfway = keras.Model(inputs, keras.layers.Lambda(lambda x: x[:, :1, 0, 0] * 0 + 0.5)(inputs))
    monkeypatch.setattr(predictor_module, "load_gate", lambda: (halfway, gate.Thresholds(uploaded=0.9, drawn=0.3)))
    unsure = Predictor.from_registry("tiny")
    seven = canvas_rgba(SEVEN)
    with pytest.raises(NotADigitError):
        unsure.predict(seven, is_sketch=True)
    with pytest.raises(NotADigitError):
        unsure.read_number(seven, is_sketch=True)
    assert unsure.predict_inputs(unsure.model_input(seven, is_sketch=True)[None])[0].label.isdigit()
    assert isinstance(unsure.predict_inputs(unsure.model_input(seven, is_sketch=True)[None], drawn=True)[0],
                      NotADigitError)


def test_a_gate_file_without_a_canvas_threshold_uses_its_one_threshold(tmp_path, monkeypatch):
    (tmp_path / "gate.json").write_text(json.dumps({"threshold": 0.97}))
    monkeypatch.setattr(gate, "GATE_META", tmp_path / "gate.json")
    monkeypatch.setattr(gate, "load_keras_model", lambda path: "the model")
    assert gate.load_gate.__wrapped__() == ("the model", gate.Thresholds(0.97, 0.97))


@pytest.mark.parametrize("shape", SHAPES)
def test_every_generated_shape_has_ink(shape):
    assert drawn(shape, 160, np.random.default_rng(0)).max() > 0.5


def test_generated_non_digits_are_seeded_and_varied():
    fonts = machine_fonts()
    first = [not_a_digit(seed, fonts) for seed in range(40)]
    again = [not_a_digit(seed, fonts) for seed in range(40)]
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(first, again))
    assert len({what.split()[0] for _, what in first}) >= 5


def test_a_family_left_out_is_never_drawn_and_every_family_is():
    fonts = machine_fonts()
    families = [family_of(not_a_digit(seed, fonts)[1]) for seed in range(400)]
    assert set(families) == set(FAMILIES)  # each as likely as another: all of them in 400 draws
    without = [f for f in FAMILIES if f != "houses"]
    assert all(family_of(not_a_digit(seed, fonts, families=without)[1]) != "houses" for seed in range(200))
    assert {not_a_digit(seed, fonts, families=["faces"])[1] for seed in range(20)} == {"face"}
