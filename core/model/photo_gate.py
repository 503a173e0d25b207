"""The photo gate: is a picture given to a digit model writing on paper, a scan, a screenshot or a drawing, or a
natural photo (a scene, an animal, a face)?

A digit model reads whatever blob it finds, so a giraffe became "8 · 84%". The pretrained backbone knows
photos: in its features, pictures of writing sit together and natural photos sit far from them. The gate keeps
the centres of seven kinds of picture (canvas drawings, digits printed on photographed paper, MNIST digits placed
on a page, numbers, low-resolution scans: `core.data.digit_sets`; drawn letters, symbols and shapes, which the
digit gate then answers; blank paper and empty canvases, which are "no digit found") as a
`core.model.familiar.Familiarity`, and a picture farther than its threshold from all of them is a photo. It
never sees a natural photo while it is made, so the photos it refuses measure what it knows, not what it
memorised (`python -m bench.robustness`).

It ships with the code (`digit_pictures.npz`), is made by `python -m core.training.photo_gate`, and is used on
uploads and files only: a canvas drawing is never a photo.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from core import config, runtime
from core.atomic import write_cache_bytes
from core.images import photo_array
from core.model import familiar, lite0

HERE = Path(__file__).resolve().parent
GATE_FILE = HERE / "digit_pictures.npz"  # in the format of `core.model.familiar`
KINDS = ("canvas", "photo", "mnist", "numbers", "lowres", "drawings", "blank")


def pictures_input(picture: Image.Image) -> np.ndarray:
    """What the gate's backbone receives: the backbone's evaluation view of the picture."""
    return photo_array(picture, lite0.IMAGE_SIZE, lite0.CROP)


@runtime.once
def _two_outputs():
    """The ImageNet classifier returning (pooled features, ImageNet's probabilities), built once."""
    import keras  # loads TensorFlow

    classifier = lite0.build_imagenet_classifier()
    features = classifier.get_layer(lite0.FEATURES_LAYER).output
    return keras.Model(classifier.inputs, [features, keras.layers.Softmax()(classifier.output)])


@runtime.once
def backbone_pass():
    """A traced function from a batch of backbone inputs to (pooled features, ImageNet's probabilities), traced
    here and kept for the life of the process: for many pictures at once, as the gate is made."""
    import tensorflow as tf

    both = _two_outputs()
    spec = tf.TensorSpec([None, *lite0.IMAGE_SIZE, 3], tf.float32)
    traced = tf.function(lambda x: both(x, training=False), input_signature=[spec])
    traced(tf.zeros([1, *lite0.IMAGE_SIZE, 3]))
    runtime.set_long_lived_aside()
    return traced


@runtime.once
def single_pass():
    """The same two outputs for one picture through TensorFlow Lite: 6-9 ms an upload against 28 ms for the
    traced call on 2 cores, the same features to 1e-5. Converted once (about 8 s) and kept beside the converted
    weights, so a command-line run reads it instead; the traced call stands in where the conversion fails."""
    from core.errors import ModelError

    try:
        runner = _lite_runner()
    except ModelError:
        traced = backbone_pass()
        return lambda batch: tuple(np.asarray(part) for part in traced(batch))
    runtime.set_long_lived_aside()

    def features_and_probabilities(batch):
        outputs = runner.every_output(batch)
        features = next(o for o in outputs if o.shape[-1] == lite0.FEATURES)  # TFLite keeps its own order
        return features, next(o for o in outputs if o is not features)

    return features_and_probabilities


def _lite_runner():
    """A TFLite runner of `_two_outputs`, read from the cache when this checkpoint and TensorFlow made it before
    (and converted again when that file is damaged). Raises ModelError when it cannot be converted."""
    import tensorflow as tf

    from core.inference.tflite import LiteRunner, tflite_bytes

    cache = config.backbone_cache_dir() / f"photo-gate-{lite0.weights_key()}-tf{tf.__version__}.tflite"
    if cache.is_file():
        try:
            return LiteRunner(cache.read_bytes())
        except (ValueError, RuntimeError):
            pass
    data = tflite_bytes(_two_outputs())
    write_cache_bytes(cache, data)
    return LiteRunner(data)


@runtime.once
def load() -> familiar.Familiarity | None:
    """The gate's calibration, or None when it is missing or damaged (then no picture is refused as a photo)."""
    try:
        return familiar.read(GATE_FILE, len(KINDS), lite0.FEATURES)
    except familiar.Unreadable:
        return None


def natural_photo(picture: Image.Image) -> str | None:
    """ImageNet's name for a picture that is a natural photo, or None when it is writing on paper, a scan, a
    screenshot or a drawing (or the gate is missing)."""
    gate = load()
    if gate is None:
        return None
    features, imagenet = single_pass()(pictures_input(picture)[None])
    if gate.distances(features).min() <= gate.threshold:
        return None
    return lite0.imagenet_labels()[int(np.argmax(imagenet[0]))]
