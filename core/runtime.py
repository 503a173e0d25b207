"""TensorFlow's start-up, kept quiet: a newcomer reads oneDNN and cuInit notices as failures.

`STUDIO_VERBOSE=1` (or the command line's `--verbose`) brings them back.
"""
from __future__ import annotations

import os
import sys


def verbose() -> bool:
    return os.environ.get("STUDIO_VERBOSE", "") not in ("", "0")


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with its C++ start-up logs hidden (they bypass Python, so stderr's descriptor is muted)."""
    if verbose() or "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")  # the cuInit probe happens here, still muted
    finally:
        os.dup2(saved, 2)
        os.close(saved)
