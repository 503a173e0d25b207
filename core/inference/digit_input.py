"""Turn any digit picture into what an MNIST model expects.

MNIST digits were fitted into a 20x20 box keeping their aspect ratio, then centred by
centre of mass in 28x28, white ink on black. Canvas drawings, uploads and the command
line all go through `prepare_digit` (one digit) or `split_digits` (a number), so the
same picture always gives the same 28x28 input.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from core.errors import NoDigitError

WORK_SIDE = 320  # the ink search runs on a copy this size: enough detail, bounded cost
BACKGROUND_SIDE = 32  # the smooth background is estimated on a copy with a long side about this size
MIN_CONTRAST = 48  # weaker than this (0..255) is paper texture, shadow or noise, not ink
MNIST_BOX = 20
MNIST_SIDE = 28
MNIST_STROKE = 2.4  # typical stroke width of an MNIST digit fitted into 20x20, in pixels
SHORT_PIECE = 0.35  # of the line's height: shorter than this, a piece of ink is part of a digit beside it
NO_DIGIT = "No digit found: the picture looks empty. Draw or photograph a digit, dark on light or light on dark."


@dataclass
class DigitCrop:
    """One digit ready for a model: `image` is float32 (28, 28) in 0..255; `box` is (x, y, w, h) in the work image."""

    image: np.ndarray
    box: tuple[int, int, int, int]


def as_array(picture) -> np.ndarray:
    """A PIL image or an array (H, W), (H, W, 3) or (H, W, 4) as a uint8 array."""
    if isinstance(picture, Image.Image):
        picture = np.asarray(picture.convert("RGBA" if picture.mode in ("RGBA", "LA", "P") else "RGB"))
    array = np.asarray(picture)
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or min(array.shape[:2]) < 1:
        raise NoDigitError(NO_DIGIT)
    return array


def _shrink(array: np.ndarray) -> np.ndarray:
    height, width = array.shape[:2]
    scale = WORK_SIDE / max(height, width)
    if scale >= 1:
        return array
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(array, size, interpolation=cv2.INTER_AREA)


def ink_map(picture) -> np.ndarray:
    """Ink strength 0..255 (uint8), high where the digit is, for any background and polarity."""
    array = _shrink(as_array(picture))
    if array.ndim == 3 and array.shape[2] == 4:
        alpha = array[:, :, 3]
        if alpha.min() < 250:  # a transparent background: the ink is the alpha channel
            return alpha.copy()
    if array.ndim == 2:
        lightest, darkest = array, array
    else:  # OpenCV's per-pixel max and min across channels: several times numpy's reduce over axis 2
        red, green, blue = cv2.split(array)[:3]
        lightest, darkest = cv2.max(cv2.max(red, green), blue), cv2.min(cv2.min(red, green), blue)
    # Dark or coloured ink on light paper stands out in the darkest channel; light ink in the lightest.
    value = (255 - darkest) if _light_background(lightest, darkest) else lightest
    return _remove_background(value)


def _light_background(lightest: np.ndarray, darkest: np.ndarray) -> bool:
    """Whether the paper is light: the brightness of its pixels, halfway between their lightest and darkest
    channel, is above mid-grey. Not the darkest channel alone: warm light on brown paper leaves its blue channel
    below 128, and that took a photo's dark pencil for light ink on dark paper."""
    brightness = cv2.addWeighted(lightest, 0.5, darkest, 0.5, 0)
    return np.median(_paper_ring(brightness)) >= 128


def _paper_ring(values: np.ndarray) -> np.ndarray:
    """The pixels of the picture's edge and of a ring just inside the edge band, where paper shows: a crop's
    1-px frame on the very edge no longer decides the polarity alone, nor does a digit that fills its frame."""
    rows, columns = _inner(values.shape)
    top, bottom = rows.start, min(rows.stop, values.shape[0]) - 1
    left, right = columns.start, min(columns.stop, values.shape[1]) - 1
    rings = [_ring(values, 0, values.shape[0] - 1, 0, values.shape[1] - 1)]
    if top <= bottom and left <= right:  # a picture thinner than the band is all edge
        rings.append(_ring(values, top, bottom, left, right))
    return np.concatenate(rings)


