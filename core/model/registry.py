"""The model registry on disk: `models/<name>/model.keras` + `meta.json` + `history.json`.

A model folder is assembled in a hidden staging folder and renamed into place in one
`os.rename`, after every file in it was fsynced: a crash mid-save leaves only a hidden
folder, never a half model where the listing looks. Loading uses `safe_mode=True`; a
broken folder is listed as unavailable with its reason.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from core import config
from core.atomic import fsync_dir
from core.errors import ModelError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MODEL_FILE = "model.keras"
META_FILE = "meta.json"
HISTORY_FILE = "history.json"
STAGING_PREFIX = ".staging-"


@dataclass
class ModelInfo:
    name: str
    path: Path
    meta: dict = field(default_factory=dict)
    available: bool = True
    reason: str = ""
    loose_file: Path | None = None  # a `.keras` file given by path, outside any model folder

    @property
    def dataset(self) -> str:
        return self.meta.get("dataset", "?")

    @property
    def kind(self) -> str:
        return self.meta.get("kind", "digits")

    @property
    def accuracy(self) -> float | None:
        return self.meta.get("metrics", {}).get("test_accuracy")

    @property
    def model_file(self) -> Path:
        """Always `model.keras` inside the model's own folder (no meta field ever names a path)."""
        return self.loose_file or self.path / MODEL_FILE


SHIPPED = ("mnist", "catsdogs")  # the models a fresh clone answers with


def check_can_save(name: str, root: Path | None = None, replace: bool = False) -> None:
    """Refuse, before any training, a name that is taken unless replacing was asked for."""
    check_name(name)
    root = Path(root or config.models_dir())
    if (root / name).exists() and not replace:
        shipped = " It is one of the models that ship with the studio." if name in SHIPPED else ""
        raise ModelError(f"A model called {name!r} already exists.{shipped} Choose another name, or ask to "
                         "replace it (--replace on the command line).")


@contextmanager
def name_lock(name: str, root: Path | None = None):
    """Held while a run trains and saves `name`: a second run with the same name fails at once."""
    root = Path(root or config.models_dir())
    locks = root / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{check_name(name)}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ModelError(f"Another run is already training a model called {name!r}; wait for it, or "
                             "choose another name.") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name or ""):
        raise ModelError(
            f"{name!r} is not a usable model name: use letters, digits, '-', '_' or '.', at most 64 characters."
        )
    return name


def unique_name(stem: str, root: Path | None = None) -> str:
    root = root or config.models_dir()
    stem = re.sub(r"[^A-Za-z0-9_.-]", "-", stem)[:48].strip("-.") or "model"
    name = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    suffix = 2
    candidate = name
    while (root / candidate).exists():
        candidate = f"{name}-{suffix}"
        suffix += 1
    return candidate


