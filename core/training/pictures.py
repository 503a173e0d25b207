"""Generated pictures made into training samples through the studio's own digit preprocessing,
so that a model learns from exactly what people's pictures become."""
from __future__ import annotations

import numpy as np

from core.data.drawn_digits import low_resolution_scan
from core.data.specs import Split
from core.errors import NoDigitError
from core.inference.digit_input import prepare_digit


def found(pictures):
    """(position, 28×28 model input) of each ink mask (float 0..1) or grey picture (uint8) that has something
    to read; too faint ones are skipped (the "no digit found" answer covers them)."""
    for position, picture in enumerate(pictures):
        grey = picture if picture.dtype == np.uint8 else (picture * 255).astype(np.uint8)
        try:
            yield position, prepare_digit(grey).image
        except NoDigitError:
            continue


def prepared(pictures) -> np.ndarray:
    """The model inputs of the pictures that have something to read, stacked."""
    images = [image for _, image in found(pictures)]
    return np.stack(images) if images else np.zeros((0, 28, 28), np.float32)


def with_scans(split, count: int, seed: int):
    """The digit split plus `count` of its digits again as low-resolution scans, keeping their labels."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(split), size=min(count, len(split)), replace=False)
    kept = list(found(low_resolution_scan(split.x[index] / 255.0, rng) for index in chosen))
    labels = split.y[chosen[[position for position, _ in kept]]]
    scans = np.clip(np.rint(np.stack([image for _, image in kept])), 0, 255).astype(split.x.dtype)
    return Split(y=np.concatenate([split.y, labels.astype(split.y.dtype)]), x=np.concatenate([split.x, scans]))
