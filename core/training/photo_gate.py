"""Make the photo gate (`core.model.photo_gate`): the backbone's features of generated pictures of seven kinds,
their centres, and a threshold that refuses `FALSE_REFUSALS` of them (left out of their kind's centre).

Seeds start at 0 with MNIST's training digits; `bench.robustness` draws its sets from seed 1,000,000 on, with
MNIST's test digits. No natural photo is used. Usage: MNIST_DIR=… python -m core.training.photo_gate
(about 2 minutes on 2 cores)
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np
from PIL import Image

from core.data import digit_sets
from core.data import mnist as mnist_format
from core.model import familiar, photo_gate

PER_KIND = 400
FALSE_REFUSALS = 0.002


def pictures(kind: str, count: int, images: np.ndarray, labels: np.ndarray, fonts: list[str]):
    if kind == "drawings":  # then the digit gate's turn
        return [digit_sets.not_digit_picture(60_000 + i, fonts[::2])[0] for i in range(count)]
    if kind == "blank":  # then "no digit found"
        return [blank_picture(40_000 + i) for i in range(count)]
    return [digit_sets.make(kind, i, images, labels, fonts)[0] for i in range(count)]


def blank_picture(seed: int) -> Image.Image:
    """Blank paper of any size, or an empty canvas: transparent, white or black."""
    rng = np.random.default_rng(seed)
    if seed % 4:
        side = int(rng.integers(150, 900))
        return Image.fromarray(digit_sets.paper((side, int(side * rng.uniform(0.6, 1.4))), rng).astype(np.uint8))
    return Image.new("RGBA", (280, 280), [(0, 0, 0, 0), (255, 255, 255, 255), (0, 0, 0, 255)][seed // 4 % 3])


def features_of(images) -> np.ndarray:
    forward = photo_gate.backbone_pass()
    inputs = np.stack([photo_gate.pictures_input(image) for image in images])
    return np.concatenate([np.asarray(forward(inputs[i:i + 32])[0]) for i in range(0, len(inputs), 32)])


def make_gate() -> dict:
    started = time.time()
    mnist = mnist_format.load()
    fonts = digit_sets.machine_fonts()
    features = [features_of(pictures(kind, PER_KIND, mnist.x_train, mnist.y_train, fonts))
                for kind in photo_gate.KINDS]
    labels = np.repeat(np.arange(len(features)), PER_KIND)
    gate = familiar.calibrate(np.concatenate(features), labels, len(features), FALSE_REFUSALS)
    photo_gate.GATE_FILE.write_bytes(gate.to_bytes())
    return {**gate.describe(), "kinds": list(photo_gate.KINDS), "seconds": round(time.time() - started, 1)}


if __name__ == "__main__":
    print(json.dumps(make_gate()))
    sys.exit(0)
