"""The engine's resources behind Streamlit's caches: shared models, datasets and what is derived from them.

Models load through `st.cache_resource` keyed by path and modification time, so a rerun
never reloads a model and a retrained model is picked up at once. Datasets and the
figures derived from them go through `st.cache_data`. Training is never cached.
"""
from __future__ import annotations

import threading

import numpy as np
import streamlit as st

from core import eda
from core.data import specs
from core.errors import StudioError
from core.model import registry

MODEL_LOADS = {"count": 0}  # how many times a model file was really read (the tests count reloads)
_count_lock = threading.Lock()


def _keep_keras_session() -> None:
    """Streamlit calls `keras.backend.clear_session()` after every script run. That drops TensorFlow's
    instantiated functions: the next prediction of the shared model takes ~50 ms instead of ~1.5 ms and
    the server's memory keeps growing. Models here live for the whole server, shared by all sessions,
    and training runs in its own process, so the server keeps its Keras session."""
    import keras

    keras.backend.clear_session = lambda *args, **kwargs: None


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def _predictor(model_file: str, mtime_ns: int, _info):
    from core.inference.predictor import Predictor

    _keep_keras_session()

    with _count_lock:
        MODEL_LOADS["count"] += 1
    predictor = Predictor.from_info(_info, fast_single=True)
    predictor.probabilities(np.zeros((1, *predictor.input_shape), np.float32))  # trace once, off the hot path
    return predictor


def predictor(info):
    """The shared Predictor of a resolved registry model (`registry.resolve`), loaded once per file version."""
    return _predictor(str(info.model_file), info.model_file.stat().st_mtime_ns, info)


def model_infos():
    return registry.list_models()


@st.cache_data(show_spinner=False, max_entries=4)
def dataset(spec: str):
    return specs.load(spec)


def try_dataset(spec: str):
    """(dataset, None) or (None, the sentence saying why it is not available)."""
    try:
        return dataset(spec), None
    except StudioError as exc:
        return None, str(exc)


@st.cache_data(show_spinner=False, ttl=60)
def mnist_counts():
    from core.data.mnist import mnist_counts as counts

    return counts()


@st.cache_data(show_spinner=False, max_entries=8)
def mean_variance(spec: str):
    data = dataset(spec)
    return eda.class_mean_variance(data.train.x, data.train.y, len(data.class_names))


@st.cache_data(show_spinner=False, max_entries=8)
def intensity_histogram(spec: str):
    data = dataset(spec)
    return eda.intensity_histogram(data.train.x[:10000], data.train.y[:10000], data.class_names)


@st.cache_data(show_spinner=False, max_entries=8)
def embedding(spec: str, method: str, samples: int):
    data = dataset(spec)
    return eda.embedding(data.train.x, data.train.y, method, samples)


@st.cache_data(show_spinner=False, max_entries=8)
def photo_sizes(spec: str):
    return eda.photo_sizes(dataset(spec))


@st.cache_data(show_spinner=False, max_entries=8)
def channel_histograms(spec: str):
    return eda.channel_histograms(dataset(spec))


@st.cache_data(show_spinner=False, max_entries=16)
def photo_sample(spec: str, per_class: int, seed: int):
    return eda.photo_sample(dataset(spec), per_class, seed)


def forget_dataset(spec: str) -> None:
    """After a dataset changed on disk (the builder): what was computed from it is computed afresh."""
    for cached in (dataset, photo_sizes, channel_histograms, photo_sample):
        cached.clear()


@st.cache_data(show_spinner=False, max_entries=2000)
def thumbnail(path: str, mtime_ns: int, side: int = 96):
    from core.images import read_image_file, thumbnail_rgb

    return thumbnail_rgb(read_image_file(path), side)


@st.cache_data(show_spinner="Evaluating on the test split…", max_entries=8)
def _evaluation(model_file: str, mtime_ns: int, spec: str, _info):
    """The evaluation report and test probabilities of a model (keyed by file and modification time)."""
    from core.evaluation import metrics_from_probabilities, predict_probabilities

    shared = predictor(_info)
    data = dataset(spec)
    probabilities = predict_probabilities(shared.model, data, data.test, shared.input_shape[:2], shared.crop)
    return metrics_from_probabilities(data.test.y, probabilities, data.class_names), probabilities


def evaluation(info):
    """(report, probabilities) of a resolved model on its dataset's test split."""
    return _evaluation(str(info.model_file), info.model_file.stat().st_mtime_ns, info.meta.get("dataset", "mnist"),
                       info)
