"""A picture to start from for each kind of model when its dataset is not on this machine, so that Look
inside is never empty: a drawn digit, a drawn T-shirt, a generated landscape. Made here, never a
third-party photo."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from core.data.drawn_digits import draw_digit_mask

SIDE = 280
T_SHIRT = [(0.32, 0.12), (0.42, 0.1), (0.5, 0.16), (0.58, 0.1), (0.68, 0.12), (0.9, 0.3), (0.8, 0.42),
           (0.72, 0.36), (0.72, 0.9), (0.28, 0.9), (0.28, 0.36), (0.2, 0.42), (0.1, 0.3)]


def sample_picture(kind: str) -> Image.Image:
    """A made-up picture a model of `kind` (digits, clothing, photos) can read: dark ink on white for the
    grey kinds, as a drawing would be, and an RGB scene for photos."""
    if kind == "digits":
        ink = draw_digit_mask(3, np.random.default_rng(3), SIDE)
        return Image.fromarray((255 - ink * 255).astype(np.uint8)).convert("RGB")
    if kind == "clothing":
        picture = Image.new("RGB", (SIDE, SIDE), "white")
        ImageDraw.Draw(picture).polygon([(x * SIDE, y * SIDE) for x, y in T_SHIRT], fill=(40, 40, 40))
        return picture
    return _landscape()


def _landscape() -> Image.Image:
    """Sky fading to the horizon, a sun, green hills: edges and colours for a photo model's filters."""
    rows = np.linspace(0, 1, SIDE)[:, None, None]
    sky = (np.array([70, 130, 210]) * (1 - rows) + np.array([200, 225, 250]) * rows) * np.ones((1, SIDE, 1))
    picture = Image.fromarray(sky.astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    draw.ellipse([190, 40, 250, 100], fill=(255, 215, 80))
    draw.polygon([(0, 190), (90, 150), (180, 185), (280, 160), (280, 280), (0, 280)], fill=(70, 140, 60))
    draw.polygon([(0, 230), (120, 205), (280, 235), (280, 280), (0, 280)], fill=(50, 110, 45))
    return picture
