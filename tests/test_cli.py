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
