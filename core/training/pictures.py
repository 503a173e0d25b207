"""Generated pictures made into training samples through the studio's own digit preprocessing,
so that a model learns from exactly what people's pictures become."""
from __future__ import annotations

import numpy as np

from core.errors import NoDigitError


def prepared(pictures) -> np.ndarray:
    """Ink masks (float 0..1) or grey pictures (uint8) as 28×28 model inputs; too faint ones are skipped
    (the "no digit found" answer covers them)."""
    from core.inference.digit_input import prepare_digit

    images = []
    for picture in pictures:
        try:
            grey = picture if picture.dtype == np.uint8 else (picture * 255).astype(np.uint8)
            images.append(prepare_digit(grey).image)
        except NoDigitError:
            continue
    return np.stack(images) if images else np.zeros((0, 28, 28), np.float32)


def with_scans(split, count: int, seed: int):
    """The digit split plus `count` of its digits again as low-resolution scans, keeping their labels."""
    from core.data.drawn_digits import low_resolution_scan
    from core.data.specs import Split
    from core.inference.digit_input import prepare_digit

    rng = np.random.default_rng(seed)
    images, labels = [], []
    for index in rng.choice(len(split), size=min(count, len(split)), replace=False):
        try:
            images.append(prepare_digit(low_resolution_scan(split.x[index] / 255.0, rng)).image)
        except NoDigitError:
            continue
        labels.append(split.y[index])
    scans = np.clip(np.rint(np.stack(images)), 0, 255).astype(split.x.dtype)
    return Split(y=np.concatenate([split.y, np.asarray(labels, split.y.dtype)]), x=np.concatenate([split.x, scans]))
