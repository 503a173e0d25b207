"""Hand-drawn-looking digits: strokes through jittered control points, smoothed as a hand would draw them;
and any digit as a low-resolution scan would give it.

The digit gate (`core.training.gate`) learns what digits look like from these among others;
`core.data.digit_sets` draws its canvas set (a) from them with other seeds.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw

# Control points in a unit box (x right, y down); each digit has one or more ways people write it.
# A "stroke" is a polyline; "ellipse" strokes are (cx, cy, rx, ry).
STROKES = {
    0: [[("ellipse", 0.5, 0.5, 0.32, 0.45)], [("ellipse", 0.5, 0.5, 0.32, 0.45), [(0.25, 0.85), (0.75, 0.15)]]],
    1: [[[(0.5, 0.05), (0.5, 0.95)]], [[(0.3, 0.22), (0.52, 0.05), (0.52, 0.95)]],
        [[(0.3, 0.22), (0.52, 0.05), (0.52, 0.95)], [(0.3, 0.95), (0.74, 0.95)]]],
    2: [[[(0.15, 0.28), (0.3, 0.08), (0.6, 0.04), (0.82, 0.22), (0.75, 0.45), (0.15, 0.95), (0.88, 0.95)]]],
    3: [[[(0.15, 0.12), (0.55, 0.03), (0.82, 0.22), (0.45, 0.48), (0.85, 0.7), (0.6, 0.96), (0.15, 0.88)]]],
    4: [[[(0.62, 0.04), (0.1, 0.66), (0.92, 0.66)], [(0.66, 0.3), (0.66, 0.98)]],
        [[(0.25, 0.04), (0.18, 0.6), (0.85, 0.6)], [(0.7, 0.2), (0.7, 0.98)]]],
    5: [[[(0.82, 0.05), (0.28, 0.05), (0.22, 0.45), (0.6, 0.38), (0.86, 0.64), (0.6, 0.96), (0.15, 0.88)]]],
    6: [[[(0.72, 0.04), (0.32, 0.38), (0.2, 0.72), (0.42, 0.96), (0.78, 0.84), (0.74, 0.58), (0.42, 0.52),
          (0.22, 0.7)]]],
    7: [[[(0.1, 0.08), (0.9, 0.08), (0.42, 0.96)]], [[(0.1, 0.08), (0.9, 0.08), (0.42, 0.96)], [(0.38, 0.5),
                                                                                          (0.84, 0.5)]]],
    8: [[("ellipse", 0.5, 0.27, 0.25, 0.23), ("ellipse", 0.5, 0.73, 0.3, 0.25)]],
    9: [[("ellipse", 0.48, 0.3, 0.28, 0.26), [(0.76, 0.3), (0.7, 0.96)]]],
}


def _points(stroke, rng, jitter: float) -> list[tuple[float, float]]:
    if isinstance(stroke, tuple) and stroke[0] == "ellipse":
        _, cx, cy, rx, ry = stroke
        start = rng.uniform(0, 2 * math.pi)
        angles = start + np.linspace(0, 2 * math.pi * rng.uniform(0.97, 1.05), 36)
        return [(cx + rx * math.cos(a) + rng.normal(0, jitter / 3), cy + ry * math.sin(a) + rng.normal(0, jitter / 3))
                for a in angles]
    return [(x + rng.normal(0, jitter), y + rng.normal(0, jitter)) for x, y in stroke]


def _smooth(points, steps: int = 8):
    """Catmull-Rom through the control points: strokes curve as a hand would."""
    if len(points) < 3:
        return points
    padded = [points[0], *points, points[-1]]
    out = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = (np.array(padded[j]) for j in (i - 1, i, i + 1, i + 2))
        for t in np.linspace(0, 1, steps, endpoint=False):
            out.append(tuple(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t * t
                                    + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3)))
    out.append(points[-1])
    return out


def draw_digit_mask(digit: int, rng, size: int = 280, scale=(0.45, 0.85), thickness=(6, 38)) -> np.ndarray:
    """A hand-drawn-looking digit as a float mask 0..1 on a square canvas."""
    variant = STROKES[digit][rng.integers(len(STROKES[digit]))]
    height = rng.uniform(*scale) * size
    width = height * rng.uniform(0.55, 0.8)
    left = rng.uniform(0.04 * size, size - width - 0.04 * size)
    top = rng.uniform(0.04 * size, size - height - 0.04 * size)
    tilt = math.radians(rng.uniform(-14, 14))
    image = Image.new("L", (size * 2, size * 2))
    draw = ImageDraw.Draw(image)
    line_width = int(rng.uniform(*thickness) * 2)
    centre = np.array([left + width / 2, top + height / 2])
    for stroke in variant:
        points = _smooth(_points(stroke, rng, 0.03)) if not (isinstance(stroke, tuple)) else _points(stroke, rng, 0.03)
        placed = []
        for x, y in points:
            p = np.array([left + x * width, top + y * height]) - centre
            p = np.array([p[0] * math.cos(tilt) - p[1] * math.sin(tilt), p[0] * math.sin(tilt) + p[1] * math.cos(tilt)])
            placed.append(tuple((p + centre) * 2))
        draw.line(placed, fill=255, width=line_width, joint="curve")
        for x, y in (placed[0], placed[-1]):
            draw.ellipse([x - line_width / 2, y - line_width / 2, x + line_width / 2, y + line_width / 2], fill=255)
    return np.asarray(image.resize((size, size), Image.Resampling.LANCZOS), dtype=np.float32) / 255


def low_resolution_scan(mask: np.ndarray, rng) -> np.ndarray:
    """An ink mask (0..1, any size) as a low-resolution scan would give it, enlarged again: 8 to 16 px tall,
    filling its frame, blurred, soft grey ink on paper, few grey levels; uint8 grey, about 100 px tall."""
    rows, columns = np.flatnonzero(mask.max(axis=1) > 0.2), np.flatnonzero(mask.max(axis=0) > 0.2)
    crop = mask[rows.min():rows.max() + 1, columns.min():columns.max() + 1].astype(np.float32)
    height = int(rng.integers(8, 17))
    width = max(2, round(crop.shape[1] * height / crop.shape[0]))
    small = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
    margin = int(rng.integers(0, 3))  # often none: the digit touches its frame
    small = cv2.copyMakeBorder(small, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=0)
    small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.3, 0.7))
    paper = rng.uniform(190, 245)
    ink = paper * rng.uniform(0.2, 0.6)  # soft grey ink, never black
    picture = paper - (paper - ink) * np.clip(small / max(small.max(), 1e-6), 0, 1)
    picture = picture + rng.normal(0, rng.uniform(1, 5), picture.shape)
    step = 256 / int(rng.choice([6, 8, 16]))  # few grey levels
    picture = np.clip(np.floor(picture / step) * step + step / 2, 0, 255).astype(np.uint8)
    factor = 100 / picture.shape[0]
    size = (max(1, round(picture.shape[1] * factor)), max(1, round(picture.shape[0] * factor)))
    interpolation = [cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_CUBIC][int(rng.integers(3))]
    return cv2.resize(picture, size, interpolation=interpolation)
