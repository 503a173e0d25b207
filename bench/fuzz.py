"""A long fuzz run of the image entry point (decode + photo and digit preprocessing).

Mutates valid PNG, JPEG, GIF and 16-bit files (byte flips, cuts, splices) and feeds random bytes;
anything but the project's own StudioError is a failure. Bounded by count and time.
Usage: python -m bench.fuzz [SECONDS]   (default 120)
"""
import random
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from core.errors import StudioError
from core.images import decode_image, photo_array
from core.inference.digit_input import prepare_digit
from tests.support import badfiles


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 120
    rng = random.Random(20261121)
    seeds = [badfiles._png(badfiles.digit_picture(60)), badfiles._jpeg(badfiles.digit_picture(60)),
             badfiles.animated_gif(), badfiles.png16(), badfiles.palette_transparent(), badfiles.exif_rotated()]
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
