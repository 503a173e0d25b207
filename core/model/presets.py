"""The named presets a person picks from: a plain table of architecture, input size and default settings.

A preset names its builder (`core.model.builders.BUILDERS`) instead of holding it, so this table loads no
TensorFlow: the Train page and the command line's checks read it freely. Every default a run takes from
its preset is here, in `Defaults`, and nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.data.catalog import is_grey
from core.errors import ModelError
from core.model import lite0


@dataclass(frozen=True)
class Knobs:
    """What a builder is told: one dropout rate per Dropout layer, in order, batch norm, and width."""

    dropout: tuple[float, ...]
    batch_norm: bool
    width: float


@dataclass(frozen=True)
class Defaults:
    """The settings a run takes from its preset when the person leaves them unset."""

    epochs: int
    dropout: float
    batch_size: int
    learning_rate: float
    augment: bool
    batch_norm: bool = True
    width: float = 1.0
    lr_schedule: str = "plateau"


@dataclass(frozen=True)
class Preset:
    name: str
    kind: str  # what it is trained on: catalog.kind_of
    image_size: tuple[int, int]
    builder: str  # a key of core.model.builders.BUILDERS
    description: str
    defaults: Defaults
    # The dropout setting is the rate of the last Dropout layer, before the classifier; each earlier Dropout
    # layer drops this share of it.
    dropout_shares: tuple[float, ...] = (1.0,)
    backbone: str | None = None  # a pretrained, frozen backbone: training fits a head on its cached features
    crop: float = 1.0  # the centred share of the short side a photo is cropped to before resizing

    def dropout_rates(self, dropout: float) -> tuple[float, ...]:
        """The rate of each Dropout layer, in order, for the one dropout setting."""
        return tuple(round(share * dropout, 4) for share in self.dropout_shares)

    def knobs(self, dropout: float, batch_norm: bool, width: float) -> Knobs:
        return Knobs(self.dropout_rates(dropout), batch_norm, width)


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in [
        Preset("mnist-seed", "digits", (28, 28), "mnist_seed",
               "The seeds' CNN: two conv layers, dropout 0.25/0.25/0.5; one-cycle learning rate.",
               Defaults(epochs=10, dropout=0.5, batch_size=128, learning_rate=1e-2, augment=False, batch_norm=False,
                        lr_schedule="onecycle"),
               dropout_shares=(0.5, 0.5, 1.0)),
        Preset("mnist-bn", "digits", (28, 28), "mnist_bn",
               "Deeper conv + batch norm, trained with handwriting augmentation and a decaying learning rate.",
               Defaults(epochs=30, dropout=0.3, batch_size=128, learning_rate=2e-3, augment=True),
               dropout_shares=(1.0, 1.0, 1.0)),
        Preset("fashion-cnn", "clothing", (28, 28), "mnist_bn",
               "The digits' deeper conv + batch-norm network, trained on clothing with flips and shifts and a "
               "decaying learning rate.",
               Defaults(epochs=24, dropout=0.3, batch_size=128, learning_rate=2e-3, augment=True,
                        lr_schedule="cosine"),
               dropout_shares=(1.0, 1.0, 1.0)),
        Preset("photos-transfer", "photos", lite0.IMAGE_SIZE, "lite0_transfer",
               "EfficientNet-Lite0 pretrained on ImageNet, frozen, with a new head fitted to convergence: 95%+ "
               "from a few dozen photos per class, in seconds.",
               # The head's epochs are full passes of L-BFGS (training.linear_head): it converges in under 100.
               Defaults(epochs=100, dropout=0.2, batch_size=64, learning_rate=1e-3, augment=True),
               backbone=lite0.NAME, crop=lite0.CROP),
        Preset("photos-cnn", "photos", (128, 128), "photo_seed",
               "A CNN trained from scratch at 128x128 with batch norm and dropout: needs thousands of photos "
               "(the seeds report 80% on 25,000 cats and dogs).",
               Defaults(epochs=20, dropout=0.4, batch_size=32, learning_rate=1e-3, augment=True)),
        Preset("photos-xception", "photos", (180, 180), "xception_small",
               "keras-io's small Xception trained from scratch at 180x180: separable convs with residuals; "
               "about 90% on 25,000 cats and dogs in 25 epochs.",
               Defaults(epochs=25, dropout=0.25, batch_size=64, learning_rate=3e-4, augment=True, width=0.5)),
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


def input_shape(preset: Preset) -> tuple[int, int, int]:
    """What the preset's models take: 28×28×1 grey images, or RGB photos at the preset's size."""
    return (*preset.image_size, 1 if is_grey(preset.kind) else 3)
