"""Train a preset on a dataset with Keras callbacks, then save it into the registry.

`train()` is the one training function: the command line calls it, and the dashboard
runs that command line in a background process (`core.training.runs`).
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from core.errors import StudioError
from core.training.config import TrainConfig, command_for
from core.training.pictures import with_scans

Emit = Callable[[dict], None]


def make_strategy(name: str):
    import tensorflow as tf

    if name == "mirrored":
        # Every GPU of this machine; on a CPU-only machine, every logical CPU device (tests use two).
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy(devices=[d.name for d in devices])
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "default":
        return tf.distribute.get_strategy()
    raise StudioError(f"Unknown strategy {name!r}: use default, mirrored or multiworker.")


def cpu_has_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX); elsewhere bf16 is emulated and slow."""
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str) -> str:
    if precision == "auto":
        return "mixed" if cpu_has_bfloat16() else "float32"
    if precision not in ("mixed", "float32"):
        raise StudioError(f"Unknown precision {precision!r}: use auto, mixed or float32.")
    return precision


def class_weights(labels: np.ndarray, num_classes: int, wanted: bool | None = None) -> dict | None:
    """Balanced class weights: when asked for, or (`wanted` None) when the classes are imbalanced."""
    from core.eda import IMBALANCED, imbalance_ratio

    counts = np.bincount(labels, minlength=num_classes)
    if counts.min() == 0 or not (imbalance_ratio(counts) > IMBALANCED if wanted is None else wanted):
        return None
    from sklearn.utils.class_weight import compute_class_weight

    weights = compute_class_weight("balanced", classes=np.arange(num_classes), y=labels)
    return {i: float(w) for i, w in enumerate(weights)}


def batch_norm_momentum(total_steps: int) -> float:
    """A moving-average momentum that lets batch norm's inference statistics settle within the run.

    Keras' 0.99 needs some 500 steps to forget its starting mean 0 and variance 1: a small dataset
    trained for 3 epochs of 5 steps ends with statistics that have nothing to do with its data, and
    a model that answers one class for everything, although training accuracy is high. Here the
    average spans about the last fifth of the run."""
    return float(np.clip(1 - 5 / max(total_steps, 1), 0.5, 0.99))


def suit_batch_norm(model, total_steps: int) -> None:
    import keras

    momentum = batch_norm_momentum(total_steps)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum


def learning_rate_schedule(cfg: TrainConfig, steps: int):
    """The configured rate: a number, or a Keras schedule over all `cfg.epochs * steps` steps."""
    import keras

    total = max(1, cfg.epochs * steps)
    if cfg.lr_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(cfg.learning_rate, total, alpha=0.01)
    if cfg.lr_schedule == "onecycle":
        # A short warm-up lets the peak rate be several times higher than a constant rate could be,
        # which is what makes one epoch go far; the cosine tail then settles the weights.
        warmup = total // 5
        return keras.optimizers.schedules.CosineDecay(cfg.learning_rate / 20, max(1, total - warmup), alpha=0.02,
                                                      warmup_target=cfg.learning_rate, warmup_steps=warmup)
    return cfg.learning_rate


def _compile(model, cfg: TrainConfig, steps: int, rate=None):
    import keras

    optimizer = keras.optimizers.Adam(learning_rate_schedule(cfg, steps) if rate is None else rate)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
        steps_per_execution=cfg.steps_per_execution,
    )


def default_name(cfg: TrainConfig) -> str:
    """A model name from its dataset and preset: `mnist-seed`, `flowers-photos-transfer`, never doubled."""
    from core.data.specs import portable_spec

    stem = {"cats_and_dogs_filtered": "catsdogs"}.get(cfg.dataset) or Path(portable_spec(cfg.dataset)).stem
    return cfg.preset if cfg.preset.startswith(stem) else f"{stem}-{cfg.preset}"


