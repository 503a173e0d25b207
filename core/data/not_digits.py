"""Pictures that are not digits: letters and symbols from the machine's fonts, and drawn shapes
(stars, hearts, arrows, crosses, smileys, houses, triangles, spirals, scribbles, a dot, ...).

The digit gate (`core.training.gate`) learns "not a digit" from these; `bench/digit_sets` draws
its test set with other seeds and the other half of the fonts. Glyphs that people read as digits
(O, I, l, S, Z, B, g, q, ...) are left out. Every picture is an ink mask, float 0..1, square.
"""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

LETTERS = "ACEFHKMNPRTUVWXYacdefhkmnprtuvwxy"
SYMBOLS = "+=*#@%&?!$€£~<>^×÷→✓♥★"
# No squares or rings: drawn by hand, people read them as zeros.
SHAPES = ("star", "heart", "arrow", "cross", "plus", "smiley", "house", "triangle", "spiral", "zigzag", "scribble",
          "dot", "check", "wave", "hash")


def machine_fonts() -> list[str]:
    fonts = sorted(str(p) for p in Path("/usr/share/fonts").rglob("*.ttf"))
    return [f for f in fonts if not any(w in f.lower() for w in ("symbol", "emoji", "math", "ding"))]


def not_a_digit(seed: int, fonts: list[str], size: int = 160) -> tuple[np.ndarray, str]:
    """(ink mask, what it is) for one non-digit picture."""
    rng = np.random.default_rng(seed)
    roll = rng.random()
    if roll < 0.3 and fonts:
        text = LETTERS[rng.integers(len(LETTERS))]
        return glyph(text, fonts[rng.integers(len(fonts))], size, rng), f"letter {text}"
    if roll < 0.45 and fonts:
        text = SYMBOLS[rng.integers(len(SYMBOLS))]
        return glyph(text, fonts[rng.integers(len(fonts))], size, rng), f"symbol {text}"
    shape = SHAPES[rng.integers(len(SHAPES))]
    return drawn(shape, size, rng), shape


def glyph(text: str, font_path: str, size: int, rng) -> np.ndarray:
    font = ImageFont.truetype(font_path, int(size * rng.uniform(0.45, 0.8)))
    layer = Image.new("L", (size, size))
    draw = ImageDraw.Draw(layer)
    box = draw.textbbox((0, 0), text, font=font)
    x = (size - (box[2] - box[0])) / 2 - box[0] + rng.uniform(-0.1, 0.1) * size
    y = (size - (box[3] - box[1])) / 2 - box[1] + rng.uniform(-0.1, 0.1) * size
    draw.text((x, y), text, fill=255, font=font)
    mask = np.asarray(layer.rotate(rng.uniform(-15, 15), resample=Image.Resampling.BICUBIC), np.float32) / 255
    if rng.random() < 0.3:  # a marker rather than a print: bolder strokes
        mask = cv2.dilate(mask, np.ones((3, 3), np.uint8), iterations=int(rng.integers(1, 4)))
    return mask


def drawn(shape: str, size: int, rng) -> np.ndarray:
    """A shape drawn as on the canvas: polylines of a random thickness, jittered, tilted."""
    thickness = int(rng.uniform(0.03, 0.12) * size)
    scale = rng.uniform(0.5, 0.9)
    strokes = [np.asarray(s, np.float64) for s in _strokes(shape, rng)]
    angle = math.radians(rng.uniform(-20, 20))
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    mask = np.zeros((size, size), np.uint8)
    for stroke in strokes:
        points = (stroke - 0.5) @ rotation.T * scale + 0.5 + rng.normal(0, 0.01, stroke.shape)
        pixels = np.round(points * size).astype(np.int32)
        if shape == "dot":
            cv2.circle(mask, tuple(int(v) for v in pixels[0]), int(size * rng.uniform(0.03, 0.12)), 255, -1,
                       cv2.LINE_AA)
        else:
            cv2.polylines(mask, [pixels], False, 255, max(2, thickness), cv2.LINE_AA)
    return mask.astype(np.float32) / 255


def _circle(cx, cy, r, start=0.0, end=2 * math.pi, steps=40):
    return [(cx + r * math.cos(t), cy + r * math.sin(t)) for t in np.linspace(start, end, steps)]


def _strokes(shape: str, rng) -> list[list[tuple[float, float]]]:
    if shape == "star":
        points = [(0.5 + 0.45 * math.sin(i * 4 * math.pi / 5), 0.5 - 0.45 * math.cos(i * 4 * math.pi / 5))
                  for i in range(6)]
        return [points]
    if shape == "heart":
        t = np.linspace(0, 2 * math.pi, 60)
        x = 16 * np.sin(t) ** 3
        y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
        return [list(zip(0.5 + x / 36, 0.45 - y / 36))]
    if shape == "arrow":
        return [[(0.1, 0.5), (0.9, 0.5)], [(0.65, 0.25), (0.9, 0.5), (0.65, 0.75)]]
    if shape == "cross":
        return [[(0.15, 0.15), (0.85, 0.85)], [(0.85, 0.15), (0.15, 0.85)]]
    if shape == "plus":
        return [[(0.5, 0.1), (0.5, 0.9)], [(0.1, 0.5), (0.9, 0.5)]]
    if shape == "smiley":
        return [_circle(0.5, 0.5, 0.42), _circle(0.35, 0.38, 0.03), _circle(0.65, 0.38, 0.03),
                _circle(0.5, 0.5, 0.25, 0.2 * math.pi, 0.8 * math.pi, 20)]
    if shape == "house":
        return [[(0.2, 0.45), (0.2, 0.9), (0.8, 0.9), (0.8, 0.45), (0.2, 0.45), (0.5, 0.12), (0.8, 0.45)]]
    if shape == "triangle":
        return [[(0.5, 0.1), (0.9, 0.85), (0.1, 0.85), (0.5, 0.1)]]
    if shape == "spiral":
        t = np.linspace(0, 5 * math.pi, 80)
        return [list(zip(0.5 + 0.4 * t / t[-1] * np.cos(t), 0.5 + 0.4 * t / t[-1] * np.sin(t)))]
    if shape == "zigzag":
        return [[(0.1 + 0.8 * i / 6, 0.3 if i % 2 else 0.7) for i in range(7)]]
    if shape == "wave":
        t = np.linspace(0, 1, 40)
        return [list(zip(0.1 + 0.8 * t, 0.5 + 0.2 * np.sin(t * 4 * math.pi)))]
    if shape == "check":
        return [[(0.15, 0.55), (0.4, 0.85), (0.88, 0.15)]]
    if shape == "hash":
        return [[(0.35, 0.1), (0.3, 0.9)], [(0.7, 0.1), (0.65, 0.9)], [(0.1, 0.35), (0.9, 0.35)],
                [(0.1, 0.65), (0.9, 0.65)]]
    if shape == "scribble":
        points = rng.uniform(0.1, 0.9, (int(rng.integers(5, 10)), 2))
        return [[tuple(p) for p in points]]
    return [[(rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7))]]  # a dot
