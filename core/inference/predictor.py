"""Prediction on people's own input: one path for the canvas, uploads and the command line.

A loaded model is shared by every dashboard session, so it is only ever called through
one traced `tf.function` (`model(x, training=False)`) or one TFLite interpreter behind a lock,
both safe to call from many threads and much faster than `model.predict` for a single image.
A model on the pretrained backbone also answers with ImageNet's own guess ("looks like: tabby"),
from the same pass, and a cat-or-dog model refuses a photo that ImageNet sees as neither. One trained in
the studio also measures, in that pass, how far the photo is from each of its classes, and answers "none
of your classes" past its calibrated limit (`core.model.familiar`). A digit
model is served with the digit gate (`core.model.gate`) in the same pass, and refuses a letter,
a symbol or a drawing as "not a digit"; an upload given to it first passes the photo gate
(`core.model.photo_gate`), which answers a natural photo with a sentence.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from core.errors import (
    ImageError,
    ModelError,
    NaturalPhotoError,
    NoneOfYourClassesError,
    NotADigitError,
    NotAPetError,
    StudioError,
)
from core.images import as_image, photo_array, read_image_file
from core.inference.digit_input import prepare_digit, split_digits
from core.inference.garment_input import prepare_garment
from core.inference.gradcam import grad_cam
from core.inference.tflite import LiteRunner, tflite_bytes
from core.model import familiar, lite0, photo_gate, registry
from core.model.gate import INPUT_SHAPE as DIGIT_INPUT
from core.model.gate import load_gate

UNSURE_BELOW = 0.7  # below this top probability the answer is "not sure" with the top 3
# ImageNet's probability of dogs, cats and their wild kin together, under which a photo is neither cat nor dog.
# Measured on 300 real validation photos: 1 under 0.1 (the lowest 0.075); 16 of 18 non-pet pictures are under it.
PET_SHARE_BELOW = 0.1
PET_CLASSES = {"cat", "cats", "dog", "dogs"}
_forward_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_forward_lock = threading.Lock()


def forward_fn(model):
    """A traced inference function for `model`, made once per model: float32 batch in, probabilities out."""
    with _forward_lock:
        forward = _forward_cache.get(model)
        if forward is None:
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
    looks_like: tuple[str, float] | None = None  # ImageNet's top guess, for models on the pretrained backbone

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
        if self.looks_like:
            record["looks_like"] = {"label": self.looks_like[0], "probability": round(self.looks_like[1], 6)}
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

    def __init__(self, model, class_names: list[str], kind: str, fast_single: bool = False, crop: float = 1.0,
                 backbone: str | None = None, familiarity: familiar.Familiarity | None = None):
        """`fast_single` converts the model to TFLite once (a second or so) for quick single-image answers;
        the dashboard wants it, a one-off command line run does not. `familiarity` (a model on the pretrained
        backbone) refuses photos far from every class."""
        self.model = model
        self.class_names = list(class_names)
        self.kind = kind
        self.crop = crop
        self.input_shape = tuple(model.input_shape[1:])
        self.pets = {name.lower() for name in self.class_names} <= PET_CLASSES and len(self.class_names) == 2
        self.backbone = backbone
        self.gate_thresholds = None
        self.familiarity = familiarity if backbone else None
        if backbone:
            self.serving = with_imagenet_head(model, self.familiarity)
        elif kind == "digits" and self.input_shape == DIGIT_INPUT:
            self.serving, self.gate_thresholds = with_digit_gate(model)
        else:
            self.serving = model
        self._forward = forward_fn(self.serving)
        self._single = None
        if fast_single:
            try:
                self._single = LiteRunner(tflite_bytes(self.serving))
            except ModelError:
                self._single = None  # the traced TensorFlow function serves single images too

    @classmethod
    def from_registry(cls, name_or_path: str, fast_single: bool = False, root: Path | None = None) -> Predictor:
        """A model of the registry `root` (a workspace's `registry`), by name or, in the default one, path."""
        return cls.from_info(registry.resolve(name_or_path, root), fast_single)

    @classmethod
    def from_info(cls, info, fast_single: bool = False) -> Predictor:
        """Load a resolved registry model (`registry.resolve`)."""
        model = registry.load_model(info)
        meta = info.meta or registry.completed_meta(model, info.name, {})  # a loose .keras file has no meta
        familiarity = None
        if meta.get("backbone") and info.loose_file is None:
            width = model.get_layer(lite0.FEATURES_LAYER).output.shape[-1]
            try:
                familiarity = familiar.read(info.path / familiar.FILE, len(meta["class_names"]), width)
            except familiar.Unreadable:
                familiarity = None  # the model still answers, as one trained before the check would
        return cls(model, meta["class_names"], meta["kind"], fast_single, crop=meta.get("crop", 1.0),
                   backbone=meta.get("backbone"), familiarity=familiarity)

    def outputs(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(class probabilities, what the serving model adds or None) for a batch: ImageNet's probabilities
        (then the squared distances to the classes, with a familiarity) for a model on the pretrained
        backbone, the gate's P(not a digit) for a digit model."""
        batch = np.asarray(batch, dtype=np.float32)
        if self._single is not None and len(batch) <= FEW:
            # A few pictures go one by one through the TFLite interpreter: as fast, and TensorFlow never
            # sees a new batch size, each of which would grow its caches for good.
            result = np.concatenate([np.asarray(self._single(batch[i:i + 1])) for i in range(len(batch))])
        else:
            result = np.asarray(self._forward(batch))
        if self.serving is self.model:
            return result, None
        classes = len(self.class_names)
        return result[:, :classes], result[:, classes:]

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        return self.outputs(batch)[0]

    def predict_inputs(self, inputs: np.ndarray, boxes=None, drawn: bool = False) -> list[Prediction | StudioError]:
        """Answers for a batch of model inputs already prepared (`drawn`: on the canvas); a refused one is its
        error, in its place."""
        probabilities, extra = self.outputs(inputs)
        gate_threshold = self.gate_thresholds.for_input(drawn) if self.gate_thresholds else None
        results = []
        for i, p in enumerate(probabilities):
            looks_like = None
            if gate_threshold is not None and extra[i, 0] > gate_threshold:
                results.append(NotADigitError(NOT_A_DIGIT))
                continue
            if self.backbone:
                imagenet = extra[i, :IMAGENET_CLASSES]
                looks_like = imagenet_guess(imagenet)
                if self.pets and pet_share(imagenet) < PET_SHARE_BELOW:
                    results.append(NotAPetError(f"This doesn't look like a cat or a dog (it looks more like: "
                                                f"{looks_like[0]})."))
                    continue
                refusal = self._unfamiliar(extra[i, IMAGENET_CLASSES:], looks_like)
                if refusal:
                    results.append(refusal)
                    continue
            index = int(np.argmax(p))
            results.append(Prediction(self.class_names[index], index, float(p[index]), p.tolist(), self.class_names,
                                      inputs[i], None if boxes is None else boxes[i], looks_like))
        return results

    def _unfamiliar(self, squared_distances: np.ndarray, looks_like) -> NoneOfYourClassesError | None:
        """"None of your classes" for a photo farther than the calibrated limit from every class, else None."""
        if self.familiarity is None:
            return None
        distances = np.sqrt(np.maximum(squared_distances, 0.0))
        if distances.min() <= self.familiarity.threshold:
            return None
        nearest = self.class_names[int(np.argmin(distances))]
        return NoneOfYourClassesError(f"None of your classes: this photo is far from all of them (the nearest is "
                                      f"{nearest}; it looks more like: {looks_like[0]}).")

    def model_input(self, picture, is_sketch: bool = False) -> np.ndarray:
        """What the model receives for one picture (a PIL image or an array). `is_sketch`: drawn on the canvas,
        so a garment has its outlines filled, and a digit is never taken for a photo."""
        if self.kind == "digits":
            if not is_sketch:
                refuse_natural_photo(picture)
            return prepare_digit(picture).image[..., None]
        if self.kind == "clothing":
            return prepare_garment(picture, is_sketch)[..., None]
        return photo_array(as_image(picture), self.input_shape[:2], self.crop)

    def prepare_uploads(self) -> None:
        """Build what a first upload needs (a digit model's photo gate, about 10 s) on a thread of its own, so
        that the first person to upload does not wait for it while the others queue behind."""
        if self.kind == "digits":
            threading.Thread(target=photo_gate.single_pass, name="photo-gate", daemon=True).start()

    def predict(self, picture, is_sketch: bool = False) -> Prediction:
        """One picture → one prediction. Raises NoDigitError, NoGarmentError or NotAPetError when there is nothing
        to answer."""
        outcome = self.predict_inputs(self.model_input(picture, is_sketch)[None], drawn=is_sketch)[0]
        if isinstance(outcome, StudioError):
            raise outcome
        return outcome

    def predict_many(self, pictures: list) -> list[Prediction | StudioError]:
        """Many pictures in one batch; a picture that cannot be used gives its error in its place."""
        inputs, places, results = [], [], [None] * len(pictures)
        for i, picture in enumerate(pictures):
            try:
                inputs.append(self.model_input(picture))
                places.append(i)
            except StudioError as exc:
                results[i] = exc
        for start in range(0, len(inputs), BATCH):
            chunk = np.stack(inputs[start:start + BATCH])
            for i, outcome in zip(places[start:start + BATCH], self.predict_inputs(chunk)):
                results[i] = outcome
        return results

    def read_number(self, picture, is_sketch: bool = False) -> NumberReading:
        """Several digits in a row, read left to right (`is_sketch`: written on the canvas)."""
        if self.kind != "digits":
            raise StudioError("Reading numbers needs a digit model.")
        if not is_sketch:
            refuse_natural_photo(picture)
        crops = split_digits(picture)
        inputs = np.stack([c.image[..., None] for c in crops])
        outcomes = self.predict_inputs(inputs, [c.box for c in crops], drawn=is_sketch)
        refused = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, StudioError)]
        if refused:  # reported, never guessed
            place = refused[0] + 1
            raise NotADigitError(f"Mark {place} of {len(outcomes)}, counted from the left, doesn't look like a "
                                 "digit, so the number is not read. Write digits only, side by side.")
        return NumberReading(outcomes)

    def classes_of(self, inputs: np.ndarray) -> np.ndarray:
        """The predicted class index of every model input in a large array, batch by batch."""
        batches = [self.probabilities(inputs[i:i + 512]).argmax(axis=1) for i in range(0, len(inputs), 512)]
        return np.concatenate(batches) if batches else np.zeros(0, np.int64)

    def tflite(self) -> bytes:
        """The model as a TFLite flatbuffer (same input convention), for phones and microcontrollers."""
        return tflite_bytes(self.model)

    def explain(self, prediction: Prediction) -> np.ndarray:
        """Grad-CAM of a prediction: a heat map in 0..1 at the model input's size."""
        return self.explain_input(prediction.model_input, prediction.index)

    def explain_input(self, model_input: np.ndarray, index: int) -> np.ndarray:
        """Grad-CAM of class `index` for a prepared model input."""
        return grad_cam(self.model, model_input, index)