def train(cfg: TrainConfig, emit: Emit | None = None, should_stop: Callable[[], bool] | None = None,
          run_id: str | None = None):
    """Train, evaluate on the test split, save. Returns the saved ModelInfo, or None when cancelled.

    `run_id`, the background run doing this, is recorded in the model's meta: a run that dies after the
    save is still known to have made the model (`runs.load_run`).

    Everything that can be refused (settings, the model name) is refused before any data is loaded."""
    import keras

    from core import evaluation
    from core.data import specs
    from core.model import registry
    from core.model.presets import get_preset

    emit = emit or (lambda event: None)
    should_stop = should_stop or (lambda: False)
    cfg = cfg.resolved().validate()
    preset = get_preset(cfg.preset)
    name = cfg.name or registry.unique_name(default_name(cfg))
    with registry.name_lock(name):
        registry.check_can_save(name, replace=cfg.replace)
        strategy = make_strategy(cfg.strategy)  # first: a multi-worker strategy must exist before any TF op
        keras.utils.set_random_seed(cfg.seed)
        started = time.time()
        emit({"type": "status", "message": f"Loading {specs.describe_spec(cfg.dataset)}"})
        data = specs.load(cfg.dataset, val_fraction=cfg.val_fraction)
        if data.kind != preset.kind:
            raise StudioError(f"The preset {cfg.preset} is for {preset.kind}, but {specs.describe_spec(cfg.dataset)} "
                              f"holds {data.kind}; pick a {data.kind} preset.")
        train_split = specs.subset(data.train, cfg.limit, cfg.seed)
        if cfg.scans:
            if data.kind != "digits":
                raise StudioError("--scans adds low-resolution scans of digits; this dataset holds photos.")
            emit({"type": "status", "message": f"Making {cfg.scans:,} low-resolution scans of training digits"})
            train_split = with_scans(train_split, cfg.scans, cfg.seed)
        val_split = specs.subset(data.val, cfg.limit and max(cfg.limit // 5, 1), cfg.seed)
        if preset.backbone:
            from core.training import transfer

            if cfg.init_from:
                raise StudioError("--init-from is for presets trained from scratch; a pretrained preset starts "
                                  "from its backbone.")

            model, history, cancelled, test_probabilities = transfer.fit(cfg, preset, data, train_split, val_split,
                                                                         emit, should_stop)
        else:
            model, history, cancelled = fit(cfg, preset, data, train_split, val_split, emit, should_stop, strategy)
        if cancelled:
            emit({"type": "cancelled"})
            return None
        emit({"type": "status", "message": "Evaluating on the test split"})
        if preset.backbone:
            report = evaluation.metrics_from_probabilities(data.test.y, test_probabilities, data.class_names)
        else:
            report = evaluation.evaluate_model(model, data, preset.image_size, preset.crop)
        seconds = time.time() - started
        meta = describe(cfg, data, model, report, history, seconds, len(train_split)) | {"run": run_id}
        meta["metrics"]["chance_accuracy"] = evaluation.chance_accuracy(val_split.y)
        emit({"type": "status", "message": f"Saving {name}"})
        info = registry.save_model(model, name, meta, history, replace=cfg.replace)
    emit({"type": "done", "model": info.name, "test_accuracy": report["accuracy"], "test_loss": report["loss"],
          "auc": report.get("auc"), "seconds": round(seconds, 1), "val_accuracy": meta["metrics"]["val_accuracy"],
          "chance_accuracy": meta["metrics"]["chance_accuracy"],
          "near_chance": evaluation.near_chance(meta["metrics"]["val_accuracy"], meta["metrics"]["chance_accuracy"])})
    return info


def callbacks_for(cfg: TrainConfig, emit: Emit, should_stop, steps: int):
    """Progress and cancel, plus early stopping and the plateau schedule when asked for."""
    import keras

    from core.training.callbacks import CancelCallback, ProgressCallback

    progress = ProgressCallback(emit, cfg.epochs + cfg.fine_tune_epochs, steps)
    cancel = CancelCallback(should_stop)
    callbacks = [progress, cancel]
    if cfg.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.early_stopping,
                                                       restore_best_weights=True))
    if cfg.lr_schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                           patience=max(1, cfg.early_stopping // 2 or 2)))
    return callbacks, cancel


def fit(cfg: TrainConfig, preset, data, train_split, val_split, emit: Emit, should_stop, strategy=None):
    """Build and fit the model under the configured strategy and precision.

    Returns (float32 model, history, cancelled).
    """
    import keras

    from core.data import pipeline
    from core.model.presets import Knobs, build_model

    steps = math.ceil(len(train_split) / cfg.batch_size)
    augment = None
    if cfg.augment:
        augment = pipeline.digit_augmenter(cfg.seed) if data.kind == "digits" else pipeline.photo_augmenter(cfg.seed)
    train_ds = pipeline.pipeline(data, train_split, preset.image_size, cfg.batch_size, True, augment)
    val_ds = pipeline.pipeline(data, val_split, preset.image_size, cfg.batch_size, False)
    num_classes = len(data.class_names)
    knobs = Knobs(cfg.dropout, cfg.batch_norm, cfg.width)
    precision = resolve_precision(cfg.precision)
    strategy = strategy or make_strategy(cfg.strategy)
    callbacks, cancel = callbacks_for(cfg, emit, should_stop, steps)
    emit({"type": "start", "epochs": cfg.epochs + cfg.fine_tune_epochs, "steps": steps, "precision": precision,
          "train_samples": len(train_split), "val_samples": len(val_split), "config": asdict(cfg)})
    # bfloat16 compute with float32 weights: about twice the throughput on CPUs with native bf16.
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "mixed" else "float32")
    weights = class_weights(train_split.y, num_classes, cfg.class_weights)
    try:
        with strategy.scope():
            model = build_model(preset, num_classes, knobs)
            if cfg.init_from:
                start_from(model, cfg.init_from)
            suit_batch_norm(model, cfg.epochs * steps)
            _compile(model, cfg, steps)
            model.optimizer.build(model.trainable_variables)  # its slots exist before any replica runs
        if cfg.strategy == "multiworker":  # Keras' fit() cannot run under this strategy (see distributed.py)
            from core.training.distributed import fit_loop

            history = fit_loop(model, strategy, train_ds, val_ds, len(train_split), cfg.batch_size, cfg.epochs,
                               callbacks, weights)
        else:
            result = model.fit(train_ds, validation_data=val_ds, epochs=cfg.epochs, callbacks=callbacks, verbose=0,
                               shuffle=False, class_weight=weights)
            history = {k: [float(v) for v in values] for k, values in result.history.items()}
    finally:
        keras.mixed_precision.set_global_policy("float32")
    if precision == "mixed" or cfg.strategy == "multiworker":
        # The saved model computes in float32 and lives outside any strategy: portable, and exact to evaluate.
        model = float32_twin(model, preset, num_classes, knobs)
    return model, history, cancel.cancelled


