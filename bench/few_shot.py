"""Few photos a class, on real photos: `photos-transfer` at its defaults beside a converged logistic regression on
the same backbone's features of the same photos.

Needs a folder of class subfolders of real photos that nobody here trained on, such as TensorFlow's
flower_photos (5 classes; public GitHub copies exist: bring one with the search tool's `fetch`, never commit it).
For each seed, 50 photos a class are set aside as the test set; from the rest, 5, 10 and 20 a class are copied
into a fresh dataset, which `core train` trains on with the preset's defaults, from an empty feature cache. The
test photos then go through Predict's path (`Predictor.predict_many` on decoded files). The regression is
scikit-learn's multinomial LogisticRegression, fitted to convergence (L-BFGS, 10,000 iterations at most) on the
plain-view features of the same training photos.

Usage: FLOWERS_DIR=... python -m bench.few_shot [--shots 5 10 20] [--seeds 3] [--test 50] [--fine-tune N]
                                                [--epochs N] [--backbone NAME]
Prints one JSON line per run, then a markdown table of means.
"""
import argparse
import contextlib
import json
import os
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

from core import runtime

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"}


def class_files(root: Path) -> dict[str, list[Path]]:
    return {folder.name: sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
            for folder in sorted(root.iterdir()) if folder.is_dir() and not folder.name.startswith(".")}


def draw(files: dict[str, list[Path]], test: int, seed: int) -> tuple[dict, dict]:
    """(the test photos of each class, the rest in a seeded order): the training photos come from the rest."""
    rng = np.random.default_rng(seed)
    held, rest = {}, {}
    for name, paths in files.items():
        order = [paths[i] for i in rng.permutation(len(paths))]
        held[name], rest[name] = order[:test], order[test:]
    return held, rest


def regression_accuracy(train_x, train_y, test_x, test_y) -> float:
    from sklearn.linear_model import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = LogisticRegression(max_iter=10_000).fit(train_x, train_y)
    return float((fitted.predict(test_x) == test_y).mean())


def train_on(files, rest, shots: int, seed: int, overrides: dict, work: Path):
    """(the dataset folder, which names the model, and the config) after `core train` with photos-transfer on
    `shots` photos a class of `rest`, copied into a fresh dataset of the scratch studio `work`, from an empty
    feature cache."""
    from core.training.config import TrainConfig
    from core.training.train import train

    dataset = work / "data" / "custom" / f"shots-{shots}-seed-{seed}"
    for name in files:
        (dataset / name).mkdir(parents=True)
        for path in rest[name][:shots]:
            shutil.copyfile(path, dataset / name / path.name)
    shutil.rmtree(work / "data" / ".features", ignore_errors=True)  # each run computes its own features
    cfg = TrainConfig(dataset=f"custom/{dataset.name}", preset="photos-transfer", name=dataset.name,
                      **overrides).ready()
    train(cfg)
    return dataset, cfg


def one_run(files, shots: int, seed: int, test: int, overrides: dict, work: Path) -> dict:
    from core.images import read_image_file
    from core.inference.predictor import Predictor
    from core.model import registry
    from core.model.presets import get_preset
    from core.training import transfer

    held, rest = draw(files, test, seed)
    started = time.perf_counter()
    dataset, cfg = train_on(files, rest, shots, seed, overrides, work)
    seconds = time.perf_counter() - started

    class_names = list(files)
    test_paths = [p for name in class_names for p in held[name]]
    test_y = np.repeat(np.arange(len(class_names)), test)
    info = registry.resolve(dataset.name)
    predictor = Predictor.from_info(info)
    order = info.meta["class_names"]
    outcomes = predictor.predict_many([read_image_file(p) for p in test_paths])
    predicted = np.array([class_names.index(order[o.index]) if hasattr(o, "index") else -1 for o in outcomes])

    preset = get_preset(cfg.preset)
    extractor = transfer.feature_extractor(predictor.model)
    train_paths = [str(dataset / name / p.name) for name in class_names for p in rest[name][:shots]]
    train_y = np.repeat(np.arange(len(class_names)), shots)
    train_x = transfer.extract(extractor, train_paths, preset.image_size, preset.crop, transfer.PLAIN)
    test_x = transfer.extract(extractor, [str(p) for p in test_paths], preset.image_size, preset.crop,
                              transfer.PLAIN)
    return {"shots": shots, "seed": seed, "test_photos": len(test_paths),
            "studio_accuracy": round(float((predicted == test_y).mean()), 4),
            "regression_accuracy": round(regression_accuracy(train_x, train_y, test_x, test_y), 4),
            "train_seconds": round(seconds, 1), "studio_says": info.meta["metrics"].get("test_accuracy"),
            "settings": {k: getattr(cfg, k) for k in ("epochs", "fine_tune_epochs", "dropout", "learning_rate")}}


@contextlib.contextmanager
def scratch_studio():
    """A scratch studio folder whose data and models the studio uses while the block runs (TensorFlow loaded)."""
    runtime.import_tensorflow_quietly()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        os.environ.update(STUDIO_DATA_DIR=str(work / "data"), STUDIO_MODELS_DIR=str(work / "models"))
        yield work


def scratch_runs(shots_list: list[int], seeds: int, run) -> list[dict]:
    """`run(shots, seed, work)` for every number of shots and seed, in one scratch studio `work`; each row is
    printed as it comes."""
    rows = []
    with scratch_studio() as work:
        for shots in shots_list:
            for seed in range(seeds):
                rows.append(run(shots, seed, work))
                print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", default=os.environ.get("FLOWERS_DIR"), help="class subfolders of real photos")
    parser.add_argument("--shots", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--test", type=int, default=50, help="test photos per class")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--fine-tune", type=int, dest="fine_tune_epochs")
    args = parser.parse_args()
    if not args.folder or not Path(args.folder).is_dir():
        raise SystemExit(json.dumps({"error": "Give --folder (or FLOWERS_DIR): a folder of class subfolders of "
                                              "real photos, such as TensorFlow's flower_photos."}))
    files = class_files(Path(args.folder))
    overrides = {k: v for k, v in (("epochs", args.epochs), ("fine_tune_epochs", args.fine_tune_epochs))
                 if v is not None}
    rows = scratch_runs(args.shots, args.seeds, lambda shots, seed, work: one_run(files, shots, seed, args.test,
                                                                                  overrides, work))
    print(f"\n{len(files)} classes ({', '.join(files)}), {args.test} test photos a class, {args.seeds} seeds\n")
    print("| photos a class | photos-transfer | converged regression | training time |")
    print("|---|---|---|---|")
    for shots in args.shots:
        mine = [r for r in rows if r["shots"] == shots]
        studio = [r["studio_accuracy"] for r in mine]
        regression = [r["regression_accuracy"] for r in mine]
        print(f"| {shots} | {statistics.mean(studio):.1%} (min {min(studio):.1%}) | "
              f"{statistics.mean(regression):.1%} (min {min(regression):.1%}) | "
              f"{statistics.mean(r['train_seconds'] for r in mine):.1f} s |")


if __name__ == "__main__":
    main()
