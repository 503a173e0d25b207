"""What a training run is asked to do: `TrainConfig`, and the one flag table that maps it to a command line.

Every field carries its own flag metadata (type, range, help). `add_arguments` builds the CLI's parser
from it, `to_args` turns a config into arguments (the background runs and the recorded command use it),
and `from_args` turns parsed arguments back into a config: one table, no second list of names.
`ready` fills what was left unset from the preset and checks every value, once, before any data is loaded.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import shlex
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from core import config, names, workspace
from core.data import catalog
from core.errors import StudioError
from core.model.presets import Defaults, get_preset

SCHEDULES = {
    "onecycle": "warms up to the learning rate over the first fifth of training, then decays it along a cosine: "
                "the most accurate after few epochs",
    "cosine": "starts at the learning rate and decays it along a cosine",
    "plateau": "halves the rate when the validation loss stalls",
}
STRATEGIES = ("default", "mirrored", "multiworker")
PRECISIONS = ("auto", "mixed", "float32")


def flag(default=None, *, type=str, help: str, low=None, high=None, choices=None, hidden: bool = False):
    """A dataclass field that is also a command-line flag."""
    return field(default=default, metadata={"type": type, "help": help, "low": low, "high": high,
                                            "choices": choices, "hidden": hidden})


@dataclass
class TrainConfig:
    dataset: str = flag("mnist", help="mnist, catsdogs, cats_and_dogs_filtered, a folder of class subfolders, "
                                      "or a Kaggle train.csv")
    preset: str = flag("mnist-seed", help="see `python -m core models --presets`")
    epochs: int | None = flag(type=int, low=1, high=1000, help="passes over the training data")
    dropout: float | None = flag(type=float, low=0.0, high=0.9,
                                 help="share of units switched off at random while training, in the Dropout layer "
                                      "before the classifier (mnist-seed: half that share in its two earlier ones)")
    batch_size: int | None = flag(type=int, low=1, high=4096, help="samples per training step")
    learning_rate: float | None = flag(type=float, low=1e-8, high=10.0, help="the (peak) learning rate")
    augment: bool | None = flag(type=bool, help="random flips, shifts, zoom and strokes while training")
    batch_norm: bool | None = flag(type=bool, help="batch normalisation after convolutions")
    class_weights: bool | None = flag(type=bool, help="weigh each class by its rarity (default: on when the largest "
                                                      "class has more than twice the images of the smallest)")
    early_stopping: int = flag(0, type=int, low=0, high=1000,
                               help="stop after this many epochs without a better validation loss (0: off)")
    width: float | None = flag(type=float, low=0.05, high=8.0, help="width multiplier for the number of filters")
    lr_schedule: str | None = flag(choices=tuple(SCHEDULES),
                                   help="; ".join(f"{name}: {what}" for name, what in SCHEDULES.items()))
    fine_tune_epochs: int = flag(0, type=int, low=0, high=1000,
                                 help="pretrained presets: extra epochs with the top of the backbone unfrozen")
    limit: int | None = flag(type=int, low=1, high=10 ** 9, help="train on at most this many samples")
    scans: int = flag(0, type=int, low=0, high=10 ** 6, help="digits: also train on this many training digits as "
                                                           "low-resolution scans (8-16 px tall, blurred, few grey "
                                                           "levels, enlarged)")
    init_from: str | None = flag(help="start from the weights of this registry model (same preset and classes) "
                                      "instead of random ones")
    val_fraction: float = flag(0.1, type=float, low=0.01, high=0.5, help="share of the training data held out "
                                                                        "for validation")
    seed: int = flag(config.SEED, type=int, low=0, high=2 ** 31 - 1, help="random seed")
    name: str | None = flag(help="model name in the registry (default: made from the dataset and preset)")
    replace: bool = flag(False, type=bool, help="allow replacing an existing model of the same name")
    workspace: str = flag("", help="the workspace whose datasets, models and runs to use (default: the "
                                   "single-user models/ and data/)")
    strategy: str = flag("default", choices=STRATEGIES, help="tf.distribute strategy: mirrored = every local "
                                                             "device; multiworker = the machines in TF_CONFIG")
    precision: str = flag("auto", choices=PRECISIONS, help="mixed = bfloat16 compute (auto: where the CPU has "
                                                           "native bf16)")
    steps_per_execution: int = flag(32, type=int, low=1, high=10_000, help="training steps per call into TensorFlow")
    command: str = field(default="", repr=False, metadata={"hidden": True})

    def ready(self) -> TrainConfig:
        """A copy with every unset setting taken from the preset, checked: what `train` runs. Raises a
        sentence naming the setting for anything out of range or that does not fit the dataset."""
        preset = get_preset(self.preset)
        unset = {key: value for key, value in asdict(preset.defaults).items() if getattr(self, key) is None}
        cfg = dataclasses.replace(self, preset=preset.name, **unset)  # an alias is recorded by its current name
        cfg._check(preset)
        return cfg

    @property
    def is_ready(self) -> bool:
        """Whether `ready()` made this config: no setting is left for the preset to fill."""
        return all(getattr(self, item.name) is not None for item in fields(Defaults))

    def _check(self, preset) -> None:
        for item in _flag_fields():
            value, meta = getattr(self, item.name), item.metadata
            if value is None or meta["type"] not in (int, float):
                continue
            if isinstance(value, float) and not math.isfinite(value):
                raise StudioError(f"{_label(item)} must be a finite number, not {value}.")
            if meta["low"] is not None and not meta["low"] <= value <= meta["high"]:
                raise StudioError(f"{_label(item)} must be between {meta['low']:g} and {meta['high']:g}; "
                                  f"{value:g} is outside.")
        if self.name:
            names.check(self.name)
        workspace.named(self.workspace).locate(self.dataset)  # a named workspace reaches its own datasets only
        if self.init_from and preset.backbone:
            raise StudioError("--init-from is for presets trained from scratch; a pretrained preset starts "
                              "from its backbone.")
        if self.scans and catalog.kind_of(self.dataset) != "digits":
            raise StudioError("--scans adds low-resolution scans of digits; this dataset holds photos.")


def bounds(name: str) -> tuple[float, float]:
    """(lowest, highest) a numeric setting may take: what a slider offers."""
    meta = next(item.metadata for item in _flag_fields() if item.name == name)
    return meta["low"], meta["high"]


def model_stem(cfg: TrainConfig) -> str:
    """The start of a model name nobody gave: `mnist-seed`, `flowers-photos-transfer`, never doubled."""
    stem = {catalog.FILTERED: "catsdogs"}.get(cfg.dataset) or Path(catalog.portable_spec(cfg.dataset)).stem
    preset = get_preset(cfg.preset).name
    return preset if preset.startswith(stem) else f"{stem}-{preset}"


def _label(item) -> str:
    return "--" + item.name.replace("_", "-")


def _flag_fields():
    return [item for item in fields(TrainConfig) if not item.metadata.get("hidden")]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every TrainConfig field as a flag of `python -m core train`."""
    for item in _flag_fields():
        meta = item.metadata
        if meta["type"] is bool:
            parser.add_argument(_label(item), dest=item.name, action=argparse.BooleanOptionalAction,
                                default=item.default, help=meta["help"])
        else:
            parser.add_argument(_label(item), dest=item.name, type=meta["type"], default=item.default,
                                choices=meta["choices"], help=meta["help"])


def from_args(namespace: argparse.Namespace) -> TrainConfig:
    return TrainConfig(**{item.name: getattr(namespace, item.name) for item in _flag_fields()})


def to_args(cfg: TrainConfig) -> list[str]:
    """The flags that reproduce `cfg`: every field that differs from its default (dataset and preset always)."""
    args = []
    for item in _flag_fields():
        value = getattr(cfg, item.name)
        if value == item.default and item.name not in ("dataset", "preset"):
            continue
        if item.metadata["type"] is bool:
            args.append(_label(item) if value else "--no-" + _label(item)[2:])
        else:
            args += [_label(item), repr(value) if isinstance(value, float) else str(value)]
    return args


def command_for(cfg: TrainConfig) -> str:
    """The command line that reproduces a run."""
    return "python -m core train " + shlex.join(to_args(cfg))
