"""From scratch on a folder it was not tuned on: classes that differ by shape, not by colour (issue 24).

The suite's generated folder gives each class its own colour, which a network separates in a few steps. Here
every photo is 320×240: an ellipse (class "ellipse") or a triangle (class "triangle") of random size, tilt and
place, on a random gradient crossed by clutter lines, saved as JPEG, with a few broken files in the folder as
PetImages has them. How the colours are drawn is the mode:
  overlap  each class's hue from its own range, the two ranges sharing a third (the default)
  shape    any hue for either class: only the outline tells them apart
  colour   each class its own hue, as the suite's folder does
`core train` trains each preset at its defaults (and `--epochs` when given) on 128 photos a class, then 100
photos a class drawn from other seeds go through Predict's path.
Usage: python -m bench.shape_folders [--modes overlap shape colour] [--presets photos-cnn photos-transfer]
                                     [--per-class 128] [--test 100] [--epochs N]
Prints one JSON line per run, then a markdown table.
"""
import argparse
import colorsys
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from bench.few_shot import scratch_studio

SIZE = (320, 240)
CLASSES = ("ellipse", "triangle")
HUES = {"overlap": ((0.0, 0.6), (0.4, 1.0)), "shape": ((0.0, 1.0), (0.0, 1.0)),
        "colour": ((0.0, 0.08), (0.55, 0.63))}


def shape_photo(kind: int, mode: str, rng) -> Image.Image:
    """One photo of class `kind` (0 ellipse, 1 triangle) with its colour drawn as `mode` says."""
    width, height = SIZE
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    fade = np.linspace(0, 1, height)[:, None, None]
    background = np.broadcast_to(top * (1 - fade) + bottom * fade, (height, width, 3))
    image = Image.fromarray(background.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(2, 7))):  # clutter that is neither class
        points = [(float(rng.uniform(0, width)), float(rng.uniform(0, height))) for _ in range(2)]
        draw.line(points, fill=tuple(int(v) for v in rng.integers(0, 256, 3)), width=int(rng.integers(1, 5)))
    low, high = HUES[mode][kind]
    red, green, blue = colorsys.hsv_to_rgb(rng.uniform(low, high) % 1.0, rng.uniform(0.5, 1), rng.uniform(0.5, 1))
    fill = (int(red * 255), int(green * 255), int(blue * 255))
    radius = rng.uniform(30, 80)
    cx, cy = rng.uniform(radius, width - radius), rng.uniform(radius, height - radius)
    if kind == 0:
        aspect = rng.uniform(0.6, 1.0)
        draw.ellipse([cx - radius, cy - radius * aspect, cx + radius, cy + radius * aspect], fill=fill)
    else:
        turn = rng.uniform(0, 2 * np.pi)
        draw.polygon([(cx + radius * np.cos(turn + k * 2 * np.pi / 3), cy + radius * np.sin(turn + k * 2 * np.pi / 3))
                      for k in range(3)], fill=fill)
    return image


def write_folder(root: Path, mode: str, per_class: int, seed: int) -> None:
    """The class folders, with the broken files a real folder has (an empty file, text named .jpg)."""
    for kind, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        rng = np.random.default_rng(seed * 10 + kind)
        for i in range(per_class):
            shape_photo(kind, mode, rng).save(root / name / f"{i}.jpg", quality=90)
    (root / CLASSES[0] / "empty.jpg").write_bytes(b"")
    (root / CLASSES[1] / "notes.jpg").write_text("not a photo")


def one_run(mode: str, preset: str, args, work: Path) -> dict:
    from core.inference.predictor import Predictor
    from core.model import registry
    from core.training.config import TrainConfig
    from core.training.train import train

    name = f"{mode}-{preset}"
    write_folder(work / "data" / "custom" / name, mode, args.per_class, seed=1)
    overrides = {"epochs": args.epochs} if args.epochs else {}
    cfg = TrainConfig(dataset=f"custom/{name}", preset=preset, name=name, **overrides).ready()
    started = time.perf_counter()
    train(cfg)
    seconds = time.perf_counter() - started
    info = registry.resolve(name)
    order = info.meta["class_names"]
    photos, truth = [], []
    for kind in range(len(CLASSES)):
        rng = np.random.default_rng(1_000_000 + kind)
        photos += [shape_photo(kind, mode, rng) for _ in range(args.test)]
        truth += [kind] * args.test
    outcomes = Predictor.from_info(info).predict_many(photos)
    predicted = [CLASSES.index(order[o.index]) if hasattr(o, "index") else -1 for o in outcomes]
    return {"mode": mode, "preset": preset, "epochs": cfg.epochs, "train_seconds": round(seconds, 1),
            "held_out_accuracy": round(float(np.mean(np.array(predicted) == np.array(truth))), 4),
            "studio_says": info.meta["metrics"].get("test_accuracy"), "test_photos": len(photos)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", nargs="+", choices=list(HUES), default=["overlap"])
    parser.add_argument("--presets", nargs="+", default=["photos-cnn", "photos-transfer"])
    parser.add_argument("--per-class", type=int, default=128)
    parser.add_argument("--test", type=int, default=100, help="held-out photos a class")
    parser.add_argument("--epochs", type=int, help="instead of each preset's default")
    args = parser.parse_args()
    rows = []
    with scratch_studio() as work:
        for mode in args.modes:
            for preset in args.presets:
                rows.append(one_run(mode, preset, args, work))
                print(json.dumps(rows[-1]), flush=True)
    print("\n| folder | preset | epochs | held-out accuracy | training time |\n|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['mode']} | {row['preset']} | {row['epochs']} | {row['held_out_accuracy']:.1%} "
              f"| {row['train_seconds']:.0f} s |")
    print(json.dumps({"runs": len(rows)}))


if __name__ == "__main__":
    main()
