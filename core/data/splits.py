"""Seeded splits held out class by class: every class with two members or more keeps at least one on each side."""
from __future__ import annotations

import numpy as np

from core import config
from core.errors import DataError
from core.wording import counted

MIN_PER_CLASS = 3  # one image each to train, validate and test


def stratified_split(items, labels, fraction: float, seed: int = config.SEED):
    """(rest, held_out) for arrays or lists: `fraction` of each class is held out, at least one of each class
    with two members or more, never all of it. Both sides come out in a seeded random order.

    `items` may be a tuple of parallel sequences; each is split the same way.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    held = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) >= 2:
            count = min(len(members) - 1, max(1, round(fraction * len(members))))
            held.extend(rng.choice(members, count, replace=False).tolist())
    held_mask = np.zeros(len(labels), bool)
    held_mask[held] = True
    rest_order = rng.permutation(np.flatnonzero(~held_mask))
    held_order = rng.permutation(np.flatnonzero(held_mask))
    sequences = items if isinstance(items, tuple) else (items,)
    rest = tuple(_take(sequence, rest_order) for sequence in sequences)
    held_out = tuple(_take(sequence, held_order) for sequence in sequences)
    return (rest, held_out) if isinstance(items, tuple) else (rest[0], held_out[0])


def _take(sequence, order: np.ndarray):
    if isinstance(sequence, np.ndarray):
        return sequence[order]
    return [sequence[i] for i in order]


def check_class_sizes(class_names: list[str], labels) -> None:
    """Refuse, with the class named, a dataset in which a class cannot give one image to each split."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=len(class_names))
    for name, count in zip(class_names, counts):
        if count < MIN_PER_CLASS:
            raise DataError(f"The class {name!r} has {counted(count, 'usable image')}; each class "
                            f"needs at least {MIN_PER_CLASS} (one each to train, validate and test). Add images "
                            "to it or remove the class.")
