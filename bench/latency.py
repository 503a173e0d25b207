"""Prediction latency of the shipped digit model, warm, on this machine.

One image = decode PNG bytes + MNIST-style preprocessing + model. Compared in the same run with
Keras' `model.predict` and a traced TensorFlow call on the same preprocessed input.
Also: 100 uploaded images through the batch path, and `python -m core predict` over 1,000 files.
Usage: python -m bench.latency [CALLS]   (default 1000)
"""
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent


def digit_png(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    points = [(70 + rng.integers(-20, 20), 60), (200, 60 + rng.integers(-10, 10)), (120 + rng.integers(-20, 20), 230)]
    ImageDraw.Draw(image).line(points, fill=(0, 0, 0, 255), width=int(rng.integers(12, 24)))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def percentiles(samples: list[float]) -> str:
    ms = np.array(samples) * 1000
    return f"p50 {np.percentile(ms, 50):7.2f} ms   p99 {np.percentile(ms, 99):7.2f} ms   mean {ms.mean():7.2f} ms"


def timed(function, calls: int) -> list[float]:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> int:
    from core.images import decode_image
    from core.inference.predictor import Predictor

    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    predictor = Predictor.from_registry("mnist", fast_single=True)  # as the dashboard loads it
    data = digit_png(0)
    x = predictor.model_input(decode_image(data))[None]
    for _ in range(20):  # warm
        predictor.predict(decode_image(data))
        predictor.model.predict(x, verbose=0)

    model_only = timed(lambda: predictor.probabilities(x), calls)
    traced = timed(lambda: predictor._forward(x).numpy(), calls)
    keras_predict = timed(lambda: predictor.model.predict(x, verbose=0), min(calls, 300))
    preprocess = timed(lambda: predictor.model_input(decode_image(data)), calls)

    ours = timed(lambda: predictor.predict(decode_image(data)), calls)  # last, with everything warm
    print(f"single image, warm, {calls} calls (model.predict: {min(calls, 300)})")
    print(f"  decode + preprocess + model (ours)   {percentiles(ours)}   target p50 <= 5 ms, p99 <= 20 ms")
    print(f"    of which decode + preprocess       {percentiles(preprocess)}")
    print(f"    of which model (TFLite, as served) {percentiles(model_only)}")
    print(f"  model only, traced TF function       {percentiles(traced)}")
    print(f"  model only, Keras model.predict      {percentiles(keras_predict)}   (anchor)")

    uploads = [digit_png(i) for i in range(100)]
    started = time.perf_counter()
    results = predictor.predict_many([decode_image(d) for d in uploads])
    seconds = time.perf_counter() - started
    print(f"100 uploaded images, decode + preprocess + one batched call: {seconds * 1000:.0f} ms "
          f"({100 / seconds:,.0f} images/s, {sum(not isinstance(r, Exception) for r in results)} predicted)")

    folder = Path(tempfile.mkdtemp(prefix="bench-files-"))
    for i in range(1000):  # many files, so the start-up's jitter (about a second) hardly counts per file
        (folder / f"{i}.png").write_bytes(digit_png(i))
    files = sorted(str(p) for p in folder.glob("*.png"))
    cli = [sys.executable, "-m", "core", "predict", "--model", "mnist"]
    one = min(timed(lambda: subprocess.run(cli + files[:1], cwd=ROOT, capture_output=True), 3))
    many = min(timed(lambda: subprocess.run(cli + files, cwd=ROOT, capture_output=True), 3))
    print(f"python -m core predict: 1 file {one:.2f} s, {len(files)} files {many:.2f} s -> "
          f"{(many - one) / (len(files) - 1) * 1000:.2f} ms per extra file (target <= 5 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
