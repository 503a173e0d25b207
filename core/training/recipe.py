"""What every fit shares: the strategy, the precision, the learning-rate schedule, compiling, the callbacks,
class weights, and the one result type both fits return."""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from sklearn.utils.class_weight import compute_class_weight

from core.eda import wants_class_weights
from core.errors import StudioError
from core.training.callbacks import CancelCallback, ProgressCallback
from core.training.config import TrainConfig
from core.training.events import Event

Emit = Callable[[Event], None]
ShouldStop = Callable[[], bool]


@dataclass
class FitResult:
    """What a fit hands back to `train`: the float32 model to save, its history, and the test split's
    probabilities (None when the run was cancelled). A fit that trained on every photo and estimated its
    accuracy by cross-validation gives the out-of-fold probabilities instead, with their labels and the
    estimate's description."""

    model: object
    history: dict[str, list[float]]
    test_probabilities: np.ndarray | None
    test_labels: np.ndarray | None = None  # None: the test split's
    estimate: dict | None = None
    train_samples: int | None = None  # None: the training split's
    familiar: object | None = None  # a model on the pretrained backbone: its `core.model.familiar.Familiarity`

    @property
    def cancelled(self) -> bool:
        return self.test_probabilities is None


def make_strategy(name: str):
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


@contextmanager
def precision_policy(precision: str) -> Iterator[None]:
    """Keras' global dtype policy for the models built inside, put back as it was afterwards.

    bfloat16 compute with float32 weights gives about twice the throughput on CPUs with native bf16."""
    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "mixed" else "float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)


def class_weights(labels: np.ndarray, num_classes: int, wanted: bool | None = None) -> dict | None:
    """Balanced class weights of the training labels: when asked for, or (`wanted` None) by default."""
    wanted = wants_class_weights(labels, num_classes) if wanted is None else wanted
    if not wanted or np.bincount(labels, minlength=num_classes).min() == 0:
        return None
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
    momentum = batch_norm_momentum(total_steps)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum


def learning_rate_schedule(cfg: TrainConfig, steps: int):
    """The configured rate: a number, or a Keras schedule over all `cfg.epochs * steps` steps."""
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


def compile_model(model, cfg: TrainConfig, steps: int, rate=None) -> None:
    """Adam on the configured schedule (or a fixed `rate`), sparse cross-entropy, accuracy."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate_schedule(cfg, steps) if rate is None else rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
        steps_per_execution=cfg.steps_per_execution,
    )


def steps_per_epoch(samples: int, cfg: TrainConfig) -> int:
    return math.ceil(samples / cfg.batch_size)


def callbacks_for(cfg: TrainConfig, emit: Emit, should_stop: ShouldStop, steps: int, first_epoch: int = 0,
                  schedules: bool = True):
    """(callbacks, the cancel callback): progress and cancel, plus early stopping and the plateau schedule
    when asked for (`schedules`; fine-tuning runs at a fixed rate without them)."""
    cancel = CancelCallback(should_stop)
    callbacks = [ProgressCallback(emit, cfg.epochs + cfg.fine_tune_epochs, steps, first_epoch=first_epoch), cancel]
    if schedules and cfg.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.early_stopping,
                                                       restore_best_weights=True))
    if schedules and cfg.lr_schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5,
                                                           patience=max(1, cfg.early_stopping // 2 or 2)))
    return callbacks, cancel


def history_of(result) -> dict[str, list[float]]:
    """Keras' History as plain floats, ready for JSON."""
    return {key: [float(v) for v in values] for key, values in result.history.items()}