BATCH = 64
IMAGENET_CLASSES = 1000
NOT_A_DIGIT = "That doesn't look like a digit. Draw or photograph one digit, 0 to 9."
FEW = 16  # up to this many pictures, a fast-single predictor answers one by one (see `outputs`)


def refuse_natural_photo(picture) -> None:
    """NaturalPhotoError for a natural photo given to a digit model (`core.model.photo_gate`)."""
    looks_like = photo_gate.natural_photo(as_image(picture))
    if looks_like:
        raise NaturalPhotoError(f"This looks like a photo, not a handwritten digit (it looks more like: {looks_like}). "
                                "Photograph or scan a digit written on paper, or draw one.")


def with_imagenet_head(model, familiarity: familiar.Familiarity | None = None):
    """The model plus ImageNet's classifier on the same pooled features, and with a familiarity the squared
    distance of the unit-length features to each class centre: one pass gives every answer.

    One output, all joined (classes, ImageNet, distances): TFLite need not keep the order of several outputs."""
    features = model.get_layer(lite0.FEATURES_LAYER).output
    imagenet = layers.Dense(IMAGENET_CLASSES, activation="softmax", name="imagenet")
    parts = [model.output, imagenet(features)]
    distance = None
    if familiarity is not None:
        # |u - c|² = 1 - 2 u·c + |c|² for a unit-length u: one dense layer over the normalised features
        distance = layers.Dense(len(familiarity.centres), name="squared_distances")
        parts.append(distance(layers.UnitNormalization(name="unit_features")(features)))
    serving = keras.Model(model.inputs, layers.Concatenate(name="classes_then_imagenet")(parts))
    imagenet.set_weights(list(lite0.imagenet_head()))
    if distance is not None:
        centres = familiarity.centres
        distance.set_weights([-2.0 * centres.T, 1.0 + (centres ** 2).sum(axis=1)])
    return serving


