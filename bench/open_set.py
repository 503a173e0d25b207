""""None of your classes", on real photos: a model trained on a few photos a class, shown held-out photos of its
classes and photos of other things.

Needs FLOWERS_DIR (class subfolders of real photos, as for `bench.few_shot`) and OTHERS_DIR: subfolders of real
photos of things that are none of those classes (pets, scenes, faces, ...), each reported on its own. Both are
public copies brought in with the search tool's `fetch`, with a manifest, never committed.
For each seed, `core train` trains photos-transfer at its defaults on SHOTS photos a class from an empty feature
cache; then every test photo goes through Predict's path (`Predictor.predict_many` on decoded files).

Usage: FLOWERS_DIR=... OTHERS_DIR=... python -m bench.open_set [--shots 10] [--seeds 3] [--test 50]
Prints one JSON line per run, then a markdown table of means.
"""
import argparse
import json
import os
import statistics
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from bench.few_shot import class_files, draw, scratch_runs, train_on


def one_run(files: dict, others: dict, shots: int, seed: int, test: int, work: Path) -> dict:
    from core.errors import NoneOfYourClassesError
    from core.images import read_image_file
    from core.inference.predictor import Predictor
    from core.model import registry

    held, rest = draw(files, test, seed)
    dataset, _ = train_on(files, rest, shots, seed, {}, work)
    predictor = Predictor.from_info(registry.resolve(dataset.name))

    def refused(paths) -> float:
        outcomes = predictor.predict_many([read_image_file(p) for p in paths])
        return sum(isinstance(o, NoneOfYourClassesError) for o in outcomes) / len(paths)

    row = {"shots": shots, "seed": seed, "own_refused": round(refused([p for ps in held.values() for p in ps]), 4)}
    row.update({f"{group}_refused": round(refused(paths), 4) for group, paths in others.items()})
    row["others_refused"] = round(sum(row[f"{g}_refused"] * len(p) for g, p in others.items()) /
                                  sum(len(p) for p in others.values()), 4)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default=os.environ.get("FLOWERS_DIR"), help="class subfolders of real photos")
    parser.add_argument("--others", default=os.environ.get("OTHERS_DIR"), help="subfolders of photos of other things")
    parser.add_argument("--shots", type=int, nargs="+", default=[10])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--test", type=int, default=50, help="held-out photos per class")
    args = parser.parse_args()
    if not (args.folder and Path(args.folder).is_dir() and args.others and Path(args.others).is_dir()):
        raise SystemExit(json.dumps({"error": "Give --folder (FLOWERS_DIR) and --others (OTHERS_DIR): folders of "
                                              "class subfolders of real photos."}))
    files, others = class_files(Path(args.folder)), class_files(Path(args.others))
    rows = scratch_runs(args.shots, args.seeds, lambda shots, seed, work: one_run(files, others, shots, seed,
                                                                                  args.test, work))
    sizes = ", ".join(f"{len(paths)} {group}" for group, paths in others.items())
    print(f"\n{len(files)} classes ({', '.join(files)}), {args.test} held-out photos a class; others: {sizes}; "
          f"{args.seeds} seeds\n")
    groups = ["own", *others, "others"]
    print("| photos a class | " + " | ".join(f"{g} refused" for g in groups) + " |")
    print("|---|" + "---|" * len(groups))
    for shots in args.shots:
        mine = [r for r in rows if r["shots"] == shots]
        print(f"| {shots} | " + " | ".join(f"{statistics.mean(r[f'{g}_refused'] for r in mine):.1%}"
                                          for g in groups) + " |")


if __name__ == "__main__":
    main()
