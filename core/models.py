"""Architecture builders and the named presets a user picks from.

Each builder is a plain function returning a functional `keras.Model`; the output layer always
computes in float32, so a model trained in mixed precision keeps stable probabilities. Input convention
(so any saved model is usable alone): digits take float `(N, 28, 28, 1)` in 0..255,
photos take RGB `(N, H, W, 3)` in 0..255; rescaling is a layer inside the model and the
output is class probabilities.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from core.errors import ModelError


@dataclass(frozen=True)
class Knobs:
    """What a user tunes. `None` means "the preset's default"."""

    dropout: float = 0.25
    batch_norm: bool = True
    width: float = 1.0


@dataclass(frozen=True)
class Preset:
    name: str
    kind: str  # "digits" or "photos"
    image_size: tuple[int, int]
    build: Callable
    description: str
    defaults: dict = field(default_factory=dict)


def _channels(base: int, width: float) -> int:
    return max(4, int(round(base * width)))


def _conv_bn(x, filters: int, kernel: int, batch_norm: bool, strides: int = 1):
    from keras import layers

    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=not batch_norm)(x)
    if batch_norm:
        x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build_mnist_seed(input_shape, num_classes, knobs: Knobs):
    """The seeds' network: Conv32 → Pool → Conv64 → Pool → Dense128, dropout 0.25/0.25/0.5 as in seed 002.

    `knobs.dropout` scales the three rates together (0.25 gives the seed's exact rates).
    """
    import keras
    from keras import layers

    rate = knobs.dropout / 0.25
    inputs = keras.Input(shape=input_shape)
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(_channels(32, knobs.width), 3, activation="relu")(x)
    if knobs.batch_norm:
        x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(min(0.9, 0.25 * rate))(x)
    x = layers.Conv2D(_channels(64, knobs.width), 3, activation="relu")(x)
    if knobs.batch_norm:
        x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(min(0.9, 0.25 * rate))(x)
    x = layers.Flatten()(x)
    x = layers.Dense(_channels(128, knobs.width), activation="relu")(x)
    x = layers.Dropout(min(0.9, 0.5 * rate))(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="mnist_seed")


def build_mnist_bn(input_shape, num_classes, knobs: Knobs):
    """A deeper conv + batch-norm network: two 3x3 pairs per stage, strided downsampling, a 4x4 head conv."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape)
    x = layers.Rescaling(1.0 / 255)(inputs)
    for base in (32, 64):
        filters = _channels(base, knobs.width)
        x = _conv_bn(x, filters, 3, knobs.batch_norm)
        x = _conv_bn(x, filters, 3, knobs.batch_norm)
        x = _conv_bn(x, filters, 5, knobs.batch_norm, strides=2)
        x = layers.Dropout(knobs.dropout)(x)
    x = layers.Conv2D(_channels(128, knobs.width), 4, use_bias=not knobs.batch_norm)(x)
    if knobs.batch_norm:
        x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(knobs.dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="mnist_bn")


def build_photo_seed(input_shape, num_classes, knobs: Knobs):
    """A from-scratch photo CNN: four conv blocks with batch norm, global pooling, dropout."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape)
    x = layers.Rescaling(1.0 / 255)(inputs)
    for base in (32, 64, 128, 256):
        x = _conv_bn(x, _channels(base, knobs.width), 3, knobs.batch_norm)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(knobs.dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="photo_seed")


def build_xception_small(input_shape, num_classes, knobs: Knobs):
    """keras-io "image classification from scratch": separable conv blocks with residual connections."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape)
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = _conv_bn(x, _channels(128, knobs.width), 3, knobs.batch_norm, strides=2)
    previous = x
    for base in (256, 512, 728):
        filters = _channels(base, knobs.width)
        for _ in range(2):
            x = layers.Activation("relu")(x)
            x = layers.SeparableConv2D(filters, 3, padding="same")(x)
            if knobs.batch_norm:
                x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(filters, 1, strides=2, padding="same")(previous)
        x = layers.add([x, residual])
        previous = x
    x = layers.SeparableConv2D(_channels(1024, knobs.width), 3, padding="same")(x)
    if knobs.batch_norm:
        x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(knobs.dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="xception_small")


def imagenet_weights_available() -> bool:
    """Whether MobileNetV2's ImageNet weights are already in Keras' cache (no download needed)."""
    from core import config

    folder = config.keras_cache_dir().parent / "models"
    return any(folder.glob("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_*_no_top.h5"))


def build_transfer(input_shape, num_classes, knobs: Knobs, weights: str | None = "imagenet"):
    """MobileNetV2 with ImageNet weights, frozen, and a new head. Its layers sit in this model's own
    graph (not nested) so Grad-CAM can reach the last convolution."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape)
    x = layers.Rescaling(1.0 / 127.5, offset=-1)(inputs)  # MobileNetV2 expects -1..1
    try:
        base = keras.applications.MobileNetV2(
            include_top=False, weights=weights, input_tensor=x, alpha=1.0
        )
    except Exception as exc:  # noqa: BLE001 - the download fails in many ways without internet
        raise ModelError(
            "The ImageNet weights for MobileNetV2 could not be downloaded (is the internet reachable?). "
            "Copy mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_"
            f"{input_shape[0]}_no_top.h5 into ~/.keras/models/, or pick a from-scratch preset. ({type(exc).__name__})"
        ) from None
    base.trainable = False
    x = layers.GlobalAveragePooling2D()(base.output)
    x = layers.Dropout(knobs.dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="mobilenet_v2_transfer")


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in [
        Preset("mnist-seed", "digits", (28, 28), build_mnist_seed,
               "The seeds' CNN: two conv layers, dropout 0.25/0.25/0.5; one-cycle learning rate.",
               {"dropout": 0.25, "batch_norm": False, "epochs": 10, "batch_size": 128, "learning_rate": 1e-2,
                "lr_schedule": "onecycle"}),
        Preset("mnist-bn", "digits", (28, 28), build_mnist_bn,
               "Deeper conv + batch norm, trained with handwriting augmentation and a decaying learning rate.",
               {"dropout": 0.3, "batch_norm": True, "epochs": 30, "batch_size": 128, "learning_rate": 2e-3,
                "augment": True}),
        Preset("catsdogs-seed", "photos", (128, 128), build_photo_seed,
               "A from-scratch CNN with batch norm and dropout at 128x128 (the seeds report 80%).",
               {"dropout": 0.4, "batch_norm": True, "epochs": 20, "batch_size": 32, "learning_rate": 1e-3,
                "augment": True}),
        Preset("catsdogs-xception-small", "photos", (180, 180), build_xception_small,
               "keras-io's small Xception at 180x180: separable convs with residuals (about 90% in 25 epochs).",
               {"dropout": 0.25, "batch_norm": True, "epochs": 25, "batch_size": 64, "learning_rate": 3e-4,
                "augment": True, "width": 0.5}),
        Preset("catsdogs-transfer", "photos", (160, 160), build_transfer,
               "MobileNetV2 pretrained on ImageNet, frozen, with a new head; optional fine-tuning.",
               {"dropout": 0.2, "batch_norm": True, "epochs": 5, "batch_size": 32, "learning_rate": 1e-3,
                "augment": True}),
    ]
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ModelError(f"There is no preset called {name!r}; choose one of: {', '.join(PRESETS)}.") from None


def presets_for(kind: str) -> list[str]:
    return [name for name, preset in PRESETS.items() if preset.kind == kind]


def build_model(preset: Preset, num_classes: int, knobs: Knobs):
    channels = 1 if preset.kind == "digits" else 3
    return preset.build((*preset.image_size, channels), num_classes, knobs)
