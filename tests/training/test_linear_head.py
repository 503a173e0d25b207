"""The transfer head fitted to convergence: the same answers as scikit-learn's converged regression, in the
Keras layout; and the cross-validated estimate with its interval, for few photos."""
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from core.training import linear_head


def separable(classes: int, per_class: int, seed: int = 0, dims: int = 40):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (classes, dims))
    y = np.repeat(np.arange(classes), per_class)
    return (centres[y] + rng.normal(0, 1.5, (len(y), dims))).astype(np.float32), y


@pytest.mark.parametrize("classes", [2, 5])
def test_the_head_gives_the_converged_regressions_probabilities(classes):
    x, y = separable(classes, 20)
    head = linear_head.fit(x, y, classes, max_passes=500)
    reference = LogisticRegression(C=linear_head.STRENGTH, max_iter=10_000).fit(x, y)
    assert head.converged and head.kernel.shape == (40, classes)
    assert np.allclose(linear_head.probabilities(head, x), reference.predict_proba(x), atol=1e-3)


def test_a_cap_on_passes_is_kept_and_said():
    x, y = separable(5, 20)
    head = linear_head.fit(x, y, 5, max_passes=2)
    assert head.passes == 2 and not head.converged


def test_a_class_with_no_photo_in_a_fold_is_never_answered():
    x, y = separable(3, 10)
    keep = y != 2
    head = linear_head.fit(x[keep], y[keep], 3, max_passes=200)
    assert linear_head.probabilities(head, x)[:, 2].max() < 1e-6


def test_few_photos_are_estimated_by_folds_and_the_sentence_says_how_rough_it_is():
    from core.evaluation import estimate_sentence, metrics_from_probabilities

    x, y = separable(4, 6, seed=3)
    noisy = x + np.random.default_rng(1).normal(0, 4, x.shape).astype(np.float32)
    estimate = linear_head.cross_validate([noisy], y, 4, max_passes=200)
    assert estimate.folds == 5 and estimate.probabilities.shape == (24, 4)
    assert estimate.describe() == {"method": "5-fold cross-validation", "photos": 24}
    report = metrics_from_probabilities(y, estimate.probabilities, list("abcd"))
    sentence = estimate_sentence({"test_accuracy": report["accuracy"], "test_samples": 24,
                                  "estimate": estimate.describe()})
    low, high = report["accuracy_interval"]
    assert f"between {low:.0%} and {high:.0%}" in sentence and "all 24 photos" in sentence
    assert "5-fold cross-validation" in sentence
    assert estimate_sentence({"test_accuracy": 0.9, "test_samples": 500, "estimate": None}) is None
    assert linear_head.is_few(y, 4) and not linear_head.is_few(np.repeat(np.arange(4), 30), 4)
