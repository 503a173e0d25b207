"""A tiny IDX reader shared by the benchmark scripts, independent of `core` on purpose."""
import gzip
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def mnist_folder() -> Path:
    return Path(os.environ.get("MNIST_DIR", ROOT / "data" / "mnist"))


def fashion_folder() -> Path:
    """FASHION_MNIST_DIR, else where Debian's dataset-fashion-mnist puts it."""
    return Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))


def read_idx(stem: str, folder: Path | None = None) -> np.ndarray:
    folder = folder or mnist_folder()
    path = folder / f"{stem}.gz" if (folder / f"{stem}.gz").exists() else folder / stem
    raw = path.read_bytes()
    raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)
