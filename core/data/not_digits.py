"""Pictures that are not digits, in families: letters (from the machine's fonts and drawn by hand) and symbols,
and drawings made of strokes (closed and open shapes, scribbles, faces, houses, arrows, stick figures, grids,
things from nature).

The digit gate (`core.training.gate`) learns "not a digit" from these; `core.data.digit_sets` draws its test set
with other seeds and the other half of the fonts, and `bench.gate_families` trains it without one family at a time
to measure whether it learnt the idea or the generator. Every drawing is made from random parts (how many corners,
teeth, turns, rays; where the eyes, door and arms go), then drawn with a wobbling hand at a random thickness, size,
tilt and place; one family is nothing but random lines, arcs and loops thrown together. Glyphs that people read
as digits (O, I, l, S, Z, B, g, q, ...) are left out, and so are plain rings and tall ovals (zeros) and lone
strokes (ones). Every picture is an ink mask, float 0..1, square.
"""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

LETTERS = "ACEFHKMNPRTUVWXYacdefhkmnprtuvwxy"
SYMBOLS = "+=*#@%&?!$€£~<>^×÷→✓♥★"
FAMILIES = {
    "letters": ("letter", "hand letter"),
    "symbols": ("symbol",),
    "closed shapes": ("polygon", "star", "heart", "rectangle", "diamond", "wide oval", "target", "cloud"),
    "open shapes": ("zigzag", "wave", "arc", "check", "spiral", "polyline", "parallel lines"),
    "scribbles": ("scribble", "hatching", "dots", "loops"),
    "faces": ("face",),
    "houses": ("house",),
    "arrows": ("arrow",),
    "stick figures": ("stick figure",),
    "grids": ("plus", "cross", "hash", "ladder", "window"),
    "nature": ("sun", "tree", "flower"),
    "random strokes": ("strokes",),
}
GLYPHS = {"letter": LETTERS, "symbol": SYMBOLS}
HAND_LETTERS = {  # capitals as a hand draws them, in strokes (none that reads as a digit)
    "A": [[(0.2, 0.9), (0.5, 0.1), (0.8, 0.9)], [(0.32, 0.6), (0.68, 0.6)]],
    "E": [[(0.75, 0.1), (0.25, 0.1), (0.25, 0.9), (0.75, 0.9)], [(0.25, 0.5), (0.65, 0.5)]],
    "F": [[(0.75, 0.1), (0.25, 0.1), (0.25, 0.9)], [(0.25, 0.5), (0.6, 0.5)]],
    "H": [[(0.25, 0.1), (0.25, 0.9)], [(0.75, 0.1), (0.75, 0.9)], [(0.25, 0.5), (0.75, 0.5)]],
    "K": [[(0.3, 0.1), (0.3, 0.9)], [(0.75, 0.1), (0.3, 0.55), (0.75, 0.9)]],
    "M": [[(0.15, 0.9), (0.2, 0.1), (0.5, 0.6), (0.8, 0.1), (0.85, 0.9)]],
    "N": [[(0.25, 0.9), (0.25, 0.1), (0.75, 0.9), (0.75, 0.1)]],
    "R": [[(0.25, 0.9), (0.25, 0.1), (0.6, 0.1), (0.7, 0.3), (0.6, 0.5), (0.25, 0.5), (0.75, 0.9)]],
    "V": [[(0.2, 0.1), (0.5, 0.9), (0.8, 0.1)]],
    "W": [[(0.1, 0.1), (0.3, 0.9), (0.5, 0.35), (0.7, 0.9), (0.9, 0.1)]],
    "Y": [[(0.2, 0.1), (0.5, 0.5), (0.8, 0.1)], [(0.5, 0.5), (0.5, 0.9)]],
}
SHAPES = tuple(kind for kinds in FAMILIES.values() for kind in kinds if kind not in GLYPHS)
Stroke = list[tuple[float, float]]


def machine_fonts() -> list[str]:
    fonts = sorted(str(p) for p in Path("/usr/share/fonts").rglob("*.ttf"))
    return [f for f in fonts if not any(w in f.lower() for w in ("symbol", "emoji", "math", "ding"))]


def family_of(what: str) -> str:
    """The family of what `not_a_digit` says it drew ("letter K", "stick figure", ...)."""
    kind = what.split()[0] if what.split()[0] in GLYPHS else what
    return next(family for family, kinds in FAMILIES.items() if kind in kinds)


