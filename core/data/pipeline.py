"""The `tf.data` pipelines that feed training and evaluation, and the augmentation layers they apply.

A visible chain, as in the keras-io examples: decode → cache → shuffle → batch → augment → prefetch (grey images in
memory: shuffle their numbers → batch → gather → augment → prefetch).
"""
from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from core import config
from core.data.catalog import is_grey
from core.data.specs import Dataset, Split
from core.images import photo_input


def decode_photo(path, size, crop: float = 1.0):
    """One photo file in the graph: RGB float32 0..255 at `size` (h, w), through the one decoder that Predict
    uses too (`core.images.photo_input`), so training and prediction see the same pixels. TensorFlow's own
    decoder would ignore EXIF orientation and read neither CMYK, WebP nor TIFF."""
    size = tuple(int(side) for side in size)

    def load(file):  # a file name as bytes, or a 0-d array of them
        return photo_input(os.fsdecode(np.asarray(file).item()), size, crop)

    image = tf.numpy_function(load, [path], tf.float32, stateful=False)
    image.set_shape([*size, 3])
    return image


def without_autotune(data):
    """`data` with tf.data's autotuner off (AUTOTUNE then means one thread per core). On a 2-core machine its
    extra threads fight the training step for the cores, and deleting a tuned iterator waits for the tuner's
    sleep: a 1-epoch MNIST run took 47 s with it and 34 s without, 6-9 s of that after the last batch."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return data.with_options(options)


VIEWS = {"plain": 1.0, "mirror": 1.0, "zoom": 0.8}  # fixed views for cached features: share of the crop kept


def photo_batches(paths: list[str], size, crop: float, view: str, batch_size: int):
    """Batches of photos under one fixed view (plain, mirrored, or zoomed in), for feature extraction."""
    def load(path):
        image = decode_photo(path, size, crop * VIEWS[view])
        return tf.image.flip_left_right(image) if view == "mirror" else image

    data = tf.data.Dataset.from_tensor_slices(list(paths)).map(load, num_parallel_calls=tf.data.AUTOTUNE)
    return without_autotune(data.batch(batch_size).prefetch(tf.data.AUTOTUNE))


def pipeline(dataset: Dataset, split: Split, image_size, batch_size: int, training: bool, augment=None,
             crop: float = 1.0):
    """Batches of (float32 images in 0..255, int labels), prefetched: grey images gathered a batch at a time from
    memory, photos decoded once and cached."""
    autotune = tf.data.AUTOTUNE
    if is_grey(dataset.kind):
        data = grey_batches(split, batch_size, training)
    else:
        data = tf.data.Dataset.from_tensor_slices((split.paths, split.y))
        data = data.map(lambda p, y: (tf.cast(decode_photo(p, image_size, crop), tf.uint8), y),
                        num_parallel_calls=autotune).cache()
        if training:
            data = shuffled(data, len(split))
        data = data.batch(batch_size).map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=autotune)
    if training and augment is not None:
        data = data.map(lambda x, y: (augment(x), y), num_parallel_calls=autotune)
    return without_autotune(data.prefetch(autotune))


def shuffled(data, count: int):
    """`data` shuffled anew each epoch, in the same order for the same count, whatever its elements are."""
    return data.shuffle(min(count, 20000), seed=config.SEED, reshuffle_each_iteration=True)


def grey_batches(split: Split, batch_size: int, training: bool):
    """Batches of a split held in memory: its sample numbers (shuffled when training, in the order its images
    would be) in batches, each batch's images and labels gathered at once. Shuffling small numbers instead of
    images, and a gather a batch instead of a slice a sample, leaves the cores to the training step: the same
    batches, and an MNIST epoch 0.3-0.5 s shorter (of 7-8 s)."""
    images, labels = tf.constant(split.x[..., None]), tf.constant(split.y)
    order = tf.data.Dataset.range(len(split))
    if training:
        order = shuffled(order, len(split))
    return order.batch(batch_size).map(lambda i: (tf.cast(tf.gather(images, i), tf.float32), tf.gather(labels, i)),
                                       num_parallel_calls=tf.data.AUTOTUNE)


def digit_augmenter(seed: int = config.SEED):
    """Handwriting augmentation: small rotations, shifts and zoom, and thicker or thinner strokes."""
    geometry = keras.Sequential([
        keras.layers.RandomRotation(10 / 360, fill_mode="constant", seed=seed),
        keras.layers.RandomZoom(0.12, fill_mode="constant", seed=seed + 1),
        keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 2),
    ])

    def stroke(x):
        thick = tf.nn.max_pool2d(x, 3, 1, "SAME")
        thin = -tf.nn.max_pool2d(-x, 3, 1, "SAME")
        amount = tf.random.uniform([tf.shape(x)[0], 1, 1, 1], -0.5, 0.7)
        mixed = tf.where(amount > 0, x + amount * (thick - x), x - amount * (thin - x))
        # Keep the ink as bright as before: thinner strokes, not fainter ones.
        peak = tf.reduce_max(x, axis=[1, 2, 3], keepdims=True)
        return mixed * peak / tf.maximum(tf.reduce_max(mixed, axis=[1, 2, 3], keepdims=True), 1.0)

    return lambda x: geometry(stroke(x), training=True)


def clothing_augmenter(seed: int = config.SEED):
    """Garment augmentation: mirror images, small shifts, and a patch wiped out now and then (a garment is
    still itself when a part of it is hidden; Zhong et al.'s random erasing, their best Fashion-MNIST aid)."""
    layers = keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=seed + 1),
        keras.layers.RandomErasing(factor=0.5, scale=(0.02, 0.2), fill_value=0.0, value_range=(0, 255),
                                   seed=seed + 2),
    ])
    return lambda x: layers(x, training=True)


def augmenter(kind: str, seed: int = config.SEED):
    """The augmentation that suits a kind of data (catalog.kind_of)."""
    return {"digits": digit_augmenter, "clothing": clothing_augmenter}.get(kind, photo_augmenter)(seed)


def photo_augmenter(seed: int = config.SEED):
    """Photo augmentation: horizontal flips, small rotations, zoom and contrast."""
    layers = keras.Sequential([
        keras.layers.RandomFlip("horizontal", seed=seed),
        keras.layers.RandomRotation(0.05, seed=seed + 1),
        keras.layers.RandomZoom(0.15, seed=seed + 2),
        keras.layers.RandomContrast(0.15, seed=seed + 3),
    ])
    return lambda x: tf.clip_by_value(layers(x, training=True), 0.0, 255.0)
