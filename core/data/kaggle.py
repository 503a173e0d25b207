"""Kaggle's "Digit Recognizer" CSVs: `label,pixel0..pixel783` (train.csv) or pixels only (test.csv)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pandas as pd

from core.data.mnist import DigitData
from core.data.splits import stratified_split
from core.errors import DataError
from core.files import check_regular

_PIXEL_COLUMNS = [f"pixel{i}" for i in range(784)]


CHUNK_ROWS = 5_000  # about 30 MB of parsed pixels at a time: a 188 MB test.csv never sits whole in memory


def kaggle_chunks(source, labelled: bool):
    """Yield (images, labels or None) of a Kaggle Digit Recognizer CSV, CHUNK_ROWS at a time, each checked
    (`label,pixel0..pixel783`, or pixels only for test.csv). `source` is a path to a regular file (a FIFO
    would hang) or an uploaded file."""
    if isinstance(source, (str, os.PathLike)):
        check_regular(source, DataError, "CSV file")
    expected = (["label"] if labelled else []) + _PIXEL_COLUMNS
    seen = 0
    try:
        for frame in pd.read_csv(source, chunksize=CHUNK_ROWS):
            if seen == 0 and list(frame.columns) != expected:
                missing = [c for c in expected if c not in frame.columns][:3]
                raise DataError(
                    "This CSV does not have the Kaggle Digit Recognizer columns "
                    f"({'label, ' if labelled else ''}pixel0 … pixel783)"
                    + (f"; missing for example {', '.join(missing)}." if missing
                       else "; the columns are in another order."))
            seen += len(frame)
            yield _checked(frame, labelled)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"This is not a readable CSV file ({str(exc)[:160]}).") from None
    if seen == 0:
        raise DataError("This CSV has empty cells or no rows; every pixel must be 0..255.")


def _checked(frame, labelled: bool) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        values = frame.apply(pd.to_numeric, errors="raise").to_numpy()
    except (ValueError, TypeError):
        raise DataError("This CSV holds values that are not numbers; every pixel must be 0..255.") from None
    if np.isnan(values).any() or values.size == 0:
        raise DataError("This CSV has empty cells or no rows; every pixel must be 0..255.")
    pixels = values[:, 1:] if labelled else values
    if pixels.min() < 0 or pixels.max() > 255:
        raise DataError("This CSV has pixel values outside 0..255.")
    images = pixels.astype(np.uint8).reshape(-1, 28, 28)
    labels = values[:, 0].astype(np.int64) if labelled else None
    if labels is not None and not np.isin(labels, np.arange(10)).all():
        raise DataError("This CSV has labels outside 0..9.")
    return images, labels


def read_kaggle_csv(source, labelled: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """A whole Kaggle CSV as uint8 images (and labels): what training holds in memory anyway."""
    parts = list(kaggle_chunks(source, labelled))
    images = np.concatenate([images for images, _ in parts])
    return images, np.concatenate([labels for _, labels in parts]) if labelled else None


def load_kaggle(train_csv: Path, test_fraction: float = 0.1) -> DigitData:
    """A labelled Kaggle train.csv as a digit dataset, with a stratified test split held out."""
    images, labels = read_kaggle_csv(train_csv, labelled=True)
    (x_train, y_train), (x_test, y_test) = stratified_split((images, labels), labels, test_fraction)
    digest = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()[:16]
    return DigitData(x_train, y_train, x_test, y_test, source=str(train_csv), fingerprint="sha256:" + digest)


def submission(predictor, test_csv) -> tuple[str, int]:
    """(the submission CSV text, how many digits) of a digit model on Kaggle's unlabelled test.csv
    (a path or an uploaded file): what the Evaluate page offers and `evaluate --kaggle` writes."""
    labels = np.concatenate([predictor.classes_of(images[..., None])
                             for images, _ in kaggle_chunks(test_csv, labelled=False)])
    return kaggle_submission(labels), len(labels)


def kaggle_submission(predicted_labels: np.ndarray) -> str:
    """The Kaggle submission CSV text: `ImageId,Label` with ImageId counted from 1."""
    frame = pd.DataFrame({"ImageId": np.arange(1, len(predicted_labels) + 1), "Label": predicted_labels})
    return frame.to_csv(index=False)
