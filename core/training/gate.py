"""Train the digit gate (`core.model.gate`) and calibrate its threshold on held-out pictures.

Digits: MNIST training images as they are, and re-drawn larger, bolder or thinner; digits printed in
the even-numbered half of the machine's fonts; digits drawn by the stroke generator; MNIST training
digits as low-resolution scans. All but the
first pass through the same preprocessing as people's pictures. Not digits: every family of
`core.data.not_digits` with the even-numbered half of the machine's fonts (the benchmark uses the
other half and other seeds; `bench.gate_families` leaves one family out at a time), and MNIST digits
mirrored or turned. The threshold keeps
false refusals of held-out digits at 0.1%.
Usage: MNIST_DIR=… python -m core.training.gate   (about 3 minutes on 2 cores)
"""
from __future__ import annotations

import json
import sys
import time

import cv2
import keras
import numpy as np

from core.data import mnist as mnist_format
from core.data.drawn_digits import draw_digit_mask, low_resolution_scan
from core.data.not_digits import family_of, glyph, machine_fonts, not_a_digit
from core.data.splits import stratified_split
from core.model import gate
from core.model.registry import without_optimizer
from core.training.pictures import found, prepared

DIGITS, REDRAWN, PRINTED, DRAWN, SCANNED, NOT_DIGITS, TURNED = 30_000, 8_000, 6_000, 6_000, 6_000, 36_000, 8_000
SYMMETRIC = (0, 1, 8)  # still digits when mirrored or turned
SEED = 20_261_122
FALSE_REFUSALS = 0.001


def redrawn_digit(image28: np.ndarray, rng) -> np.ndarray:
    """An MNIST digit drawn again at canvas size, bolder or thinner (uint8 grey, for `prepared`)."""
    side = int(rng.integers(80, 280))
    if rng.random() < 0.4:  # bolder or thinner at MNIST's own size, then enlarged: blocky edges
        small = cv2.dilate(image28, np.ones((2, 2), np.uint8)) if rng.random() < 0.5 else \
            cv2.erode(image28, np.ones((2, 1), np.uint8))
        return cv2.resize(small, (side, side), interpolation=cv2.INTER_LINEAR)
    large = cv2.resize(image28, (side, side), interpolation=cv2.INTER_CUBIC)
    radius = int(rng.integers(0, max(1, side // 40)))
    if radius and rng.random() < 0.5:
        element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        large = cv2.dilate(large, element) if rng.random() < 0.6 else cv2.erode(large, element)
    return large


def digit_pictures(seed: int = SEED) -> np.ndarray:
    """The digits of every kind above, as 28×28 model inputs."""
    rng = np.random.default_rng(seed)
    mnist = mnist_format.load()
    order = rng.permutation(len(mnist.x_train))
    digits = mnist.x_train[order[:DIGITS]].astype(np.float32)
    redrawn = prepared(redrawn_digit(mnist.x_train[index], rng) for index in order[DIGITS:DIGITS + REDRAWN])
    fonts = machine_fonts()[::2]
    printed = prepared(glyph(str(rng.integers(10)), fonts[rng.integers(len(fonts))], 160, rng) for _ in range(PRINTED))
    drawn = prepared(draw_digit_mask(int(rng.integers(10)), rng, size=160) for _ in range(DRAWN))
    scanned_from = order[DIGITS + REDRAWN:DIGITS + REDRAWN + SCANNED]
    scanned = prepared(low_resolution_scan(mnist.x_train[i] / 255.0, rng) for i in scanned_from)
    return np.concatenate([digits, redrawn, printed, drawn, scanned])


def not_digit_pictures(seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """(the non-digits of every family as 28×28 model inputs, the family of each; then turned digits)."""
    fonts = machine_fonts()[::2]
    pictures = [not_a_digit(seed + i, fonts) for i in range(NOT_DIGITS)]
    kept = list(found(mask for mask, _ in pictures))
    turned = turned_digits(seed)
    return (np.concatenate([np.stack([image for _, image in kept]), turned]),
            np.array([family_of(pictures[p][1]) for p, _ in kept] + ["turned digits"] * len(turned)))


def turned_digits(seed: int) -> np.ndarray:
    """MNIST training digits mirrored or turned a quarter (never 0, 1 or 8, which stay digits): the shapes
    closest to digits that are none, so the gate learns where digits end rather than what the generator
    draws. In every gate, whatever family is left out."""
    rng = np.random.default_rng(seed + 1)
    mnist = mnist_format.load()
    chosen = rng.permutation(np.flatnonzero(~np.isin(mnist.y_train, SYMMETRIC)))[:TURNED]
    turns = [np.fliplr, np.rot90, lambda image: np.rot90(image, 3)]
    return np.stack([turns[i % 3](mnist.x_train[index]) for i, index in enumerate(chosen)]).astype(np.float32)


def train_gate(epochs: int = 6, leave_out: str | None = None, verbose: int = 2,
               pictures=None) -> tuple[keras.Model, dict]:
    """(the gate, its report with the calibrated threshold), trained on the non-digits of every family but
    `leave_out`. `pictures` is (digit_pictures(), *not_digit_pictures()), made once when many gates train."""
    keras.utils.set_random_seed(SEED)
    started = time.time()
    digits, others, families = pictures or (digit_pictures(), *not_digit_pictures())
    others = others[families != leave_out]
    x = np.concatenate([digits, others])[..., None]
    y = np.concatenate([np.zeros(len(digits)), np.ones(len(others))]).astype(np.float32)
    (x_train, y_train), (x_val, y_val) = stratified_split((x, y), y.astype(np.int64), 0.1, SEED)
    model = gate.build_gate()
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy", metrics=["accuracy"])
    weights = {0: 1.0, 1: float((y_train == 0).sum() / max((y_train == 1).sum(), 1))}
    model.fit(x_train, y_train, batch_size=128, epochs=epochs, validation_data=(x_val, y_val), class_weight=weights,
              verbose=verbose)
    scores = model.predict(x_val, batch_size=512, verbose=0)[:, 0]
    threshold = float(np.quantile(scores[y_val == 0], 1 - FALSE_REFUSALS))
    report = {"threshold": threshold,
              "held_out_digits_refused": float((scores[y_val == 0] > threshold).mean()),
              "held_out_not_digits_refused": float((scores[y_val == 1] > threshold).mean()),
              "train_samples": int(len(y_train)), "seconds": round(time.time() - started, 1)}
    return model, report


if __name__ == "__main__":
    trained, described = train_gate()
    without_optimizer(trained).save(gate.GATE_FILE)
    gate.GATE_META.write_text(json.dumps(described, indent=2) + "\n")
    print(json.dumps(described))
    sys.exit(0)
