"""MultiWorkerMirroredStrategy across two worker processes on 127.0.0.1, as a cluster would run it."""
import json
import os
import subprocess
import sys

import pytest

from tests.support import ROOT
from tests.support.browser import free_port

pytestmark = pytest.mark.slow  # every test here trains a model or loads a shipped one


def test_two_workers_train_and_the_chief_saves_a_model_as_good_as_a_plain_run(studio):
    ports = [free_port(), free_port()]
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    common = ["-m", "core", "train", "--dataset", "mnist", "--preset", "mnist-seed", "--epochs", "3",
              "--batch-size", "32", "--learning-rate", "0.002", "--dropout", "0", "--steps-per-execution", "1",
              "--precision", "float32"]
    workers = []
    for index in range(2):
        env = {**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
               # the second worker saves its copy elsewhere: only the chief writes the registry
               "STUDIO_MODELS_DIR": str(studio / ("models" if index == 0 else "worker-models"))}
        workers.append(subprocess.Popen([sys.executable, *common, "--strategy", "multiworker", "--name", "multi"],
                                        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [worker.communicate(timeout=400) for worker in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, (out, err[-2000:])
    chief = json.loads(outputs[0][0].strip().splitlines()[-1])
    plain = subprocess.run([sys.executable, *common, "--name", "plain"], cwd=ROOT, capture_output=True, text=True,
                           timeout=400, check=False)
    assert plain.returncode == 0, plain.stderr[-2000:]
    alone = json.loads(plain.stdout.strip().splitlines()[-1])
    assert (studio / "models" / "multi" / "model.keras").is_file()
    assert alone["test_accuracy"] > 0.7
    assert abs(chief["test_accuracy"] - alone["test_accuracy"]) < 0.05, (chief, alone)
