"""The registry: atomic saves, listing that survives broken folders, safe loading, deletes."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

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
    # Issue 27, finding 2: one bad meta.json took down the CLI and every page.
    (lambda p: (p / "meta.json").write_text("[" * 100_000 + "]" * 100_000), "nested too deeply"),
    (lambda p: ((p / "meta.json").unlink(), os.mkfifo(p / "meta.json")), "not a regular file"),
    (lambda p: ((p / "meta.json").unlink(), (p / "meta.json").symlink_to("/dev/zero")), "not a regular file"),
    (lambda p: (p / "meta.json").write_text(" " * 2_000_000 + "{}"), "far more than it ever needs"),
    (lambda p: inflating_keras_file(p / "model.keras", "config.json", 17 << 20), "config.json far larger"),
    (lambda p: inflating_keras_file(p / "model.keras", "model.weights.h5", 100 << 20), "would inflate to"),
])
def test_broken_folders_are_listed_as_unavailable(studio, breakage, reason, monkeypatch):
    monkeypatch.setattr(registry, "MAX_MODEL_BYTES", 64 << 20)  # as a 3 GB member would pass the real bound
    registry.save_model(tiny_model(), "good", {})
    broken = registry.save_model(tiny_model(), "broken", {})
    breakage(broken.path)
    listing = {i.name: i for i in registry.list_models()}
    assert listing["good"].available
    assert not listing["broken"].available and reason in listing["broken"].reason
    with pytest.raises(ModelError, match="unavailable"):
        registry.load("broken")


def inflating_keras_file(path: Path, member: str, size: int) -> None:
    """A model.keras whose `member` is `size` bytes of blanks: a few kB on disk, huge once inflated."""
    with zipfile.ZipFile(path) as bundle:
        kept = {item.filename: bundle.read(item) for item in bundle.infolist() if item.filename != member}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in kept.items():
            bundle.writestr(name, data)
        with bundle.open(member, "w", force_zip64=True) as out:
            for _ in range(size >> 20):
                out.write(b" " * (1 << 20))


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
inputs = keras.Input((8, 8, 1))
registry.save_model(keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs))), "half", {{}})
"""


@pytest.mark.slow
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


def test_an_unknown_model_is_one_sentence(studio):
    with pytest.raises(ModelError, match="no model called"):
        registry.resolve("nothing-here")


def test_shipped_models_are_never_deleted_or_replaced_whoever_asks(studio_with_model):
    shipped = studio_with_model / "models" / "mnist"
    before = {p.name: p.read_bytes() for p in shipped.iterdir()}
    with pytest.raises(ModelError, match="ships with the studio"):
        registry.delete("mnist")
    with pytest.raises(ModelError, match="never replaced"):
        registry.check_can_save("mnist", replace=True)
    with pytest.raises(ModelError, match="never replaced"):
        registry.save_model(tiny_model(), "mnist", {}, replace=True)
    assert {p.name: p.read_bytes() for p in shipped.iterdir()} == before
    registry.delete("tiny")  # a model of one's own goes
    assert [i.name for i in registry.list_models()] == ["mnist"]


def test_meta_json_is_valid(studio):
    info = registry.save_model(tiny_model(), "m", {"metrics": {"test_accuracy": np.float32(0.25)}})
    assert json.loads((info.path / "meta.json").read_text())["metrics"]["test_accuracy"] == 0.25


def test_each_kind_of_broken_model_is_marked_and_the_rest_stay_usable(studio):
    from tests.support import BROKEN_META, REFUSED_AT_LOAD, break_models

    registry.save_model(tiny_model(), "good", {"dataset": "mnist", "kind": "digits"})
    break_models(registry.config.models_dir(), "good")
    listing = {info.name: info for info in registry.list_models()}
    for name, (_, word) in BROKEN_META.items():
        assert not listing[name].available and word in listing[name].reason, (name, listing[name].reason)
        with pytest.raises(ModelError, match="unavailable"):
            registry.load(name)
    assert not listing["lambda"].available and listing["lambda"].reason == registry.CONTAINS_CODE
    for name, (_, word) in REFUSED_AT_LOAD.items():
        with pytest.raises(ModelError, match=f"{word}.*changed after saving"):
            registry.load(name)
    info, model = registry.load("path-in-meta")  # a path in meta is never followed
    assert info.model_file == info.path / "model.keras" and model.output_shape == (None, 10)
    assert listing["good"].available and registry.load("good")[1].output_shape == (None, 10)


