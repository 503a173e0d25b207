"""One interface over every dataset the studio trains on, and their `tf.data` pipelines.

A dataset is named by a spec: `mnist`, `catsdogs`, a folder with one subfolder per class,
or a Kaggle Digit Recognizer `train.csv`. `load(spec)` gives a `Dataset` whose train,
validation and test splits are fixed by the project's seed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core import config
from core.errors import DataError


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
    kind: str  # "digits" or "photos"
    class_names: list[str]
    train: Split
    val: Split
    test: Split
    fingerprint: str
    source: str
    cleaning: dict | None = None  # the cleaning report of a photo folder


def describe_spec(spec: str) -> str:
    if spec == "mnist":
        return "MNIST handwritten digits"
    if spec == "catsdogs":
        return "Cats vs Dogs (PetImages)"
    return Path(spec).name


def kind_of(spec: str) -> str:
    """Digits or photos, from the spec alone (no loading)."""
    return "digits" if spec == "mnist" or spec.endswith(".csv") else "photos"


def load(spec: str, val_fraction: float = 0.1, progress=None) -> Dataset:
    """Load a dataset by spec. Raises DataError with a sentence saying what to do when it is missing."""
    if spec == "mnist":
        from core.digits_data import load_mnist

        return _digit_dataset(spec, load_mnist(), val_fraction)
    if spec.endswith(".csv"):
        from core.digits_data import load_kaggle

        return _digit_dataset(spec, load_kaggle(Path(spec)), val_fraction)
    from core import folders

    root = folders.petimages_dir() if spec == "catsdogs" else Path(spec)
    if spec == "catsdogs" and not root.is_dir():
        raise DataError(f"Cats vs Dogs was not found at {root}: {folders.WHERE_TO_PUT_PETIMAGES}.")
    if spec != "catsdogs" and not root.is_dir():
        raise DataError(f"There is no dataset called {spec!r}: use mnist, catsdogs, a Kaggle train.csv, "
                        "or a folder with one subfolder per class.")
    index = folders.scan_folder(root, progress=progress)
    train, val, test = folders.split_index(index, val_fraction=val_fraction)

    def split(entries):
        return Split(y=np.array([e.label for e in entries], dtype=np.int64), paths=[e.path for e in entries])

    return Dataset(spec, "photos", index.class_names, split(train), split(val), split(test),
                   folders.fingerprint(index), str(root), cleaning=index.report())


def _digit_dataset(spec: str, data, val_fraction: float) -> Dataset:
    from core.splits import stratified_split

    (x_train, y_train), (x_val, y_val) = stratified_split((data.x_train, data.y_train), data.y_train, val_fraction)
    return Dataset(spec, "digits", data.class_names, Split(y_train, x=x_train), Split(y_val, x=x_val),
                   Split(data.y_test, x=data.x_test), data.fingerprint, data.source)


def subset(split: Split, limit: int | None, seed: int = config.SEED) -> Split:
    """A stratified-by-chance subset of at most `limit` samples (for quick runs and tests)."""
    if not limit or limit >= len(split):
        return split
    order = np.random.default_rng(seed).permutation(len(split))[:limit]
    return Split(
        y=split.y[order],
        x=None if split.x is None else split.x[order],
        paths=None if split.paths is None else [split.paths[i] for i in order],
    )


# --- tf.data pipelines ---------------------------------------------------------------


def decode_photo(path, size):
    """Read and resize one photo file in the graph: RGB float32 0..255 at `size` (h, w)."""
    import tensorflow as tf

    image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return tf.image.resize(image, size, antialias=True)


def pipeline(dataset: Dataset, split: Split, image_size, batch_size: int, training: bool, augment=None):
    """Batches of (float32 images in 0..255, int labels), cached and prefetched."""
    import tensorflow as tf

    autotune = tf.data.AUTOTUNE
    if dataset.kind == "digits":
        images = tf.data.Dataset.from_tensor_slices(split.x[..., None])
        data = tf.data.Dataset.zip(images, tf.data.Dataset.from_tensor_slices(split.y)).cache()
    else:
        data = tf.data.Dataset.from_tensor_slices((split.paths, split.y))
        data = data.map(lambda p, y: (tf.cast(decode_photo(p, image_size), tf.uint8), y),
                        num_parallel_calls=autotune).cache()
    if training:
        data = data.shuffle(min(len(split), 20000), seed=config.SEED, reshuffle_each_iteration=True)
    data = data.batch(batch_size).map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=autotune)
    if training and augment is not None:
        data = data.map(lambda x, y: (augment(x), y), num_parallel_calls=autotune)
    return data.prefetch(autotune)


def digit_augmenter(seed: int = config.SEED):
    """Handwriting augmentation: small rotations, shifts and zoom, and thicker or thinner strokes."""
    import keras
    import tensorflow as tf

    geometry = keras.Sequential([
        keras.layers.RandomRotation(10 / 360, fill_mode="constant", seed=seed),
        keras.layers.RandomZoom(0.12, fill_mode="constant", seed=seed + 1),
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 2),
    ])

    def stroke(x):
        thick = tf.nn.max_pool2d(x, 3, 1, "SAME")
        thin = -tf.nn.max_pool2d(-x, 3, 1, "SAME")
        amount = tf.random.uniform([tf.shape(x)[0], 1, 1, 1], -0.5, 0.7)
        mixed = tf.where(amount > 0, x + amount * (thick - x), x - amount * (thin - x))
        # Keep the ink as bright as before: thinner strokes, not fainter ones.
        peak = tf.reduce_max(x, axis=[1, 2, 3], keepdims=True)
        return mixed * peak / tf.maximum(tf.reduce_max(mixed, axis=[1, 2, 3], keepdims=True), 1.0)

    return lambda x: geometry(stroke(x), training=True)


def photo_augmenter(seed: int = config.SEED):
    """Photo augmentation: horizontal flips, small rotations, zoom and contrast."""
    import keras
    import tensorflow as tf

    layers = keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomRotation(0.05, seed=seed + 1),
        keras.layers.RandomZoom(0.15, seed=seed + 2),
        keras.layers.RandomContrast(0.15, seed=seed + 3),
    ])
    return lambda x: tf.clip_by_value(layers(x, training=True), 0.0, 255.0)


# --- datasets a person adds ------------------------------------------------------------


def custom_root() -> Path:
    return config.data_dir() / "custom"


def known_specs() -> list[str]:
    """The datasets to offer: the two built-in ones and every class folder imported from a zip."""
    root = custom_root()
    custom = sorted(str(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []
    return ["mnist", "catsdogs", *custom]


def import_zip(data: bytes, name: str) -> str:
    """Unpack an uploaded zip of class folders into data/custom/<name>; returns its spec (the folder path)."""
    import io
    import os
    import re
    import shutil
    import tempfile
    import zipfile

    from core.download import find_class_root, unpack
    from core.folders import class_folders

    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:40] or "dataset"
    root = custom_root()
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".upload-"))
    try:
        archive = staging / "upload.zip"
        archive.write_bytes(data)
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise DataError("The upload is not a zip archive.")
        unpack(archive, staging / "files")
        found = find_class_root(staging / "files")
        class_folders(found)
        target = root / slug
        if target.exists():
            shutil.rmtree(target)
        os.replace(found, target)
        return str(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
