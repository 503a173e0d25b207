"""What tests and benchmarks share: tiny MNIST files, generated photos and class folders, canvas drawings,
Kaggle CSVs, and running the command line. Importable from the repository root as `tests.support`."""
from __future__ import annotations

import gzip
import io
import os
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TRAIN_N, TEST_N = 1200, 300


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if gz else raw)


def synthetic_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Digits drawn with a font, jittered: enough for a model to learn something, no download needed."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    labels = rng.integers(0, 10, n)
    for i, label in enumerate(labels):
        canvas = Image.new("L", (28, 28))
        ImageDraw.Draw(canvas).text((9 + rng.integers(-2, 3), 7 + rng.integers(-2, 3)), str(label), fill=255)
        images[i] = np.asarray(canvas.resize((28, 28)))
    return images, labels


def real_mnist_dir() -> Path | None:
    """The real MNIST folder when `MNIST_DIR` points at one (as in CI)."""
    source = os.environ.get("MNIST_DIR")
    return Path(source) if source and Path(source).is_dir() else None


def mnist_subset() -> dict[str, np.ndarray]:
    """A slice of the real MNIST when `MNIST_DIR` has it (as in CI), else synthetic digits."""
    source = real_mnist_dir()
    if source:
        from core.data.mnist import load_idx_folder

        data = load_idx_folder(source)
        return {"x_train": data.x_train[:TRAIN_N], "y_train": data.y_train[:TRAIN_N],
                "x_test": data.x_test[:TEST_N], "y_test": data.y_test[:TEST_N]}
    x_train, y_train = synthetic_digits(TRAIN_N, 1)
    x_test, y_test = synthetic_digits(TEST_N, 2)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def make_photo(kind: int, size: int = 48, seed: int = 0) -> Image.Image:
    """Class 0: red discs; class 1: blue squares; class 2: green bars. On noisy backgrounds."""
    rng = np.random.default_rng(seed)
    background = rng.integers(90, 160, (size, size, 3), dtype=np.uint8)
    image = Image.fromarray(background)
    draw = ImageDraw.Draw(image)
    a, b = int(rng.integers(4, 14)), int(rng.integers(size - 14, size - 4))
    if kind == 0:
        draw.ellipse([a, a, b, b], fill=(220, 30, 30))
    elif kind == 1:
        draw.rectangle([a, a, b, b], fill=(30, 40, 220))
    else:
        draw.rectangle([a, size // 2 - 5, b, size // 2 + 5], fill=(30, 200, 60))
    return image


def jpeg_bytes(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **kwargs)
    return buffer.getvalue()


def as_uploaded(image: Image.Image) -> Image.Image:
    """The photo as a JPEG upload decodes: the training folders hold JPEGs, and their noise is JPEG's."""
    return Image.open(io.BytesIO(jpeg_bytes(image)))


def build_photo_folder(root: Path, classes: list[str], per_class: int = 14, broken: bool = True) -> Path:
    """A class folder like PetImages: good JPEGs plus the kinds of bad file PetImages holds."""
    for label, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            (folder / f"{i}.jpg").write_bytes(jpeg_bytes(make_photo(label, seed=label * 1000 + i)))
    if broken:
        first, second = root / classes[0], root / classes[1]
        (first / "666.jpg").write_bytes(b"")  # zero bytes
        (first / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 200)
        (second / "11702.jpg").write_text("this is not an image")  # text named .jpg
        (second / "truncated.jpg").write_bytes(jpeg_bytes(make_photo(1, seed=99))[:300])
        bmp = io.BytesIO()
        make_photo(1, seed=77).save(bmp, "BMP")
        (second / "bmp_named.jpg").write_bytes(bmp.getvalue())  # another format than its name: kept
        cmyk = jpeg_bytes(make_photo(0, seed=55).convert("CMYK"))
        (first / "cmyk.jpg").write_bytes(cmyk)  # decodes, but not by TensorFlow: converted copy
    return root


def run_cli(*args, env=None, timeout=300):
    import subprocess

    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def canvas_rgba(strokes, size=(280, 280), width=18, colour=(0, 0, 0, 255)):
    """A drawing as the canvas returns it: RGBA, transparent background, ink only in alpha."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line(stroke, fill=colour, width=width, joint="curve")
    return np.asarray(image)


SEVEN = [[(80, 60), (200, 60), (120, 230)]]

def kaggle_csv(rows: int, labelled: bool = True) -> str:
    rng = np.random.default_rng(0)
    header = (["label"] if labelled else []) + [f"pixel{i}" for i in range(784)]
    lines = [",".join(header)]
    for _ in range(rows):
        values = ([str(rng.integers(10))] if labelled else []) + [str(v) for v in rng.integers(0, 256, 784)]
        lines.append(",".join(values))
    return "\n".join(lines) + "\n"


# Each way a model folder can be broken by hand, as copies of a good model: name -> (meta change, the word
# its reason names). The listing marks these unavailable; the last two pass the schema and are refused at load.
BROKEN_META = {
    "metrics-in-words": ({"metrics": "very good"}, "metrics"),
    "accuracy-as-text": ({"metrics": {"test_accuracy": "99%"}}, "test_accuracy"),
    "one-class-name": ({"class_names": ["0"]}, "class_names"),
    "class-names-text": ({"class_names": "0123456789"}, "class_names"),
    "dataset-number": ({"dataset": 7}, "dataset"),
}
REFUSED_AT_LOAD = {
    "other-shape": ({"input_shape": [32, 32, 1]}, "shape"),
    "three-classes": ({"class_names": ["a", "b", "c"]}, "classes"),
    "said-photos": ({"kind": "photos"}, "photos"),  # issue 27: meta values that contradict the model
    "said-backbone": ({"backbone": "efficientnet-lite0"}, "backbone"),
}


def break_models(models: Path, good: str) -> None:
    """Copies of the registry model `good`, each broken one way (BROKEN_META, REFUSED_AT_LOAD), one that
    `safe_mode` refuses (`lambda`), and one whose meta names a path outside its folder (`path-in-meta`)."""
    import json
    import shutil

    import keras

    changes = {**BROKEN_META, **REFUSED_AT_LOAD, "path-in-meta": ({"model_file": "/etc/passwd"}, "")}
    for name, (change, _) in changes.items():
        shutil.copytree(models / good, models / name)
        meta = json.loads((models / name / "meta.json").read_text())
        (models / name / "meta.json").write_text(json.dumps({**meta, **change, "name": name}))
    shutil.copytree(models / good, models / "lambda")
    inputs = keras.Input((28, 28, 1))
    doubled = keras.layers.Lambda(lambda x: x * 2)(inputs)
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(doubled))
    keras.Model(inputs, outputs).save(models / "lambda" / "model.keras")