def test_a_meta_that_fails_the_schema_is_never_written(studio):
    with pytest.raises(ModelError, match="not saved.*class_names"):
        registry.save_model(tiny_model(), "odd", {"class_names": ["only one"]})
    assert registry.list_models() == []


def replace_killed_between_renames(name: str, pid: int):
    """What a replace leaves when its process dies after moving the old model aside."""
    root = registry.config.models_dir()
    os.rename(root / name, root / f"{registry.OLD_PREFIX}{name}-{pid}")


dead_pid = 2**22 + 1  # above Linux's pid_max: never a live process


def test_a_replace_killed_between_its_renames_gets_the_old_model_back(studio):
    saved = registry.save_model(tiny_model(), "precious", {})
    original = saved.model_file.read_bytes()
    replace_killed_between_renames("precious", dead_pid)
    assert registry.list_models() == []  # listing only reads
    assert registry.resolve("precious").available  # what predict, evaluate and export call: it recovers
    replace_killed_between_renames("precious", dead_pid)
    assert registry.recover() == ["precious"]  # as at start-up, and before each save
    assert [i.name for i in registry.list_models()] == ["precious"]
    assert (registry.config.models_dir() / "precious" / "model.keras").read_bytes() == original


def test_a_save_in_progress_of_a_model_named_old_something_is_never_taken_for_a_set_aside_copy(studio):
    root = registry.config.models_dir()
    half = root / f"{registry.STAGING_PREFIX}old-bar-k3j2h1"  # what saving a model called old-bar stages
    half.mkdir(parents=True)
    assert registry.recover() == [] and not (root / "bar").exists() and half.is_dir()


def test_an_old_copy_is_left_alone_while_its_saver_lives_and_never_deleted_as_the_only_copy(studio):
    registry.save_model(tiny_model(), "precious", {})
    replace_killed_between_renames("precious", os.getpid())
    assert registry.recover() == [] and registry.list_models() == []  # a save in progress, between its renames
    old = next(registry.config.models_dir().glob(f"{registry.OLD_PREFIX}*"))
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    registry._remove_stale_staging(registry.config.models_dir())
    assert old.is_dir()  # older than an hour, but the only copy of "precious"


@pytest.mark.parametrize("folder", ["my model", "-dash", "naïve"])
def test_a_folder_whose_name_breaks_the_rule_is_listed_unavailable_not_offered(studio, folder):
    """Issue 27: such folders were offered in the sidebar but could be neither used nor deleted."""
    saved = registry.save_model(tiny_model(), "fine", {})
    shutil.copytree(saved.path, saved.path.parent / folder)
    listing = {i.name: i for i in registry.list_models()}
    assert listing["fine"].available
    assert not listing[folder].available and "not a usable model name" in listing[folder].reason


@pytest.mark.parametrize("breakage, sentence", [("logits", "does not answer with probabilities"),
                                                ("nan", "not finite")])
def test_a_model_that_does_not_answer_probabilities_is_refused_at_load(studio, breakage, sentence):
    """Issue 27: a NaN-weight model printed NaN in the JSON lines, and a logits model a confidence of 125."""
    import keras

    inputs = keras.Input((28, 28, 1))
    logits = keras.layers.Dense(10)(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, logits if breakage == "logits" else keras.layers.Softmax()(logits))
    if breakage == "nan":
        model.set_weights([np.full_like(w, np.nan) for w in model.get_weights()])
    registry.save_model(model, "odd", {})
    with pytest.raises(ModelError, match=sentence):
        registry.load("odd")


def test_two_unnamed_runs_in_the_same_second_get_two_names(studio):
    """Issue 27: the second was refused with a name nobody chose."""
    first = registry.unique_name("mnist-seed")
    with registry.name_lock(first):
        second = registry.unique_name("mnist-seed")
        assert second != first and second.startswith(first)
        with registry.name_lock(second):
            pass
    assert registry.unique_name("mnist-seed").startswith("mnist-seed-")


def test_recovery_puts_back_only_a_whole_model(studio):
    root = registry.config.models_dir()
    half = root / f"{registry.OLD_PREFIX}bar-{dead_pid}"
    half.mkdir(parents=True)
    (half / "model.keras").write_bytes(b"")  # no meta.json: not a model a replace set aside
    assert registry.recover() == [] and not (root / "bar").exists()
