"""Evaluation figures from labels and probabilities."""
import numpy as np

from core.evaluation import cell_samples, metrics_from_probabilities


def test_a_confusion_cell_holds_exactly_the_samples_it_counts_most_confident_first():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    probabilities = rng.dirichlet(np.ones(3), 200)
    matrix = metrics_from_probabilities(y, probabilities, ["a", "b", "c"])["confusion_matrix"]
    for true in range(3):
        for predicted in range(3):
            items = cell_samples(y, probabilities, true, predicted)
            assert len(items) == matrix[true][predicted]
            assert all(i["true"] == true and i["predicted"] == predicted for i in items)
            confidences = [i["confidence"] for i in items]
            assert confidences == sorted(confidences, reverse=True)
