"""Real product photos given to the shipped clothing model, through Predict's path: how far a shop's photo is from
Fashion-MNIST's 28×28 grey garments.

PRODUCTS_DIR: real product photos brought with the search tool's `fetch` (never committed), with a MANIFEST.json
of {"file", "label" (a Fashion-MNIST class, as the model names it), "group"}; "flat" is the garment alone on white,
as Fashion-MNIST's were shot, "worn" is a garment on a person.
Usage: PRODUCTS_DIR=... python -m bench.products
Prints, per group, the share read right, then each class's answers.
"""
import json
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def answer(predictor, path: Path) -> str:
    from core.errors import StudioError
    from core.images import read_image_file

    try:
        return predictor.predict(read_image_file(path)).label
    except StudioError as exc:  # a refusal is an answer too, and the bench reports which
        return type(exc).__name__


def main() -> int:
    from core.inference.predictor import Predictor

    root = os.environ.get("PRODUCTS_DIR")
    if not (root and (Path(root) / "MANIFEST.json").is_file()):
        print(json.dumps({"error": "Set PRODUCTS_DIR to a folder of product photos with a MANIFEST.json."}))
        return 2
    entries = json.loads((Path(root) / "MANIFEST.json").read_text())
    predictor = Predictor.from_registry("fashion")
    answers = defaultdict(lambda: defaultdict(Counter))  # group -> label -> answer -> count
    for entry in entries:
        answers[entry["group"]][entry["label"].lower()][answer(predictor, Path(root) / entry["file"])] += 1
    for group, by_label in answers.items():
        total = sum(sum(c.values()) for c in by_label.values())
        right = sum(c[label] for label, c in by_label.items())
        print(f"{group}: {right / total:.1%} of {total} read right")
        for label, counts in sorted(by_label.items()):
            said = ", ".join(f"{a} x{n}" for a, n in counts.most_common())
            print(f"  {label:12} {counts[label]:3} of {sum(counts.values()):3}   answers: {said}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
