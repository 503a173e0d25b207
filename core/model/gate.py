"""The digit gate: a small CNN that tells a digit from anything else, on a digit model's 28×28 input.

It ships with the code (`digit_gate.keras`, with its calibrated threshold in `digit_gate.json`),
like ImageNet's class names, and any digit model is served with it: the Predict page, uploads and
the command line answer "that doesn't look like a digit" when it says so. Trained by
`python -m core.training.gate` on MNIST, generated non-digits (`core.data.not_digits`) and drawings by
people (`core.data.sketches`), with one threshold for uploads and a lower one for canvas drawings.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import keras
from keras import layers

from core import runtime
from core.model.registry import load_keras_model

HERE = Path(__file__).resolve().parent
GATE_FILE = HERE / "digit_gate.keras"
GATE_META = HERE / "digit_gate.json"
INPUT_SHAPE = (28, 28, 1)


def build_gate():
    """28×28×1 in 0..255 (white ink on black, as the digit models take it) → P(not a digit)."""
    inputs = keras.Input(INPUT_SHAPE)
    x = layers.Rescaling(1 / 255)(inputs)
    for filters in (32, 64, 128):  # a third block: room for a stranger's drawing, not only the generator's
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(128, activation="relu")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="not_a_digit")(x)
    return keras.Model(inputs, outputs, name="digit_gate")


@dataclass(frozen=True)
class Thresholds:
    """P(not a digit) above which a picture is refused: an upload may be a soft scan or a photo of paper, which
    look more like drawings than a canvas stroke does, so a drawing on the canvas is held to a lower one."""

    uploaded: float
    drawn: float

    def for_input(self, drawn: bool) -> float:
        return self.drawn if drawn else self.uploaded


@runtime.once
def load_gate():
    """(gate model, its Thresholds), or (None, None) when the gate file is missing (then no input is refused)."""
    if not GATE_FILE.is_file():
        return None, None
    meta = json.loads(GATE_META.read_text())
    uploaded = float(meta["threshold"])
    return load_keras_model(GATE_FILE), Thresholds(uploaded, float(meta.get("drawn_threshold", uploaded)))