def save_model(model, name: str, meta: dict, history: dict | None = None, root: Path | None = None,
               replace: bool = False) -> ModelInfo:
    """Save atomically. The optimizer state is not kept: saved models are for inference and evaluation."""
    import keras

    root = Path(root or config.models_dir())
    check_name(name)
    final = root / name
    if final.exists() and not replace:
        raise ModelError(f"A model called {name!r} already exists; pick another name.")
    try:
        root.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(root)
        staging = Path(tempfile.mkdtemp(dir=root, prefix=f"{STAGING_PREFIX}{name}-"))
        staging.chmod(0o755)
    except OSError as exc:
        raise ModelError(f"The model folder {root} cannot be written ({exc.strerror or exc}); "
                         "the models already there are untouched.") from None
    try:
        # Rebuilt from its config, the copy is uncompiled: no optimizer state in the file (a third of the size).
        inference = keras.Model.from_config(model.get_config())
        inference.set_weights(model.get_weights())
        inference.save(staging / MODEL_FILE)
        meta = {**meta, "name": name, "created": meta.get("created") or time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        (staging / META_FILE).write_text(json.dumps(meta, indent=2, default=_json_default))
        (staging / HISTORY_FILE).write_text(json.dumps(history or {}, default=_json_default))
        for item in staging.iterdir():
            with open(item, "rb") as handle:
                os.fsync(handle.fileno())
        fsync_dir(staging)
        if final.exists():  # replace: move the old one aside first, then swap
            old = root / f"{STAGING_PREFIX}old-{name}-{os.getpid()}"
            os.rename(final, old)
            os.rename(staging, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, final)
        fsync_dir(root)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelError(f"The model could not be saved ({exc.strerror or exc}); "
                         "the models already there are untouched.") from None
    return read_info(final)


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _remove_stale_staging(root: Path, older_than: float = 3600) -> None:
    """Staging folders left by a crash are removed once they are old enough not to be a save in progress."""
    now = time.time()
    for item in root.glob(f"{STAGING_PREFIX}*"):
        try:
            if now - item.stat().st_mtime > older_than:
                shutil.rmtree(item, ignore_errors=True)
        except OSError:
            continue


def read_info(folder: Path) -> ModelInfo:
    folder = Path(folder)
    name = folder.name
    try:
        meta = json.loads((folder / META_FILE).read_text())
    except FileNotFoundError:
        return ModelInfo(name, folder, {}, False, "meta.json is missing")
    except (OSError, ValueError) as exc:
        return ModelInfo(name, folder, {}, False, f"meta.json is unreadable ({exc})")
    if not isinstance(meta, dict):
        return ModelInfo(name, folder, {}, False, "meta.json is not an object")
    model_file = folder / MODEL_FILE
    if not model_file.is_file() or model_file.stat().st_size == 0:
        return ModelInfo(name, folder, meta, False, "model.keras is missing or empty")
    import zipfile

    if not zipfile.is_zipfile(model_file):
        return ModelInfo(name, folder, meta, False, "model.keras is not a Keras file (not a zip archive)")
    return ModelInfo(name, folder, meta)


def list_models(root: Path | None = None) -> list[ModelInfo]:
    """Every model folder, newest first; broken ones are listed as unavailable with their reason."""
    root = Path(root or config.models_dir())
    if not root.is_dir():
        return []
    infos = [read_info(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(infos, key=lambda i: (i.name != "mnist", -_mtime(i.path)))


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def resolve(name_or_path: str, root: Path | None = None) -> ModelInfo:
    """A registry name (`mnist`) or a path to a model folder or a `.keras` file."""
    root = Path(root or config.models_dir())
    candidate = Path(name_or_path)
    if NAME_PATTERN.match(name_or_path) and (root / name_or_path).is_dir():
        info = read_info(root / name_or_path)
    elif candidate.is_dir():
        info = read_info(candidate)
    elif candidate.suffix == ".keras" and candidate.is_file():
        info = read_info(candidate.parent)
        if candidate.name != MODEL_FILE or not info.available:
            info = ModelInfo(candidate.stem, candidate.parent, {}, True, loose_file=candidate)
    else:
        raise ModelError(f"There is no model called {name_or_path!r}; `python -m core models` lists them.")
    if not info.available:
        raise ModelError(f"The model {info.name!r} is unavailable: {info.reason}.")
    return info


def load_keras_model(path: Path):
    """Load with `safe_mode=True` (no code from model files); any failure becomes one ModelError sentence."""
    import keras

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a bad file
        text = str(exc)
        if "safe_mode" in text or "Lambda" in text:
            reason = "it contains code (a Lambda layer), which safe mode refuses to run"
        elif "zip" in text.lower() or "truncated" in text.lower() or isinstance(exc, (EOFError, OSError)):
            reason = "the file is damaged or cut short"
        else:
            reason = f"{type(exc).__name__}: {text.splitlines()[0][:160] if text else 'unknown error'}"
        raise ModelError(f"The model file {Path(path).name} cannot be loaded: {reason}.") from None


def load(name_or_path: str, root: Path | None = None):
    """(ModelInfo, keras model) for a registry name or path."""
    info = resolve(name_or_path, root)
    return info, load_keras_model(info.model_file)


def delete(name: str, root: Path | None = None) -> None:
    root = Path(root or config.models_dir())
    check_name(name)
    folder = root / name
    if not folder.is_dir():
        raise ModelError(f"There is no model called {name!r}.")
    trash = root / f"{STAGING_PREFIX}deleted-{name}-{os.getpid()}"
    try:
        os.rename(folder, trash)  # one atomic step out of the listing, then the slow removal
    except OSError as exc:
        raise ModelError(f"The model {name!r} cannot be deleted ({exc.strerror or exc}).") from None
    shutil.rmtree(trash, ignore_errors=True)


def read_history(info: ModelInfo) -> dict:
    try:
        return json.loads((info.path / HISTORY_FILE).read_text())
    except (OSError, ValueError):
        return {}
