"""Seeded splits that stratify by class whenever the class counts allow it."""
from __future__ import annotations

from collections import Counter

import numpy as np

from core import config


def stratified_split(items, labels, fraction: float, seed: int = config.SEED):
    """(rest, held_out) for arrays or lists, keeping class proportions when every class has two members or more.

    `items` may be a tuple of parallel sequences; each is split the same way.
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    counts = Counter(labels.tolist())
    held = max(1, int(round(fraction * len(labels))))
    can_stratify = min(counts.values()) >= 2 and held >= len(counts) and len(labels) - held >= len(counts)
    stratify = labels if can_stratify else None
    sequences = items if isinstance(items, tuple) else (items,)
    parts = train_test_split(*sequences, test_size=held, stratify=stratify, random_state=seed)
    rest, held_out = parts[0::2], parts[1::2]
    return (rest, held_out) if isinstance(items, tuple) else (rest[0], held_out[0])
