"""Prediction on people's own input: one path for the canvas, uploads and the command line.

A loaded model is shared by every dashboard session, so it is only ever called through
one traced `tf.function` (`model(x, training=False)`), which is safe to call from many
threads and much faster than `model.predict` for a single image.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import ImageError, StudioError

UNSURE_BELOW = 0.7  # below this top probability the answer is "not sure" with the top 3
_forward_cache: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_forward_lock = threading.Lock()


def forward_fn(model):
    """A traced inference function for `model`, made once per model: float32 batch in, probabilities out."""
    with _forward_lock:
        forward = _forward_cache.get(model)
        if forward is None:
            import tensorflow as tf

            spec = tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)
            forward = tf.function(lambda x: model(x, training=False), input_signature=[spec])
            _forward_cache[model] = forward
    return forward


@dataclass
class Prediction:
    label: str
    index: int
    confidence: float
    probabilities: list[float]
    class_names: list[str]
    model_input: np.ndarray | None = None  # what the model received (28x28 for digits)
    box: tuple | None = None

    @property
    def unsure(self) -> bool:
        return self.confidence < UNSURE_BELOW

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        order = np.argsort(self.probabilities)[::-1][:k]
        return [(self.class_names[i], float(self.probabilities[i])) for i in order]

    def as_json(self, file: str | None = None) -> dict:
        record = {"file": file} if file is not None else {}
        record.update({"label": self.label, "confidence": round(self.confidence, 6),
                       "probabilities": {n: round(float(p), 6) for n, p in zip(self.class_names, self.probabilities)}})
        if self.unsure:
            record["unsure"] = True
            record["top3"] = [{"label": n, "probability": round(p, 6)} for n, p in self.top(3)]
        return record


@dataclass
class NumberReading:
    digits: list[Prediction] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(d.label for d in self.digits)

    @property
    def confidence(self) -> float:
        return float(np.prod([d.confidence for d in self.digits])) if self.digits else 0.0

    def as_json(self, file: str | None = None) -> dict:
        record = {"file": file} if file is not None else {}
        record.update({"label": self.text, "confidence": round(self.confidence, 6),
                       "digits": [{"label": d.label, "confidence": round(d.confidence, 6), "box": d.box}
                                  for d in self.digits]})
        return record


class Predictor:
    """A loaded model with its class names and input convention; safe to share between threads."""

    def __init__(self, model, class_names: list[str], kind: str, fast_single: bool = False):
        """`fast_single` converts the model to TFLite once (a second or so) for quick single-image answers;
        the dashboard wants it, a one-off command line run does not."""
        self.model = model
        self.class_names = list(class_names)
        self.kind = kind
        self.input_shape = tuple(model.input_shape[1:])
        self._forward = forward_fn(model)
        self._single = None
        if fast_single:
            from core.export import LiteRunner, tflite_bytes
            from core.errors import ModelError

            try:
                self._single = LiteRunner(tflite_bytes(model))
            except ModelError:
                self._single = None  # the traced TensorFlow function serves single images too

    @classmethod
    def from_registry(cls, name_or_path: str, fast_single: bool = False) -> "Predictor":
        from core import registry

        info, model = registry.load(name_or_path)
        kind = info.meta.get("kind") or ("digits" if model.input_shape[-1] == 1 else "photos")
        names = info.meta.get("class_names") or [str(i) for i in range(model.output_shape[-1])]
        return cls(model, names, kind, fast_single)

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        batch = np.asarray(batch, dtype=np.float32)
        if self._single is not None and len(batch) == 1:
            return self._single(batch)
        return self._forward(batch).numpy()

    def _predictions(self, inputs: np.ndarray, boxes=None) -> list[Prediction]:
        probabilities = self.probabilities(inputs)
        results = []
        for i, p in enumerate(probabilities):
            index = int(np.argmax(p))
            results.append(Prediction(self.class_names[index], index, float(p[index]), p.tolist(), self.class_names,
                                      inputs[i], None if boxes is None else boxes[i]))
        return results

    def model_input(self, picture) -> np.ndarray:
        """What the model receives for one picture (a PIL image or an array)."""
        if self.kind == "digits":
            from core.digits import prepare_digit

            return prepare_digit(picture).image[..., None]
        from core.images import photo_array

        from PIL import Image

        image = picture if isinstance(picture, Image.Image) else Image.fromarray(np.asarray(picture, dtype=np.uint8))
        return photo_array(image, self.input_shape[:2])

    def predict(self, picture) -> Prediction:
        """One picture → one prediction. Raises NoDigitError for an empty digit picture."""
        return self._predictions(self.model_input(picture)[None])[0]

    def predict_many(self, pictures: list) -> list[Prediction | StudioError]:
        """Many pictures in one batch; a picture that cannot be used gives its error in its place."""
        inputs, places, results = [], [], [None] * len(pictures)
        for i, picture in enumerate(pictures):
            try:
                inputs.append(self.model_input(picture))
                places.append(i)
            except StudioError as exc:
                results[i] = exc
        if inputs:
            for i, prediction in zip(places, self._predictions(np.stack(inputs))):
                results[i] = prediction
        return results

    def read_number(self, picture) -> NumberReading:
        """Several digits in a row, read left to right."""
        from core.digits import split_digits

        if self.kind != "digits":
            raise StudioError("Reading numbers needs a digit model.")
        crops = split_digits(picture)
        inputs = np.stack([c.image[..., None] for c in crops])
        return NumberReading(self._predictions(inputs, [c.box for c in crops]))


def predict_files(predictor: Predictor, files: list[str], multi: bool = False):
    """Yield (file, Prediction | NumberReading | error sentence) for each file, decoding safely."""
    from core.images import read_image_file

    decoded: list = []
    for file in files:
        try:
            decoded.append(read_image_file(Path(file)))
        except ImageError as exc:
            decoded.append(exc)
    if multi:
        for file, image in zip(files, decoded):
            if isinstance(image, StudioError):
                yield file, str(image)
                continue
            try:
                yield file, predictor.read_number(image)
            except StudioError as exc:
                yield file, str(exc)
        return
    chunk = 64
    for start in range(0, len(files), chunk):
        part = decoded[start:start + chunk]
        good = [i for i, image in enumerate(part) if not isinstance(image, StudioError)]
        outcomes = predictor.predict_many([part[i] for i in good]) if good else []
        by_place = dict(zip(good, outcomes))
        for i, file in enumerate(files[start:start + chunk]):
            outcome = by_place.get(i, part[i])
            yield file, (str(outcome) if isinstance(outcome, StudioError) else outcome)
