"""Experiments: one setting tried at two to five values, one queued run per value, and what they scored.

An experiment is a small file in its workspace's runs folder (`.experiments/<id>.json`: the setting, the
values and the run of each), so it survives reloads and restarts like the runs themselves. The same rule
says which settings differ between any runs, for Past runs' columns and legends.
"""
from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

from core.atomic import atomic_write_text
from core.errors import RunError, StudioError
from core.files import read_regular
from core.names import name_from
from core.training import queue, runs
from core.training.config import TrainConfig, model_stem
from core.workspace import Workspace

# The settings an experiment may vary, with how a value is read from what a person typed.
SETTINGS = {"dropout": float, "epochs": int, "learning_rate": float, "batch_size": int, "width": float,
            "augment": bool}
LABELS = {"dropout": "dropout", "epochs": "epochs", "learning_rate": "learning rate", "batch_size": "batch size",
          "width": "width", "augment": "augmentation"}
COMPARED = ["epochs", "dropout", "learning_rate", "batch_size", "width", "augment", "batch_norm", "lr_schedule",
            "limit", "fine_tune_epochs"]  # the settings Past runs shows as columns
FOLDER = ".experiments"  # a dot, so that listing the runs beside it never takes it for a run
MAX_FILE = 64_000


@dataclass(frozen=True)
class Experiment:
    id: str
    setting: str
    values: list
    runs: list[str]  # a run id per value, in the same order
    created: float

    @property
    def label(self) -> str:
        return LABELS[self.setting]


def parse_values(setting: str, text: str) -> list:
    """"0.1, 0.5" → [0.1, 0.5] for `setting`; two to five distinct values, or a sentence saying what is wrong."""
    if setting not in SETTINGS:
        raise RunError(f"Pick one of: {', '.join(LABELS.values())}.")
    words = [w.strip() for w in text.replace(";", ",").split(",") if w.strip()]
    kind = SETTINGS[setting]
    try:
        values = [_truth(w) if kind is bool else kind(w) for w in words]
    except ValueError:
        raise RunError(f"Write the values of {LABELS[setting]} as numbers separated by commas, for example "
                       f"{'on, off' if kind is bool else '0.1, 0.5' if kind is float else '2, 5'}.") from None
    values = list(dict.fromkeys(values))  # the same value twice is one run
    if not 2 <= len(values) <= 5:
        raise RunError("Give two to five different values, separated by commas.")
    return values


def _truth(word: str) -> bool:
    lowered = word.lower()
    if lowered in ("on", "yes", "true", "1"):
        return True
    if lowered in ("off", "no", "false", "0"):
        return False
    raise ValueError(word)


def start(base: TrainConfig, setting: str, values: list, where: Workspace) -> Experiment:
    """One run per value, each `base` with that value and its own model name, queued in `where`. Every
    setting is checked before the first run is queued; the experiment keeps the runs queued before any refusal."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    stem = model_stem(base.ready())
    configs = [dataclasses.replace(base, **{setting: value},
                                   name=name_from(f"{stem} {LABELS[setting]} {value} {stamp}")) for value in values]
    for cfg in configs:
        cfg.ready()
    experiment = Experiment(stamp, setting, list(values), [], time.time())
    try:
        for cfg in configs:
            experiment.runs.append(queue.submit(cfg, where).id)
    finally:
        if experiment.runs:
            _save(experiment, where)
    return experiment


def _save(experiment: Experiment, where: Workspace) -> None:
    folder = where.runs / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / f"{experiment.id}.json", json.dumps(dataclasses.asdict(experiment)))


def list_experiments(where: Workspace) -> list[Experiment]:
    """The workspace's experiments, newest first; a damaged file is skipped."""
    folder = where.runs / FOLDER
    found = []
    for path in sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []:
        try:
            found.append(_read(path))
        except (StudioError, ValueError, TypeError, KeyError):
            continue
    return found


def _read(path: Path) -> Experiment:
    data = json.loads(read_regular(path, MAX_FILE))
    experiment = Experiment(str(data["id"]), str(data["setting"]), list(data["values"]),
                            [str(r) for r in data["runs"]], float(data["created"]))
    if experiment.setting not in SETTINGS or len(experiment.runs) > len(experiment.values):
        raise ValueError(path)
    return experiment


def results(experiment: Experiment, where: Workspace) -> list[tuple[object, runs.Run | None]]:
    """(value, its run or None when the run was deleted) for each value that has a run."""
    by_id = {run.id: run for run in runs.list_runs(where.runs)}
    return [(value, by_id.get(run_id)) for value, run_id in zip(experiment.values, experiment.runs)]


def row(label: str, value, run: runs.Run | None) -> dict:
    """One line of an experiment's table: the value first, then how the run did and how long it took."""
    history = run.history if run else {}
    final = run.result if run else None
    return {label: value, "status": run.status if run else "deleted",
            "train accuracy": _last(history.get("accuracy")), "validation accuracy": _last(history.get("val_accuracy")),
            "test accuracy": final.test_accuracy if final else None,
            "seconds": round(final.seconds, 1) if final else None, "model": final.model if final else None}


def _last(values):
    return values[-1] if values else None


def differing(configs: list[dict]) -> list[str]:
    """The compared settings whose values are not the same in all of `configs`."""
    return [key for key in COMPARED if len({json.dumps(c.get(key)) for c in configs}) > 1]