def with_digit_gate(model):
    """(the digit model plus the gate's P(not a digit) as one more output, the gate's Thresholds);
    the model alone and None when no gate ships."""
    gate, thresholds = load_gate()
    if gate is None:
        return model, None
    inputs = keras.Input(DIGIT_INPUT)
    serving = keras.Model(inputs, layers.Concatenate(name="digits_then_gate")([model(inputs), gate(inputs)]))
    return serving, thresholds


def imagenet_guess(probabilities: np.ndarray) -> tuple[str, float]:
    index = int(np.argmax(probabilities))
    return lite0.imagenet_labels()[index], float(probabilities[index])


def pet_share(probabilities: np.ndarray) -> float:
    """How much of ImageNet's belief goes to dogs, cats and their wild kin (its classes 151-293)."""
    return float(probabilities[list(lite0.PET_LIKE_CLASSES)].sum())


def predict_files(predictor: Predictor, files: list[str], multi: bool = False):
    """Yield (file, Prediction | NumberReading | error sentence) for each file, decoding one chunk at a time."""
    def decode(file):
        try:
            return read_image_file(Path(file))
        except ImageError as exc:
            return exc

    for start in range(0, len(files), BATCH):
        part = files[start:start + BATCH]
        decoded = [decode(file) for file in part]
        if multi:
            outcomes = [image if isinstance(image, StudioError) else _try(predictor.read_number, image)
                        for image in decoded]
        else:
            good = [i for i, image in enumerate(decoded) if not isinstance(image, StudioError)]
            predicted = dict(zip(good, predictor.predict_many([decoded[i] for i in good]) if good else []))
            outcomes = [predicted.get(i, decoded[i]) for i in range(len(part))]
        for file, outcome in zip(part, outcomes):
            yield file, (str(outcome) if isinstance(outcome, StudioError) else outcome)


def _try(read, image):
    try:
        return read(image)
    except StudioError as exc:
        return exc
