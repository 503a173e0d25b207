"""Train a preset on a dataset with Keras callbacks, then save it into the registry.

`train()` is the one training function: the command line calls it, and the dashboard
runs that command line in a background process (`core.jobs`).
"""
from __future__ import annotations

import math
import os
import shlex
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from core import config
from core.errors import StudioError


@dataclass
class TrainConfig:
    dataset: str = "mnist"
    preset: str = "mnist-seed"
    epochs: int | None = None
    dropout: float | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    augment: bool | None = None
    batch_norm: bool | None = None
    early_stopping: int = 0  # patience in epochs; 0 = off
    width: float | None = None
    lr_schedule: str | None = None  # one of SCHEDULES
    fine_tune_epochs: int = 0  # transfer preset: epochs with the base unfrozen at a low rate
    limit: int | None = None  # train on at most this many samples (quick runs, tests)
    val_fraction: float = 0.1
    seed: int = config.SEED
    name: str | None = None
    strategy: str = "default"  # "default", "mirrored", "multiworker"
    precision: str = "auto"  # "mixed" (bfloat16 compute), "float32", or "auto": mixed where the CPU has bf16
    steps_per_execution: int = 32
    command: str = field(default="", repr=False)

    def resolved(self) -> "TrainConfig":
        """Fill every unset knob from the preset's defaults."""
        from core.models import get_preset

        defaults = get_preset(self.preset).defaults
        values = asdict(self)
        fallback = {"epochs": 10, "dropout": 0.25, "batch_size": 128, "learning_rate": 1e-3, "augment": False,
                    "batch_norm": True, "width": 1.0, "lr_schedule": "plateau"}
        for key, default in fallback.items():
            if values[key] is None:
                values[key] = defaults.get(key, default)
        return TrainConfig(**values)


Emit = Callable[[dict], None]

SCHEDULES = {
    "onecycle": "warms up to the learning rate over the first fifth of training, then decays it along a cosine: "
                "the most accurate after few epochs",
    "cosine": "starts at the learning rate and decays it along a cosine",
    "plateau": "halves the rate when the validation loss stalls",
}


def make_callbacks(emit: Emit, should_stop: Callable[[], bool], total_epochs: int, steps: int):
    import keras

    class ProgressCallback(keras.callbacks.Callback):
        """Emits throttled batch events and every metric at epoch end, with the ETA and learning rate."""

        def __init__(self, every: float = 0.5):
            super().__init__()
            self.every = every
            self.last = 0.0

        def on_train_begin(self, logs=None):
            self.start = time.time()
            self.epoch_times: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
            self.epoch_start = time.time()

        def on_train_batch_end(self, batch, logs=None):
            now = time.time()
            if now - self.last < self.every:
                return
            self.last = now
            done = self.epoch * steps + batch + 1
            rate = done / max(now - self.start, 1e-6)
            emit({"type": "batch", "epoch": self.epoch + 1, "epochs": total_epochs, "batch": batch + 1,
                  "steps": steps, "eta": (total_epochs * steps - done) / rate, **_floats(logs)})

        def on_epoch_end(self, epoch, logs=None):
            self.epoch_times.append(time.time() - self.epoch_start)
            remaining = (total_epochs - epoch - 1) * float(np.mean(self.epoch_times))
            emit({"type": "epoch", "epoch": epoch + 1, "epochs": total_epochs, "steps": steps,
                  "seconds": self.epoch_times[-1],
                  "eta": remaining, "lr": current_lr(self.model), **_floats(logs)})

    class CancelCallback(keras.callbacks.Callback):
        """Stops training at the next batch once a cancel was asked for."""

        def __init__(self):
            super().__init__()
            self.cancelled = False

        def on_train_batch_end(self, batch, logs=None):
            if should_stop():
                self.cancelled = True
                self.model.stop_training = True

    return ProgressCallback(), CancelCallback()


def current_lr(model) -> float:
    optimizer = model.optimizer
    lr = optimizer.learning_rate
    if callable(lr) and not hasattr(lr, "numpy"):
        lr = lr(optimizer.iterations)
    return float(np.asarray(lr))


