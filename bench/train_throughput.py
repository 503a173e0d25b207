"""Training throughput: `python -m core train` (mnist-seed) against the seeds' plain Keras script.

Both run as whole processes on the same machine in the same run, taking turns (ours, plain, ours,
plain, ...) so that a slow spell of a shared machine falls on both; the same architecture, Adam,
54,000 training images. The plain script is the seeds' way: batch 128, Adam 1e-3, numpy feeding.
`core train` runs with the studio's fast settings: batch BATCH (default 256) with the learning
rate scaled to it, tf.data, bfloat16 where the CPU has it. Prints samples/s per epoch (median over
every epoch after the first of every repeat) and for the whole process, and the test accuracy.
Usage: MNIST_DIR=../shared/data/mnist python -m bench.train_throughput [EPOCHS] [REPEATS] [BATCH]   (3 2 256)
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SAMPLES = 54_000


def run(command: list[str], env: dict) -> tuple[float, str, str]:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env})
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return time.perf_counter() - started, result.stdout, result.stderr


def ours(epochs: int, batch: int, models: str) -> tuple[float, list[float], float]:
    learning_rate = 1e-3 * batch / 128  # the usual linear scaling from the seeds' 1e-3 at batch 128
    total, out, err = run([sys.executable, "-m", "core", "train", "--dataset", "mnist", "--preset", "mnist-seed",
                           "--epochs", str(epochs), "--batch-size", str(batch), "--learning-rate", str(learning_rate),
                           "--lr-schedule", "plateau", "--name", "throughput"], {"STUDIO_MODELS_DIR": models})
    seconds = [float(m) for m in re.findall(r"^epoch \d+/\d+ .* ([0-9.]+)s  eta", err, re.MULTILINE)]
    return total, seconds, json.loads(out.strip().splitlines()[-1])["test_accuracy"]


def plain(epochs: int) -> tuple[float, list[float], float]:
    total, out, _ = run([sys.executable, "-m", "bench.plain_keras_mnist", str(epochs)], {})
    records = [json.loads(line) for line in out.strip().splitlines()]
    return total, [r["seconds"] for r in records if "epoch" in r], records[-1]["test_accuracy"]


def main() -> int:
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 256
    models = tempfile.mkdtemp(prefix="bench-models-")
    results = {"core train": [], "plain Keras": []}
    for _ in range(repeats):
        results["core train"].append(ours(epochs, batch, models))
        results["plain Keras"].append(plain(epochs))

    def summary(runs):
        steady = [s for _, seconds, _ in runs for s in seconds[1:]] or [s for _, seconds, _ in runs for s in seconds]
        return (statistics.median(steady), statistics.median(seconds[0] for _, seconds, _ in runs),
                statistics.median(total for total, _, _ in runs), statistics.mean(acc for _, _, acc in runs))

    (o_epoch, o_first, o_total, o_acc), (p_epoch, p_first, p_total, p_acc) = summary(results["core train"]), \
        summary(results["plain Keras"])
    print(f"training throughput, mnist-seed, {epochs} epoch(s) x {repeats} repeat(s), {SAMPLES:,} samples/epoch")
    print(f"core train: batch {batch}, Adam {1e-3 * batch / 128:g}; plain Keras: batch 128, Adam 0.001")
    print(f"{'':28}{'core train':>14}{'plain Keras':>14}{'speed-up':>10}")
    print(f"{'first epoch (s, median)':28}{o_first:14.1f}{p_first:14.1f}{p_first / o_first:9.2f}x")
    print(f"{'later epochs (s, median)':28}{o_epoch:14.1f}{p_epoch:14.1f}{p_epoch / o_epoch:9.2f}x")
    print(f"{'samples/s per epoch':28}{SAMPLES / o_epoch:14,.0f}{SAMPLES / p_epoch:14,.0f}{p_epoch / o_epoch:9.2f}x")
    print(f"{'whole process (s, median)':28}{o_total:14.1f}{p_total:14.1f}{p_total / o_total:9.2f}x")
    whole = SAMPLES * epochs
    print(f"{'samples/s whole process':28}{whole / o_total:14,.0f}{whole / p_total:14,.0f}")
    verdict = "same ±0.2%" if abs(o_acc - p_acc) <= 0.002 else ("higher" if o_acc > p_acc else "LOWER")
    print(f"{'test accuracy (mean)':28}{o_acc:14.4f}{p_acc:14.4f}  ({verdict})")
    for name, runs in results.items():
        print(f"  {name} epochs (s): " + " | ".join(" ".join(f"{s:.1f}" for s in seconds) for _, seconds, _ in runs))
    print("target: >= 1.25x the plain script's samples/s at the same accuracy (±0.2%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
