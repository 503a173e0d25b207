"""Safe image decoding and the preprocessing that turns a photo into what a photo model takes.

Every image that enters the studio (upload, command line, dataset scan, training, evaluation, the feature
cache) goes through `decode_image`: the content decides, never the file name, EXIF orientation, CMYK, palettes,
transparency and 16 bits are handled once, and any failure becomes one `ImageError` sentence. A photo model's
input is `photo_array` of that, so a file gives the same pixels at training and at prediction. Digit and garment
preprocessing live in `core.inference`.
"""
from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ImageError
from core.files import read_regular

MAX_BYTES = 50 * 1024 * 1024
MAX_PIXELS = 80_000_000  # an 8000x8000 photo fits; a 40000x40000 "bomb" header does not
# Big photos are reduced to WORK_SIDE..2×WORK_SIDE while decoding (JPEG draft mode, or Image.reduce): plenty for
# any model here (the largest input is 224), light for the server, and one size for every path.
WORK_SIDE = 1024
DECODER = "pil-1024-v1"  # names what a file becomes: caches of decoded pixels or their features are keyed by it
WIDE_MODES = ("I;16", "I;16B", "I;16L", "I", "F")  # more than 8 bits a channel


def decode_image(data: bytes, max_side: int = WORK_SIDE) -> Image.Image:
    """Decode bytes into an RGB or RGBA image, EXIF orientation applied, first frame of an animation.

    A photo larger than `max_side` comes out between `max_side` and twice that: a JPEG is decoded
    straight at 1/2 to 1/8 scale (draft mode), so its full-resolution pixels never exist in memory;
    other formats are reduced by a whole factor right after decoding.
    Raises ImageError with a human sentence for anything that is not a usable image.
    """
    if not data:
        raise ImageError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise ImageError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width < 1 or height < 1:
                raise ImageError("The image has no pixels.")
            if width * height > MAX_PIXELS:
                raise ImageError(
                    f"The image declares {width}×{height} pixels, more than this studio accepts "
                    f"({MAX_PIXELS // 1_000_000} megapixels)."
                )
            if image.format == "JPEG" and max(width, height) >= 2 * max_side:
                image.draft(None, (max_side, max_side))  # decode at 1/2..1/8 scale: fast and small
            image.seek(0)
            image.load()
            factor = max(image.size) // max_side
            if factor >= 2:
                # Image.reduce has no 16-bit or float modes: those become 8-bit first, keeping their EXIF.
                reducible = image if image.mode not in WIDE_MODES else _with_info(_to_rgb_or_rgba(image), image)
                image = reducible.reduce(factor)
            image = ImageOps.exif_transpose(image)
            return _to_rgb_or_rgba(image)
    except ImageError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageError(f"The image declares more than {MAX_PIXELS // 1_000_000} megapixels, more than this "
                         "studio accepts.") from None
    except UnidentifiedImageError:
        raise ImageError("The file is not an image this studio can read (PNG, JPEG, GIF, BMP, WebP, TIFF).") from None
    except Exception:  # noqa: BLE001 - by kind: any failure to decode one image is that image's sentence
        raise ImageError("The image is damaged or cut short and cannot be decoded.") from None


def _with_info(image: Image.Image, source: Image.Image) -> Image.Image:
    image.info.update(source.info)
    return image


def _to_rgb_or_rgba(image: Image.Image) -> Image.Image:
    """Normalise every mode (16-bit, CMYK, palette with transparency, ...) to 8-bit RGB or RGBA.

    Wide values are scaled to 0..255 from their own top: 16-bit by its maximum, a float picture in 0..1
    (as scientific TIFFs are) by 255."""
    if image.mode in WIDE_MODES:
        array = np.asarray(image, dtype=np.float64)
        top = array.max() if array.size else 0
        scale = 255.0 / top if top > 255 else 255.0 if image.mode == "F" and 0 < top <= 1 else 1.0
        return Image.fromarray(np.clip(array * scale, 0, 255).astype(np.uint8)).convert("RGB")
    if image.mode == "P" and "transparency" in image.info:
        return image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        return image.convert("RGBA")
    return image.convert("RGB")


def read_image_file(path) -> Image.Image:
    """Decode an image file from disk through the same checks as an upload (a regular file, at most
    MAX_BYTES)."""
    return decode_image(read_regular(path, MAX_BYTES, ImageError, "image file"))


def as_image(picture) -> Image.Image:
    """A PIL image as it is, or an array (a canvas's RGBA, a grey picture) as one."""
    return picture if isinstance(picture, Image.Image) else Image.fromarray(np.asarray(picture, dtype=np.uint8))


def flatten_alpha(image: Image.Image, background=(255, 255, 255)) -> Image.Image:
    """RGBA onto a plain background, for photo models that take RGB."""
    if image.mode != "RGBA":
        return image.convert("RGB")
    canvas = Image.new("RGB", image.size, background)
    canvas.paste(image, mask=image.getchannel("A"))
    return canvas


def photo_array(image: Image.Image, size: tuple[int, int], crop: float = 1.0) -> np.ndarray:
    """An image as a photo model's input: RGB float32 `(H, W, 3)` in 0..255 at `size` (h, w).

    `crop` < 1 takes that share of the short side, centred, resized bicubically (the pretrained backbone's
    evaluation crop); 1 resizes the whole photo, as the from-scratch presets do."""
    rgb = flatten_alpha(image)
    if crop >= 1:
        resized = rgb.resize((size[1], size[0]), Image.Resampling.BILINEAR, reducing_gap=2.0)
    else:
        width, height = rgb.size
        side = min(width, height) * crop
        box = ((width - side) / 2, (height - side) / 2, (width + side) / 2, (height + side) / 2)
        resized = rgb.resize((size[1], size[0]), Image.Resampling.BICUBIC, box=box, reducing_gap=2.0)
    return np.asarray(resized, dtype=np.float32)


def photo_input(path, size: tuple[int, int], crop: float = 1.0) -> np.ndarray:
    """A photo file as a photo model's input: the one decoder (`read_image_file`), then `photo_array`."""
    return photo_array(read_image_file(path), size, crop)


def thumbnail_rgb(image: Image.Image, side: int = 160) -> np.ndarray:
    """A small RGB copy for galleries."""
    copy = flatten_alpha(image)
    copy.thumbnail((side, side))
    return np.asarray(copy)