def _floats(logs) -> dict:
    return {k: float(v) for k, v in (logs or {}).items() if np.isscalar(v) or np.ndim(v) == 0}


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


def class_weights(labels: np.ndarray, num_classes: int) -> dict | None:
    """Balanced class weights when the largest class is more than 1.5 times the smallest."""
    counts = np.bincount(labels, minlength=num_classes)
    if counts.min() == 0 or counts.max() / counts.min() <= 1.5:
        return None
    from sklearn.utils.class_weight import compute_class_weight

    weights = compute_class_weight("balanced", classes=np.arange(num_classes), y=labels)
    return {i: float(w) for i, w in enumerate(weights)}


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


def train(cfg: TrainConfig, emit: Emit | None = None, should_stop: Callable[[], bool] | None = None):
    """Train, evaluate on the test split, save. Returns the saved ModelInfo, or None when cancelled."""
    import keras

    from core import datasets, evaluation, registry
    from core.models import get_preset

    emit = emit or (lambda event: None)
    should_stop = should_stop or (lambda: False)
    cfg = cfg.resolved()
    preset = get_preset(cfg.preset)
    keras.utils.set_random_seed(cfg.seed)

    emit({"type": "status", "message": f"Loading {datasets.describe_spec(cfg.dataset)}"})
    data = datasets.load(cfg.dataset, val_fraction=cfg.val_fraction)
    if data.kind != preset.kind:
        raise StudioError(f"The preset {cfg.preset} is for {preset.kind}, but {cfg.dataset} holds {data.kind}; "
                          f"pick a {data.kind} preset.")
    train_split = datasets.subset(data.train, cfg.limit, cfg.seed)
    val_split = datasets.subset(data.val, cfg.limit and max(cfg.limit // 5, 1), cfg.seed)
    model, history, seconds, cancelled = fit(cfg, preset, data, train_split, val_split, emit, should_stop)
    if cancelled:
        emit({"type": "cancelled"})
        return None

    emit({"type": "status", "message": "Evaluating on the test split"})
    report = evaluation.evaluate_model(model, data, preset.image_size)
    meta = describe(cfg, data, model, report, history, seconds, len(train_split))
    stem = cfg.dataset if cfg.dataset in ("mnist", "catsdogs") else data.kind
    stem = cfg.preset if cfg.preset.startswith(stem) else f"{stem}-{cfg.preset}"  # mnist-seed, not mnist-mnist-seed
    name = cfg.name or registry.unique_name(stem)
    emit({"type": "status", "message": f"Saving {name}"})
    info = registry.save_model(model, name, meta, history, replace=bool(cfg.name))
    emit({"type": "done", "model": info.name, "test_accuracy": report["accuracy"], "test_loss": report["loss"],
          "auc": report.get("auc"), "seconds": round(seconds, 1)})
    return info


def fit(cfg: TrainConfig, preset, data, train_split, val_split, emit: Emit, should_stop):
    """Build and fit the model under the configured strategy and precision.

    Returns (float32 model, history, seconds, cancelled).
    """
    import keras

    from core import datasets
    from core.models import Knobs, build_model

    steps = math.ceil(len(train_split) / cfg.batch_size)
    augment = None
    if cfg.augment:
        augment = datasets.digit_augmenter(cfg.seed) if data.kind == "digits" else datasets.photo_augmenter(cfg.seed)
    train_ds = datasets.pipeline(data, train_split, preset.image_size, cfg.batch_size, True, augment)
    val_ds = datasets.pipeline(data, val_split, preset.image_size, cfg.batch_size, False)
    num_classes = len(data.class_names)
    knobs = Knobs(cfg.dropout, cfg.batch_norm, cfg.width)
    precision = resolve_precision(cfg.precision)
    strategy = make_strategy(cfg.strategy)
    progress, cancel = make_callbacks(emit, should_stop, cfg.epochs + cfg.fine_tune_epochs, steps)
    callbacks = [progress, cancel]
    if cfg.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.early_stopping,
                                                       restore_best_weights=True))
    if cfg.lr_schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                           patience=max(1, cfg.early_stopping // 2 or 2)))
    emit({"type": "start", "epochs": cfg.epochs + cfg.fine_tune_epochs, "steps": steps, "precision": precision,
          "train_samples": len(train_split), "val_samples": len(val_split), "config": asdict(cfg)})
    # bfloat16 compute with float32 weights: about twice the throughput on CPUs with native bf16.
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "mixed" else "float32")
    try:
        with strategy.scope():
            model = build_model(preset, num_classes, knobs)
            _compile(model, cfg, steps)
        started = time.time()
        result = model.fit(train_ds, validation_data=val_ds, epochs=cfg.epochs, callbacks=callbacks, verbose=0,
                           shuffle=False, class_weight=class_weights(train_split.y, num_classes))
        history = {k: [float(v) for v in values] for k, values in result.history.items()}
        if cfg.fine_tune_epochs and not cancel.cancelled and preset.name == "catsdogs-transfer":
            history = _fine_tune(model, cfg, train_ds, val_ds, callbacks, history, steps, strategy)
        seconds = time.time() - started
    finally:
        keras.mixed_precision.set_global_policy("float32")
    if precision == "mixed":  # the saved model computes in float32: portable, and exact to evaluate
        model = float32_twin(model, preset, num_classes, knobs)
    return model, history, seconds, cancel.cancelled


