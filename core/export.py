"""Export a registry model to TensorFlow Lite, for phones, microcontrollers and fast CPU inference."""
from __future__ import annotations

import warnings
from pathlib import Path

from core import registry
from core.errors import ModelError

TFLITE_FILE = "model.tflite"


def tflite_bytes(model) -> bytes:
    """Convert a Keras model to a TFLite flatbuffer (float32, same input convention as the model)."""
    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TF announces LiteRT on every conversion
        try:
            return tf.lite.TFLiteConverter.from_keras_model(model).convert()
        except Exception as exc:  # noqa: BLE001 - the converter raises many kinds
            raise ModelError(f"The model could not be converted to TFLite ({type(exc).__name__}).") from None


def export_tflite(name_or_path: str, out: Path | None = None) -> Path:
    """Write `model.tflite` next to the model (or to `out`), atomically; returns its path."""
    info, model = registry.load(name_or_path)
    target = Path(out) if out else info.path / TFLITE_FILE
    try:
        registry.atomic_write_bytes(target, tflite_bytes(model))
    except OSError as exc:
        raise ModelError(f"{target} cannot be written ({exc.strerror or exc}).") from None
    return target


def tflite_interpreter(data: bytes):
    """A ready TFLite interpreter for a flatbuffer (one per thread: interpreters are not thread-safe)."""
    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_content=data, num_threads=2)
    interpreter.allocate_tensors()
    return interpreter
