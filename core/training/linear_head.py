"""The head on a pretrained backbone's features, fitted to convergence, and what it is worth on few photos.

The head is a softmax over the features: a multinomial logistic regression. Fitted full-batch by L-BFGS
(scikit-learn), it converges in well under a second on the features of a few hundred photos, where the same
head trained by Adam for the old default of 10 epochs stopped far short (67% against 78% on 10 flower photos a
class, `python -m bench.few_shot`). Its weights are then the Keras classifier's, so the saved model is the same
Keras model as before.

With few photos a class, holding out a validation and a test photo per class costs a fifth of the training
set and measures next to nothing. Then every photo trains the head, and the accuracy is estimated by k-fold
cross-validation on the cached features: each fold is predicted by a head fitted on the others' photos.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from core.config import SEED

STRENGTH = 1.0  # scikit-learn's C, the inverse of the L2 penalty: as good as any on 5-20 photos a class
FEW_PHOTOS = 30  # a dataset whose smallest class has fewer photos trains on all of them, estimated by folds
MOST_FOLDS = 5


@dataclass(frozen=True)
class Head:
    kernel: np.ndarray  # (features, classes), the Keras Dense layout
    bias: np.ndarray
    passes: int  # full passes over the features until it converged (or the cap)
    converged: bool


@dataclass(frozen=True)
class Estimate:
    """An accuracy estimated by cross-validation: the out-of-fold probabilities of every photo."""

    folds: int
    probabilities: np.ndarray
    labels: np.ndarray

    def describe(self) -> dict:
        """What meta.json records of it (its accuracy and interval are the report's, from the probabilities)."""
        return {"method": f"{self.folds}-fold cross-validation", "photos": int(len(self.labels))}


def fit(x: np.ndarray, y: np.ndarray, num_classes: int, max_passes: int, class_weight: dict | None = None) -> Head:
    """The softmax head fitted to convergence (or `max_passes` full passes of L-BFGS)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the cap is the person's setting; `converged` says
        model = LogisticRegression(C=STRENGTH, max_iter=max_passes, class_weight=class_weight)
        model.fit(x, y)
    passes = int(np.max(model.n_iter_))
    kernel = np.zeros((x.shape[1], num_classes), np.float32)
    bias = np.full(num_classes, -1e4, np.float32)  # a class with no photo is never answered
    present = model.classes_.astype(int)
    if len(present) == 2:  # scikit-learn keeps one weight vector for two classes: the softmax needs both
        kernel[:, present[1]], bias[present[1]] = model.coef_[0] / 2, model.intercept_[0] / 2
        kernel[:, present[0]], bias[present[0]] = -model.coef_[0] / 2, -model.intercept_[0] / 2
    else:
        kernel[:, present], bias[present] = model.coef_.T, model.intercept_
    return Head(kernel, bias, passes, passes < max_passes)


def probabilities(head: Head, x: np.ndarray) -> np.ndarray:
    logits = x @ head.kernel + head.bias
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def is_few(labels: np.ndarray, num_classes: int) -> bool:
    """Whether the smallest class has so few photos that all of them should train."""
    return int(np.bincount(labels, minlength=num_classes).min()) < FEW_PHOTOS


def cross_validate(views: list[np.ndarray], y: np.ndarray, num_classes: int, max_passes: int,
                   class_weight: dict | None = None) -> Estimate:
    """Out-of-fold probabilities of every photo. `views[0]` is the plain view, what a held-out photo is
    predicted from; a fold's head trains on every view of the other folds' photos."""
    folds = max(2, min(MOST_FOLDS, int(np.bincount(y, minlength=num_classes).min())))
    out = np.zeros((len(y), num_classes), np.float32)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    for train, held in splitter.split(views[0], y):
        head = fit(np.concatenate([v[train] for v in views]), np.tile(y[train], len(views)), num_classes,
                   max_passes, class_weight)
        out[held] = probabilities(head, views[0][held])
    return Estimate(folds, out, y)