def describe(cfg: TrainConfig, data, model, report: dict, history: dict, seconds: float, train_samples: int) -> dict:
    """meta.json: everything needed to use, compare and reproduce the model."""
    import keras
    import tensorflow as tf

    epochs_run = len(history.get("loss", []))
    return {
        "dataset": cfg.dataset,
        "dataset_source": data.source,
        "kind": data.kind,
        "class_names": data.class_names,
        "input_shape": list(model.input_shape[1:]),
        "preset": cfg.preset,
        "hyperparameters": {k: v for k, v in asdict(cfg).items() if k not in ("command", "name")},
        "precision": resolve_precision(cfg.precision),
        "metrics": {"test_accuracy": report["accuracy"], "test_loss": report["loss"],
                    "val_accuracy": history.get("val_accuracy", [None])[-1], "auc": report.get("auc"),
                    "confusion_matrix": report["confusion_matrix"]},
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
    from core.models import build_model

    twin = build_model(preset, num_classes, knobs)
    twin.set_weights(model.get_weights())
    return twin


def _fine_tune(model, cfg, train_ds, val_ds, callbacks, history, steps, strategy):
    """Unfreeze the pretrained base and train on at a tenth of the learning rate."""
    with strategy.scope():
        for layer in model.layers:
            if not layer.name.startswith(("dense", "dropout", "global_average")) and "batch_normalization" not in layer.name:
                layer.trainable = True
        _compile(model, cfg, steps, rate=cfg.learning_rate / 10)
    more = model.fit(train_ds, validation_data=val_ds, initial_epoch=cfg.epochs,
                     epochs=cfg.epochs + cfg.fine_tune_epochs, callbacks=callbacks, verbose=0, shuffle=False)
    return {k: history.get(k, []) + [float(v) for v in more.history.get(k, [])] for k in set(history) | set(more.history)}


def command_for(cfg: TrainConfig) -> str:
    """The command line that reproduces a run."""
    parts = ["python", "-m", "core", "train", "--dataset", cfg.dataset, "--preset", cfg.preset,
             "--epochs", str(cfg.epochs)]
    optional = [("--dropout", cfg.dropout), ("--batch-size", cfg.batch_size), ("--learning-rate", cfg.learning_rate),
                ("--width", cfg.width), ("--lr-schedule", cfg.lr_schedule), ("--early-stopping", cfg.early_stopping or None),
                ("--fine-tune-epochs", cfg.fine_tune_epochs or None),
                ("--limit", cfg.limit), ("--seed", cfg.seed), ("--name", cfg.name)]
    for flag, value in optional:
        if value is not None:
            parts += [flag, str(value)]
    parts.append("--augment" if cfg.augment else "--no-augment")
    parts.append("--batch-norm" if cfg.batch_norm else "--no-batch-norm")
    if cfg.strategy != "default":
        parts += ["--strategy", cfg.strategy]
    if cfg.precision != "auto":
        parts += ["--precision", cfg.precision]
    return shlex.join(parts)
