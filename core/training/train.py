"""Train a preset on a dataset, evaluate it on the test split, and save it into the registry.

`train()` is the one training function: the command line calls it, and so do the warm workers that train
the dashboard's queued runs (`core.training.workers`). The fit itself is `scratch.fit` or `transfer.fit`;
both return a `recipe.FitResult`.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict

import keras
import tensorflow as tf

from core import evaluation, workspace
from core.data import catalog, specs
from core.errors import StudioError
from core.model import familiar, registry
from core.model.presets import get_preset
from core.training import recipe, scratch, transfer
from core.training.config import TrainConfig, command_for, model_stem
from core.training.events import Cancelled, Done, Status
from core.training.pictures import with_scans

NOT_HYPERPARAMETERS = ("command", "name", "replace", "workspace")  # what a run is called and where, not how


def train(cfg: TrainConfig, emit: recipe.Emit | None = None, should_stop: Callable[[], bool] | None = None,
          run_id: str | None = None, load: Callable = specs.load):
    """Train, evaluate on the test split, save. Returns the saved ModelInfo, or None when cancelled.

    `cfg` comes from `TrainConfig.ready()`: checked once, before any data is loaded. `run_id`, the
    background run doing this, is recorded in the model's meta: a run that dies after the save is
    still known to have made the model (`runs.load_run`). `load` is `specs.load`, or a warm worker's
    version of it that keeps MNIST in memory."""
    if not cfg.is_ready:
        raise ValueError("train() takes the config TrainConfig.ready() returns, checked and complete.")
    emit = emit or (lambda event: None)
    should_stop = should_stop or (lambda: False)
    preset = get_preset(cfg.preset)
    where = workspace.named(cfg.workspace)
    name = cfg.name or registry.unique_name(model_stem(cfg), where.models)
    with registry.name_lock(name, where.models):
        registry.check_can_save(name, where.models, replace=cfg.replace)
        strategy = recipe.make_strategy(cfg.strategy)  # first: a multi-worker strategy must exist before any TF op
        keras.utils.set_random_seed(cfg.seed)
        started = time.time()
        what = catalog.describe_spec(cfg.dataset)
        emit(Status(f"Loading {what}"))
        data = load(where.locate(cfg.dataset), val_fraction=cfg.val_fraction)
        if data.kind != preset.kind:
            raise StudioError(f"The preset {cfg.preset} is for {preset.kind}, but {what} holds {data.kind}; pick a "
                              f"{data.kind} preset.")
        train_split = specs.subset(data.train, cfg.limit, cfg.seed)
        if cfg.scans:
            emit(Status(f"Making {cfg.scans:,} low-resolution scans of training digits"))
            train_split = with_scans(train_split, cfg.scans, cfg.seed)
        val_split = specs.subset(data.val, cfg.limit and max(cfg.limit // 5, 1), cfg.seed)
        fit = transfer.fit if preset.backbone else scratch.fit
        result = fit(cfg, preset, data, train_split, val_split, emit, should_stop, strategy)
        if result.cancelled:
            emit(Cancelled())
            return None
        emit(Status("Evaluating on the test split"))
        labels = data.test.y if result.test_labels is None else result.test_labels
        report = evaluation.metrics_from_probabilities(labels, result.test_probabilities, data.class_names)
        meta = describe(cfg, preset, data, result, report, time.time() - started,
                        result.train_samples or len(train_split))
        meta["run"] = run_id
        extras = {}
        if result.familiar is not None:
            meta["familiar"] = result.familiar.describe()
            extras[familiar.FILE] = result.familiar.to_bytes()
        meta["metrics"]["chance_accuracy"] = evaluation.chance_accuracy(val_split.y)
        emit(Status(f"Saving {name}"))
        info = registry.save_model(result.model, name, meta, result.history, root=where.models, replace=cfg.replace,
                                   extras=extras)
    emit(Done.of(info))
    return info


def describe(cfg: TrainConfig, preset, data, result: recipe.FitResult, report: dict, seconds: float,
             train_samples: int) -> dict:
    """meta.json: everything needed to use, compare and reproduce the model; no path of this machine."""
    epochs_run = len(result.history.get("loss", []))
    where = workspace.named(cfg.workspace)
    dataset = where.portable(where.locate(cfg.dataset))
    return {
        "dataset": dataset,
        "kind": data.kind,
        "class_names": data.class_names,
        "input_shape": list(result.model.input_shape[1:]),
        "preset": cfg.preset,
        "backbone": preset.backbone,
        "crop": preset.crop,
        "hyperparameters": {k: v for k, v in asdict(cfg).items() if k not in NOT_HYPERPARAMETERS}
        | {"dataset": dataset},
        "precision": "float32" if preset.backbone else recipe.resolve_precision(cfg.precision),
        "metrics": {"test_accuracy": report["accuracy"], "test_loss": report["loss"],
                    "val_accuracy": result.history.get("val_accuracy", [None])[-1], "auc": report.get("auc"),
                    "test_samples": report["samples"], "confusion_matrix": report["confusion_matrix"],
                    "estimate": result.estimate},
        "training_seconds": round(seconds, 1),
        "seconds_per_epoch": round(seconds / max(1, epochs_run), 1),
        "epochs_run": epochs_run,
        "training_command": cfg.command or command_for(cfg),
        "data_fingerprint": data.fingerprint,
        "train_samples": train_samples,
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
        "cpu_count": os.cpu_count(),
    }
