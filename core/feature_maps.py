"""Numbers made into pictures for Look inside: feature maps as coloured tiles, vectors as rows of cells,
filters as small images. Plain numpy, so the page and `bench.inside` draw alike.

All maps of one stage share one colour range, so a bright tile is a strong map, not just a map with a
large maximum of its own. A stage with negative values (a convolution before its activation, batch norm)
is drawn on a diverging scale, white at zero; one without is drawn dark to bright.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Anchors of the two colour scales (RGB), interpolated into 256-entry tables.
SEQUENTIAL = [(13, 8, 135), (126, 3, 168), (204, 71, 120), (248, 149, 64), (240, 249, 33)]  # plasma
DIVERGING = [(5, 48, 97), (67, 147, 195), (247, 247, 247), (214, 96, 77), (103, 0, 31)]  # blue, white, red
GAP = 1  # pixels between two maps, before zoom
MOSAIC_WIDTH = 960  # pixels: a stage's tiles wrap to this width


LEVELS = 255  # colour levels of a scale; a table's last entry, 255, is white: gaps and blank cells
WHITE = LEVELS


def _table(anchors) -> np.ndarray:
    """256 RGB entries: the scale's `LEVELS` colours, then white. One byte a pixel then says its colour, so a
    mosaic goes to the browser as a palette PNG, a third of the bytes of RGB."""
    positions = np.linspace(0, LEVELS - 1, len(anchors))
    steps = np.arange(LEVELS)
    colours = np.stack([np.interp(steps, positions, [a[c] for a in anchors]) for c in range(3)], axis=1)
    return np.vstack([colours, [255, 255, 255]]).astype(np.uint8)


_TABLES = {False: _table(SEQUENTIAL), True: _table(DIVERGING)}


@dataclass(frozen=True)
class Scale:
    """A stage's colour range: values from `low` to `high`; diverging (symmetric around 0) when `signed`."""

    low: float
    high: float
    signed: bool

    @classmethod
    def of(cls, values: np.ndarray) -> Scale:
        values = np.asarray(values, np.float32)
        low, high = float(values.min()), float(values.max())
        if low < 0:
            edge = max(-low, high, 1e-6)
            return cls(-edge, edge, True)
        return cls(0.0, max(high, 1e-6), False)

    @property
    def table(self) -> np.ndarray:
        """(256, 3) uint8: the colour of each level, white last."""
        return _TABLES[self.signed]

    def levels(self, values: np.ndarray) -> np.ndarray:
        """values → uint8 levels 0..LEVELS-1, indices into `table`."""
        scaled = (np.asarray(values, np.float32) - self.low) / (self.high - self.low)
        return np.clip(np.rint(scaled * (LEVELS - 1)), 0, LEVELS - 1).astype(np.uint8)

    def colour(self, values: np.ndarray) -> np.ndarray:
        """values → uint8 RGB, shape + (3,)."""
        return self.table[self.levels(values)]


@dataclass(frozen=True)
class Mosaic:
    """A stage's maps side by side in one picture at their own resolution, one pixel apart: tile `i` sits at
    row i // columns, column i % columns. `levels` index `scale.table` (white in the gaps). `zoom` is how much
    larger it is shown (the browser scales it, so a live page sends few bytes)."""

    levels: np.ndarray
    count: int
    columns: int
    side: int  # a map's side in the picture's pixels
    zoom: float
    scale: Scale

    @property
    def shown_size(self) -> tuple[float, float]:
        """(width, height) as shown, in screen pixels."""
        return self.levels.shape[1] * self.zoom, self.levels.shape[0] * self.zoom

    def sent(self) -> np.ndarray:
        """The levels as the page sends them: at their own resolution when the browser enlarges them (crisply,
        and a live page then sends few bytes), made smaller here when they are shown smaller than they are."""
        if self.zoom >= 1:
            return self.levels
        width, height = self.shown_size
        return resize_nearest(self.levels, int(height), int(width))

    def centre(self, index: int) -> tuple[float, float]:
        """(x, y) of tile `index`'s centre as shown."""
        row, column = divmod(index, self.columns)
        step = (self.side + GAP) * self.zoom
        return column * step + self.side * self.zoom / 2, row * step + self.side * self.zoom / 2


