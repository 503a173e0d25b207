"""The named presets a person picks from: an architecture, its input size and its default knobs."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.errors import ModelError
from core.model import builders, lite0


@dataclass(frozen=True)
class Knobs:
    """What a user tunes in the architecture itself."""

    dropout: float = 0.25
    batch_norm: bool = True
    width: float = 1.0


@dataclass(frozen=True)
class Preset:
    name: str
    kind: str  # "digits" or "photos"
    image_size: tuple[int, int]
    build: Callable
    description: str
    defaults: dict = field(default_factory=dict)
    backbone: str | None = None  # a pretrained, frozen backbone: training fits a head on its cached features
    crop: float = 1.0  # the centred share of the short side a photo is cropped to before resizing


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in [
        Preset("mnist-seed", "digits", (28, 28), builders.build_mnist_seed,
               "The seeds' CNN: two conv layers, dropout 0.25/0.25/0.5; one-cycle learning rate.",
               {"dropout": 0.25, "batch_norm": False, "epochs": 10, "batch_size": 128, "learning_rate": 1e-2,
                "lr_schedule": "onecycle"}),
        Preset("mnist-bn", "digits", (28, 28), builders.build_mnist_bn,
               "Deeper conv + batch norm, trained with handwriting augmentation and a decaying learning rate.",
               {"dropout": 0.3, "batch_norm": True, "epochs": 30, "batch_size": 128, "learning_rate": 2e-3,
                "augment": True}),
        Preset("photos-transfer", "photos", lite0.IMAGE_SIZE, builders.build_lite0_transfer,
               "EfficientNet-Lite0 pretrained on ImageNet, frozen, with a new head: 95%+ from a few dozen photos "
               "per class, in seconds.",
               {"dropout": 0.2, "batch_norm": True, "epochs": 10, "batch_size": 64, "learning_rate": 1e-3,
                "augment": True}, backbone=lite0.NAME, crop=lite0.CROP),
        Preset("photos-cnn", "photos", (128, 128), builders.build_photo_seed,
               "A CNN trained from scratch at 128x128 with batch norm and dropout: needs thousands of photos "
               "(the seeds report 80% on 25,000 cats and dogs).",
               {"dropout": 0.4, "batch_norm": True, "epochs": 20, "batch_size": 32, "learning_rate": 1e-3,
                "augment": True}),
        Preset("photos-xception", "photos", (180, 180), builders.build_xception_small,
               "keras-io's small Xception trained from scratch at 180x180: separable convs with residuals; "
               "about 90% on 25,000 cats and dogs in 25 epochs.",
               {"dropout": 0.25, "batch_norm": True, "epochs": 25, "batch_size": 64, "learning_rate": 3e-4,
                "augment": True, "width": 0.5}),
    ]
}
# The names presets had when they were made for cats and dogs; any photo dataset uses them now.
ALIASES = {"catsdogs-transfer": "photos-transfer", "catsdogs-seed": "photos-cnn",
           "catsdogs-xception-small": "photos-xception"}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[ALIASES.get(name, name)]
    except KeyError:
        raise ModelError(f"There is no preset called {name!r}; choose one of: {', '.join(PRESETS)}.") from None


def presets_for(kind: str) -> list[str]:
    return [name for name, preset in PRESETS.items() if preset.kind == kind]


def build_model(preset: Preset, num_classes: int, knobs: Knobs):
    channels = 1 if preset.kind == "digits" else 3
    return preset.build((*preset.image_size, channels), num_classes, knobs)
