"""The photo side, measured on real photos: Lite0 features, the transfer head, one photo, and small data.

Needs TensorFlow's cats_and_dogs_filtered (CATSDOGS_FILTERED_DIR, or data/cats_and_dogs_filtered).
1. features/s: decode + crop + resize + backbone, batched and traced, on validation JPEGs as they are;
2. the head: fitted to convergence on those photos' features;
3. one photo, warm: JPEG bytes → decode → crop → model, through TFLite and through the traced function;
4. memory: one process holding both shipped predictors (digits and photos), as the dashboard does;
5. small data: `python -m core train` with photos-transfer on 20 cats + 20 dogs from train/, from an
   empty feature cache, then accuracy on the 1,000 photos of validation/ that it never saw.
Usage: python -m bench.photos [PHOTOS]   (default 400 for the feature and latency parts)
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

from core import config, runtime

ROOT = Path(__file__).resolve().parent.parent


def validation_files(root: Path, count: int) -> list[Path]:
    cats, dogs = sorted((root / "validation" / "cats").iterdir()), sorted((root / "validation" / "dogs").iterdir())
    return [f for pair in zip(cats, dogs) for f in pair][:count]


def real_features(files: list[Path]) -> tuple[np.ndarray, float]:
    """(the Lite0 features of the photos, features per second)."""
    from core.model.builders import build_model
    from core.model.presets import get_preset
    from core.training import transfer

    preset = get_preset("photos-transfer")
    extractor = transfer.feature_extractor(build_model(preset, 2, preset.knobs(0.2, True, 1.0)))
    paths = [str(f) for f in files]
    transfer.extract(extractor, paths[:64], preset.image_size, preset.crop, "plain")  # trace and warm up
    started = time.perf_counter()
    features = transfer.extract(extractor, paths, preset.image_size, preset.crop, "plain")
    return features, len(paths) / (time.perf_counter() - started)


def head_seconds(features: np.ndarray, labels: np.ndarray) -> tuple[float, int]:
    """(seconds, passes) of the head fitted to convergence on real features, at the preset's cap."""
    from core.training import linear_head
    from core.training.config import TrainConfig

    cfg = TrainConfig(preset="photos-transfer").ready()
    started = time.perf_counter()
    head = linear_head.fit(features, labels, 2, cfg.epochs)
    return time.perf_counter() - started, head.passes


def one_photo_ms(files: list[Path], fast_single: bool) -> tuple[float, float]:
    from core.images import decode_image
    from core.inference.predictor import Predictor

    predictor = Predictor.from_registry("catsdogs", fast_single=fast_single)
    payloads = [f.read_bytes() for f in files]
    for data in payloads[:10]:
        predictor.predict_many([decode_image(data)])
    times = []
    for data in payloads:
        started = time.perf_counter()
        predictor.predict_many([decode_image(data)])
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), float(np.percentile(times, 99))


def both_models_rss_mb() -> tuple[float, float]:
    """(resident after loading, peak) of a fresh process that loads both shipped predictors (TFLite included)
    and answers once. The peak includes each model's one-off TFLite conversion."""
    script = ("import resource, numpy as np\n"
              "from core import runtime\n"
              "runtime.import_tensorflow_quietly()\n"
              "from core.inference.predictor import Predictor\n"
              "for name in ('mnist', 'catsdogs'):\n"
              "    p = Predictor.from_registry(name, fast_single=True)\n"
              "    p.probabilities(np.zeros((1, *p.input_shape), np.float32))\n"
              "now = int(open('/proc/self/statm').read().split()[1]) * resource.getpagesize() / 2 ** 20\n"
              "print(now, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    now, peak = result.stdout.strip().splitlines()[-1].split()
    return float(now), float(peak)


def small_data(root: Path, per_class: int = 20) -> dict:
    from core.errors import StudioError
    from core.images import read_image_file
    from core.inference.predictor import Predictor

    work = Path(tempfile.mkdtemp(prefix="bench-photos-"))
    try:
        for kind in ("cats", "dogs"):
            (work / "data" / "custom" / "few" / kind).mkdir(parents=True)
            for source in sorted((root / "train" / kind).iterdir())[:per_class]:
                shutil.copy(source, work / "data" / "custom" / "few" / kind / source.name)
        env = {**os.environ, "STUDIO_DATA_DIR": str(work / "data"), "STUDIO_MODELS_DIR": str(work / "models")}
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "core", "train", "--dataset", "custom/few", "--preset",
                                 "photos-transfer", "--epochs", "10", "--name", "few"], cwd=ROOT, env=env,
                                capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(result.stdout + result.stderr[-2000:])
        os.environ["STUDIO_MODELS_DIR"] = str(work / "models")
        predictor = Predictor.from_registry("few")
        held_out = [(f, 0) for f in sorted((root / "validation" / "cats").iterdir())] + \
                   [(f, 1) for f in sorted((root / "validation" / "dogs").iterdir())]
        right = refused = 0
        for start in range(0, len(held_out), 64):
            part = held_out[start:start + 64]
            outcomes = predictor.predict_many([read_image_file(f) for f, _ in part])
            refused += sum(isinstance(o, StudioError) for o in outcomes)  # "neither cat nor dog": counted wrong
            right += sum(getattr(o, "index", None) == label for o, (_, label) in zip(outcomes, part))
        return {"seconds": seconds, "accuracy": right / len(held_out), "refused": refused}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    root = config.catsdogs_filtered_dir()
    if not (root / "validation").is_dir():
        raise SystemExit(json.dumps({"error": f"cats_and_dogs_filtered is not at {root}"}))
    runtime.import_tensorflow_quietly()
    files = validation_files(root, count)
    features, per_second = real_features(files)
    seconds, passes = head_seconds(features, np.array([i % 2 for i in range(len(files))]))  # cat, dog, cat, ...
    report = {"photos": len(files), "features_per_second": round(per_second, 1),
              "head_to_convergence": {"seconds": round(seconds, 2), "passes": passes, "photos": len(files)}}
    p50, p99 = one_photo_ms(files[:200], fast_single=True)
    report["one_photo_tflite_ms"] = {"p50": round(p50, 1), "p99": round(p99, 1)}
    p50, p99 = one_photo_ms(files[:200], fast_single=False)
    report["one_photo_traced_ms"] = {"p50": round(p50, 1), "p99": round(p99, 1)}
    now, peak = both_models_rss_mb()
    report["both_models_rss_mb"] = {"after_loading": round(now), "peak": round(peak)}
    small = small_data(root)
    report["20_per_class"] = {"accuracy_on_1000_held_out": round(small["accuracy"], 4),
                              "refused_as_neither": small["refused"],
                              "train_command_seconds": round(small["seconds"], 1)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
