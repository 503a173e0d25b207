"""MNIST from its IDX files (gzipped or not) or Keras' mnist.npz.

Arrays are kept as uint8 `(N, 28, 28)` white ink on black, the model input convention.
"""
from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core import config
from core.errors import DataError

DIGIT_CLASSES = [str(d) for d in range(10)]

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_IDX_MAGIC = {3: 2051, 1: 2049}  # images, labels

WHERE_TO_PUT_MNIST = (
    "put the four MNIST files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) or Keras' mnist.npz in data/mnist/, "
    "or point MNIST_DIR at the folder that holds them"
)


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


def _open_maybe_gzip(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataError(f"{path.name} is a damaged gzip file ({exc}); {WHERE_TO_PUT_MNIST}.") from None
    return raw


def parse_idx(raw: bytes, name: str, ndim: int) -> np.ndarray:
    """Parse one IDX file (the MNIST format), checking its magic number and its length."""
    if len(raw) < 4 + 4 * ndim:
        raise DataError(f"{name} is too short to be an MNIST file; {WHERE_TO_PUT_MNIST}.")
    magic = int.from_bytes(raw[:4], "big")
    if magic != _IDX_MAGIC[ndim]:
        raise DataError(
            f"{name} has the wrong magic number ({magic}, expected {_IDX_MAGIC[ndim]}): "
            f"it is not an MNIST {'image' if ndim == 3 else 'label'} file; {WHERE_TO_PUT_MNIST}."
        )
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(raw) - offset != expected:
        raise DataError(
            f"{name} is cut short or padded: it declares {expected} bytes of data but holds "
            f"{len(raw) - offset}; {WHERE_TO_PUT_MNIST}."
        )
    if ndim == 3 and dims[1:] != [28, 28]:
        raise DataError(f"{name} holds {dims[1]}x{dims[2]} images, not 28x28; {WHERE_TO_PUT_MNIST}.")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def _find_idx(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def load_idx_folder(folder: Path) -> DigitData:
    """Load the four MNIST IDX files (gzipped or raw) from a folder."""
    arrays, digest = {}, hashlib.sha256()
    for key, stem in IDX_FILES.items():
        path = _find_idx(folder, stem)
        if path is None:
            raise DataError(f"{stem}(.gz) is missing from {folder}; {WHERE_TO_PUT_MNIST}.")
        raw = _open_maybe_gzip(path)
        digest.update(raw)
        arrays[key] = parse_idx(raw, path.name, 3 if key.startswith("x") else 1)
    return _checked(arrays, source=str(folder), fingerprint="sha256:" + digest.hexdigest()[:16])


def load_npz(path: Path) -> DigitData:
    """Load Keras' mnist.npz."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in IDX_FILES}
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{path} is not a usable mnist.npz ({exc}); {WHERE_TO_PUT_MNIST}.") from None
    digest = hashlib.sha256()
    for key in IDX_FILES:
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return _checked(arrays, source=str(path), fingerprint="sha256:" + digest.hexdigest()[:16])


def _checked(arrays: dict, source: str, fingerprint: str) -> DigitData:
    for key in ("x_train", "x_test"):
        if arrays[key].ndim != 3 or arrays[key].shape[1:] != (28, 28):
            raise DataError(f"{key} in {source} has shape {arrays[key].shape}, not (N, 28, 28).")
    for split in ("train", "test"):
        if len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise DataError(f"{source}: the {split} images and labels have different counts.")
    if not np.isin(arrays["y_train"], np.arange(10)).all():
        raise DataError(f"{source}: labels outside 0..9.")
    return DigitData(
        x_train=arrays["x_train"].astype(np.uint8, copy=False),
        y_train=arrays["y_train"].astype(np.int64),
        x_test=arrays["x_test"].astype(np.uint8, copy=False),
        y_test=arrays["y_test"].astype(np.int64),
        source=source,
        fingerprint=fingerprint,
    )


def _load_from(place: Path) -> DigitData | None:
    if place.is_file() and place.suffix == ".npz":
        return load_npz(place)
    if not place.is_dir():
        return None
    if any(_find_idx(place, stem) for stem in IDX_FILES.values()):
        return load_idx_folder(place)
    if (place / "mnist.npz").is_file():
        return load_npz(place / "mnist.npz")
    return None


def _idx_count(path: Path) -> int:
    """The item count from an IDX header, without reading the data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        header = handle.read(8)
    if len(header) < 8 or int.from_bytes(header[:4], "big") not in _IDX_MAGIC.values():
        raise DataError(f"{path.name} is not an MNIST file; {WHERE_TO_PUT_MNIST}.")
    return int.from_bytes(header[4:8], "big")


def mnist_counts() -> tuple[int, int, str]:
    """(train count, test count, where) read from file headers only: quick, for the Overview."""
    for place in config.mnist_places():
        images = {key: _find_idx(place, IDX_FILES[key]) for key in ("x_train", "x_test")} if place.is_dir() else {}
        if all(images.values()) and images:
            try:
                return _idx_count(images["x_train"]), _idx_count(images["x_test"]), str(place)
            except (OSError, EOFError):
                raise DataError(f"The MNIST files in {place} are damaged; {WHERE_TO_PUT_MNIST}.") from None
        data = _load_from(place)  # an npz, or a folder with some files missing: the full check says why
        if data is not None:
            return len(data.x_train), len(data.x_test), data.source
    data = load_mnist()
    return len(data.x_train), len(data.x_test), data.source


def load_mnist(allow_download: bool = True) -> DigitData:
    """MNIST from the first place that has it; the Keras download is the last resort."""
    for place in config.mnist_places():
        data = _load_from(place)
        if data is not None:
            return data
    if allow_download:
        try:
            from keras.datasets import mnist  # lazy: TensorFlow is only needed for the download

            mnist.load_data()
        except Exception:  # noqa: BLE001 - any failure of the download means "not available"
            pass
        else:
            return load_npz(config.keras_cache_dir() / "mnist.npz")
    raise DataError(f"MNIST was not found and could not be downloaded: {WHERE_TO_PUT_MNIST}.")
