"""Metrics with scikit-learn: accuracy with its confidence interval, loss, confusion matrix, report,
misclassified samples, ROC/AUC; and the accuracy a model would get by always guessing one class."""
from __future__ import annotations

import numpy as np
from scipy.stats import binomtest
from sklearn import metrics

from core.data.catalog import describe_spec
from core.errors import DataError
from core.images import read_image_file

BATCH = 256
SMALL_TEST = 50  # under this many test images, an accuracy says little: the page warns
NEAR_CHANCE = 0.05  # a validation accuracy within 5 points of always guessing one class has learned nothing


def check_classes(info, data) -> None:
    """Refuse to evaluate a model on a dataset whose classes are no longer the ones it learnt (re-imported or
    rebuilt since), with a sentence instead of a metrics library's traceback."""
    learnt = list(info.meta.get("class_names", []))
    if learnt and learnt != list(data.class_names):
        raise DataError(f"{describe_spec(data.spec)} has changed since {info.name} was trained: its classes are now "
                        f"{', '.join(data.class_names)}, and the model knows {', '.join(learnt)}. Train a new model "
                        "on it, or pick another model.")


def chance_accuracy(labels) -> float:
    """The accuracy of always answering the most common class."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64))
    return float(counts.max() / counts.sum()) if counts.sum() else 0.0


def near_chance(accuracy: float | None, chance: float) -> bool:
    """Whether an accuracy is within NEAR_CHANCE of `chance_accuracy`."""
    return accuracy is not None and accuracy < chance + NEAR_CHANCE


def accuracy_interval(correct: int, total: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's interval for an accuracy: honest for small test sets and for accuracies near 0 or 1."""
    if total == 0:
        return 0.0, 1.0
    interval = binomtest(int(correct), int(total)).proportion_ci(confidence, method="wilson")
    return float(interval.low), float(interval.high)


def estimate_sentence(metrics: dict) -> str | None:
    """What to say of a model that trained on every photo and was estimated by cross-validation (None for a
    model measured on a test split of its own)."""
    estimate = metrics.get("estimate")
    if not estimate:
        return None
    total = estimate["photos"]
    low, high = accuracy_interval(round(metrics["test_accuracy"] * total), total)
    return (f"Estimated accuracy {metrics['test_accuracy']:.0%}, likely between {low:.0%} and {high:.0%}. With so "
            f"few photos, all {total} photos trained the model, and the estimate comes from "
            f"{estimate['method']}: each photo was answered by a model fitted on the others. More photos a class "
            "narrow the range.")


def predict_probabilities(model, dataset, split, image_size, crop: float = 1.0) -> np.ndarray:
    """Class probabilities for a whole split, batch by batch through a compiled forward pass."""
    from core.data.pipeline import pipeline  # loads TensorFlow
    from core.inference.predictor import forward_fn

    forward = forward_fn(model)
    batches = pipeline(dataset, split, image_size, BATCH, training=False, crop=crop)
    return np.concatenate([forward(x).numpy() for x, _ in batches]) if len(split) else np.zeros((0, 0))


def test_input(predictor, split, index: int) -> np.ndarray:
    """Sample `index` of a split as `predictor`'s model receives it: a grey image as it is stored, a photo
    decoded and prepared as an upload would be."""
    if split.x is not None:
        return np.asarray(split.x[index], np.float32)[..., None]
    return predictor.model_input(read_image_file(split.paths[index]))


def _samples(indices: np.ndarray, y_true: np.ndarray, probabilities: np.ndarray) -> list[dict]:
    """Test samples by index with their true and predicted class and confidence, most confident first."""
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    return [{"index": int(i), "true": int(y_true[i]), "predicted": int(predicted[i]),
             "confidence": float(confidence[i])} for i in indices[np.argsort(-confidence[indices], kind="stable")]]


def cell_samples(y_true: np.ndarray, probabilities: np.ndarray, true: int, predicted: int) -> list[dict]:
    """The test samples of one confusion-matrix cell (this true class, answered as that one), most confident
    first: as many as the cell counts."""
    y_true = np.asarray(y_true)
    return _samples(np.flatnonzero((y_true == true) & (probabilities.argmax(axis=1) == predicted)), y_true,
                    probabilities)


def metrics_from_probabilities(y_true: np.ndarray, probabilities: np.ndarray, class_names: list[str]) -> dict:
    """Everything the Evaluation page and `evaluate --json` show, from labels and probabilities."""
    labels = np.arange(len(class_names))
    predicted = probabilities.argmax(axis=1)
    confusion = metrics.confusion_matrix(y_true, predicted, labels=labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(confusion.sum(axis=1) > 0, np.diag(confusion) / confusion.sum(axis=1), np.nan)
    report = metrics.classification_report(y_true, predicted, labels=labels, target_names=class_names,
                                           output_dict=True, zero_division=0)
    wrong = np.flatnonzero(predicted != y_true)
    result = {
        "accuracy": float(metrics.accuracy_score(y_true, predicted)),
        "accuracy_interval": accuracy_interval(int((predicted == y_true).sum()), len(y_true)),
        "loss": float(metrics.log_loss(y_true, np.clip(probabilities, 1e-7, 1), labels=labels)),
        "samples": len(y_true),
        "confusion_matrix": confusion.tolist(),
        "per_class_accuracy": {name: (None if np.isnan(v) else float(v)) for name, v in zip(class_names, per_class)},
        "report": report,
        "misclassified": _samples(wrong, y_true, probabilities),
    }
    if len(class_names) == 2 and len(np.unique(y_true)) == 2:
        fpr, tpr, _ = metrics.roc_curve(y_true, probabilities[:, 1])
        result["auc"] = float(metrics.roc_auc_score(y_true, probabilities[:, 1]))
        result["roc"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist()}
    return result


def evaluate_model(model, dataset, image_size, crop: float = 1.0) -> dict:
    probabilities = predict_probabilities(model, dataset, dataset.test, image_size, crop)
    return metrics_from_probabilities(dataset.test.y, probabilities, dataset.class_names)