def not_a_digit(seed: int, fonts: list[str], size: int = 160, families=None) -> tuple[np.ndarray, str]:
    """(ink mask, what it is) for one non-digit picture, from one of `families` (all of them unless told), each
    family as likely as another."""
    rng = np.random.default_rng(seed)
    allowed = [f for f in (families or FAMILIES) if fonts or not set(FAMILIES[f]) <= set(GLYPHS)]
    kinds = FAMILIES[allowed[rng.integers(len(allowed))]]
    kind = kinds[rng.integers(len(kinds))]
    if kind in GLYPHS:
        text = GLYPHS[kind][rng.integers(len(GLYPHS[kind]))]
        return glyph(text, fonts[rng.integers(len(fonts))], size, rng), f"{kind} {text}"
    return drawn(kind, size, rng), kind


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
    """A shape drawn as on the canvas: wobbling polylines of a random thickness, tilted, scaled and placed."""
    thickness = max(2, int(rng.uniform(0.03, 0.12) * size))
    scale = rng.uniform(0.5, 0.9)
    angle = math.radians(rng.uniform(-25, 25))
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    shift = rng.uniform(-0.08, 0.08, 2)
    mask = np.zeros((size, size), np.uint8)
    for stroke in _strokes(shape, rng):
        points = (_wobble(np.asarray(stroke, np.float64), rng) - 0.5) @ rotation.T * scale + 0.5 + shift
        pixels = np.round(points * size).astype(np.int32)
        if len(pixels) == 1:  # a dot
            cv2.circle(mask, tuple(int(v) for v in pixels[0]), int(size * rng.uniform(0.02, 0.06)), 255, -1,
                       cv2.LINE_AA)
        else:
            cv2.polylines(mask, [pixels], False, 255, thickness, cv2.LINE_AA)
    return mask.astype(np.float32) / 255


def _wobble(stroke: np.ndarray, rng) -> np.ndarray:
    """A hand's slow drift along a stroke: points every 2% of the way, pushed by smoothed random steps."""
    if len(stroke) == 1:
        return stroke
    lengths = np.r_[0, np.cumsum(np.linalg.norm(np.diff(stroke, axis=0), axis=1))]
    if lengths[-1] == 0:
        return stroke[:1]
    where = np.linspace(0, lengths[-1], max(2, int(lengths[-1] / 0.02)))
    points = np.stack([np.interp(where, lengths, stroke[:, axis]) for axis in (0, 1)], axis=1)
    drift = np.cumsum(rng.normal(0, 0.004, points.shape), axis=0)
    drift -= np.linspace(0, 1, len(points))[:, None] * drift[-1]  # a closed shape stays closed
    return points + drift


def _circle(cx, cy, rx, ry=None, start=0.0, end=2 * math.pi, steps=40) -> Stroke:
    ry = rx if ry is None else ry
    return [(cx + rx * math.cos(t), cy + ry * math.sin(t)) for t in np.linspace(start, end, steps)]


def _closed(points) -> Stroke:
    points = [tuple(p) for p in points]
    return points + points[:1]