def _zoom(side: int, count: int) -> float:
    """Small maps shown larger, large ones smaller, so that a stage of 1 map or of 1,280 stays readable: a tile
    is shown at about `target` pixels, at a whole zoom when the map is small."""
    target = 140 if count <= 4 else 72 if count <= 32 else 44 if count <= 128 else 28 if count <= 512 else 20
    return float(max(1, target // side)) if side <= target else target / side


def maps_mosaic(output: np.ndarray, scale: Scale | None = None) -> Mosaic:
    """(H, W, C) feature maps → one mosaic, one tile per channel, on one colour scale."""
    output = np.asarray(output, np.float32)
    side, _, count = output.shape
    scale = scale or Scale.of(output)
    zoom = _zoom(side, count)
    columns = max(1, min(count, int((MOSAIC_WIDTH / zoom + GAP) // (side + GAP))))
    tiled = tile(np.moveaxis(output, -1, 0), columns, GAP)
    levels = scale.levels(np.nan_to_num(tiled, nan=scale.low))
    levels[np.isnan(tiled)] = WHITE  # the gaps
    return Mosaic(levels, count, columns, side, zoom, scale)


def tile(images: np.ndarray, columns: int, gap: int = 2) -> np.ndarray:
    """Tile (N, H, W) images into one (rows·H, columns·W) float picture, NaN in the gaps between them."""
    count, height, width = images.shape[:3]
    rows = int(np.ceil(count / columns))
    canvas = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan, dtype=np.float32)
    for i, image in enumerate(images):
        top, left = (i // columns) * (height + gap), (i % columns) * (width + gap)
        canvas[top:top + height, left:left + width] = image
    return canvas


def resize_nearest(maps: np.ndarray, height: int, width: int | None = None) -> np.ndarray:
    """(H, W, ...) → (height, width, ...) (square when no width) by nearest neighbour: every value stays a crisp
    square."""
    width = height if width is None else width
    rows = np.minimum((np.arange(height) * maps.shape[0]) // height, maps.shape[0] - 1)
    columns = np.minimum((np.arange(width) * maps.shape[1]) // width, maps.shape[1] - 1)
    return maps[rows][:, columns]


def vector_cells(vector: np.ndarray, per_row: int = 64) -> tuple[np.ndarray, Scale]:
    """A 1-D output (flatten, global pooling, dense) → rows of coloured cells, `per_row` a row, one pixel a
    value (the page shows each pixel as a cell)."""
    vector = np.asarray(vector, np.float32).ravel()
    scale = Scale.of(vector)
    per_row = min(per_row, len(vector))
    rows = -(-len(vector) // per_row)
    colours = scale.colour(np.pad(vector, (0, rows * per_row - len(vector))))
    colours[len(vector):] = 255  # the unused end of the last row stays blank
    return colours.reshape(rows, per_row, 3), scale


def filter_pictures(kernels: np.ndarray, side: int = 48) -> list[np.ndarray]:
    """The first convolution's kernels (F, k, k, C) as small images: grey filters on one diverging scale
    (blue negative, red positive), colour filters each stretched to its own range as RGB."""
    kernels = np.asarray(kernels, np.float32)
    if kernels.shape[-1] == 3:
        low = kernels.min(axis=(1, 2, 3), keepdims=True)
        high = kernels.max(axis=(1, 2, 3), keepdims=True)
        pictures = ((kernels - low) / np.maximum(high - low, 1e-6) * 255).astype(np.uint8)
    else:
        pictures = Scale.of(np.concatenate([kernels.ravel(), -kernels.ravel()])).colour(kernels[..., 0])
    return [resize_nearest(picture, side) for picture in pictures]


def window_on(picture: np.ndarray, top: int, left: int, size: tuple[int, int], side: int = 280) -> np.ndarray:
    """A model input (H, W, C, any range) shown at `side` pixels with the filter's window outlined in yellow."""
    picture = np.asarray(picture, np.float32)
    low, high = float(picture.min()), float(picture.max())
    grey = ((picture - low) / max(high - low, 1e-6) * 255).astype(np.uint8)
    rgb = np.repeat(grey, 3, axis=-1) if grey.shape[-1] == 1 else grey[..., :3]
    return outline(rgb, top, left, size, side)


def outline(rgb: np.ndarray, top: int, left: int, size: tuple[int, int], side: int = 280) -> np.ndarray:
    """An RGB picture enlarged to `side` with the box (top, left, size) outlined in yellow, clipped to the picture."""
    height, width = rgb.shape[:2]
    factor = max(1, side // max(height, width))
    large = np.kron(rgb, np.ones((factor, factor, 1), np.uint8))
    y0, x0 = max(top, 0) * factor, max(left, 0) * factor
    y1, x1 = min(top + size[0], height) * factor, min(left + size[1], width) * factor
    thick = max(1, factor // 4)
    yellow = np.array([255, 214, 0], np.uint8)
    large[y0:y0 + thick, x0:x1] = large[y1 - thick:y1, x0:x1] = yellow
    large[y0:y1, x0:x0 + thick] = large[y0:y1, x1 - thick:x1] = yellow
    return large
