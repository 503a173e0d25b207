"""Training across worker processes (MultiWorkerMirroredStrategy) with a custom loop.

Keras 3's `fit()` cannot run under MultiWorkerMirroredStrategy: its symbolic build and its
per-step logs call `strategy.reduce` on values that are not per-replica (keras-team/keras#20585).
This loop follows TensorFlow's "custom training loop with tf.distribute" guide: the global batch
is split over the workers, each replica computes its share of the loss, the optimizer's update is
all-reduced, and the studio's Keras callbacks are driven by hand with the same logs `fit()` gives.
"""
from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf


def fit_loop(model, strategy, train_ds, val_ds, train_size: int, batch_size: int, epochs: int, callbacks,
             class_weight: dict | None = None) -> dict:
    """Train `model` (built and compiled inside `strategy.scope()`); returns the history as `fit()` would.

    `train_ds` and `val_ds` yield global batches; the training one is sharded by data over the workers."""
    steps = max(1, math.ceil(train_size / batch_size))
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    batches = iter(strategy.experimental_distribute_dataset(train_ds.repeat().with_options(options)))
    weights = tf.constant([class_weight[i] for i in sorted(class_weight)] if class_weight else [1.0], tf.float32)
    per_example_loss = keras.losses.SparseCategoricalCrossentropy(reduction="none")
    optimizer = model.optimizer

    def replica_step(x, y):
        y = tf.cast(tf.reshape(y, [-1]), tf.int32)
        with tf.GradientTape() as tape:
            probabilities = model(x, training=True)
            losses = per_example_loss(y, probabilities)
            if class_weight:
                losses = losses * tf.gather(weights, y)
            loss = tf.nn.compute_average_loss(losses, global_batch_size=batch_size)
            if model.losses:
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(probabilities, -1, output_type=tf.int32), y), tf.float32))
        return loss, correct, tf.cast(tf.size(y), tf.float32)

    @tf.function
    def train_step():
        x, y = next(batches)
        loss, correct, count = strategy.run(replica_step, args=(x, y))
        total = strategy.reduce(tf.distribute.ReduceOp.SUM, tf.stack([loss, correct, count]), axis=None)
        return total

    callback_list = keras.callbacks.CallbackList(callbacks, model=model, epochs=epochs, steps=steps)
    history: dict[str, list[float]] = {}
    model.stop_training = False
    callback_list.on_train_begin()
    for epoch in range(epochs):
        callback_list.on_epoch_begin(epoch)
        loss_sum = correct = seen = 0.0
        for step in range(steps):
            loss, right, count = (float(v) for v in train_step().numpy())
            loss_sum, correct, seen = loss_sum + loss, correct + right, seen + count
            callback_list.on_train_batch_end(step, {"loss": loss_sum / (step + 1), "accuracy": correct / max(seen, 1)})
            if model.stop_training:
                break
        logs = {"loss": loss_sum / (step + 1), "accuracy": correct / max(seen, 1), **validate(model, val_ds)}
        for key, value in logs.items():
            history.setdefault(key, []).append(value)
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end()
    return history


def validate(model, val_ds) -> dict:
    """Validation loss and accuracy, computed by each worker on the whole validation split."""
    losses, correct, count = [], 0, 0
    for x, y in val_ds:
        probabilities = model(x, training=False)
        labels = np.asarray(y).reshape(-1)
        losses.append(np.asarray(keras.losses.sparse_categorical_crossentropy(labels, probabilities)))
        correct += int((np.argmax(probabilities, -1) == labels).sum())
        count += len(labels)
    return {"val_loss": float(np.concatenate(losses).mean()), "val_accuracy": correct / max(count, 1)}