def _strokes(shape: str, rng) -> list[Stroke]:
    u = rng.uniform
    if shape == "hand letter":
        return list(HAND_LETTERS.values())[rng.integers(len(HAND_LETTERS))]
    if shape == "strokes":  # 3 to 5 lines, arcs and loops thrown together: marks of no family in particular
        return [_random_stroke(rng) for _ in range(int(rng.integers(3, 6)))]
    if shape == "polygon":  # 3 to 8 corners round a squashed circle
        corners = int(rng.integers(3, 9))
        turns = np.sort(u(0, 2 * math.pi, corners)) if rng.random() < 0.5 else \
            np.linspace(0, 2 * math.pi, corners, endpoint=False) + u(0, 2 * math.pi)
        sx, sy = u(0.3, 0.45), u(0.25, 0.45)
        return [_closed((0.5 + sx * math.cos(t), 0.5 + sy * math.sin(t)) for t in turns)]
    if shape == "star":
        points, inner = int(rng.integers(5, 9)), u(0.35, 0.6)
        radii = [0.45 if i % 2 == 0 else 0.45 * inner for i in range(2 * points)]
        return [_closed((0.5 + r * math.sin(i * math.pi / points), 0.5 - r * math.cos(i * math.pi / points))
                        for i, r in enumerate(radii))]
    if shape == "heart":
        t = np.linspace(0, 2 * math.pi, 60)
        x = 16 * np.sin(t) ** 3
        y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
        return [list(zip(0.5 + x / u(32, 40), 0.45 - y / u(32, 40)))]
    if shape == "rectangle":  # squares and rectangles, never open at a corner (a 7) or a side (a 4)
        w, h = u(0.25, 0.45), u(0.2, 0.45)
        return [_closed([(0.5 - w, 0.5 - h), (0.5 + w, 0.5 - h), (0.5 + w, 0.5 + h), (0.5 - w, 0.5 + h)])]
    if shape == "diamond":
        w, h = u(0.25, 0.45), u(0.3, 0.45)
        return [_closed([(0.5, 0.5 - h), (0.5 + w, 0.5), (0.5, 0.5 + h), (0.5 - w, 0.5)])]
    if shape == "wide oval":  # wider than tall, unlike a zero
        width = u(0.35, 0.45)
        return [_circle(0.5, 0.5, width, width * u(0.3, 0.6))]
    if shape == "target":  # rings within rings, or a ring crossed: more than a zero
        outer = u(0.35, 0.45)
        if rng.random() < 0.5:
            return [_circle(0.5, 0.5, outer), _circle(0.5, 0.5, outer * u(0.35, 0.65))]
        return [_circle(0.5, 0.5, outer), [(0.5 - outer, 0.5), (0.5 + outer, 0.5)],
                [(0.5, 0.5 - outer), (0.5, 0.5 + outer)]]
    if shape == "cloud":
        bumps = int(rng.integers(5, 10))
        t = np.linspace(0, 2 * math.pi, 120)
        r = 0.3 + 0.07 * np.abs(np.sin(bumps * t / 2))
        return [list(zip(0.5 + r * np.cos(t) * 1.3, 0.5 + r * np.sin(t) * 0.8))]
    if shape == "zigzag":
        teeth, depth = int(rng.integers(4, 9)), u(0.15, 0.35)
        return [[(0.1 + 0.8 * i / teeth, 0.5 + (depth if i % 2 else -depth)) for i in range(teeth + 1)]]
    if shape == "wave":
        t = np.linspace(0, 1, 60)
        periods, height = u(1.5, 4), u(0.1, 0.25)
        return [list(zip(0.1 + 0.8 * t, 0.5 + height * np.sin(t * 2 * math.pi * periods)))]
    if shape == "arc":  # a bowl or a dome lying wide: an open curve no digit makes
        start = u(0, 0.3) * math.pi if rng.random() < 0.5 else u(1, 1.3) * math.pi
        return [_circle(0.5, 0.5, u(0.3, 0.45), u(0.15, 0.35), start, start + u(0.7, 1.0) * math.pi)]
    if shape == "check":
        return [[(0.15, 0.5 + u(-0.1, 0.1)), (u(0.35, 0.45), 0.85), (0.88, u(0.1, 0.25))]]
    if shape == "spiral":
        turns = u(1.5, 4)
        t = np.linspace(0, turns * 2 * math.pi, 100)
        return [list(zip(0.5 + 0.42 * t / t[-1] * np.cos(t), 0.5 + 0.42 * t / t[-1] * np.sin(t)))]
    if shape == "polyline":  # 5 to 8 sharp turns: more than any digit has
        return [[tuple(p) for p in u(0.1, 0.9, (int(rng.integers(6, 10)), 2))]]
    if shape == "parallel lines":
        count, tilt = int(rng.integers(2, 5)), u(-0.2, 0.2)
        return [[(0.1, y + tilt), (0.9, y - tilt)] for y in np.linspace(0.25, 0.75, count)]
    if shape == "scribble":  # a smooth tangle of many turns
        knots = u(0.1, 0.9, (int(rng.integers(8, 16)), 2))
        where = np.linspace(0, len(knots) - 1, 120)
        return [list(zip(np.interp(where, range(len(knots)), knots[:, 0]),
                         np.interp(where, range(len(knots)), knots[:, 1])))]
    if shape == "hatching":
        count, slope = int(rng.integers(4, 9)), u(0.2, 0.6)
        return [[(x, 0.75), (x + slope * 0.5, 0.25)] for x in np.linspace(0.1, 0.6, count)]
    if shape == "dots":
        return [[tuple(p)] for p in u(0.15, 0.85, (int(rng.integers(3, 9)), 2))]
    if shape == "loops":  # cursive e's in a row
        loops = int(rng.integers(3, 6))
        t = np.linspace(0, loops * 2 * math.pi, 40 * loops)
        return [list(zip(0.1 + 0.8 * t / t[-1] + 0.06 * np.cos(t), 0.5 + 0.15 * np.sin(t)))]
    if shape == "face":
        return _face(rng)
    if shape == "house":
        return _house(rng)
    if shape == "arrow":
        return _arrow(rng)
    if shape == "stick figure":
        return _stick_figure(rng)
    if shape == "plus":
        return [[(0.5, 0.1), (0.5, 0.9)], [(0.1, 0.5), (0.9, 0.5)]]
    if shape == "cross":
        return [[(0.15, 0.15), (0.85, 0.85)], [(0.85, 0.15), (0.15, 0.85)]]
    if shape == "hash":
        return [[(0.35, 0.1), (0.3, 0.9)], [(0.7, 0.1), (0.65, 0.9)], [(0.1, 0.35), (0.9, 0.35)],
                [(0.1, 0.65), (0.9, 0.65)]]
    if shape == "ladder":
        rungs = int(rng.integers(3, 7))
        return [[(0.3, 0.1), (0.3, 0.9)], [(0.7, 0.1), (0.7, 0.9)]] + \
            [[(0.3, y), (0.7, y)] for y in np.linspace(0.2, 0.8, rungs)]
    if shape == "window":
        return [_closed([(0.15, 0.15), (0.85, 0.15), (0.85, 0.85), (0.15, 0.85)]), [(0.5, 0.15), (0.5, 0.85)],
                [(0.15, 0.5), (0.85, 0.5)]]
    if shape == "sun":
        rays, radius = int(rng.integers(6, 13)), u(0.15, 0.22)
        return [_circle(0.5, 0.5, radius)] + [
            [(0.5 + radius * 1.3 * math.cos(t), 0.5 + radius * 1.3 * math.sin(t)),
             (0.5 + 0.45 * math.cos(t), 0.5 + 0.45 * math.sin(t))] for t in np.linspace(0, 2 * math.pi, rays, False)]
    if shape == "tree":  # a pine: a wide triangle, or tiers of them, on a short trunk (a round crown reads as 9)
        tiers = int(rng.integers(1, 4))
        crown = [_closed([(0.5, 0.08 + 0.15 * i), (0.85, 0.45 + 0.12 * i), (0.15, 0.45 + 0.12 * i)])
                 for i in range(tiers)]
        bottom = 0.45 + 0.12 * (tiers - 1)
        return crown + [[(0.42, bottom), (0.42, bottom + 0.2), (0.58, bottom + 0.2), (0.58, bottom)]]
    petals = int(rng.integers(4, 9))  # a flower: petals round a middle, on a stem
    return [_circle(0.5, 0.35, 0.06)] + [
        _circle(0.5 + 0.15 * math.cos(t), 0.35 + 0.15 * math.sin(t), 0.08)
        for t in np.linspace(0, 2 * math.pi, petals, False)] + [[(0.5, 0.5), (0.5, 0.95)]]


