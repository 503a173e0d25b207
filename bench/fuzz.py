"""A long fuzz run of the image entry point (decode + photo and digit preprocessing).

Mutates valid files of every format this Pillow both writes and reads back (PNG, JPEG, GIF, WebP, AVIF,
TIFF, DDS, BMP, ICO, ...), plus 16-bit, palette and EXIF-rotated PNGs (byte flips, cuts, splices), and
feeds random bytes; anything but the project's own StudioError is a failure. Bounded by time.
Usage: python -m bench.fuzz [SECONDS]   (default 120)
"""
import random
import sys
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from core.errors import StudioError
from core.images import decode_image, photo_array
from core.inference.digit_input import prepare_digit
from tests.support import badfiles


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 120
    warnings.simplefilter("ignore")  # Pillow warns about every corrupt EXIF tag it skips: noise here
    rng = random.Random(20261121)
    formats = badfiles.every_format(badfiles.digit_picture(60))
    print(f"seeds: {len(formats)} formats ({', '.join(formats)}), 16-bit, palette and EXIF-rotated PNGs, GIF")
    seeds = [*formats.values(), badfiles.animated_gif(), badfiles.png16(), badfiles.palette_transparent(),
             badfiles.exif_rotated()]
    counts = {"decoded": 0, "refused": 0, "escaped": 0}
    slowest = 0.0
    deadline = time.time() + seconds
    while time.time() < deadline:
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(0, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(1, len(data))]
        if rng.random() < 0.1:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))
        started = time.perf_counter()
        try:
            image = decode_image(bytes(data))
            photo_array(image, (64, 64))
            prepare_digit(image)
            counts["decoded"] += 1
        except StudioError:
            counts["refused"] += 1
        except Exception:  # noqa: BLE001 - this is what the fuzzer looks for
            counts["escaped"] += 1
            traceback.print_exc()
        slowest = max(slowest, time.perf_counter() - started)
    total = sum(counts.values())
    print(f"{total:,} inputs in {seconds:.0f} s: {counts['decoded']:,} used, {counts['refused']:,} refused with a "
          f"sentence, {counts['escaped']} escaped; slowest {slowest * 1000:.0f} ms")
    return 1 if counts["escaped"] else 0


if __name__ == "__main__":
    sys.exit(main())
