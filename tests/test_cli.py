"""The command line in-process: help, wrong arguments and bad settings answer at once, one JSON line each."""
import json

import pytest

from core.__main__ import main


def cli(capsys, *args) -> tuple[int, list[str]]:
    """(exit code, stdout lines) of `python -m core ARGS`, run in this process."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's --help and argument errors
        code = exc.code
    return code, capsys.readouterr().out.strip().splitlines()


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "data", "models", "export"])
def test_every_command_has_help(capsys, command):
    code, lines = cli(capsys, command, "--help")
    assert code == 0 and any(command in line for line in lines)


def test_wrong_arguments_are_one_json_line_with_exit_2(studio, capsys):
    code, lines = cli(capsys, "train", "--lr-schedule", "sometimes")
    assert code == 2 and len(lines) == 1 and "invalid choice" in json.loads(lines[0])["error"]
    code, lines = cli(capsys, "frobnicate")
    assert code == 2 and "invalid choice" in json.loads(lines[0])["error"]


def test_a_missing_model_or_dataset_is_one_sentence(studio, capsys):
    code, lines = cli(capsys, "evaluate", "--model", "nothing")
    assert code == 1 and "no model called" in json.loads(lines[-1])["error"]
    code, lines = cli(capsys, "models", "--delete", "mnist")
    assert code == 1 and "ships with the studio" in json.loads(lines[-1])["error"]


@pytest.mark.parametrize("flags", [["--epochs", "0"], ["--epochs", "-1"], ["--epochs", "1000000000"],
                                   ["--dropout", "1.5"], ["--batch-size", "0"], ["--limit", "-5"],
                                   ["--learning-rate", "nan"], ["--learning-rate", "-1"], ["--name", "../escape"],
                                   ["--name", "a/b"], ["--preset", "resnet-9000"],
                                   ["--preset", "photos-transfer", "--init-from", "mnist"],
                                   ["--scans", "10", "--preset", "photos-cnn"]])
def test_bad_settings_are_refused_with_one_line_before_any_data_is_loaded(studio, capsys, flags):
    code, lines = cli(capsys, "train", "--dataset", "does-not-exist", *flags)
    assert code == 2, lines
    assert len(lines) == 1 and "error" in json.loads(lines[0]), lines
    assert "does-not-exist" not in lines[0]  # refused on the setting, not on the missing dataset


def test_a_typed_name_is_the_same_name_as_on_the_train_page(studio, capsys, monkeypatch):
    """`--name "my first model"` is accepted as my-first-model (the CLI once refused what the page took)."""
    from core.errors import StudioError
    from core.training import config as train_config

    def ready(cfg):  # stop where the settings are checked, before any training
        raise StudioError(f"would train {cfg.name}")

    monkeypatch.setattr(train_config.TrainConfig, "ready", ready)
    code, lines = cli(capsys, "train", "--name", "my first model")
    assert code == 2 and json.loads(lines[0])["error"] == "would train my-first-model"


def test_a_model_whose_dataset_changed_is_a_sentence_not_a_traceback(studio, capsys):
    """Issue 27, finding 5: re-importing a dataset under a trained model broke its Evaluate with a
    scikit-learn traceback."""
    import keras

    from core.model import registry
    from tests.support import build_photo_folder

    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(inputs))
    registry.save_model(keras.Model(inputs, outputs), "pets-model",
                        {"dataset": "custom/pets", "class_names": ["cat", "dog"], "kind": "photos"})
    build_photo_folder(studio / "data" / "custom" / "pets", ["bird", "fish", "frog"], per_class=4, broken=False)
    code, lines = cli(capsys, "evaluate", "--model", "pets-model")
    assert code == 1 and "has changed since pets-model was trained" in json.loads(lines[-1])["error"]


@pytest.mark.parametrize("make", ["fifo", "zero", "folder"])
def test_data_import_and_a_csv_dataset_read_only_regular_files(studio, capsys, tmp_path, make):
    """Issue 27, finding 6: `data import` read a FIFO or /dev/zero straight into memory, and `--dataset` of
    a FIFO .csv hung."""
    import os

    path = tmp_path / "thing.csv"
    if make == "fifo":
        os.mkfifo(path)
    elif make == "zero":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    code, lines = cli(capsys, "data", "import", str(path), "--name", "x")
    assert code == 1 and ("regular file" in lines[-1] or "folder" in lines[-1])
    from core.data import specs
    from core.errors import DataError

    with pytest.raises(DataError, match="regular file|folder"):
        specs.load(str(path))
