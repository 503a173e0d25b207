"""Does the digit gate know "not a digit", or only the generator it learnt from? Leave one family out.

For each family of `core.data.not_digits` (letters, symbols, closed shapes, ...), the gate is trained by its own
recipe (`core.training.gate.train_gate`) on every other family, with its canvas threshold calibrated as shipped
(0.1% of held-out handwritten and drawn digits refused); then it is shown pictures of the family it never saw,
drawn from other seeds with the other half of the fonts, as the canvas sends them, and the share it refuses is
reported. Nothing is saved.

Usage: MNIST_DIR=... python -m bench.gate_families [--per-family 300] [--only FAMILY ...]
(6 minutes to make the pictures, then about 17 a family on 2 cores).
Prints one JSON line per family, then a markdown table with the mean.
"""
import argparse
import json
import os
import statistics

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from core.data.not_digits import FAMILIES, machine_fonts, not_a_digit

BASE = 1_000_000  # the benchmarks' seeds; the gate trains from its own SEED


def refused_share(model, threshold: float, family: str, count: int) -> float:
    from core.training.pictures import prepared

    fonts = machine_fonts()[1::2]
    x = prepared(not_a_digit(BASE + 70_000 + i, fonts, size=280, families=[family])[0] for i in range(count))
    scores = model.predict(x[..., None], batch_size=256, verbose=0)[:, 0]
    return float((scores > threshold).mean())


def main() -> None:
    from core import runtime

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-family", type=int, default=300, help="pictures of the left-out family")
    parser.add_argument("--only", nargs="+", choices=list(FAMILIES), help="leave out only these families")
    args = parser.parse_args()
    runtime.import_tensorflow_quietly()
    from core.training.gate import digit_pictures, not_digit_pictures, train_gate

    pictures = (*digit_pictures(), *not_digit_pictures())  # made once: each gate only leaves a family out
    rows = []
    for family in args.only or FAMILIES:
        model, report = train_gate(leave_out=family, verbose=0, pictures=pictures)
        rows.append({"left_out": family, "refused": round(refused_share(model, report["drawn_threshold"], family,
                                                                         args.per_family), 4),
                     "drawn_digits_refused": round(report["drawn_digits_refused"], 4),
                     "seconds": report["seconds"]})
        print(json.dumps(rows[-1]), flush=True)
    print(f"\n{args.per_family} pictures of each left-out family; the gate trained on all the others\n")
    print("| family left out | refused | drawn digits refused |\n|---|---|---|")
    for row in rows:
        print(f"| {row['left_out']} | {row['refused']:.1%} | {row['drawn_digits_refused']:.2%} |")
    print(f"| **mean** | **{statistics.mean(r['refused'] for r in rows):.1%}** "
          f"(lowest {min(r['refused'] for r in rows):.1%}) | |")


if __name__ == "__main__":
    main()
