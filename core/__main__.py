"""The command line: `python -m core train|evaluate|predict|data|models|export`.

Every command prints JSON lines on stdout for machines (progress for people goes to
stderr) and answers bad input with one `{"error": ...}` line, never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from core.errors import StudioError  # noqa: E402
from core.training import SCHEDULES  # noqa: E402  (numpy only; TensorFlow loads when a command needs it)


def out(record: dict) -> None:
    print(json.dumps(record, default=str), flush=True)


def err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- train ---------------------------------------------------------------------------


def add_train(sub) -> None:
    p = sub.add_parser("train", help="train a preset on a dataset and save it to the registry",
                       description="Train a preset on a dataset (mnist, catsdogs, a class folder or a Kaggle "
                                   "train.csv) and save the model in models/<name>/.")
    p.add_argument("--dataset", default="mnist", help="mnist, catsdogs, a folder of class subfolders, or train.csv")
    p.add_argument("--preset", default="mnist-seed", help="see `python -m core models --presets`")
    p.add_argument("--epochs", type=int)
    p.add_argument("--dropout", type=float)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--early-stopping", type=int, default=0, metavar="PATIENCE")
    p.add_argument("--width", type=float, help="width multiplier for the number of filters")
    p.add_argument("--lr-schedule", choices=list(SCHEDULES),
                   help="; ".join(f"{name}: {what}" for name, what in SCHEDULES.items()))
    p.add_argument("--fine-tune-epochs", type=int, default=0, help="transfer preset: epochs with the base unfrozen")
    p.add_argument("--limit", type=int, help="train on at most this many samples")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--name", help="model name in the registry (default: dataset-preset-time)")
    p.add_argument("--strategy", choices=["default", "mirrored", "multiworker"], default="default")
    p.add_argument("--steps-per-execution", type=int, default=32)
    p.add_argument("--precision", choices=["auto", "mixed", "float32"], default="auto",
                   help="mixed = bfloat16 compute (auto: where the CPU has native bf16)")
    p.add_argument("--run-dir", help=argparse.SUPPRESS)  # set by the dashboard's background runs


def cmd_train(args) -> int:
    import shlex

    from core.training import TrainConfig, train

    names = ["dataset", "preset", "epochs", "dropout", "batch_size", "learning_rate", "augment", "batch_norm",
             "early_stopping", "width", "lr_schedule", "fine_tune_epochs", "limit", "seed", "name", "strategy",
             "steps_per_execution", "precision"]
    cfg = TrainConfig(**{n: getattr(args, n) for n in names})
    cfg.command = "python -m core " + shlex.join(a for a in sys.argv[1:] if not a.startswith("--run-dir")
                                                 and a != args.run_dir)
    sinks = [print_progress]
    should_stop = None
    if args.run_dir:
        from core.jobs import EventLog, cancel_requested

        sinks.append(EventLog(args.run_dir).emit)
        should_stop = cancel_requested(args.run_dir)

    def emit(event):
        for sink in sinks:
            sink(event)

    try:
        info = train(cfg, emit, should_stop)
    except StudioError as exc:
        emit({"type": "failed", "error": str(exc)})
        out({"error": str(exc)})
        return 1
    except Exception as exc:  # noqa: BLE001 - a run must always end with an event, not a silent death
        traceback.print_exc(file=sys.stderr) if args.run_dir else None
        message = f"Training failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        emit({"type": "failed", "error": message})
        out({"error": message})
        return 1
    if info is None:
        out({"cancelled": True})
        return 1
    out({"model": info.name, "path": str(info.path), **{k: v for k, v in info.meta["metrics"].items()
                                                       if k != "confusion_matrix"}})
    return 0


def print_progress(event: dict) -> None:
    kind = event.get("type")
    if kind == "status":
        err(event["message"])
    elif kind == "start":
        err(f"Training on {event['train_samples']} samples, validating on {event['val_samples']}, "
            f"{event['epochs']} epochs of {event['steps']} steps")
    elif kind == "epoch":
        metrics = "  ".join(f"{k} {v:.4f}" for k, v in event.items() if k in
                            ("loss", "accuracy", "val_loss", "val_accuracy"))
        err(f"epoch {event['epoch']}/{event['epochs']}  {metrics}  lr {event['lr']:.2e}  "
            f"{event['seconds']:.1f}s  eta {event['eta']:.0f}s")
    elif kind == "done":
        err(f"Saved {event['model']}: test accuracy {event['test_accuracy']:.4f}")


# --- evaluate / predict ------------------------------------------------------------------


def add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="metrics of a model on its dataset's test split")
    p.add_argument("--model", required=True, help="a registry name (mnist) or a path")
    p.add_argument("--json", action="store_true", help="print the whole report as one JSON object")


def cmd_evaluate(args) -> int:
    from core import datasets, registry
    from core.evaluation import evaluate_model

    info, model = registry.load(args.model)
    data = datasets.load(info.meta.get("dataset", "mnist"))
    result = evaluate_model(model, data, tuple(model.input_shape[1:3]))
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


def cmd_predict(args) -> int:
    from core.predict import Predictor, predict_files

    predictor = Predictor.from_registry(args.model)
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
    p = sub.add_parser("data", help="check or fetch datasets")
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("check", help="which datasets are found, with their counts")
    fetch = actions.add_parser("fetch", help="download a dataset")
    fetch.add_argument("which", choices=["petimages"])
    fetch.add_argument("--url", help=argparse.SUPPRESS)
    fetch.add_argument("--min-bytes", type=int, help=argparse.SUPPRESS)


def cmd_data(args) -> int:
    from core import datasets

    if args.action == "check":
        status = 0
        for spec in ("mnist", "catsdogs"):
            try:
                data = datasets.load(spec)
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
    from core.download import PETIMAGES_MIN_BYTES, PETIMAGES_URL, fetch_petimages

    def show(done, total):
        err(f"downloaded {done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else ""))

    report = fetch_petimages(show, url=args.url or PETIMAGES_URL,
                             min_bytes=PETIMAGES_MIN_BYTES if args.min_bytes is None else args.min_bytes)
    out({"kept": report["kept"], "skipped": report["skipped"], "skipped_by_reason": report["skipped_by_reason"],
         "root": report["root"]})
    return 0


def add_models(sub) -> None:
    p = sub.add_parser("models", help="list the registry, the presets, or delete a model")
    p.add_argument("--presets", action="store_true", help="list the presets instead")
    p.add_argument("--delete", metavar="NAME")


def cmd_models(args) -> int:
    from core import registry
    from core.models import PRESETS

    if args.presets:
        for preset in PRESETS.values():
            out({"preset": preset.name, "kind": preset.kind, "image_size": preset.image_size,
                 "description": preset.description})
        return 0
    if args.delete:
        registry.delete(args.delete)
        out({"deleted": args.delete})
        return 0
    for info in registry.list_models():
        out({"name": info.name, "available": info.available, "dataset": info.dataset,
             "preset": info.meta.get("preset"), "test_accuracy": info.accuracy,
             "created": info.meta.get("created"), **({"reason": info.reason} if not info.available else {})})
    return 0


def add_export(sub) -> None:
    p = sub.add_parser("export", help="export a model to TensorFlow Lite")
    p.add_argument("--model", required=True, help="a registry name (mnist) or a path")
    p.add_argument("--out", help="where to write the .tflite file (default: next to the model)")


def cmd_export(args) -> int:
    import os

    from core.export import export_tflite

    path = export_tflite(args.model, args.out)
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
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (add_train, add_evaluate, add_predict, add_data, add_models, add_export):
        add(sub)
    args = parser.parse_args(argv)
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
