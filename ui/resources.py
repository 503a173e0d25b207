"""The engine's resources behind Streamlit's caches: shared models, datasets and what is derived from them.

Models load through `st.cache_resource` keyed by path and modification time, so a rerun
never reloads a model and a retrained model is picked up at once. Datasets are shared
read-only through `st.cache_resource`; the figures derived from them go through `st.cache_data`.
Training is never cached.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import streamlit as st

from core import eda, runtime
from core.data import mnist, specs
from core.errors import StudioError
from core.evaluation import check_classes, metrics_from_probabilities, predict_probabilities
from core.images import read_image_file, thumbnail_rgb
from core.model import registry
from core.workspace import Workspace


@functools.cache
def keep_keras_session() -> None:
    """Once per server, when the first model loads: Streamlit calls `keras.backend.clear_session()` after
    every script run of every session (it has no setting for this). That drops TensorFlow's kernel cache:
    the next prediction of a shared model takes ~50 ms instead of ~1.5 ms, and the server's memory keeps
    growing. Models here live for the whole server, shared by all sessions, and training runs in a
    process of its own, so this server never clears its Keras session."""
    import keras  # loads TensorFlow

    keras.backend.clear_session = lambda *args, **kwargs: None


@st.cache_resource(show_spinner=False)
def registry_recovered() -> list[str]:
    """Once per server start, before any page lists models: a replace that died half-way gets its old
    model back (`registry.recover`). Listing itself never writes."""
    return registry.recover()


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def _predictor(model_file: str, mtime_ns: int, _info):
    from core.inference.predictor import Predictor  # loads TensorFlow

    keep_keras_session()
    predictor = Predictor.from_info(_info, fast_single=True)
    predictor.probabilities(np.zeros((1, *predictor.input_shape), np.float32))  # trace once, off the hot path
    runtime.set_long_lived_aside()
    predictor.prepare_uploads()
    return predictor


def model_version(info) -> tuple[str, int]:
    """Which file version of a resolved registry model this is: a retrained model is another version."""
    return str(info.model_file), info.model_file.stat().st_mtime_ns


def predictor(info):
    """The shared Predictor of a resolved registry model (`registry.resolve`), loaded once per file version."""
    return _predictor(*model_version(info), info)


@st.cache_resource(show_spinner="Opening the model up…", max_entries=8)
def _inside(model_file: str, mtime_ns: int, _info):
    from core.inference.inside import Inside  # loads TensorFlow

    shared = predictor(_info)
    inside = Inside(shared.model)  # the shared model's own weights, not a second copy
    inside.look(np.zeros(shared.input_shape, np.float32))  # trace once, off the hot path
    runtime.set_long_lived_aside()
    return inside


def inside(info):
    """The shared `Inside` of a resolved registry model: its stages and the one call that returns them all."""
    return _inside(*model_version(info), info)


def model_infos(where: Workspace):
    """A workspace's listing (its models and the shipped ones), read again only when a model folder changed
    (every rerun of every session asks for it: the sidebar)."""
    return _listing(registry.listing_signature(where.models))


@st.cache_resource(show_spinner=False, max_entries=64)  # a classroom: one listing per workspace
def _listing(signature: tuple):
    return registry.list_models(Path(signature[0]))


@st.cache_resource(show_spinner=False, max_entries=4)
def dataset(spec: str):
    """A dataset by the spec core loads (`Workspace.locate`): one person's `custom/x` is never another's.
    Shared, not copied: `st.cache_data` would unpickle MNIST's 55 MB for every rerun of every session (65 ms
    of each Look inside stroke). Its arrays are read-only, so no page can change what the others see."""
    data = specs.load(spec)
    for split in (data.train, data.val, data.test):
        for array in (split.x, split.y):
            if array is not None:
                array.flags.writeable = False
    runtime.set_long_lived_aside()
    return data


def try_dataset(spec: str):
    """(dataset, None) or (None, the sentence saying why it is not available)."""
    try:
        return dataset(spec), None
    except StudioError as exc:
        return None, str(exc)


@st.cache_data(show_spinner=False, ttl=60)
def grey_counts(spec: str):
    """(train count, test count, where) of a built-in dataset in the MNIST format, from its file headers."""
    return mnist.counts(specs.GREY_SOURCES[spec])


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


# What is computed from a photo dataset is keyed by its fingerprint too: once the dataset changes on disk,
# its new fingerprint misses every old entry, so only `dataset` itself needs forgetting.


@st.cache_data(show_spinner=False, max_entries=8)
def photo_sizes(spec: str, fingerprint: str):
    return eda.photo_sizes(dataset(spec))


@st.cache_data(show_spinner=False, max_entries=8)
def channel_histograms(spec: str, fingerprint: str):
    return eda.channel_histograms(dataset(spec))


@st.cache_data(show_spinner=False, max_entries=16)
def photo_sample(spec: str, fingerprint: str, per_class: int, seed: int):
    return eda.photo_sample(dataset(spec), per_class, seed)


def forget_dataset(spec: str) -> None:
    """After a dataset changed on disk (the builder): that dataset is read afresh, and with it what is
    computed from it; other datasets stay cached."""
    dataset.clear(spec)


@st.cache_data(show_spinner=False, max_entries=2000)
def thumbnail(path: str, mtime_ns: int, side: int = 96):
    return thumbnail_rgb(read_image_file(path), side)


@st.cache_data(show_spinner="Evaluating on the test split…", max_entries=8)
def _evaluation(model_file: str, mtime_ns: int, spec: str, _info):
    """The evaluation report and test probabilities of a model (keyed by file and modification time)."""
    shared = predictor(_info)
    data = dataset(spec)
    check_classes(_info, data)
    probabilities = predict_probabilities(shared.model, data, data.test, shared.input_shape[:2], shared.crop)
    return metrics_from_probabilities(data.test.y, probabilities, data.class_names), probabilities


def evaluation(info, where: Workspace):
    """(report, probabilities) of a resolved model of `where` on its dataset's test split."""
    return _evaluation(str(info.model_file), info.model_file.stat().st_mtime_ns,
                       where.locate(info.meta.get("dataset", "mnist")), info)
