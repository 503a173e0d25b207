"""Prediction latency of the shipped digit model, warm, on this machine, on inputs as people send them.

One image = decode the bytes + MNIST-style preprocessing + model, timed on samples of the
real-world sets (core/data/digit_sets.py) at their real sizes: (a) canvas drawings, 280×280 PNG as the
canvas sends them (varied strokes, colours, some on a transparent background), read as the canvas is; and
(b) printed-digit photos, JPEG, 120 to 900 px, as uploads, so through the photo gate (issue 25). The old,
too easy input (a three-point line on a transparent canvas) is timed too, for comparison with earlier
figures. Compared in the same run with Keras'
`model.predict` and a traced TensorFlow call. Also: 100 uploads through the batch path, and
`python -m core predict` over 1,000 realistic files (half drawings, half photos).
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


def encoded(picture: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def realistic(count: int, seed: int) -> dict[str, list[bytes]]:
    """Canvas drawings as PNG and printed-digit photos as JPEG, each at its real size."""
    from core.data import digit_sets

    fonts = digit_sets.machine_fonts()
    return {
        "canvas": [encoded(digit_sets.canvas_digit(seed + i)[0], "PNG") for i in range(count)],
        "photo": [encoded(digit_sets.photo_digit(seed + 10_000 + i, fonts)[0].convert("RGB"), "JPEG")
                  for i in range(count)],
    }


def cycling(predictor, inputs: list[bytes], calls: int, drawn: bool) -> list[float]:
    """Seconds per answer, cycling through `inputs`; `drawn` as the canvas sends them (no photo gate), else as
    uploads (through the photo gate, as the Predict page does)."""
    from core.errors import NoDigitError
    from core.images import decode_image

    def one(data):
        try:
            predictor.predict(decode_image(data), is_sketch=drawn)
        except NoDigitError:
            pass

    for data in inputs[:20]:  # warm
        one(data)
    samples = []
    for i in range(calls):
        data = inputs[i % len(inputs)]
        started = time.perf_counter()
        one(data)
        samples.append(time.perf_counter() - started)
    return samples


def main() -> int:
    from core.images import decode_image
    from core.inference.predictor import Predictor

    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    predictor = Predictor.from_registry("mnist", fast_single=True)  # as the dashboard loads it
    sets = realistic(200, 2_000_000)
    easy = digit_png(0)
    x = predictor.model_input(decode_image(easy))[None]
    for _ in range(20):  # warm
        predictor.predict(decode_image(easy))
        predictor.model.predict(x, verbose=0)

    model_only = timed(lambda: predictor.probabilities(x), calls)
    traced = timed(lambda: predictor._forward(x).numpy(), calls)
    keras_predict = timed(lambda: predictor.model.predict(x, verbose=0), min(calls, 300))
    canvas = cycling(predictor, sets["canvas"], calls, drawn=True)
    photo = cycling(predictor, sets["photo"], calls, drawn=False)
    old_easy = timed(lambda: predictor.predict(decode_image(easy), is_sketch=True), calls)
    sizes = [decode_image(d).size[0] for d in sets["photo"]]
    print(f"single image, warm, {calls} calls each (model.predict: {min(calls, 300)}); decode + preprocess + model:")
    print(f"  (a) canvas drawings, 280x280 PNG     {percentiles(canvas)}   target p50 <= 5 ms, p99 <= 15 ms")
    print(f"  (b) printed-digit photos, JPEG {min(sizes)}-{max(sizes)} px {percentiles(photo)}   target p50 <= 10 ms")
    print(f"  the old easy input (a 3-point line)  {percentiles(old_easy)}")
    print(f"  model only (TFLite, as served)       {percentiles(model_only)}")
    print(f"  model only, traced TF function       {percentiles(traced)}")
    print(f"  model only, Keras model.predict      {percentiles(keras_predict)}   (anchor)")

    uploads = sets["canvas"][:50] + sets["photo"][:50]
    started = time.perf_counter()
    results = predictor.predict_many([decode_image(d) for d in uploads])
    seconds = time.perf_counter() - started
    print(f"100 uploads (50 drawings, 50 photos), decode + preprocess + one batched call: {seconds * 1000:.0f} ms "
          f"({100 / seconds:,.0f} images/s, {sum(not isinstance(r, Exception) for r in results)} predicted)")

    folder = Path(tempfile.mkdtemp(prefix="bench-files-"))
    for i in range(1000):  # many files, so the start-up's jitter (about a second) hardly counts per file
        kind = ("canvas", "photo")[i % 2]
        (folder / f"{i:04d}.{'png' if kind == 'canvas' else 'jpg'}").write_bytes(sets[kind][(i // 2) % 200])
    files = sorted(str(p) for p in folder.iterdir())
    cli = [sys.executable, "-m", "core", "predict", "--model", "mnist"]
    one = min(timed(lambda: subprocess.run(cli + files[:1], cwd=ROOT, capture_output=True), 3))
    many = min(timed(lambda: subprocess.run(cli + files, cwd=ROOT, capture_output=True), 3))
    print(f"python -m core predict: 1 file {one:.2f} s, {len(files)} realistic files {many:.2f} s -> "
          f"{(many - one) / (len(files) - 1) * 1000:.2f} ms per extra file (target <= 6 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
