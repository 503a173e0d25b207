"""Drawings made by people, not by a generator: the stroke datasets of sketch-rnn (github.com/hardmaru/
sketch-rnn-datasets: Omniglot's 1,623 characters of 50 alphabets drawn by 20 people each, kanji, and
Aaron Koblin's Sheep Market), read from a folder brought onto the machine, never from this repository.

Each file holds lists of *stroke-3* points (Δx, Δy, pen lifted after this point) as pickled numpy object
arrays. They are read with an unpickler that builds nothing but numpy arrays, so a file that says
otherwise is refused instead of run.
"""
from __future__ import annotations

import importlib
import pickle
import zipfile
from pathlib import Path

import cv2
import numpy as np
from numpy.lib import format as npformat

from core.errors import DataError

SETS = {"omniglot": "omniglot.npz", "kanji": "kanji.rdp100.npz", "sheep": "aaron_sheep.npz"}
_NUMPY_PARTS = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"),
                ("_codecs", "encode")}  # how Python 2 pickles wrote an array's bytes


class _NumpyOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _NUMPY_PARTS:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a numpy array")
        return getattr(importlib.import_module(module.replace("numpy.core.", "numpy._core.")), name)


def read_strokes(path: Path, split: str = "train") -> list[np.ndarray]:
    """The stroke-3 drawings of one split ("train", "valid", "test") of a sketch-rnn `.npz` file; a file that is
    damaged, or holds anything but numpy arrays, is a DataError."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open(f"{split}.npy") as stream:
            version = npformat.read_magic(stream)
            read_header = npformat.read_array_header_1_0 if version == (1, 0) else npformat.read_array_header_2_0
            read_header(stream)
            drawings = _NumpyOnly(stream, encoding="latin1").load()
        return [np.asarray(drawing, np.float32) for drawing in drawings]
    except (OSError, KeyError, ValueError, TypeError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError) as exc:
        raise DataError(f"{Path(path).name} is not a sketch-rnn stroke file that can be read ({exc}); put a fresh "
                        "copy from github.com/hardmaru/sketch-rnn-datasets there, or remove it.") from None


def available(root: str | Path | None) -> dict[str, Path]:
    """{set name: file} of the sketch sets present in `root` (none when root is unset)."""
    if not root:
        return {}
    return {name: Path(root) / file for name, file in SETS.items() if (Path(root) / file).is_file()}


def ink_mask(drawing: np.ndarray, rng, size: int = 160) -> np.ndarray:
    """One stroke-3 drawing as an ink mask (float 0..1, square `size`), with the pen a person would use on
    the canvas: a random thickness, a margin, and the drawing's own proportions."""
    points = np.cumsum(drawing[:, :2], axis=0)
    low, high = points.min(axis=0), points.max(axis=0)
    margin = size * rng.uniform(0.08, 0.2)
    scale = (size - 2 * margin) / max(float((high - low).max()), 1.0)
    placed = (points - (low + high) / 2) * scale + size / 2
    thickness = max(1, int(round(size * rng.uniform(0.025, 0.07))))
    mask = np.zeros((size, size), np.uint8)
    ends = np.flatnonzero(drawing[:-1, 2] > 0) + 1  # a stroke ends where the pen lifts
    for stroke in np.split(placed, ends):
        cv2.polylines(mask, [np.rint(stroke).astype(np.int32)], False, 255, thickness, cv2.LINE_AA)
    return mask.astype(np.float32) / 255.0
