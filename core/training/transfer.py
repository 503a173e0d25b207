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
import time
from dataclasses import asdict

import keras
import numpy as np
import tensorflow as tf

from core import config
from core.atomic import write_cache_bytes
from core.data import pipeline, specs
from core.evaluation import predict_probabilities
from core.images import DECODER
from core.model import familiar, lite0
from core.model.builders import build_model
from core.training import linear_head, recipe
from core.training.config import TrainConfig
from core.training.events import Epoch, Start, Status

PLAIN = "plain"
TRAIN_VIEWS = (PLAIN, "mirror", "zoom")
BATCH = 32


def cache_key(backbone_id: str, fingerprint: str, paths: list[str], view: str, image_size, crop: float) -> str:
    digest = hashlib.sha256(f"{backbone_id}|{DECODER}|{fingerprint}|{view}|{image_size}|{crop}\n".encode())
    digest.update("\n".join(paths).encode())
    return digest.hexdigest()[:24]


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
    write_cache_bytes(path, buffer.getvalue())
    return features, False


def feature_extractor(model):
    """A traced function from 0..255 images to the pooled backbone features of `model`."""
    inner = keras.Model(model.inputs, model.get_layer(lite0.FEATURES_LAYER).output)
    spec = tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)
    return tf.function(lambda x: inner(x, training=False), input_signature=[spec])


def fitted_head(x, y, x_val, y_val, num_classes: int, cfg: TrainConfig, weights, emit,
                val_probabilities=None) -> tuple[linear_head.Head, dict]:
    """The head fitted to convergence on training features, reported as the run's one epoch of the head: its
    loss and accuracy on the training features and on the validation ones (or the out-of-fold ones)."""
    emit(Status(f"Fitting the classifier to convergence on {len(x):,} feature vectors"))
    started = time.time()
    head = linear_head.fit(x, y, num_classes, cfg.epochs, weights)
    val = linear_head.probabilities(head, x_val) if val_probabilities is None else val_probabilities
    train = linear_head.probabilities(head, x)
    metrics = {"loss": log_loss(train, y), "accuracy": accuracy(train, y),
               "val_loss": log_loss(val, y_val), "val_accuracy": accuracy(val, y_val)}
    emit(Epoch(epoch=1, epochs=1 + cfg.fine_tune_epochs, steps=1, eta=0.0, seconds=time.time() - started,
               lr=0.0, metrics=metrics))
    emit(Status(f"The classifier converged in {head.passes} passes over the features" if head.converged else
                f"The classifier stopped at {head.passes} passes, the most the Epochs setting allows"))
    return head, {key: [value] for key, value in metrics.items()}


def few_photos(cfg, model, everything, views, num_classes: int, weights, emit, should_stop) -> recipe.FitResult:
    """Every photo trains the head; its accuracy is estimated by cross-validation on the features."""
    emit(Start(epochs=1, steps=1, precision="float32", train_samples=len(everything), val_samples=0,
               config=asdict(cfg)))
    emit(Status(f"Few photos: all {len(everything)} train, and the accuracy is estimated by cross-validation"))
    estimate = linear_head.cross_validate(views, everything.y, num_classes, cfg.epochs, weights)
    if should_stop():
        return recipe.FitResult(model, {}, None)
    head, history = fitted_head(np.concatenate(views), np.tile(everything.y, len(views)), views[0], everything.y,
                                num_classes, cfg, weights, emit, val_probabilities=estimate.probabilities)
    model.get_layer("classifier").set_weights([head.kernel, head.bias])
    return recipe.FitResult(model, history, estimate.probabilities, test_labels=everything.y,
                            estimate=estimate.describe(), train_samples=len(everything),
                            familiar=familiar.calibrate(views[0], everything.y, num_classes))


def log_loss(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float(-np.log(np.clip(probabilities[np.arange(len(labels)), labels], 1e-7, 1.0)).mean())


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return float((probabilities.argmax(axis=1) == labels).mean())


def fit(cfg: TrainConfig, preset, data, train_split, val_split, emit: recipe.Emit,
        should_stop: recipe.ShouldStop, strategy=None) -> recipe.FitResult:
    """The head on cached features; then, when asked for, the top of the backbone on images.

    Always float32 under the default strategy (`strategy` is taken for the same call as the other fit)."""
    num_classes = len(data.class_names)
    with recipe.precision_policy("float32"):
        model = build_model(preset, num_classes, preset.knobs(cfg.dropout, True, 1.0))
        extractor = feature_extractor(model)
        identity = lite0.weights_key()

        def features(split, view, what):
            def progress(done, total):
                emit(Status(f"Computing features of the {what} photos: {done:,} of {total:,}"))

            return cached_features(extractor, identity, data.fingerprint, split.paths, preset.image_size,
                                   preset.crop, view, progress)[0]

        views = TRAIN_VIEWS if cfg.augment else (PLAIN,)
        everything = specs.merged(train_split, val_split, data.test)
        if not cfg.fine_tune_epochs and linear_head.is_few(everything.y, num_classes):
            return few_photos(cfg, model, everything, [features(everything, view, "training") for view in views],
                              num_classes, recipe.class_weights(everything.y, num_classes, cfg.class_weights),
                              emit, should_stop)
        weights = recipe.class_weights(train_split.y, num_classes, cfg.class_weights)
        x_train = [features(train_split, view, "training") for view in views]
        x_val = features(val_split, PLAIN, "validation")
        emit(Start(epochs=1 + cfg.fine_tune_epochs, steps=1, precision="float32", train_samples=len(train_split),
                   val_samples=len(val_split), config=asdict(cfg)))
        if should_stop():
            return recipe.FitResult(model, {}, None)
        head, history = fitted_head(np.concatenate(x_train), np.tile(train_split.y, len(views)), x_val,
                                    val_split.y, num_classes, cfg, weights, emit)
        model.get_layer("classifier").set_weights([head.kernel, head.bias])
        if not cfg.fine_tune_epochs:
            x_test = features(data.test, PLAIN, "test")
            return recipe.FitResult(model, history, linear_head.probabilities(head, x_test),
                                    familiar=familiar.calibrate(x_train[0], train_split.y, num_classes))
        history, cancelled = fine_tune(model, cfg, preset, data, train_split, val_split, emit, should_stop, history)
        if cancelled:
            return recipe.FitResult(model, history, None)
        emit(Status("Measuring the fine-tuned features of the training photos"))
        tuned = extract(feature_extractor(model), train_split.paths, preset.image_size, preset.crop, PLAIN)
        return recipe.FitResult(model, history, predict_probabilities(model, data, data.test, preset.image_size,
                                                                      preset.crop),
                                familiar=familiar.calibrate(tuned, train_split.y, num_classes))


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
