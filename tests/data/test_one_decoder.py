"""Issue 24: training, evaluation, the feature cache and Predict decode a photo file through one function, so
an awkward file (a phone's sideways JPEG, CMYK, a palette with transparency, 16 bits) gives the model the same
pixels on every path."""
import io

import keras
import numpy as np
import pytest
from PIL import Image, ImageDraw

from core.data import folders, pipeline, specs
from core.images import decode_image
from core.inference.predictor import Predictor

SIZE = (48, 40)  # not square, so a photo trained sideways could not pass for an upright one


def asymmetric(width: int = 90, height: int = 60) -> Image.Image:
    """A picture whose every turn and flip looks different: a gradient, a bar along the top, a disc at right."""
    ramp = np.linspace(30, 220, width, dtype=np.float32)[None, :, None]
    array = np.broadcast_to(ramp, (height, width, 3)).copy()
    array[:, :, 2] = np.linspace(200, 40, height)[:, None]
    image = Image.fromarray(array.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, width // 2, height // 6], fill=(250, 250, 30))
    draw.ellipse([width - 30, height - 30, width - 6, height - 6], fill=(200, 20, 20))
    return image


def saved(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def exif_rotated_jpeg() -> bytes:
    """As a phone saves a portrait photo: the pixels lie sideways, and EXIF says "turn 90° to view"."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return saved(asymmetric().transpose(Image.Transpose.ROTATE_90), "JPEG", quality=95, exif=exif.tobytes())


def palette_with_transparency() -> bytes:
    image = asymmetric().convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return saved(image, "PNG", transparency=image.getpixel((0, 0)))


def sixteen_bit() -> bytes:
    grey = np.asarray(asymmetric().convert("L"), dtype=np.uint16) * 257
    return saved(Image.fromarray(grey), "PNG")  # a uint16 array gives mode I;16


KINDS = {
    "exif_rotated.jpg": exif_rotated_jpeg,
    "cmyk.jpg": lambda: saved(asymmetric().convert("CMYK"), "JPEG", quality=95),
    "palette_transparent.png": palette_with_transparency,
    "sixteen_bit.png": sixteen_bit,
    "plain.webp": lambda: saved(asymmetric(), "WEBP", quality=95),
}


@pytest.fixture
def awkward_folder(studio):
    """A dataset of two classes, each holding every awkward kind of file."""
    root = studio / "data" / "custom" / "awkward"
    for name in ("first", "second"):
        (root / name).mkdir(parents=True)
        for file_name, make in KINDS.items():
            (root / name / file_name).write_bytes(make())
    return root


def photo_predictor(crop: float) -> Predictor:
    """Predict's own path to a photo model's input, on a small untrained photo model."""
    inputs = keras.Input((*SIZE, 3))
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(inputs))
    return Predictor(keras.Model(inputs, outputs), ["first", "second"], "photos", crop=crop)


@pytest.mark.parametrize("crop", [1.0, 0.875])  # the from-scratch presets' whole photo, the backbone's crop
def test_every_awkward_file_reaches_the_model_with_the_same_pixels_on_every_path(awkward_folder, crop):
    data = specs.load(str(awkward_folder), val_fraction=0.2)
    predictor = photo_predictor(crop)
    for split in (data.train, data.val, data.test):
        batches = pipeline.pipeline(data, split, SIZE, 4, training=False, crop=crop)  # training and Evaluate
        trained = np.concatenate([x.numpy() for x, _ in batches])
        cached = np.concatenate([b.numpy() for b in pipeline.photo_batches(split.paths, SIZE, crop, "plain", 4)])
        for i, path in enumerate(split.paths):
            with open(path, "rb") as handle:
                predicted = predictor.model_input(decode_image(handle.read()))
            assert predicted.shape == (*SIZE, 3)
            # The training pipeline caches uint8: its pixels are Predict's, rounded.
            assert np.abs(trained[i] - np.round(predicted)).max() <= 0.5, path
            assert np.array_equal(cached[i], predicted), path


def test_a_sideways_phone_photo_is_trained_upright(awkward_folder):
    data = specs.load(str(awkward_folder), val_fraction=0.2)
    paths = data.train.paths + data.val.paths + data.test.paths
    rotated = paths.index(next(p for p in paths if p.endswith("exif_rotated.jpg")))
    plain = paths.index(next(p for p in paths if p.endswith("plain.webp")))
    upright = np.concatenate([b.numpy() for b in pipeline.photo_batches(
        [paths[rotated], paths[plain]], SIZE, 1.0, "plain", 2)])
    assert np.abs(upright[0] - upright[1]).mean() < 6  # the same picture, once it is turned as EXIF says
    entry = next(e for e in folders.scan_folder(awkward_folder).entries if e.source.endswith("exif_rotated.jpg"))
    assert (entry.width, entry.height) == (90, 60)  # the size the Explore page reports is the upright one
