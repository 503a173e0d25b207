"""What a training run reports while it works: one small dataclass per kind of event, JSON in and out.

The trainer writes them (`train`, the fits, the progress callback), `runs.EventLog` appends them to
`runs/<id>/events.jsonl`, and every reader (the run's status, the Train page, the sidebar, the command
line's progress) gets them back typed through `from_json`. A line that is half written or of an unknown
kind reads as None and is skipped.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields

from core.evaluation import near_chance


@dataclass(frozen=True)
class Event:
    time: float = field(default_factory=time.time, kw_only=True)

    def to_json(self) -> dict:
        return {"type": KIND_OF[type(self)], **asdict(self)}


@dataclass(frozen=True)
class Status(Event):
    """A step before or after the epochs: loading data, computing features, evaluating, saving."""

    message: str


@dataclass(frozen=True)
class Start(Event):
    """The first batch is about to run."""

    epochs: int
    steps: int
    precision: str
    train_samples: int
    val_samples: int
    config: dict


@dataclass(frozen=True)
class Progress(Event):
    """Where training is: an epoch of all epochs, its steps, the time left, and Keras' metrics so far."""

    epoch: int
    epochs: int
    steps: int
    eta: float
    metrics: dict = field(default_factory=dict, kw_only=True)


@dataclass(frozen=True)
class Batch(Progress):
    """Throttled progress inside an epoch; `metrics` are Keras' running logs (loss, accuracy)."""

    batch: int


@dataclass(frozen=True)
class Epoch(Progress):
    """An epoch ended: its metrics, train and validation, how long it took, and the learning rate it ended
    with."""

    seconds: float
    lr: float


@dataclass(frozen=True)
class Done(Event):
    """The model is saved: what it scored."""

    model: str
    test_accuracy: float
    test_loss: float
    seconds: float
    val_accuracy: float | None = None
    chance_accuracy: float | None = None
    auc: float | None = None
    estimate: dict | None = None  # how the accuracy was estimated when every photo trained (linear_head)
    familiar: dict | None = None  # how "none of your classes" was calibrated (core.model.familiar)

    @classmethod
    def of(cls, info, **when) -> Done:
        """The event of a saved model, read from its meta: the trainer and a recovered run say the same."""
        metrics = info.meta["metrics"]
        return cls(model=info.name, test_accuracy=metrics["test_accuracy"], test_loss=metrics["test_loss"],
                   seconds=info.meta.get("training_seconds", 0.0), val_accuracy=metrics.get("val_accuracy"),
                   chance_accuracy=metrics.get("chance_accuracy"), auc=metrics.get("auc"),
                   estimate=metrics.get("estimate"), familiar=info.meta.get("familiar"), **when)

    @property
    def near_chance(self) -> bool:
        """Whether the model learned next to nothing (see `evaluation.near_chance`)."""
        return self.chance_accuracy is not None and near_chance(self.val_accuracy, self.chance_accuracy)


@dataclass(frozen=True)
class Failed(Event):
    error: str


@dataclass(frozen=True)
class Cancelled(Event):
    message: str = "Cancelled; no model was saved."


KINDS = {"status": Status, "start": Start, "batch": Batch, "epoch": Epoch, "done": Done, "failed": Failed,
         "cancelled": Cancelled}
KIND_OF = {kind: name for name, kind in KINDS.items()}
FINAL = (Done, Failed, Cancelled)  # a run that wrote one of these has ended


def from_json(record: dict) -> Event | None:
    """The event a JSON line holds, or None for a record of no known kind or with missing fields."""
    kind = KINDS.get(record.get("type")) if isinstance(record, dict) else None
    if kind is None:
        return None
    names = {item.name for item in fields(kind)}
    try:
        return kind(**{key: value for key, value in record.items() if key in names})
    except TypeError:
        return None
