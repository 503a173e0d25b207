"""The registry: atomic saves, listing that survives broken folders, safe loading, deletes."""
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest

from core.errors import ModelError
from core.model import registry
from tests.support import ROOT


def tiny_model():
    import keras

    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))


def test_save_list_load_delete(studio):
    info = registry.save_model(tiny_model(), "first", {"dataset": "mnist", "kind": "digits",
                                                       "metrics": {"test_accuracy": 0.5}}, {"loss": [1.0]})
    assert (info.path / "model.keras").is_file() and info.meta["name"] == "first"
    assert [i.name for i in registry.list_models()] == ["first"]
    loaded_info, model = registry.load("first")
    assert loaded_info.accuracy == 0.5 and model.output_shape == (None, 10)
    assert registry.read_history(loaded_info) == {"loss": [1.0]}
    with pytest.raises(ModelError, match="already exists"):
        registry.save_model(tiny_model(), "first", {})
    registry.delete("first")
    assert registry.list_models() == []


def test_saved_file_has_no_optimizer_state(studio):
    model = tiny_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(np.zeros((8, 28, 28, 1)), np.zeros(8), verbose=0)
    info = registry.save_model(model, "lean", {})
    with zipfile.ZipFile(info.model_file) as bundle:
        import io

        import h5py

        with h5py.File(io.BytesIO(bundle.read("model.weights.h5"))) as weights:
            assert "optimizer" not in weights


@pytest.mark.parametrize("breakage, reason", [
    (lambda p: (p / "model.keras").write_bytes(b""), "missing or empty"),
    (lambda p: (p / "model.keras").write_bytes(b"not a zip at all"), "not a zip"),
    (lambda p: (p / "meta.json").write_text("{broken"), "unreadable"),
    (lambda p: (p / "meta.json").unlink(), "missing"),
])
def test_broken_folders_are_listed_as_unavailable(studio, breakage, reason):
    registry.save_model(tiny_model(), "good", {})
    broken = registry.save_model(tiny_model(), "broken", {})
    breakage(broken.path)
    listing = {i.name: i for i in registry.list_models()}
    assert listing["good"].available
    assert not listing["broken"].available and reason in listing["broken"].reason
    with pytest.raises(ModelError, match="unavailable"):
        registry.load("broken")


def test_truncated_model_file_is_a_clear_error(studio):
    info = registry.save_model(tiny_model(), "cut", {})
    data = info.model_file.read_bytes()
    info.model_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="cannot be loaded|unavailable"):
        registry.load("cut")


def test_lambda_layer_is_refused_by_safe_mode(studio):
    import keras

    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Lambda(lambda x: x * 2)(inputs)
    path = studio / "lambda.keras"
    keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(outputs))).save(path)
    with pytest.raises(ModelError, match="Lambda|safe mode"):
        registry.load(str(path))


def test_read_only_registry_is_a_clear_error_and_keeps_what_is_there(studio, monkeypatch):
    registry.save_model(tiny_model(), "kept", {})

    def read_only(*args, **kwargs):  # what mkdtemp meets in a read-only folder (root ignores chmod)
        raise PermissionError(13, "Permission denied")

    with monkeypatch.context() as patch:
        patch.setattr(registry.tempfile, "mkdtemp", read_only)
        with pytest.raises(ModelError, match="cannot be written.*untouched"):
            registry.save_model(tiny_model(), "new", {})
    assert [i.name for i in registry.list_models()] == ["kept"]
    registry.load("kept")


def test_full_disk_while_saving_loses_nothing(studio, monkeypatch):
    import keras

    registry.save_model(tiny_model(), "kept", {})

    def full_disk(self, path, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(keras.Model, "save", full_disk)
    with pytest.raises(ModelError, match="No space left"):
        registry.save_model(tiny_model(), "new", {})
    assert [i.name for i in registry.list_models()] == ["kept"]
    assert not list(registry.config.models_dir().glob(".staging-*"))


SLOW_SAVE = r"""
import sys, time, keras
from core.model import registry
original = keras.Model.save
def slow_save(self, path, *args, **kwargs):
    original(self, path, *args, **kwargs)
    open({marker!r}, "w").write("saving")
    time.sleep(60)  # killed here, mid-save
keras.Model.save = slow_save
inputs = keras.Input((4,))
registry.save_model(keras.Model(inputs, keras.layers.Dense(2)(inputs)), "half", {{}})
"""


def test_sigkill_during_save_leaves_no_half_model(studio):
    registry.save_model(tiny_model(), "earlier", {})
    marker = studio / "marker"
    process = subprocess.Popen([sys.executable, "-c", SLOW_SAVE.format(root=str(ROOT), marker=str(marker))],
                               env=os.environ.copy(), cwd=ROOT)
    deadline = time.time() + 120
    while not marker.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert marker.exists(), "the saving process never reached the save"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert [i.name for i in registry.list_models()] == ["earlier"]
    registry.load("earlier")
    assert not (registry.config.models_dir() / "half").exists()


def test_bad_names_are_refused(studio):
    for name in ("", "../escape", "a/b", ".hidden"):
        with pytest.raises(ModelError, match="not a usable model name"):
            registry.check_name(name)
    with pytest.raises(ModelError, match="no model called"):
        registry.resolve("nothing-here")


def test_meta_json_is_valid(studio):
    info = registry.save_model(tiny_model(), "m", {"metrics": {"test_accuracy": np.float32(0.25)}})
    assert json.loads((info.path / "meta.json").read_text())["metrics"]["test_accuracy"] == 0.25
