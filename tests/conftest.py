"""Fixtures: an isolated studio (data, models and runs in a temporary folder), tiny MNIST IDX files,
a tiny trained digit model. Helpers shared with the benchmarks live in `tests.support`."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support import mnist_subset, write_idx


@pytest.fixture(scope="session")
def tiny_mnist_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mnist")
    arrays = mnist_subset()
    names = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
    for key, name in names.items():
        write_idx(folder / f"{name}.gz", arrays[key])
    return folder


@pytest.fixture(scope="session")
def tiny_fashion_dir(tmp_path_factory, tiny_mnist_dir) -> Path:
    """A stand-in for Fashion-MNIST in its IDX files: the tiny digits, whose labels then name garments."""
    folder = tmp_path_factory.mktemp("fashion-mnist")
    for path in tiny_mnist_dir.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


@pytest.fixture(autouse=True)
def data_outside_the_checkout(tmp_path_factory, monkeypatch):
    """Every test's data folder (cleaning indexes, feature caches) is a temporary one, never the checkout's
    data/; `studio` narrows it further."""
    if "STUDIO_DATA_DIR" not in os.environ:
        monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    for variable in ("STUDIO_WORKSPACES_DIR", "STUDIO_QUEUE_DIR"):
        if variable not in os.environ:
            monkeypatch.setenv(variable, str(tmp_path_factory.mktemp(variable.lower())))
    monkeypatch.setenv("STUDIO_WARM_WORKERS", "0")  # a worker starts when a test queues a run, not before


@pytest.fixture
def studio(tmp_path, monkeypatch, tiny_mnist_dir, tiny_fashion_dir):
    """An isolated studio: its own data, models, runs, workspaces and queue folders; MNIST and Fashion-MNIST are
    tiny IDX sets."""
    for variable, name in (("STUDIO_DATA_DIR", "data"), ("STUDIO_MODELS_DIR", "models"), ("STUDIO_RUNS_DIR", "runs"),
                           ("STUDIO_WORKSPACES_DIR", "workspaces"), ("STUDIO_QUEUE_DIR", "queue")):
        (tmp_path / name).mkdir()
        monkeypatch.setenv(variable, str(tmp_path / name))
    monkeypatch.setenv("MNIST_DIR", str(tiny_mnist_dir))
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tiny_fashion_dir))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("PETIMAGES_DIR", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def trained_digit_model(tmp_path_factory, tiny_mnist_dir) -> Path:
    """A models folder holding `tiny`: mnist-seed trained one epoch on the tiny set."""
    models = tmp_path_factory.mktemp("models")
    saved = {k: os.environ.get(k) for k in ("STUDIO_MODELS_DIR", "MNIST_DIR", "STUDIO_DATA_DIR")}
    os.environ.update(STUDIO_MODELS_DIR=str(models), MNIST_DIR=str(tiny_mnist_dir),
                      STUDIO_DATA_DIR=str(tmp_path_factory.mktemp("data")))
    try:
        from core.training.config import TrainConfig
        from core.training.train import train

        train(TrainConfig(dataset="mnist", preset="mnist-seed", epochs=1, batch_size=32, name="tiny").ready())
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return models


@pytest.fixture
def studio_with_model(studio, trained_digit_model):
    """The isolated studio with the tiny digit model in its registry (as `tiny` and as `mnist`)."""
    for name in ("tiny", "mnist"):
        shutil.copytree(trained_digit_model / "tiny", studio / "models" / name)
    return studio


def pytest_collection_modifyitems(items):
    """A test that needs the tiny trained model (trained once per session) is in the slow lane. The browser
    tests, the longest file, go first: in `make test`'s two processes they then run beside all the others
    instead of alone at the end."""
    for item in items:
        if "trained_digit_model" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.get_closest_marker("browser") is None)
