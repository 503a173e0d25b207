"""One interface over every dataset the studio trains on: `load(spec)` gives a `Dataset` whose train,
validation and test splits are fixed by the project's seed. Which specs exist is `core.data.catalog`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core import config
from core.data import folders, mnist
from core.data.catalog import FILTERED, folder_of, kind_of, missing_sentence
from core.data.kaggle import load_kaggle
from core.data.splits import stratified_split
from core.errors import DataError

GREY_SOURCES = {"mnist": mnist.MNIST, "fashion": mnist.FASHION}  # the built-in datasets in the MNIST format


@dataclass
class Split:
    """Digits hold arrays in `x`; photos hold file paths in `paths`. `y` is always int labels."""

    y: np.ndarray
    x: np.ndarray | None = None
    paths: list[str] | None = None

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Dataset:
    spec: str
    kind: str  # "digits", "clothing" or "photos" (catalog.kind_of)
    class_names: list[str]
    train: Split
    val: Split
    test: Split
    fingerprint: str
    source: str
    cleaning: dict | None = None  # the cleaning report of a photo folder


def load(spec: str, val_fraction: float = 0.1, progress=None) -> Dataset:
    """Load a dataset by spec. Raises DataError with a sentence saying what to do when it is missing."""
    if spec in GREY_SOURCES:
        return _digit_dataset(spec, mnist.load(GREY_SOURCES[spec]), val_fraction)
    if spec.endswith(".csv"):
        return _digit_dataset(spec, load_kaggle(Path(spec)), val_fraction)
    root = folder_of(spec)
    if not root.is_dir():
        raise DataError(missing_sentence(spec, root))
    if spec == FILTERED:
        return _filtered_dataset(root, val_fraction, progress)
    index = folders.scan_folder(root, progress=progress)
    if spec == "catsdogs":
        index.class_names = singular(index.class_names)
    train, val, test = folders.split_index(index, val_fraction=val_fraction)
    return _photo_dataset(spec, index, train, val, test)


def _photo_dataset(spec: str, index, train, val, test) -> Dataset:
    def split(entries):
        return Split(y=np.array([e.label for e in entries], dtype=np.int64), paths=[e.path for e in entries])

    return Dataset(spec, "photos", index.class_names, split(train), split(val), split(test),
                   folders.fingerprint(index), index.root, cleaning=index.report())


def _filtered_dataset(root: Path, val_fraction: float, progress) -> Dataset:
    """TensorFlow's subset: `train/` gives train and validation, its own `validation/` is the test split."""
    index = folders.scan_folder(root / "train", progress=progress)
    held = folders.scan_folder(root / "validation")
    if held.class_names != index.class_names:
        raise DataError(f"{root}: train/ and validation/ hold different classes "
                        f"({', '.join(index.class_names)} against {', '.join(held.class_names)}).")
    train, val = stratified_split(index.entries, [e.label for e in index.entries], val_fraction)
    merged = folders.FolderIndex(str(root), singular(index.class_names), index.entries + held.entries,
                                 index.skipped + held.skipped, index.signature + held.signature)
    return _photo_dataset(FILTERED, merged, train, val, held.entries)


def singular(class_names: list[str]) -> list[str]:
    """`cats`/`dogs` (TensorFlow's folders) and `Cat`/`Dog` (PetImages) are both the classes `cat` and `dog`."""
    return [name.lower().removesuffix("s") for name in class_names]


def _digit_dataset(spec: str, data, val_fraction: float) -> Dataset:
    (x_train, y_train), (x_val, y_val) = stratified_split((data.x_train, data.y_train), data.y_train, val_fraction)
    return Dataset(spec, kind_of(spec), data.class_names, Split(y_train, x=x_train), Split(y_val, x=x_val),
                   Split(data.y_test, x=data.x_test), data.fingerprint, data.source)


def merged(*splits: Split) -> Split:
    """Photo splits as one (a few-photo dataset trains on all of them)."""
    return Split(y=np.concatenate([s.y for s in splits]), paths=[p for s in splits for p in s.paths])


def subset(split: Split, limit: int | None, seed: int = config.SEED) -> Split:
    """A random subset of at most `limit` samples (for quick runs and tests)."""
    if not limit or limit >= len(split):
        return split
    order = np.random.default_rng(seed).permutation(len(split))[:limit]
    return Split(
        y=split.y[order],
        x=None if split.x is None else split.x[order],
        paths=None if split.paths is None else [split.paths[i] for i in order],
    )

