"""The shipped digit model: loadable alone with safe_mode, >= 99.6% on the official test set, described."""
import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT

SHIPPED = ROOT / "models" / "mnist"


def read_idx(folder: Path, stem: str) -> np.ndarray:
    """Our own IDX reader: this test must not lean on `core`."""
    raw = (folder / f"{stem}.gz").read_bytes()
    raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(raw[3])]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * raw[3]).reshape(dims)


def test_meta_records_how_it_was_made():
    meta = json.loads((SHIPPED / "meta.json").read_text())
    assert meta["training_command"].startswith("python -m core train --dataset mnist --preset mnist-bn")
    assert meta["hyperparameters"]["seed"] == 1337
    assert meta["metrics"]["test_accuracy"] >= 0.996
    assert np.array(meta["metrics"]["confusion_matrix"]).sum() == 10000
    assert meta["training_seconds"] > 0 and meta["data_fingerprint"].startswith("sha256:")
    assert meta["input_shape"] == [28, 28, 1]
    assert (SHIPPED / "model.keras").stat().st_size < 5 * 1024 * 1024


def test_official_test_accuracy_with_an_independent_loader():
    folder = Path(os.environ.get("MNIST_DIR", ""))
    if not (folder / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip("needs the real MNIST test files (MNIST_DIR), as in CI")
    import keras

    model = keras.saving.load_model(SHIPPED / "model.keras", compile=False, safe_mode=True)
    images = read_idx(folder, "t10k-images-idx3-ubyte").astype(np.float32)[..., None]  # raw 0..255
    labels = read_idx(folder, "t10k-labels-idx1-ubyte")
    predicted = np.concatenate([np.asarray(model(images[i:i + 2000], training=False)).argmax(axis=1)
                                for i in range(0, len(images), 2000)])
    assert (predicted == labels).mean() >= 0.9960