def _ring(values: np.ndarray, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    return np.concatenate([values[top, left:right + 1], values[bottom, left:right + 1],
                           values[top:bottom + 1, left], values[top:bottom + 1, right]])


def _remove_background(value: np.ndarray) -> np.ndarray:
    """Subtract a smooth background estimate, which evens out shadows and uneven light.

    The background is smooth, so it is estimated on a copy whose long side is about BACKGROUND_SIDE pixels, and
    enlarged again: the opening's cost grows with the area times the kernel's area, so a 280 px
    drawing costs about 80 times less than at full size (and reads the same, by bench.robustness)."""
    height, width = value.shape
    factor = max(1, max(height, width) // BACKGROUND_SIDE)
    small = value if factor == 1 else cv2.resize(value, (max(1, width // factor), max(1, height // factor)),
                                                  interpolation=cv2.INTER_AREA)
    # Strokes thinner than the kernel vanish from the estimate. Half the long side keeps the ink of a digit
    # that fills its frame (a crop from a low-resolution scan, strokes a fifth of the height and blurred, or
    # a "1" as narrow as its own stroke), which a fifth of the short side took for background; light still
    # changes over longer distances than that.
    kernel = max(3, (max(small.shape) // 2) | 1)
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel, kernel))
    background = cv2.morphologyEx(small, cv2.MORPH_OPEN, element)
    background = cv2.GaussianBlur(background, (0, 0), kernel / 3)
    if factor > 1:
        background = cv2.resize(background, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.subtract(value, background)


def ink_mask(ink: np.ndarray) -> np.ndarray:
    """The pixels that belong to digits, specks dropped; all zero when there is no ink."""
    peak = _uint8_percentile(ink, 99.9)
    if peak < MIN_CONTRAST:
        return np.zeros(ink.shape, np.uint8)
    otsu, _ = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    level = max(otsu, 0.3 * peak, MIN_CONTRAST * 0.6)
    mask = (ink > level).astype(np.uint8)
    # Pieces of one stroke that a faint pencil or a small scan broke apart, a pixel or two from each other, are
    # one piece: grouped on the mask grown by a pixel, counted by the ink pixels they hold.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(mask, np.ones((3, 3), np.uint8)),
                                                               connectivity=8)
    if count <= 1:
        return np.zeros(ink.shape, np.uint8)
    labels *= mask
    areas = np.bincount(labels.ravel(), minlength=count)[1:]
    min_area = max(4, 0.03 * areas.max(), ink.size * 0.00005)
    keep = np.flatnonzero(areas >= min_area) + 1
    reaches_in = np.bincount(labels[_inner(labels.shape)].ravel(), minlength=count) > 0
    long = (stats[:, cv2.CC_STAT_WIDTH] >= 0.3 * ink.shape[1]) | (stats[:, cv2.CC_STAT_HEIGHT] >= 0.3 * ink.shape[0])
    not_a_frame = keep[reaches_in[keep] | ~long[keep]]
    return label_mask(labels, count, not_a_frame if len(not_a_frame) else keep)


def _inner(shape) -> tuple[slice, slice]:
    """The picture without a thin band along its edges. A long line of ink that lies wholly in that band is
    the edge of a crop, a frame or the paper's border, not part of a digit (unless it is all the ink there
    is); a short piece there may be the end of a stroke that fills its frame."""
    band = max(2, round(0.03 * max(shape)))
    return slice(band, max(band + 1, shape[0] - band)), slice(band, max(band + 1, shape[1] - band))


def label_mask(labels: np.ndarray, count: int, keep) -> np.ndarray:
    """The pixels whose component label is in `keep`, through a lookup table (much faster than np.isin)."""
    table = np.zeros(count, np.uint8)
    table[np.asarray(keep, dtype=np.int64)] = 1
    return table[labels]


def _uint8_percentile(values: np.ndarray, q: float) -> float:
    """A percentile of uint8 data from its histogram: linear time, no sort."""
    if values.size == 0:
        return 0.0
    cumulative = np.cumsum(np.bincount(values.ravel(), minlength=256))
    return float(np.searchsorted(cumulative, q / 100 * (values.size - 1), side="right"))


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width of a binary mask: twice the area over the outline length."""
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * float(mask.sum()) / perimeter if perimeter > 0 else 0.0


def _normalise_stroke(ink: np.ndarray, mask: np.ndarray, scale: float) -> np.ndarray:
    """Thin very bold strokes and thicken hair-thin ones so that, fitted into 20x20, they look like MNIST's."""
    width_after = stroke_width(mask) * scale
    if width_after <= 0:
        return ink
    target = MNIST_STROKE / scale
    current = width_after / scale
    radius = int(round(abs(current - target) / 2))
    if radius < 1 or 0.6 < width_after / MNIST_STROKE < 1.6:
        return ink
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    if current > target:
        thinned = cv2.erode(ink, element)
        return thinned if thinned.max() > 0 else ink
    return cv2.dilate(ink, element)


def mnist_style(ink: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Crop to the ink, fit into 20x20 keeping aspect ratio, centre by centre of mass in 28x28."""
    left, top, width, height = cv2.boundingRect(mask)
    bottom, right = top + height, left + width
    pad = 2
    top, left = max(0, top - pad), max(0, left - pad)
    bottom, right = min(ink.shape[0], bottom + pad), min(ink.shape[1], right + pad)
    region_mask = cv2.dilate(mask[top:bottom, left:right], np.ones((3, 3), np.uint8))
    crop = (ink[top:bottom, left:right].astype(np.float32) * region_mask)
    height, width = crop.shape
    scale = MNIST_BOX / max(height, width)
    crop = _normalise_stroke(crop, mask[top:bottom, left:right], scale)
    level = np.percentile(crop[crop > 0], 95) if (crop > 0).any() else 1.0
    crop = np.clip(crop * (255.0 / max(level, 1.0)), 0, 255)
    new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(crop, new_size, interpolation=cv2.INTER_AREA)
    return centre_by_mass(small)


def centre_by_mass(small: np.ndarray) -> np.ndarray:
    """Place a digit of at most 20x20 in 28x28 so that its centre of mass is the centre."""
    canvas = np.zeros((MNIST_SIDE, MNIST_SIDE), np.float32)
    height, width = small.shape
    top, left = (MNIST_SIDE - height) // 2, (MNIST_SIDE - width) // 2
    canvas[top:top + height, left:left + width] = small
    total = canvas.sum()
    if total <= 0:
        return canvas
    ys, xs = np.indices(canvas.shape)
    shift_y = int(round(MNIST_SIDE / 2 - 0.5 - (ys * canvas).sum() / total))
    shift_x = int(round(MNIST_SIDE / 2 - 0.5 - (xs * canvas).sum() / total))
    # Never push ink off the canvas: limit the shift to the free margin.
    shift_y = int(np.clip(shift_y, -top, MNIST_SIDE - top - height))
    shift_x = int(np.clip(shift_x, -left, MNIST_SIDE - left - width))
    matrix = np.float32([[1, 0, shift_x], [0, 1, shift_y]])
    return cv2.warpAffine(canvas, matrix, (MNIST_SIDE, MNIST_SIDE), flags=cv2.INTER_NEAREST)


def prepare_digit(picture) -> DigitCrop:
    """One digit, MNIST style. Raises NoDigitError when there is nothing to read."""
    ink = ink_map(picture)
    mask = ink_mask(ink)
    if not mask.any():
        raise NoDigitError(NO_DIGIT)
    box = tuple(int(v) for v in cv2.boundingRect(mask))  # (x, y, w, h) of the ink, without listing its pixels
    return DigitCrop(mnist_style(ink, mask), box)


# --- numbers: several digits in a row ------------------------------------------------


def _column_groups(labels: np.ndarray, stats: np.ndarray) -> list[list[int]]:
    """Group connected components that overlap horizontally: broken strokes of one digit."""
    order = sorted(range(1, len(stats)), key=lambda i: stats[i, cv2.CC_STAT_LEFT])
    groups: list[list[int]] = []
    spans: list[list[int]] = []
    for index in order:
        left = stats[index, cv2.CC_STAT_LEFT]
        right = left + stats[index, cv2.CC_STAT_WIDTH]
        if spans:
            g_left, g_right = spans[-1]
            overlap = min(right, g_right) - max(left, g_left)
            if overlap > 0.5 * min(right - left, g_right - g_left):
                groups[-1].append(index)
                spans[-1] = [min(left, g_left), max(right, g_right)]
                continue
        groups.append([index])
        spans.append([left, right])
    return groups


def _attach_short_pieces(groups: list[list[int]], stats: np.ndarray) -> list[list[int]]:
    """A group far shorter than the line is no digit of its own: the bar of a 5 or a 7 written apart from its
    body, beside it rather than above it, joins the group nearest to it, left or right."""
    def span(group, start, size):
        return stats[group, start].min(), (stats[group, start] + stats[group, size]).max()

    def height(group):
        top, bottom = span(group, cv2.CC_STAT_TOP, cv2.CC_STAT_HEIGHT)
        return bottom - top

    def gap(group, other):
        (left, right), (other_left, other_right) = (span(g, cv2.CC_STAT_LEFT, cv2.CC_STAT_WIDTH) for g in (group,
                                                                                                          other))
        return max(other_left - right, left - other_right)

    line_height = max(height(g) for g in groups)
    tall = [list(g) for g in groups if height(g) >= SHORT_PIECE * line_height]  # the tallest always is
    for short in (g for g in groups if height(g) < SHORT_PIECE * line_height):
        min(tall, key=lambda other: gap(short, other)).extend(short)
    return sorted(tall, key=lambda g: stats[g, cv2.CC_STAT_LEFT].min())


def _split_touching(mask: np.ndarray, height: int) -> list[np.ndarray]:
    """Split a blob much wider than a digit at its thinnest columns, left to right.

    A loop over a stack, not recursion: every cut falls strictly inside the blob, so each piece is
    narrower than the one it came from, and a thin dash thousands of pixels wide ends like any other.
    A line of writing under a few pixels tall is never split: it holds no digits to tell apart."""
    if height < 8:
        return [mask]
    pending, pieces = [mask], []
    while pending:
        piece = pending.pop()
        xs = np.flatnonzero(piece.any(axis=0))
        left, right = int(xs[0]), int(xs[-1]) + 1
        width = right - left
        lo, hi = max(1, int(width * 0.3)), max(2, int(width * 0.7))
        if width <= 1.15 * height or hi > width - 1:
            pieces.append(piece)
            continue
        cut = left + lo + int(np.argmin(piece[:, left + lo:left + hi].sum(axis=0)))
        first, second = piece.copy(), piece.copy()
        first[:, cut:] = 0
        second[:, :cut] = 0
        pending.extend(part for part in (second, first) if part.any())  # first on top: left to right
    return pieces


def split_digits(picture) -> list[DigitCrop]:
    """The digits of a number, left to right, each MNIST style. Raises NoDigitError when there are none."""
    ink = ink_map(picture)
    mask = ink_mask(ink)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        raise NoDigitError(NO_DIGIT)
    groups = _attach_short_pieces(_column_groups(labels, stats), stats)
    tops = stats[:, cv2.CC_STAT_TOP]
    bottoms = tops + stats[:, cv2.CC_STAT_HEIGHT]
    line_height = max(int(bottoms[g].max() - tops[g].min()) for g in groups)
    crops = []
    for group in groups:
        group_mask = label_mask(labels, count, group)
        for piece in _split_touching(group_mask, line_height):
            ys, xs = np.nonzero(piece)
            if len(xs) == 0:
                continue
            box = (int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1)
            crops.append(DigitCrop(mnist_style(ink, piece), box))
    crops.sort(key=lambda crop: crop.box[0])
    return crops
