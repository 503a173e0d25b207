"""Grad-CAM (Selvaraju et al.): where in the input the evidence for a class sits, as a heat map."""
from __future__ import annotations

import cv2
import keras
import numpy as np
import tensorflow as tf


def last_conv_layer(model):
    """The last layer with a spatial (4-D) output: where Grad-CAM looks."""
    for layer in reversed(model.layers):
        shape = getattr(layer, "output", None)
        shape = getattr(shape, "shape", None)
        if shape is not None and len(shape) == 4 and min(shape[1:3]) > 1:
            return layer
    raise ValueError("This model has no convolutional layer to explain.")


def grad_cam(model, image: np.ndarray, class_index: int | None = None) -> np.ndarray:
    """A heat map in 0..1 at the input's size: where the evidence for the class sits (Selvaraju et al.)."""
    layer = last_conv_layer(model)
    explainer = keras.Model(model.inputs, [layer.output, model.output])
    batch = tf.convert_to_tensor(image[None].astype(np.float32))
    with tf.GradientTape() as tape:
        features, probabilities = explainer(batch, training=False)
        index = int(tf.argmax(probabilities[0])) if class_index is None else class_index
        score = probabilities[:, index]
    grads = tape.gradient(score, features)
    weights = tf.reduce_mean(grads, axis=(0, 1, 2))
    cam = tf.nn.relu(tf.reduce_sum(features[0] * weights, axis=-1)).numpy()
    if cam.max() > 0:
        cam = cam / cam.max()

    return cv2.resize(cam.astype(np.float32), (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)


def overlay(image: np.ndarray, heat: np.ndarray, strength: float = 0.45) -> np.ndarray:
    """The heat map in the JET colours over the image (RGB uint8)."""
    base = image.astype(np.float32)
    if base.ndim == 2 or base.shape[-1] == 1:
        base = np.repeat(base.reshape(base.shape[0], base.shape[1], 1), 3, axis=2)
    colours = cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET)[:, :, ::-1].astype(np.float32)
    return np.clip(base * (1 - strength) + colours * strength, 0, 255).astype(np.uint8)
