"""Keras callbacks that report a run's progress as events and stop it when a cancel is asked for."""
from __future__ import annotations

import time
from collections.abc import Callable

import keras
import numpy as np

from core.training.events import Batch, Epoch, Event

Emit = Callable[[Event], None]


def current_lr(model) -> float:
    optimizer = model.optimizer
    lr = optimizer.learning_rate
    if callable(lr) and not hasattr(lr, "numpy"):
        lr = lr(optimizer.iterations)
    return float(np.asarray(lr))


def scalars(logs) -> dict:
    return {k: float(v) for k, v in (logs or {}).items() if np.isscalar(v) or np.ndim(v) == 0}


class ProgressCallback(keras.callbacks.Callback):
    """Emits throttled batch events and every metric at epoch end, with the ETA and learning rate.

    `first_epoch` offsets the numbering when a second phase (fine-tuning) continues a run."""

    def __init__(self, emit: Emit, total_epochs: int, steps: int, first_epoch: int = 0, every: float = 0.5):
        super().__init__()
        self.emit, self.total_epochs, self.steps = emit, total_epochs, max(1, steps)
        self.first_epoch, self.every, self.last = first_epoch, every, 0.0

    def on_train_begin(self, logs=None):
        self.start = time.time()
        self.epoch_times: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + self.first_epoch
        self.epoch_start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        now = time.time()
        if now - self.last < self.every:
            return
        self.last = now
        batch = min(batch + 1, self.steps)  # with steps_per_execution Keras reports the last batch of a group
        done = (self.epoch - self.first_epoch) * self.steps + batch
        rate = done / max(now - self.start, 1e-6)
        remaining = max(0.0, (self.total_epochs - self.epoch) * self.steps - batch)
        self.emit(Batch(epoch=self.epoch + 1, epochs=self.total_epochs, batch=batch, steps=self.steps,
                        eta=remaining / rate, metrics=scalars(logs)))

    def on_epoch_end(self, epoch, logs=None):
        if self.model.stop_training:  # cancelled during this epoch (a stop at epoch end comes after us): a part
            return                    # of an epoch is not a point on the curves
        self.epoch_times.append(time.time() - self.epoch_start)
        remaining = max(0, self.total_epochs - self.epoch - 1) * float(np.mean(self.epoch_times))
        self.emit(Epoch(epoch=self.epoch + 1, epochs=self.total_epochs, steps=self.steps,
                        seconds=self.epoch_times[-1], eta=remaining, lr=current_lr(self.model), metrics=scalars(logs)))


class CancelCallback(keras.callbacks.Callback):
    """Stops training at the next batch once a cancel was asked for."""

    def __init__(self, should_stop: Callable[[], bool]):
        super().__init__()
        self.should_stop = should_stop
        self.cancelled = False

    def on_train_batch_end(self, batch, logs=None):
        if self.should_stop():
            self.cancelled = True
            self.model.stop_training = True
