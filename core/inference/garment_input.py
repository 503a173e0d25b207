"""Turn a photo or a sketch of one garment into what a Fashion-MNIST model expects.

Zalando made Fashion-MNIST from product photos on a white background: trimmed to the product, the long side
resized to 28 and the short side padded to 28 around the centre, the intensities negated and made grey. So the
garment fills the frame, light on black, with its own shading kept. `prepare_garment` repeats those steps for
any picture; a sketch (`filled=True`) also has its closed outlines filled, because every garment in the dataset
is a solid shape, never an outline.
"""
from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from core.errors import NoGarmentError
from core.images import as_image

SIDE = 28
WORK_SIDE = 256  # the trimming runs on a copy this size: enough detail, bounded cost
MIN_CONTRAST = 24  # weaker than this (0..255) against the background is paper texture or noise
SKETCH_FILL = 150  # how bright the inside of a filled sketch is: a plain garment's usual shade in the dataset
NO_GARMENT = ("No garment found: the picture looks empty. Draw the outline of one garment, or upload a photo of "
              "one on a plain background.")


def on_white(picture) -> np.ndarray:
    """A PIL image or an array as grey uint8 (H, W), transparency laid over white paper."""
    image = as_image(picture)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    grey = np.asarray(image.convert("L"))
    if min(grey.shape) < 1:
        raise NoGarmentError(NO_GARMENT)
    scale = WORK_SIDE / max(grey.shape)
    if scale < 1:
        grey = cv2.resize(grey, (max(1, round(grey.shape[1] * scale)), max(1, round(grey.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA)
    return grey


def light_on_dark(grey: np.ndarray) -> np.ndarray:
    """The garment light on a black background, whichever way round the picture was, as float32 0..255."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]]).astype(np.float32)
    background = float(np.median(border))
    value = (background - grey.astype(np.float32)) if background >= 128 else (grey.astype(np.float32) - background)
    return np.clip(value, 0, 255)


def filled(value: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A sketch with the inside of its closed outlines painted: what is not reached from the border is inside."""
    outside = np.pad(~mask, 1, constant_values=True).astype(np.uint8)  # a frame of background all round
    flood = np.zeros((outside.shape[0] + 2, outside.shape[1] + 2), np.uint8)
    cv2.floodFill(outside, flood, (0, 0), 2)
    inside = (outside[1:-1, 1:-1] == 1)
    return np.where(inside, np.maximum(value, SKETCH_FILL), value)


def fitted(value: np.ndarray) -> np.ndarray:
    """The long side resized to 28 and the short side padded around the centre, as Zalando did."""
    height, width = value.shape
    scale = SIDE / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(value, size, interpolation=cv2.INTER_AREA)
    frame = np.zeros((SIDE, SIDE), np.float32)
    top, left = (SIDE - size[1]) // 2, (SIDE - size[0]) // 2
    frame[top:top + size[1], left:left + size[0]] = small
    return frame


def prepare_garment(picture, is_sketch: bool = False) -> np.ndarray:
    """Any garment picture → float32 (28, 28) in 0..255, light on black, filling the frame. Raises
    NoGarmentError when nothing stands out from the background."""
    value = light_on_dark(on_white(picture))
    mask = cv2.GaussianBlur(value, (3, 3), 0) >= MIN_CONTRAST
    if mask.sum() < 4:
        raise NoGarmentError(NO_GARMENT)
    if is_sketch:
        value = filled(value, mask)
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    value = value[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    value = value * (255.0 / max(float(value.max()), 1.0))  # the dataset's garments reach full brightness
    return fitted(value)