def _random_stroke(rng) -> Stroke:
    u = rng.uniform
    roll = rng.random()
    if roll < 0.4:
        return [tuple(u(0.1, 0.9, 2)), tuple(u(0.1, 0.9, 2))]
    if roll < 0.8:
        start = u(0, 2 * math.pi)
        return _circle(u(0.3, 0.7), u(0.3, 0.7), u(0.1, 0.35), u(0.1, 0.35), start, start + u(0.5, 1.5) * math.pi, 24)
    return _circle(u(0.25, 0.75), u(0.25, 0.75), u(0.05, 0.12), steps=16)


def _face(rng) -> list[Stroke]:
    u = rng.uniform
    width, height = u(0.32, 0.45), u(0.32, 0.45)
    strokes = [_circle(0.5, 0.5, width, height)]
    eye_y, gap = 0.5 - height * u(0.2, 0.45), width * u(0.3, 0.55)
    for x in (0.5 - gap, 0.5 + gap):
        style = rng.integers(3)
        if style == 0:
            strokes.append([(x, eye_y)])
        elif style == 1:
            strokes.append(_circle(x, eye_y, 0.05, steps=16))
        else:
            strokes += [[(x - 0.04, eye_y - 0.04), (x + 0.04, eye_y + 0.04)],
                        [(x + 0.04, eye_y - 0.04), (x - 0.04, eye_y + 0.04)]]
    mouth_y, mouth_w = 0.5 + height * u(0.3, 0.55), width * u(0.35, 0.6)
    mood = rng.integers(3)
    if mood == 2:
        strokes.append([(0.5 - mouth_w, mouth_y), (0.5 + mouth_w, mouth_y)])
    else:
        bend = 0.12 if mood == 0 else -0.12
        strokes.append([(0.5 + mouth_w * s, mouth_y + bend * (1 - s * s)) for s in np.linspace(-1, 1, 12)])
    if rng.random() < 0.4:  # hair
        strokes += [[(0.5 + d, 0.5 - height), (0.5 + d * 1.3, 0.5 - height - 0.1)] for d in np.linspace(-0.15, 0.15, 4)]
    return strokes


