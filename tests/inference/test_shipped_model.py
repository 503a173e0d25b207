"""The shipped digit model: loadable alone with safe_mode, >= 99.6% on the official test set, described."""
import json

import numpy as np
import pytest

from bench._mnist import read_idx
from tests.support import ROOT, real_mnist_dir

pytestmark = pytest.mark.slow  # every test here trains a model or loads a shipped one

SHIPPED = ROOT / "models" / "mnist"


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
    folder = real_mnist_dir()
    if not folder or not any(folder.glob("t10k-images-idx3-ubyte*")):
        pytest.skip("needs the real MNIST test files (MNIST_DIR), as in CI")
    import keras

    model = keras.saving.load_model(SHIPPED / "model.keras", compile=False, safe_mode=True)
    images = read_idx("t10k-images-idx3-ubyte", folder).astype(np.float32)[..., None]  # raw 0..255
    labels = read_idx("t10k-labels-idx1-ubyte", folder)
    predicted = np.concatenate([np.asarray(model(images[i:i + 2000], training=False)).argmax(axis=1)
                                for i in range(0, len(images), 2000)])
    assert (predicted == labels).mean() >= 0.9960
