"""The command line: `python -m core train|evaluate|predict|data|models|export`.

Every command prints JSON lines on stdout for machines (progress for people goes to
stderr) and answers bad input with one `{"error": ...}` line, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from core import config, runtime, workspace
from core.atomic import atomic_write_text
from core.data import acquire, catalog, kaggle, specs
from core.errors import DataError, StudioError
from core.evaluation import check_classes, evaluate_model
from core.files import read_regular
from core.model import registry
from core.model.presets import PRESETS
from core.names import name_from
from core.training import config as train_config
from core.training import events
from core.wording import counted


def out(record: dict) -> None:
    print(json.dumps(record, default=str), flush=True)


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def add_workspace(parser) -> None:
    parser.add_argument("--workspace", default="", help="the workspace to use (default: the single-user models/ "
                                                        "and data/)")


def where(args) -> workspace.Workspace:
    return workspace.named(args.workspace)


# --- train ---------------------------------------------------------------------------


def add_train(sub) -> None:
    p = sub.add_parser("train", help="train a preset on a dataset and save it to the registry",
                       description="Train a preset on a dataset (mnist, catsdogs, a class folder or a Kaggle "
                                   "train.csv) and save the model in models/<name>/.")
    train_config.add_arguments(p)


def cmd_train(args) -> int:
    cfg = train_config.from_args(args)
    try:
        if cfg.name:
            cfg.name = name_from(cfg.name)  # "my first model" is my-first-model, as on the Train page
        cfg = cfg.ready()  # before TensorFlow is even imported
    except StudioError as exc:
        out({"error": str(exc)})
        return 2
    cfg.command = train_config.command_for(cfg)
    runtime.import_tensorflow_quietly()
    from core.training.train import train  # loads TensorFlow

    try:
        info = train(cfg, print_progress)
    except StudioError as exc:
        out({"error": str(exc)})
        return 1
    if info is None:
        out({"cancelled": True})
        return 1
    out({"model": info.name, "path": str(info.path), **{k: v for k, v in info.meta["metrics"].items()
                                                       if k != "confusion_matrix"}})
    return 0


def print_progress(event: events.Event) -> None:
    if isinstance(event, events.Status):
        err(event.message)
    elif isinstance(event, events.Start):
        err(f"Training on {event.train_samples} samples, validating on {event.val_samples}, "
            f"{counted(event.epochs, 'epoch')} of {event.steps} steps")
    elif isinstance(event, events.Epoch):
        metrics = "  ".join(f"{k} {event.metrics[k]:.4f}" for k in ("loss", "accuracy", "val_loss", "val_accuracy")
                            if k in event.metrics)
        err(f"epoch {event.epoch}/{event.epochs}  {metrics}  lr {event.lr:.2e}  {event.seconds:.1f}s  "
            f"eta {event.eta:.0f}s")
    elif isinstance(event, events.Done):
        err(f"Saved {event.model}: test accuracy {event.test_accuracy:.4f}")


# --- evaluate / predict ------------------------------------------------------------------


def add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="metrics of a model on its dataset's test split")
    p.add_argument("--model", required=True, help="a registry name (mnist) or a path")
    p.add_argument("--json", action="store_true", help="print the whole report as one JSON object")
    p.add_argument("--kaggle", metavar="TEST_CSV", help="instead, answer Kaggle's Digit Recognizer test.csv and "
                                                        "write the submission (see --out)")
    p.add_argument("--out", default="submission.csv", help="where --kaggle writes (default: submission.csv)")
    add_workspace(p)


def cmd_evaluate(args) -> int:
    if args.kaggle:
        from core.inference.predictor import Predictor  # loads TensorFlow

        text, count = kaggle.submission(Predictor.from_registry(args.model, root=where(args).registry), args.kaggle)
        atomic_write_text(Path(args.out), text)
        out({"model": args.model, "submission": args.out, "digits": count})
        return 0
    info, model = registry.load(args.model, where(args).registry)
    data = specs.load(where(args).locate(info.meta.get("dataset", "mnist")))
    check_classes(info, data)
    result = evaluate_model(model, data, tuple(model.input_shape[1:3]), info.meta.get("crop") or 1.0)
    result["model"] = info.name
    if args.json:
        result["misclassified"] = result["misclassified"][:50]
        out(result)
    else:
        print(f"{info.name}: accuracy {result['accuracy']:.4f}  loss {result['loss']:.4f}  "
              f"on {result['samples']} test samples" + (f"  AUC {result['auc']:.4f}" if "auc" in result else ""))
    return 0


def add_predict(sub) -> None:
    p = sub.add_parser("predict", help="predict image files; one JSON line per file")
    p.add_argument("--model", default="mnist", help="a registry name (default: the shipped mnist) or a path")
    p.add_argument("--multi", action="store_true", help="read several digits in a row as a number")
    p.add_argument("files", nargs="+", metavar="FILE")
    add_workspace(p)


def cmd_predict(args) -> int:
    from core.inference.predictor import Predictor, predict_files  # loads TensorFlow

    predictor = Predictor.from_registry(args.model, root=where(args).registry)
    refused = 0
    for file, outcome in predict_files(predictor, args.files, multi=args.multi):
        if isinstance(outcome, str):
            refused += 1
            out({"file": file, "error": outcome})
        else:
            out(outcome.as_json(file))
    return 1 if refused else 0


# --- data / models / export -----------------------------------------------------------------


def add_data(sub) -> None:
    p = sub.add_parser("data", help="check, fetch or import datasets")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("check", help="which datasets are found, with their counts")
    fetch = actions.add_parser("fetch", help="download a dataset")
    fetch.add_argument("which", choices=[source.fetch_name for source in catalog.SOURCES.values()])
    fetch.add_argument("--url", help=argparse.SUPPRESS)
    fetch.add_argument("--min-bytes", type=int, help=argparse.SUPPRESS)
    importer = actions.add_parser("import", help="import a zip of class folders into data/custom/NAME")
    importer.add_argument("zip", metavar="ZIP")
    importer.add_argument("--name", required=True, help="the dataset's name (words become one: \"my pets\" is my-pets)")
    importer.add_argument("--replace", action="store_true", help="replace the dataset of that name if there is one")
    add_workspace(importer)


def cmd_data(args) -> int:
    if args.action == "check":
        status = 0
        for spec in catalog.BUILT_IN:
            try:
                data = specs.load(spec)
            except StudioError as exc:
                out({"dataset": spec, "found": False, "error": str(exc)})
                status = 1
                continue
            record = {"dataset": spec, "found": True, "source": data.source, "classes": data.class_names,
                      "train": len(data.train), "val": len(data.val), "test": len(data.test)}
            if data.cleaning:
                record["skipped"] = data.cleaning["skipped_by_reason"]
            out(record)
        return status
    if args.action == "import":
        payload = read_regular(args.zip, config.max_unpack_bytes(), DataError, "zip archive")
        spec = acquire.import_zip(payload, name_from(args.name, "dataset"), replace=args.replace,
                                  data_root=where(args).data)
        data = specs.load(where(args).locate(spec))
        out({"dataset": spec, "classes": data.class_names, "images": data.cleaning["kept"],
             "skipped": data.cleaning["skipped"]})
        return 0

    def show(done, total):
        err(f"downloaded {done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else ""))

    report = acquire.fetch(args.which, show, url=args.url, min_bytes=args.min_bytes)
    out({"kept": report["kept"], "skipped": report["skipped"], "skipped_by_reason": report["skipped_by_reason"],
         "root": report["root"]})
    return 0


def add_models(sub) -> None:
    p = sub.add_parser("models", help="list the registry, the presets, or delete a model")
    p.add_argument("--presets", action="store_true", help="list the presets instead")
    p.add_argument("--delete", metavar="NAME")
    add_workspace(p)


def cmd_models(args) -> int:
    if args.presets:
        for preset in PRESETS.values():
            out({"preset": preset.name, "kind": preset.kind, "image_size": preset.image_size,
                 "description": preset.description})
        return 0
    if args.delete:
        registry.delete(args.delete, where(args).models)
        out({"deleted": args.delete})
        return 0
    for info in registry.list_models(where(args).models):
        out({"name": info.name, "available": info.available, "dataset": info.dataset,
             "preset": info.meta.get("preset"), "test_accuracy": info.accuracy,
             "created": info.meta.get("created"), **({"reason": info.reason} if not info.available else {})})
    return 0


def add_export(sub) -> None:
    p = sub.add_parser("export", help="export a model to TensorFlow Lite")
    p.add_argument("--model", required=True, help="a registry name (mnist) or a path")
    p.add_argument("--out", help="where to write the .tflite file (default: next to the model)")
    add_workspace(p)


def cmd_export(args) -> int:
    from core.inference.tflite import export_tflite  # loads TensorFlow

    path = export_tflite(args.model, args.out, where(args).registry)
    out({"model": args.model, "tflite": str(path), "bytes": os.path.getsize(path)})
    return 0


class Parser(argparse.ArgumentParser):
    """Argument errors (an unknown choice, a word where a number goes) as one JSON line, like every other error.

    Sub-command parsers are made by `add_subparsers` with this same class."""

    def error(self, message: str):
        out({"error": f"{self.prog}: {message}"})
        sys.exit(2)


def main(argv=None) -> int:
    parser = Parser(prog="python -m core", description="The CNN image-classification studio.")
    parser.add_argument("--verbose", action="store_true", help="show TensorFlow's own logs too")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (add_train, add_evaluate, add_predict, add_data, add_models, add_export):
        add(sub)
    args = parser.parse_args(argv)
    if args.verbose:
        os.environ["STUDIO_VERBOSE"] = "1"
    if args.command in ("evaluate", "predict", "export"):
        runtime.import_tensorflow_quietly()
    registry.recover()  # a replace that died half-way gets its old model back before anything reads it
    handler = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "data": cmd_data,
               "models": cmd_models, "export": cmd_export}[args.command]
    try:
        return handler(args)
    except StudioError as exc:
        out({"error": str(exc)})
        return 1
    except KeyboardInterrupt:
        out({"error": "Interrupted."})
        return 130


if __name__ == "__main__":
    sys.exit(main())
