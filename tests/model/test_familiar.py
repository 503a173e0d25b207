""""None of your classes": class centres of unit-length features, a threshold calibrated by leaving each photo out
of its class, and the file that keeps them beside the model, read only when it is what training wrote."""
import os

import numpy as np
import pytest

from core.model import familiar


def clusters(seed: int, per_class: int = 12, classes: int = 3, width: int = 64):
    """Features of `classes` classes, each spread around its own random direction, and their labels."""
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(classes, width))
    x = np.concatenate([d + rng.normal(scale=0.35, size=(per_class, width)) for d in directions])
    return (x * rng.uniform(0.5, 3, size=(len(x), 1))).astype(np.float32), np.repeat(np.arange(classes), per_class)


def test_new_photos_of_the_classes_pass_and_photos_of_something_else_are_far():
    x, y = clusters(1)
    fitted = familiar.calibrate(x, y, 3)
    assert fitted.photos == 36 and fitted.centres.shape == (3, 64)
    new, _ = clusters(1, per_class=200)  # the same directions, new spread: new photos of the same classes
    far = np.random.default_rng(2).normal(size=(200, 64))  # other things
    near_refused = (fitted.distances(new).min(axis=1) > fitted.threshold).mean()
    far_refused = (fitted.distances(far).min(axis=1) > fitted.threshold).mean()
    assert near_refused <= 0.12 and far_refused >= 0.95
    # a photo's length says nothing: the same direction at any scale is as near
    assert np.allclose(fitted.distances(x[:1] * 10), fitted.distances(x[:1]), atol=1e-5)


def test_the_threshold_follows_the_false_refusals_asked_for():
    x, y = clusters(3)
    loose, strict = familiar.calibrate(x, y, 3, false_refusals=0.2), familiar.calibrate(x, y, 3, false_refusals=0.01)
    assert loose.threshold < strict.threshold


def test_a_class_of_one_photo_gives_no_calibration():
    x, y = clusters(4)
    assert familiar.calibrate(x[:26], y[:26], 3) is not None  # two photos of class 2 are enough
    assert familiar.calibrate(x[:25], np.r_[y[:24], 2], 3) is None  # class 2 has one photo


def test_the_file_round_trips_and_anything_else_is_unreadable(tmp_path):
    x, y = clusters(5)
    fitted = familiar.calibrate(x, y, 3)
    assert familiar.read(tmp_path / familiar.FILE, 3, 64) is None  # no file: no check
    (tmp_path / familiar.FILE).write_bytes(fitted.to_bytes())
    again = familiar.read(tmp_path / familiar.FILE, 3, 64)
    assert np.array_equal(again.centres, fitted.centres) and again.threshold == pytest.approx(fitted.threshold)
    assert again.describe() == fitted.describe()
    with pytest.raises(familiar.Unreadable, match="does not fit"):
        familiar.read(tmp_path / familiar.FILE, 4, 64)  # a model with another number of classes
    with open(tmp_path / familiar.FILE, "wb") as handle:
        np.savez(handle, centres=np.array([object()], dtype=object), calibration=np.zeros(3))
    with pytest.raises(familiar.Unreadable):
        familiar.read(tmp_path / familiar.FILE, 3, 64)  # pickled objects are never loaded
    (tmp_path / familiar.FILE).unlink()
    os.mkfifo(tmp_path / familiar.FILE)
    with pytest.raises(familiar.Unreadable, match="regular file"):
        familiar.read(tmp_path / familiar.FILE, 3, 64)  # a FIFO would block


def test_the_sentence_says_how_it_was_calibrated():
    described = {"threshold": 0.5, "false_refusals": 0.05, "photos": 50}
    assert "50 training photos" in familiar.sentence(described) and "5%" in familiar.sentence(described)
    assert familiar.sentence(None) == ""
