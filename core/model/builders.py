"""Architecture builders: each a plain function `(input_shape, num_classes, knobs) -> keras.Model`.

Each builder is a plain function returning a functional `keras.Model`; the output layer always
computes in float32, so a model trained in mixed precision keeps stable probabilities. Input convention
(so any saved model is usable alone): digits take float `(N, 28, 28, 1)` in 0..255,
photos take RGB `(N, H, W, 3)` in 0..255; rescaling is a layer inside the model and the
output is class probabilities.
"""
from __future__ import annotations

import keras
from keras import layers

from core.model import lite0
from core.model.presets import Knobs, Preset, input_shape


def _rescaled_input(input_shape):
    """(the model's input, the same scaled to 0..1): normalisation lives inside every model."""
    inputs = keras.Input(shape=input_shape)
    return inputs, layers.Rescaling(1.0 / 255)(inputs)


def _classifier(inputs, x, num_classes: int, dropout: float, name: str):
    """Dropout, then class probabilities computed in float32 (stable under mixed precision)."""
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def _channels(base: int, width: float) -> int:
    return max(4, int(round(base * width)))


def _conv_bn(x, filters: int, kernel: int, batch_norm: bool, strides: int = 1):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=not batch_norm)(x)
    if batch_norm:
        x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def build_mnist_seed(input_shape, num_classes, knobs: Knobs):
    """The seeds' network: Conv32 → Pool → Conv64 → Pool → Dense128, with three Dropout layers (seed 002 has
    0.25/0.25/0.5, which the preset's default dropout gives)."""
    first, second, last = knobs.dropout
    inputs, x = _rescaled_input(input_shape)
    x = layers.Conv2D(_channels(32, knobs.width), 3, activation="relu")(x)
    if knobs.batch_norm:
        x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(first)(x)
    x = layers.Conv2D(_channels(64, knobs.width), 3, activation="relu")(x)
    if knobs.batch_norm:
        x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(second)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(_channels(128, knobs.width), activation="relu")(x)
    return _classifier(inputs, x, num_classes, last, "mnist_seed")


def build_mnist_bn(input_shape, num_classes, knobs: Knobs):
    """A deeper conv + batch-norm network: two 3x3 pairs per stage, strided downsampling, a 4x4 head conv."""
    *stages, last = knobs.dropout
    inputs, x = _rescaled_input(input_shape)
    for base, rate in zip((32, 64), stages):
        filters = _channels(base, knobs.width)
        x = _conv_bn(x, filters, 3, knobs.batch_norm)
        x = _conv_bn(x, filters, 3, knobs.batch_norm)
        x = _conv_bn(x, filters, 5, knobs.batch_norm, strides=2)
        x = layers.Dropout(rate)(x)
    x = layers.Conv2D(_channels(128, knobs.width), 4, use_bias=not knobs.batch_norm)(x)
    if knobs.batch_norm:
        x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Flatten()(x)
    return _classifier(inputs, x, num_classes, last, "mnist_bn")


def build_photo_seed(input_shape, num_classes, knobs: Knobs):
    """A from-scratch photo CNN: a strided stem, four conv blocks with batch norm, global pooling, dropout.

    The stem halves the picture before the blocks: without it, the last block of a 128-px input saw about a
    third of the picture, too little to tell a shape by its outline. On 2 × 128 generated photos whose classes
    differ in shape more than in colour, 300 steps read 80% of held-out photos with the stem and 64% without,
    in 146 s against 387 s (docs/HISTORY.md)."""
    inputs, x = _rescaled_input(input_shape)
    x = _conv_bn(x, _channels(32, knobs.width), 3, knobs.batch_norm, strides=2)
    for base in (32, 64, 128, 256):
        x = _conv_bn(x, _channels(base, knobs.width), 3, knobs.batch_norm)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    return _classifier(inputs, x, num_classes, *knobs.dropout, "photo_seed")


def build_xception_small(input_shape, num_classes, knobs: Knobs):
    """keras-io "image classification from scratch": separable conv blocks with residual connections."""
    inputs, x = _rescaled_input(input_shape)
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
    return _classifier(inputs, x, num_classes, *knobs.dropout, "xception_small")


def build_lite0_transfer(input_shape, num_classes, knobs: Knobs, weights: bool = True):
    """EfficientNet-Lite0 with its ImageNet weights, frozen, and a new head (dropout + dense).

    The backbone's layers sit in this model's own graph (not nested), so Grad-CAM reaches its last
    convolution, and the pooled features keep a name (`features`) that the feature cache and the
    "neither" check use."""
    inputs = keras.Input(shape=input_shape)
    features = layers.GlobalAveragePooling2D(name=lite0.FEATURES_LAYER)(lite0.backbone(inputs))
    (rate,) = knobs.dropout
    x = layers.Dropout(rate, name="classifier_dropout")(features)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="classifier")(x)
    model = keras.Model(inputs, outputs, name="lite0_transfer")
    if weights:
        lite0.load_weights(model)
    for layer in model.layers:
        layer.trainable = layer.name.startswith("classifier")
    return model


BUILDERS = {"mnist_seed": build_mnist_seed, "mnist_bn": build_mnist_bn, "photo_seed": build_photo_seed,
            "xception_small": build_xception_small, "lite0_transfer": build_lite0_transfer}


def build_model(preset: Preset, num_classes: int, knobs: Knobs):
    """The preset's network for `num_classes`, as its builder makes it."""
    return BUILDERS[preset.builder](input_shape(preset), num_classes, knobs)
