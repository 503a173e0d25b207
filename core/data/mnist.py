"""Datasets in the MNIST format (MNIST and Fashion-MNIST) from their IDX files (gzipped or not) or Keras'
npz, looked for in each source's places in order.

Arrays are kept as uint8 `(N, 28, 28)` white ink on black, the model input convention (Fashion-MNIST's
garments are light on dark already).
"""
from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core import config
from core.errors import DataError

DIGIT_CLASSES = [str(d) for d in range(10)]
# Zalando's label order (github.com/zalandoresearch/fashion-mnist).
FASHION_CLASSES = ["t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                   "ankle boot"]

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_IDX_MAGIC = {3: 2051, 1: 2049}  # images, labels
_FOUR_FILES = ("the four IDX files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
               "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz)")


@dataclass(frozen=True)
class Source:
    """One dataset in the MNIST format: its class names, where it is looked for, and Keras' download of it."""

    title: str
    classes: tuple[str, ...]
    places: Callable[[], list[Path]]
    where_to_put: str
    keras_dataset: str  # the module under keras.datasets

    def keras_download(self) -> Path:
        """Keras' download into its cache; where the files it wrote are."""
        from importlib import import_module  # lazy: loads TensorFlow, only for the download

        import_module(f"keras.datasets.{self.keras_dataset}").load_data()
        cache = config.keras_cache_dir()
        return cache / "mnist.npz" if self.keras_dataset == "mnist" else cache / "fashion-mnist"


MNIST = Source("MNIST", tuple(DIGIT_CLASSES), config.mnist_places,
               f"put {_FOUR_FILES} or Keras' mnist.npz in data/mnist/, or point MNIST_DIR at the folder that holds "
               "them", "mnist")
FASHION = Source("Fashion-MNIST", tuple(FASHION_CLASSES), config.fashion_mnist_places,
                 f"install Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist), or put "
                 f"{_FOUR_FILES} in data/fashion-mnist/, or point FASHION_MNIST_DIR at the folder that holds them",
                 "fashion_mnist")
@dataclass
class DigitData:
    """A digit dataset split into train and test; `y_test` is None for an unlabelled Kaggle test set."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray | None
    source: str
    fingerprint: str
    class_names: list[str] = field(default_factory=lambda: list(DIGIT_CLASSES))


def _open_maybe_gzip(path: Path, source: Source) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"{path.name} is a damaged gzip file ({exc}); {source.where_to_put}.") from None
    return raw


def parse_idx(raw: bytes, name: str, ndim: int, source: Source = MNIST) -> np.ndarray:
    """Parse one IDX file (the MNIST format), checking its magic number and its length."""
    if len(raw) < 4 + 4 * ndim:
        raise DataError(f"{name} is too short to be an {source.title} file; {source.where_to_put}.")
    magic = int.from_bytes(raw[:4], "big")
    if magic != _IDX_MAGIC[ndim]:
        raise DataError(
            f"{name} has the wrong magic number ({magic}, expected {_IDX_MAGIC[ndim]}): "
            f"it is not an {source.title} {'image' if ndim == 3 else 'label'} file; {source.where_to_put}."
        )
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(raw) - offset != expected:
        raise DataError(
            f"{name} is cut short or padded: it declares {expected} bytes of data but holds "
            f"{len(raw) - offset}; {source.where_to_put}."
        )
    if ndim == 3 and dims[1:] != [28, 28]:
        raise DataError(f"{name} holds {dims[1]}x{dims[2]} images, not 28x28; {source.where_to_put}.")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def load_idx_folder(folder: Path, source: Source = MNIST) -> DigitData:
    """Load the four IDX files (gzipped or raw) from a folder."""
    arrays, digest = {}, hashlib.sha256()
    for key, stem in IDX_FILES.items():
        path = _find_idx(folder, stem)
        if path is None:
            raise DataError(f"{stem}(.gz) is missing from {folder}; {source.where_to_put}.")
        raw = _open_maybe_gzip(path, source)
        digest.update(raw)
        arrays[key] = parse_idx(raw, path.name, 3 if key.startswith("x") else 1, source)
    return _checked(arrays, str(folder), "sha256:" + digest.hexdigest()[:16], source)


def load_npz(path: Path, source: Source = MNIST) -> DigitData:
    """Load Keras' mnist.npz."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in IDX_FILES}
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{path} is not a usable npz of {source.title} ({exc}); {source.where_to_put}.") from None
    digest = hashlib.sha256()
    for key in IDX_FILES:
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return _checked(arrays, str(path), "sha256:" + digest.hexdigest()[:16], source)


def _checked(arrays: dict, where: str, fingerprint: str, source: Source) -> DigitData:
    for key in ("x_train", "x_test"):
        if arrays[key].ndim != 3 or arrays[key].shape[1:] != (28, 28):
            raise DataError(f"{key} in {where} has shape {arrays[key].shape}, not (N, 28, 28).")
    for split in ("train", "test"):
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise DataError(f"{where}: the {split} images and labels have different counts.")
    if not np.isin(arrays["y_train"], np.arange(len(source.classes))).all():
        raise DataError(f"{where}: labels outside 0..{len(source.classes) - 1}.")
    return DigitData(
        x_train=arrays["x_train"].astype(np.uint8, copy=False),
        y_train=arrays["y_train"].astype(np.int64),
        x_test=arrays["x_test"].astype(np.uint8, copy=False),
        y_test=arrays["y_test"].astype(np.int64),
        source=where,
        fingerprint=fingerprint,
        class_names=list(source.classes),
    )


def _load_from(place: Path, source: Source) -> DigitData | None:
    if place.is_file() and place.suffix == ".npz":
        return load_npz(place, source)
    if not place.is_dir():
        return None
    if any(_find_idx(place, stem) for stem in IDX_FILES.values()):
        return load_idx_folder(place, source)
    if source is MNIST and (place / "mnist.npz").is_file():
        return load_npz(place / "mnist.npz", source)
    return None


def _idx_count(path: Path, source: Source) -> int:
    """The item count from an IDX header, without reading the data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        header = handle.read(8)
    if len(header) < 8 or int.from_bytes(header[:4], "big") not in _IDX_MAGIC.values():
        raise DataError(f"{path.name} is not an {source.title} file; {source.where_to_put}.")
    return int.from_bytes(header[4:8], "big")


def counts(source: Source = MNIST) -> tuple[int, int, str]:
    """(train count, test count, where) read from file headers only: quick, for the Overview."""
    for place in source.places():
        images = {key: _find_idx(place, IDX_FILES[key]) for key in ("x_train", "x_test")} if place.is_dir() else {}
        if all(images.values()) and images:
            try:
                return _idx_count(images["x_train"], source), _idx_count(images["x_test"], source), str(place)
            except (OSError, EOFError):
                raise DataError(f"The {source.title} files in {place} are damaged; {source.where_to_put}.") from None
        data = _load_from(place, source)  # an npz, or a folder with some files missing: the full check says why
        if data is not None:
            return len(data.x_train), len(data.x_test), data.source
    data = load(source)
    return len(data.x_train), len(data.x_test), data.source


def load(source: Source = MNIST, allow_download: bool = True) -> DigitData:
    """The dataset from the first place that has it; the Keras download is the last resort."""
    for place in source.places():
        data = _load_from(place, source)
        if data is not None:
            return data
    if allow_download:
        try:
            downloaded = source.keras_download()
        except Exception:  # noqa: BLE001 - any failure of the download means "not available"
            pass
        else:
            return _load_from(downloaded, source)
    raise DataError(f"{source.title} was not found and could not be downloaded: {source.where_to_put}.")
