"""Transfer learning on a frozen pretrained backbone: features computed once, cached, then a head in seconds.

While the backbone is frozen, every image always gives the same 1280 features, so they are computed
once per image and view and cached on disk (`data/.features/`), keyed by the backbone's weights, the
dataset's fingerprint, the files and the view. Epochs then train only the small head.

Augmentation and the cache: random augmentation per epoch would defeat the cache, so with augmentation
on, each training image is cached under three fixed views (as it is, mirrored, and zoomed in to the
central 80%), which triples the head's training set. Validation and test images use the plain view.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import asdict

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from core import config
from core.atomic import atomic_write_bytes
from core.data import pipeline
from core.evaluation import predict_probabilities
from core.images import DECODER
from core.model import lite0
from core.model.builders import build_model
from core.training import recipe
from core.training.config import TrainConfig
from core.training.events import Start, Status

PLAIN = "plain"
TRAIN_VIEWS = (PLAIN, "mirror", "zoom")
BATCH = 32


def cache_key(backbone_id: str, fingerprint: str, paths: list[str], view: str, image_size, crop: float) -> str:
    digest = hashlib.sha256(f"{backbone_id}|{DECODER}|{fingerprint}|{view}|{image_size}|{crop}\n".encode())
    digest.update("\n".join(paths).encode())
    return digest.hexdigest()[:24]


def backbone_id() -> str:
    """Changes when the pretrained weights change (the checkpoint's SHA-256)."""
    return f"{lite0.NAME}-{lite0.file_sha256(lite0.checkpoint_path())[:16]}"


def extract(extractor, paths: list[str], image_size, crop: float, view: str, progress=None) -> np.ndarray:
    """Features of every image through the traced extractor, batch by batch."""
    out, done = [], 0
    for batch in pipeline.photo_batches(paths, image_size, crop, view, BATCH):
        out.append(extractor(batch).numpy())
        done += len(batch)
        if progress:
            progress(done, len(paths))
    return np.concatenate(out) if out else np.zeros((0, 1280), np.float32)


def cached_features(extractor, identity: str, fingerprint: str, paths: list[str], image_size, crop: float,
                    view: str, progress=None) -> tuple[np.ndarray, bool]:
    """(features, whether they came from the cache)."""
    path = config.features_dir() / f"{cache_key(identity, fingerprint, paths, view, image_size, crop)}.npy"
    try:
        features = np.load(path, allow_pickle=False)
        if features.shape[0] == len(paths):
            return features, True
    except (OSError, ValueError):
        pass
    features = extract(extractor, paths, image_size, crop, view, progress)
    buffer = io.BytesIO()
    np.save(buffer, features.astype(np.float32))
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError:
        pass  # a read-only data folder only costs computing again
    return features, False


def feature_extractor(model):
    """A traced function from 0..255 images to the pooled backbone features of `model`."""
    inner = keras.Model(model.inputs, model.get_layer(lite0.FEATURES_LAYER).output)
    spec = tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)
    return tf.function(lambda x: inner(x, training=False), input_signature=[spec])


def head_model(num_classes: int, dropout: float):
    """The head alone, on features: what the epochs train."""
    inputs = keras.Input((1280,))
    x = layers.Dropout(dropout, name="classifier_dropout")(inputs)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="classifier")(x)
    return keras.Model(inputs, outputs, name="transfer_head")


def fit(cfg: TrainConfig, preset, data, train_split, val_split, emit: recipe.Emit,
        should_stop: recipe.ShouldStop, strategy=None) -> recipe.FitResult:
    """The head on cached features; then, when asked for, the top of the backbone on images.

    Always float32 under the default strategy (`strategy` is taken for the same call as the other fit)."""
    num_classes = len(data.class_names)
    with recipe.precision_policy("float32"):
        model = build_model(preset, num_classes, preset.knobs(cfg.dropout, True, 1.0))
        extractor = feature_extractor(model)
        identity = backbone_id()

        def features(split, view, what):
            def progress(done, total):
                emit(Status(f"Computing features of the {what} photos: {done:,} of {total:,}"))

            return cached_features(extractor, identity, data.fingerprint, split.paths, preset.image_size,
                                   preset.crop, view, progress)[0]

        views = TRAIN_VIEWS if cfg.augment else (PLAIN,)
        x_train = np.concatenate([features(train_split, view, "training") for view in views])
        y_train = np.tile(train_split.y, len(views))
        x_val = features(val_split, PLAIN, "validation")

        steps = recipe.steps_per_epoch(len(x_train), cfg)
        head = head_model(num_classes, cfg.dropout)
        recipe.compile_model(head, cfg, steps)
        callbacks, cancel = recipe.callbacks_for(cfg, emit, should_stop, steps)
        emit(Start(epochs=cfg.epochs + cfg.fine_tune_epochs, steps=steps, precision="float32",
                   train_samples=len(train_split), val_samples=len(val_split), config=asdict(cfg)))
        history = recipe.history_of(head.fit(
            x_train, y_train, batch_size=cfg.batch_size, epochs=cfg.epochs, verbose=0, shuffle=True,
            validation_data=(x_val, val_split.y), callbacks=callbacks,
            class_weight=recipe.class_weights(train_split.y, num_classes, cfg.class_weights)))
        model.get_layer("classifier").set_weights(head.get_layer("classifier").get_weights())
        if cancel.cancelled:
            return recipe.FitResult(model, history, None)
        if not cfg.fine_tune_epochs:
            x_test = features(data.test, PLAIN, "test")
            return recipe.FitResult(model, history, head.predict(x_test, batch_size=256, verbose=0))
        history, cancelled = fine_tune(model, cfg, preset, data, train_split, val_split, emit, should_stop, history)
        if cancelled:
            return recipe.FitResult(model, history, None)
        return recipe.FitResult(model, history, predict_probabilities(model, data, data.test, preset.image_size,
                                                                      preset.crop))


FINE_TUNE_FROM_BLOCK = 12  # the last stage (blocks 12-15) and the head conv learn; the rest stays as ImageNet made it


def fine_tune(model, cfg, preset, data, train_split, val_split, emit, should_stop, history):
    """Unfreeze the top of the backbone (batch norm stays frozen) and train on images at a tenth of the rate."""
    for layer in model.layers:
        block = layer.name.split("_")[0]
        top = block.startswith("block") and block[5:].isdigit() and int(block[5:]) >= FINE_TUNE_FROM_BLOCK
        unfrozen = top or layer.name in ("head_conv", "classifier")
        layer.trainable = unfrozen and not layer.name.endswith("_bn")
    steps = recipe.steps_per_epoch(len(train_split), cfg)
    augment = pipeline.photo_augmenter(cfg.seed) if cfg.augment else None
    train_ds = pipeline.pipeline(data, train_split, preset.image_size, cfg.batch_size, True, augment, preset.crop)
    val_ds = pipeline.pipeline(data, val_split, preset.image_size, cfg.batch_size, False, crop=preset.crop)
    recipe.compile_model(model, cfg, steps, rate=cfg.learning_rate / 10)
    emit(Status("Fine-tuning the top of the backbone"))
    callbacks, cancel = recipe.callbacks_for(cfg, emit, should_stop, steps, first_epoch=cfg.epochs, schedules=False)
    more = model.fit(train_ds, validation_data=val_ds, epochs=cfg.fine_tune_epochs, callbacks=callbacks,
                     verbose=0, shuffle=False)  # the pipeline shuffles
    merged = {k: history.get(k, []) + [float(v) for v in more.history.get(k, [])] for k in history}
    return merged, cancel.cancelled
