"""Training under a tf.distribute strategy gives the same model as a plain run."""
import json
import subprocess
import sys

import pytest

from tests.support import ROOT

pytestmark = pytest.mark.slow  # every test here trains a model or loads a shipped one

SCRIPT = r"""
import json, sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from core.model import registry
from core.training.config import TrainConfig
from core.training.train import train
results = {{}}
for strategy in ("default", "mirrored"):
    info = train(TrainConfig(dataset="mnist", preset="mnist-seed", epochs=4, batch_size=32, learning_rate=2e-3,
                             dropout=0.0, name="m-" + strategy, strategy=strategy, steps_per_execution=1).ready())
    _, model = registry.load(info.name)
    from core.data import specs as datasets
    test = datasets.load("mnist").test
    predicted = np.asarray(model(test.x[..., None].astype("float32"))).argmax(axis=1)
    results[strategy] = {{"accuracy": info.accuracy, "predicted": predicted.tolist(),
                         "replicas": tf.distribute.MirroredStrategy(
                             devices=[d.name for d in tf.config.list_logical_devices("CPU")]).num_replicas_in_sync}}
print(json.dumps(results))
"""


def test_mirrored_strategy_over_two_cpus_matches_a_plain_run(studio):
    result = subprocess.run([sys.executable, "-c", SCRIPT.format(root=str(ROOT))], capture_output=True, text=True,
                            timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    runs = json.loads(result.stdout.strip().splitlines()[-1])
    assert runs["mirrored"]["replicas"] == 2
    plain, mirrored = runs["default"], runs["mirrored"]
    assert plain["accuracy"] > 0.7, runs_summary(runs)
    assert abs(plain["accuracy"] - mirrored["accuracy"]) < 0.03
    agreement = sum(a == b for a, b in zip(plain["predicted"], mirrored["predicted"])) / len(plain["predicted"])
    assert agreement > 0.9


def runs_summary(runs) -> dict:
    return {name: run["accuracy"] for name, run in runs.items()}
