"""Every kind of awkward input file the studio must answer calmly, generated on demand."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def _png(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **kwargs)
    return buffer.getvalue()


def _jpeg(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **kwargs)
    return buffer.getvalue()


def digit_picture(size: int = 200, ink=(0, 0, 0), paper=(255, 255, 255), text_digit: str = "7") -> Image.Image:
    """A bold 7 (or 1) drawn with lines, on paper."""
    image = Image.new("RGB", (size, size), paper)
    draw = ImageDraw.Draw(image)
    s = size / 200
    if text_digit == "7":
        draw.line([(60 * s, 50 * s), (140 * s, 50 * s), (90 * s, 160 * s)], fill=ink, width=int(14 * s))
    else:
        draw.line([(100 * s, 40 * s), (100 * s, 160 * s)], fill=ink, width=int(14 * s))
    return image


def png_bomb(width: int = 40000, height: int = 40000) -> bytes:
    """A tiny PNG whose header declares width×height pixels."""
    raw = bytearray(_png(Image.new("L", (1, 1))))
    ihdr = raw.index(b"IHDR")
    raw[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(raw[ihdr:ihdr + 17])) & 0xFFFFFFFF
    raw[ihdr + 17:ihdr + 21] = struct.pack(">I", crc)
    return bytes(raw)


def animated_gif() -> bytes:
    frames = [digit_picture(64, text_digit="7").convert("P"), digit_picture(64, text_digit="1").convert("P")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def png16() -> bytes:
    array = (np.asarray(digit_picture(64).convert("L"), dtype=np.uint16) * 257)
    return _png(Image.fromarray(array))  # uint16 gives mode I;16


def palette_transparent() -> bytes:
    image = digit_picture(64).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    white = image.getpixel((0, 0))
    return _png(image, transparency=white)


def exif_rotated() -> bytes:
    """A 120x60 JPEG whose EXIF says "rotate 90°": decoded, it is 60x120."""
    image = Image.new("RGB", (120, 60), "white")
    exif = Image.Exif()
    exif[0x0112] = 6
    return _jpeg(image, exif=exif.tobytes())


def big_photo(side: int = 8000) -> bytes:
    image = Image.new("RGB", (side, side), (240, 240, 235))
    ImageDraw.Draw(image).line([(side * 0.3, side * 0.25), (side * 0.7, side * 0.25), (side * 0.45, side * 0.8)],
                               fill=(10, 10, 10), width=side // 15)
    return _jpeg(image, quality=70)


BAD = {
    "empty.png": lambda: b"",
    "text.png": lambda: b"this is a text file, not a picture\n" * 4,
    "truncated.jpg": lambda: _jpeg(digit_picture(300))[:700],
    "bomb.png": png_bomb,
    "random.bin": lambda: np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes(),
    "blank_paper.jpg": lambda: _jpeg(Image.fromarray(
        np.clip(np.random.default_rng(3).normal(235, 4, (400, 300, 3)), 0, 255).astype(np.uint8))),
    "empty_canvas.png": lambda: _png(Image.new("RGBA", (280, 280), (0, 0, 0, 0))),
}

USABLE = {
    "animated.gif": animated_gif,
    "sixteen_bit.png": png16,
    "cmyk.jpg": lambda: _jpeg(digit_picture(120).convert("CMYK")),
    "palette_transparent.png": palette_transparent,
    "exif_rotated.jpg": exif_rotated,
    "one_pixel.png": lambda: _png(Image.new("RGB", (1, 1), "white")),
    "seven.png": lambda: _png(digit_picture(200)),
}


def write_all(folder: Path, include_big: bool = False) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    makers = {**BAD, **USABLE, **({"huge_8000.jpg": big_photo} if include_big else {})}
    for name, make in makers.items():
        path = folder / name
        path.write_bytes(make())
        written[name] = path
    return written


def every_format(picture: Image.Image) -> dict[str, bytes]:
    """The picture saved in each format this Pillow writes and can open again."""
    Image.init()  # registers every plugin (Pillow loads them lazily)
    found = {}
    for name in sorted(Image.SAVE):
        buffer = io.BytesIO()
        try:
            picture.save(buffer, name)
            Image.open(io.BytesIO(buffer.getvalue())).load()
        except Exception:  # noqa: BLE001 - a format this build cannot write, or write in this mode
            continue
        found[name] = buffer.getvalue()
    return found
