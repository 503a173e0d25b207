"""The cached model is shared by every browser session: many threads at once must change nothing."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from core.inference.predictor import Predictor
from tests.support import canvas_rgba

pytestmark = pytest.mark.slow  # every test here trains a model or loads a shipped one


def pictures(count: int):
    rng = np.random.default_rng(0)
    out = []
    for _ in range(count):
        top = rng.integers(30, 90)
        strokes = [[(int(rng.integers(40, 100)), int(top)), (int(rng.integers(160, 240)), int(top)),
                    (int(rng.integers(80, 180)), int(rng.integers(180, 250)))]]
        out.append(canvas_rgba(strokes, width=int(rng.integers(8, 30))))
    return out


def test_eight_threads_times_30_predictions_match_serial(studio_with_model):
    # 240 answers, each thread starting at another picture: enough for every picture to be answered by
    # several threads at once (the 8 x 200 of the hardening round took two minutes of a 2-core CI)
    predictor = Predictor.from_registry("mnist")
    inputs = pictures(40)
    serial = [predictor.predict(p).probabilities for p in inputs]

    def worker(offset: int):
        results = []
        for i in range(30):
            index = (offset + i) % len(inputs)
            results.append((index, predictor.predict(inputs[index]).probabilities))
        return results

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = [item for chunk in pool.map(worker, range(8)) for item in chunk]
    assert len(outcomes) == 240
    for index, probabilities in outcomes:
        assert np.allclose(probabilities, serial[index], atol=1e-5)


def test_the_tflite_single_image_path_matches_tensorflow(studio_with_model):
    predictor = Predictor.from_registry("mnist", fast_single=True)
    for picture in pictures(5):
        x = predictor.model_input(picture)[None]
        classes, gate = predictor.outputs(x)  # the digits' probabilities and the gate's P(not a digit)
        assert np.allclose(np.hstack([classes, gate]), predictor._forward(x).numpy(), atol=1e-5)
