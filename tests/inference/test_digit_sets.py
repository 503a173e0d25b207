"""A small sample of the real-world digit sets (core/data/digit_sets.py) through the one digit input path."""

import numpy as np
import pytest

from core.data import digit_sets
from core.errors import NoDigitError
from core.inference import digit_input as digits
from tests.support import mnist_subset, real_mnist_dir


@pytest.mark.parametrize("seed", range(6))
def test_canvas_style_digits_are_found_in_every_colour_scheme(seed):
    picture, label = digit_sets.canvas_digit(seed)
    assert picture.size == (280, 280) and picture.mode == "RGBA" and 0 <= label <= 9
    crop = digits.prepare_digit(picture)
    assert crop.image.max() > 200


@pytest.mark.parametrize("seed", range(4))
def test_photo_style_digits_are_found_on_uneven_paper(seed):
    picture, _ = digit_sets.photo_digit(seed, digit_sets.machine_fonts())
    assert 120 <= picture.size[0] <= 900
    image = digits.prepare_digit(picture).image
    ys, xs = np.nonzero(image > 60)
    assert np.ptp(ys) >= 10  # a digit-sized shape, not a speck of noise


def test_replaced_mnist_digits_come_back_close_to_the_original(tiny_mnist_dir):
    if not real_mnist_dir():
        pytest.skip("needs the real MNIST digits (MNIST_DIR), as in CI")
    data = mnist_subset()
    scores = []
    for i in range(12):
        picture, _ = digit_sets.replaced_mnist(data["x_test"][i], int(data["y_test"][i]), 100 + i)
        again = digits.prepare_digit(picture).image
        scores.append(np.corrcoef(again.ravel(), data["x_test"][i].astype(np.float32).ravel())[0, 1])
    assert np.median(scores) > 0.6


@pytest.mark.parametrize("seed", range(5))
def test_numbers_split_into_as_many_digits_as_they_have(seed):
    if not real_mnist_dir():  # the stand-in digits are a small bitmap font, not handwriting
        pytest.skip("needs the real MNIST digits (MNIST_DIR), as in CI")
    data = mnist_subset()
    picture, text = digit_sets.number_picture(seed, data["x_test"], data["y_test"])
    assert len(digits.split_digits(picture)) == len(text)


def test_blank_paper_of_every_size_is_no_digit():
    for side in (150, 400, 900):
        sheet = digit_sets.paper((side, int(side * 0.75)), np.random.default_rng(side)).astype(np.uint8)
        with pytest.raises(NoDigitError):
            digits.prepare_digit(sheet)
