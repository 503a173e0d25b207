"""How far a photo is from every class a model on the pretrained backbone learnt: "none of your classes".

A softmax head always answers with one of its classes, so a model trained on flowers calls a cat a rose. The
backbone's features say more: photos of one class sit together, and a photo of something else sits far from
all of them. Each class is kept as the mean of its training photos' features, made unit length first (the
direction of a feature vector says what is in the photo; its length mostly says how much). A photo farther
than a threshold from every class mean is "none of your classes".

Calibration: each training photo is measured against the mean of its class *without itself* (leave one out),
as a new photo of that class would be. Those distances, over all classes together, are fitted with a normal
distribution, and the threshold is where it leaves `FALSE_REFUSALS` above. With 50 photos, the fit moves far
less from one draw of photos to the next than the empirical quantile does (over 30 draws of 10 flower photos
a class: the fewest other photos refused 51% against 47%, and 94% against 91% on average); per class, 10
photos are too few for either. Measured end to end by `python -m bench.open_set`.

Stored beside the model as `familiar.npz` (the class means and the threshold): the serving model turns them
into one more output of the same pass (`core.inference.predictor`).
"""
from __future__ import annotations

import io
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np

FILE = "familiar.npz"
FALSE_REFUSALS = 0.05
MAX_BYTES = 64 << 20  # 1,000 classes of 1,280 float32 features is 5 MB


class Unreadable(Exception):
    """A `familiar.npz` that is not what training writes; the model then answers without the check."""


@dataclass(frozen=True)
class Familiarity:
    centres: np.ndarray  # classes × features: the mean of each class's unit-length training features
    threshold: float  # farther than this from every centre is none of the classes
    photos: int  # training photos it was calibrated on
    false_refusals: float = FALSE_REFUSALS

    def distances(self, features: np.ndarray) -> np.ndarray:
        """photos × classes: the distance of each photo's unit-length features to each class's centre."""
        unit = unit_length(np.asarray(features, np.float32))
        return np.linalg.norm(unit[:, None, :] - self.centres[None], axis=2)

    def describe(self) -> dict:
        """What meta.json keeps, for the pages to say how it was calibrated."""
        return {"threshold": round(self.threshold, 6), "false_refusals": self.false_refusals, "photos": self.photos}

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, centres=self.centres.astype(np.float32),
                 calibration=np.array([self.threshold, self.photos, self.false_refusals], np.float64))
        return buffer.getvalue()


def unit_length(features: np.ndarray) -> np.ndarray:
    return features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)


def calibrate(features: np.ndarray, labels: np.ndarray, num_classes: int,
              false_refusals: float = FALSE_REFUSALS) -> Familiarity | None:
    """The class centres and the threshold from training features, or None when a class has fewer than two
    photos (nothing to leave one out of)."""
    unit = unit_length(np.asarray(features, np.float32))
    labels = np.asarray(labels)
    counts = np.bincount(labels, minlength=num_classes)
    if len(counts) != num_classes or counts.min() < 2:
        return None
    sums = np.stack([unit[labels == c].sum(axis=0) for c in range(num_classes)])
    centres = sums / counts[:, None]
    left_out = (sums[labels] - unit) / (counts[labels] - 1)[:, None]
    distances = np.linalg.norm(unit - left_out, axis=1)
    threshold = float(NormalDist(distances.mean(), distances.std(ddof=1)).inv_cdf(1 - false_refusals))
    return Familiarity(centres.astype(np.float32), threshold, int(len(labels)), false_refusals)


def read(path: Path, num_classes: int, width: int) -> Familiarity | None:
    """The calibration in `path` (a model folder's `FILE`), None when there is none; Unreadable when the file is
    not one training wrote (a regular file of bounded size holding centres of the model's shape, finite)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Unreadable(f"{FILE} is unreadable ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
        raise Unreadable(f"{FILE} is not a regular file of a sensible size")
    try:
        with open(path, "rb") as handle:
            content = io.BytesIO(handle.read(MAX_BYTES + 1))
        if sum(member.file_size for member in zipfile.ZipFile(content).infolist()) > MAX_BYTES:
            raise ValueError("it inflates far past what a calibration needs")
        with np.load(content, allow_pickle=False) as data:
            centres, calibration = data["centres"], data["calibration"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise Unreadable(f"{FILE} is unreadable ({str(exc)[:120]})") from None
    if centres.shape != (num_classes, width) or calibration.shape != (3,) or \
            not (np.isfinite(centres).all() and np.isfinite(calibration).all()):
        raise Unreadable(f"{FILE} does not fit this model")
    threshold, photos, false_refusals = calibration.tolist()
    return Familiarity(centres.astype(np.float32), float(threshold), int(photos), float(false_refusals))


def sentence(described: dict | None) -> str:
    """How the check was calibrated, in words, for the Train and Your classes pages ("" without one)."""
    if not described:
        return ""
    return (f"A photo far from all of its classes is answered \"none of your classes\". The limit was set on the "
            f"{described['photos']:,} training photos, each measured against its class without itself: about "
            f"{described['false_refusals']:.0%} of photos like them would be refused.")