def _house(rng) -> list[Stroke]:
    u = rng.uniform
    left, right, floor, eaves = u(0.15, 0.3), u(0.7, 0.85), u(0.85, 0.92), u(0.4, 0.55)
    peak = (u(0.4, 0.6), u(0.08, 0.25))
    strokes = [[(left, eaves), (left, floor), (right, floor), (right, eaves), (left, eaves), peak, (right, eaves)]]
    if rng.random() < 0.7:  # a door
        x = u(left + 0.05, right - 0.2)
        strokes.append([(x, floor), (x, floor - 0.2), (x + 0.12, floor - 0.2), (x + 0.12, floor)])
    if rng.random() < 0.5:  # a window
        x, y = u(left + 0.05, right - 0.15), eaves + 0.07
        strokes.append(_closed([(x, y), (x + 0.1, y), (x + 0.1, y + 0.1), (x, y + 0.1)]))
    if rng.random() < 0.3:  # a chimney
        strokes.append([(right - 0.15, eaves - 0.15), (right - 0.15, eaves - 0.3), (right - 0.08, eaves - 0.3),
                        (right - 0.08, eaves - 0.08)])
    return strokes


def _arrow(rng) -> list[Stroke]:
    u = rng.uniform
    direction = u(0, 2 * math.pi)
    dx, dy = math.cos(direction), math.sin(direction)
    tail, head = (0.5 - 0.4 * dx, 0.5 - 0.4 * dy), (0.5 + 0.4 * dx, 0.5 + 0.4 * dy)
    if rng.random() < 0.3:  # a curved shaft
        bend = u(-0.2, 0.2)
        shaft = [(tail[0] + (head[0] - tail[0]) * s - bend * dy * math.sin(math.pi * s),
                  tail[1] + (head[1] - tail[1]) * s + bend * dx * math.sin(math.pi * s)) for s in np.linspace(0, 1, 20)]
    else:
        shaft = [tail, head]
    strokes = [shaft]
    for end, sign in [(head, 1)] + ([(tail, -1)] if rng.random() < 0.25 else []):
        spread, length = u(0.4, 0.8), u(0.15, 0.25)
        back = direction + math.pi if sign > 0 else direction
        wings = [(end[0] + length * math.cos(back + s * spread), end[1] + length * math.sin(back + s * spread))
                 for s in (-1, 1)]
        strokes.append([wings[0], end, wings[1]] + ([wings[0]] if rng.random() < 0.3 else []))
    return strokes


def _stick_figure(rng) -> list[Stroke]:
    u = rng.uniform
    head_y, neck, hips = u(0.12, 0.2), u(0.25, 0.32), u(0.6, 0.68)
    strokes = [_circle(0.5, head_y, 0.09), [(0.5, neck), (0.5, hips)]]
    shoulder = neck + 0.08
    for side in (-1, 1):
        strokes.append([(0.5, shoulder), (0.5 + side * u(0.2, 0.35), shoulder + u(-0.2, 0.2))])
        strokes.append([(0.5, hips), (0.5 + side * u(0.1, 0.3), u(0.88, 0.95))])
    return strokes