def start_from(model, name: str) -> None:
    """Copy a registry model's weights into `model`, which must be the same network."""
    from core.model import registry

    _, source = registry.load(name)
    try:
        model.set_weights(source.get_weights())
    except ValueError:
        raise StudioError(f"The model {name!r} is another network than this preset builds; start from a model "
                          "trained with the same preset, width and classes.") from None


def describe(cfg: TrainConfig, data, model, report: dict, history: dict, seconds: float, train_samples: int) -> dict:
    """meta.json: everything needed to use, compare and reproduce the model; no path of this machine."""
    import keras
    import tensorflow as tf

    from core.data.specs import portable_spec
    from core.model.presets import get_preset

    preset = get_preset(cfg.preset)
    epochs_run = len(history.get("loss", []))
    dataset = portable_spec(cfg.dataset)
    return {
        "dataset": dataset,
        "kind": data.kind,
        "class_names": data.class_names,
        "input_shape": list(model.input_shape[1:]),
        "preset": cfg.preset,
        "backbone": preset.backbone,
        "crop": preset.crop,
        "hyperparameters": {k: v for k, v in asdict(cfg).items() if k not in ("command", "name", "replace")}
        | {"dataset": dataset},
        "precision": "float32" if preset.backbone else resolve_precision(cfg.precision),
        "metrics": {"test_accuracy": report["accuracy"], "test_loss": report["loss"],
                    "val_accuracy": history.get("val_accuracy", [None])[-1], "auc": report.get("auc"),
                    "test_samples": report["samples"], "confusion_matrix": report["confusion_matrix"]},
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


def float32_twin(model, preset, num_classes: int, knobs):
    """The same network built in float32 with the trained weights (mixed precision keeps float32 weights)."""
    from core.model.presets import build_model

    twin = build_model(preset, num_classes, knobs)
    twin.set_weights(model.get_weights())
    return twin
