"""The shipped digit and clothing models: loadable alone with safe_mode, above their targets on the official
test sets, described."""
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


FASHION = ROOT / "models" / "fashion"


def test_the_shipped_fashion_model_says_how_it_was_made_and_reads_a_product_photo():
    from core.inference.predictor import Predictor
    from core.model import registry
    from tests.inference.test_garment_input import product_photo

    meta = json.loads((FASHION / "meta.json").read_text())
    assert meta["kind"] == "clothing" and meta["preset"] == "fashion-cnn" and meta["input_shape"] == [28, 28, 1]
    assert meta["metrics"]["test_accuracy"] >= 0.935 and meta["metrics"]["test_samples"] == 10000
    assert "minutes" in meta["note"] and meta["training_seconds"] > 0
    assert (FASHION / "model.keras").stat().st_size < 5 * 1024 * 1024
    predictor = Predictor(registry.load_model(registry.resolve(str(FASHION))), meta["class_names"], "clothing")
    assert predictor.predict(product_photo()).label == "trouser"
