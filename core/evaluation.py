"""Metrics with scikit-learn: accuracy, loss, confusion matrix, report, misclassified samples, ROC/AUC,
and Grad-CAM heat maps of what a model looked at."""
from __future__ import annotations

import numpy as np

BATCH = 256


def predict_probabilities(model, dataset, split, image_size) -> np.ndarray:
    """Class probabilities for a whole split, batch by batch through a compiled forward pass."""
    from core import datasets
    from core.predict import forward_fn

    forward = forward_fn(model)
    batches = datasets.pipeline(dataset, split, image_size, BATCH, training=False)
    return np.concatenate([forward(x).numpy() for x, _ in batches]) if len(split) else np.zeros((0, 0))


def metrics_from_probabilities(y_true: np.ndarray, probabilities: np.ndarray, class_names: list[str]) -> dict:
    """Everything the Evaluation page and `evaluate --json` show, from labels and probabilities."""
    from sklearn import metrics

    labels = np.arange(len(class_names))
    predicted = probabilities.argmax(axis=1)
    confusion = metrics.confusion_matrix(y_true, predicted, labels=labels)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(confusion.sum(axis=1) > 0, np.diag(confusion) / confusion.sum(axis=1), np.nan)
    report = metrics.classification_report(y_true, predicted, labels=labels, target_names=class_names,
                                           output_dict=True, zero_division=0)
    confidence = probabilities.max(axis=1)
    wrong = np.flatnonzero(predicted != y_true)
    result = {
        "accuracy": float(metrics.accuracy_score(y_true, predicted)),
        "loss": float(metrics.log_loss(y_true, np.clip(probabilities, 1e-7, 1), labels=labels)),
        "samples": int(len(y_true)),
        "confusion_matrix": confusion.tolist(),
        "per_class_accuracy": {name: (None if np.isnan(v) else float(v)) for name, v in zip(class_names, per_class)},
        "report": report,
        "misclassified": [
            {"index": int(i), "true": int(y_true[i]), "predicted": int(predicted[i]), "confidence": float(confidence[i])}
            for i in wrong[np.argsort(-confidence[wrong])]
        ],
    }
    if len(class_names) == 2 and len(np.unique(y_true)) == 2:
        fpr, tpr, _ = metrics.roc_curve(y_true, probabilities[:, 1])
        result["auc"] = float(metrics.roc_auc_score(y_true, probabilities[:, 1]))
        result["roc"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist()}
    return result


def evaluate_model(model, dataset, image_size) -> dict:
    probabilities = predict_probabilities(model, dataset, dataset.test, image_size)
    return metrics_from_probabilities(dataset.test.y, probabilities, dataset.class_names)


def report_frame(result: dict):
    """The classification report as a table: one row per class plus the averages."""
    import pandas as pd

    frame = pd.DataFrame(result["report"]).T
    frame = frame.drop(index="accuracy", errors="ignore")
    frame["support"] = frame["support"].astype(int)
    return frame


# --- Grad-CAM ---------------------------------------------------------------------------


def last_conv_layer(model):
    """The last layer with a spatial (4-D) output: where Grad-CAM looks."""
    for layer in reversed(model.layers):
        shape = getattr(layer, "output", None)
        shape = getattr(shape, "shape", None)
        if shape is not None and len(shape) == 4 and min(shape[1:3]) > 1:
            return layer
    raise ValueError("This model has no convolutional layer to explain.")


def grad_cam(model, image: np.ndarray, class_index: int | None = None) -> np.ndarray:
    """A heat map in 0..1 at the input's size: where the evidence for the class sits (Selvaraju et al.)."""
    import keras
    import tensorflow as tf

    layer = last_conv_layer(model)
    explainer = keras.Model(model.inputs, [layer.output, model.output])
    batch = tf.convert_to_tensor(image[None].astype(np.float32))
    with tf.GradientTape() as tape:
        features, probabilities = explainer(batch, training=False)
        index = int(tf.argmax(probabilities[0])) if class_index is None else class_index
        score = probabilities[:, index]
    grads = tape.gradient(score, features)
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    cam = tf.nn.relu(tf.reduce_sum(features[0] * weights, axis=-1)).numpy()
    if cam.max() > 0:
        cam = cam / cam.max()
    import cv2

    return cv2.resize(cam.astype(np.float32), (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)


def overlay(image: np.ndarray, heat: np.ndarray, strength: float = 0.45) -> np.ndarray:
    """The heat map in the JET colours over the image (RGB uint8)."""
    import cv2

    base = image.astype(np.float32)
    if base.ndim == 2 or base.shape[-1] == 1:
        base = np.repeat(base.reshape(base.shape[0], base.shape[1], 1), 3, axis=2)
    colours = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET)[:, :, ::-1].astype(np.float32)
    return np.clip(base * (1 - strength) + colours * strength, 0, 255).astype(np.uint8)
