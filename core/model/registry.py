"""The model registry on disk: `models/<name>/model.keras` + `meta.json` + `history.json`.

A model folder is assembled in a hidden staging folder and renamed into place in one
`os.rename`, after every file in it was fsynced: a crash mid-save leaves only a hidden
folder, never a half model where the listing looks. Replacing moves the old folder aside
first (`.set-aside-<name>-<pid>`); if the saver dies between the two renames, the next
start-up or save puts the old model back, so a name never stays empty and the only copy is never
deleted. `meta.json` is read through one schema (`core.model.meta`), loading uses
`safe_mode=True` and checks the model against its meta; a broken folder is listed as
unavailable with its reason.

Any models folder can be a registry (`root`): the default one (`models/`) or a workspace's. A workspace's
listing shows the shipped models of the default one beside its own, and its names resolve to nothing
else: a path is taken only by the default registry, for the command line.
"""
from __future__ import annotations

import fcntl
import json
import lzma
import os
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core import config, names
from core.atomic import fsync_dir
from core.data.catalog import is_grey
from core.errors import ModelError
from core.model.lite0 import FEATURES_LAYER
from core.model.meta import MetaError, validate_meta

MODEL_FILE = "model.keras"
META_FILE = "meta.json"
HISTORY_FILE = "history.json"
STAGING_PREFIX = ".staging-"
OLD_PREFIX = ".set-aside-"  # never a prefix of a staging folder, whatever the model's name
CONTAINS_CODE = "it contains code (a Lambda layer), which safe mode refuses to run"
MAX_JSON_BYTES = 1 << 20  # a meta.json is a few kB and a history.json tens of kB; far larger is neither
MAX_CONFIG_BYTES = 16 << 20  # a model's config.json, inflated (Lite0's is about 0.3 MB)
MAX_MODEL_BYTES = 1 << 30  # every member of a model.keras, inflated (the shipped models are under 20 MB)


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


SHIPPED = ("mnist", "fashion", "catsdogs")  # the models a fresh clone answers with: never deleted or replaced


def check_can_save(name: str, root: Path | None = None, replace: bool = False) -> None:
    """Refuse, before any training, a name that is taken unless replacing was asked for, and always the name
    of a shipped model."""
    names.check(name)
    root = Path(root or config.models_dir())
    if name in SHIPPED:
        raise ModelError(f"A model called {name!r} already exists. It is one of the models that ship with the "
                         "studio, which are never replaced; choose another name.")
    if not (root / name).exists():
        return
    if not replace:
        raise ModelError(f"A model called {name!r} already exists. Choose another name, or ask to replace it "
                         "(--replace on the command line, \"Replace the model of that name\" on the Train page).")


@contextmanager
def name_lock(name: str, root: Path | None = None):
    """Held while a run trains and saves `name`: a second run with the same name fails at once."""
    root = Path(root or config.models_dir())
    locks = root / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{names.check(name)}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ModelError(f"Another run is already training a model called {name!r}; wait for it, or "
                             "choose another name.") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def unique_name(stem: str, root: Path | None = None) -> str:
    """A free name for a model nobody named: the stem and the time, and a counter if that is taken, or held
    by a run training it (two unnamed runs started in the same second get two names)."""
    root = Path(root or config.models_dir())
    name = names.stamped(stem)
    suffix = 2
    candidate = name
    while (root / candidate).exists() or _being_trained(root, candidate):
        candidate = f"{name}-{suffix}"
        suffix += 1
    return candidate


def _being_trained(root: Path, name: str) -> bool:
    """Whether a run holds `name_lock(name)` now."""
    lock = root / ".locks" / f"{name}.lock"
    if not lock.exists():
        return False
    with open(lock) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def save_model(model, name: str, meta: dict, history: dict | None = None, root: Path | None = None,
               replace: bool = False, extras: dict[str, bytes] | None = None) -> ModelInfo:
    """Save atomically. The optimizer state is not kept: saved models are for inference and evaluation.
    `extras` are more files of the model folder, by plain file name (a calibration, say)."""

    root = Path(root or config.models_dir())
    check_can_save(name, root, replace)
    final = root / name
    try:
        meta = validate_meta(completed_meta(model, name, meta))
    except MetaError as exc:
        raise ModelError(f"The model was not saved: its {exc}.") from None
    try:
        root.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(root)
        staging = Path(tempfile.mkdtemp(dir=root, prefix=f"{STAGING_PREFIX}{name}-"))
        staging.chmod(0o755)
    except OSError as exc:
        raise ModelError(f"The model folder {root} cannot be written ({exc.strerror or exc}); "
                         "the models already there are untouched.") from None
    try:
        without_optimizer(model).save(staging / MODEL_FILE)
        (staging / META_FILE).write_text(json.dumps(meta, indent=2, default=_json_default))
        (staging / HISTORY_FILE).write_text(json.dumps(history or {}, default=_json_default))
        for file_name, content in (extras or {}).items():
            (staging / Path(file_name).name).write_bytes(content)
        for item in staging.iterdir():
            with open(item, "rb") as handle:
                os.fsync(handle.fileno())
        fsync_dir(staging)
        if final.exists():  # replace: move the old one aside first, then swap (see `recover`)
            old = root / f"{OLD_PREFIX}{name}-{os.getpid()}"
            os.rename(final, old)
            os.rename(staging, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, final)
        fsync_dir(root)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        recover(root)  # a failed swap puts the old model back at once
        raise ModelError(f"The model could not be saved ({exc.strerror or exc}); "
                         "the models already there are untouched.") from None
    return read_info(final)


def without_optimizer(model):
    """An uncompiled copy rebuilt from the model's config: its file holds no optimizer state (a third of
    the size), which inference and evaluation never need."""
    import keras  # loads TensorFlow

    copy = keras.Model.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def completed_meta(model, name: str, meta: dict) -> dict:
    """`meta` with what the model itself says filled in where the caller left it out."""
    units = model.output_shape[-1]
    shape = list(model.input_shape[1:])
    return {"kind": "digits" if shape[-1] == 1 else "photos", "dataset": "?",
            "class_names": [str(i) for i in range(units)], "input_shape": shape, **meta,
            "name": name, "created": meta.get("created") or time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _remove_stale_staging(root: Path, older_than: float = 3600) -> None:
    """Staging folders left by a crash are removed once they are old enough not to be a save in progress;
    an old copy set aside by a replace is first put back if its name is empty (`recover`)."""
    recover(root)
    now = time.time()
    for item in [*root.glob(f"{STAGING_PREFIX}*"), *root.glob(f"{OLD_PREFIX}*")]:
        try:
            if now - item.stat().st_mtime > older_than and not _only_copy(root, item):
                shutil.rmtree(item, ignore_errors=True)
        except OSError:
            continue


def recover(root: Path | None = None) -> list[str]:
    """Put back each model a replace set aside and then died before the new one took its name.

    Run at start-up (the dashboard, the command line), before each save and after a failed one; listing
    never writes. Returns the names restored. A folder whose saver is still alive is left alone: it is between its
    two renames, a moment away from finishing."""
    root = Path(root or config.models_dir())
    restored = []
    for old in root.glob(f"{OLD_PREFIX}*"):
        name, pid = _set_aside(old)
        if not name or (root / name).exists() or _alive(pid) or not _complete(old):
            continue
        try:
            os.rename(old, root / name)
            restored.append(name)
        except OSError:
            continue
    if restored:
        fsync_dir(root)
    return restored


def _complete(folder: Path) -> bool:
    """Whether a set-aside folder is a whole model (it was one before the replace moved it): only then is it
    put back under its name."""
    return all((folder / part).is_file() for part in (META_FILE, MODEL_FILE))


def _set_aside(item: Path) -> tuple[str, str]:
    """(model name, saver's pid) of a folder a replace set aside as `.staging-old-<name>-<pid>`, else ("", "")."""
    if not item.name.startswith(OLD_PREFIX):
        return "", ""
    name, _, pid = item.name[len(OLD_PREFIX):].rpartition("-")
    return name, pid


def _only_copy(root: Path, item: Path) -> bool:
    name = _set_aside(item)[0]
    return bool(name) and not (root / name).exists()


def _alive(pid: str) -> bool:
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class UnreadableJson(Exception):
    """Why a model folder's JSON file cannot be read: `str()` is the reason shown beside the model."""


def read_json_file(path: Path):
    """The JSON of a model folder's meta.json or history.json, read only from a regular file of bounded size
    and depth.

    A FIFO would block for ever, a link to /dev/zero would read until memory runs out, and JSON nested
    100,000 deep overflows the parser's stack: each is a reason, never a hang or a traceback."""
    name = Path(path).name
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UnreadableJson(f"{name} is missing") from None
    except OSError as exc:
        raise UnreadableJson(f"{name} is unreadable ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableJson(f"{name} is not a regular file")
    if info.st_size > MAX_JSON_BYTES:
        raise UnreadableJson(f"{name} is {info.st_size:,} bytes, far more than it ever needs")
    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read(MAX_JSON_BYTES + 1))
    except RecursionError:
        raise UnreadableJson(f"{name} is nested too deeply to describe a model") from None
    except (OSError, ValueError) as exc:
        raise UnreadableJson(f"{name} is unreadable ({str(exc)[:120]})") from None


def read_info(folder: Path) -> ModelInfo:
    folder = Path(folder)
    name = folder.name
    if not names.PATTERN.match(name):  # offered, it could be neither used nor deleted by its name
        return ModelInfo(name, folder, {}, False, f"the folder name {name!r} is not a usable model name; rename "
                                                  "the folder to letters, digits, '-', '_' and '.'")
    try:
        meta = read_json_file(folder / META_FILE)
    except UnreadableJson as exc:
        return ModelInfo(name, folder, {}, False, str(exc))
    try:
        meta = validate_meta(meta)
    except MetaError as exc:
        return ModelInfo(name, folder, {}, False, str(exc))
    model_file = folder / MODEL_FILE
    if not model_file.is_file() or model_file.stat().st_size == 0:
        return ModelInfo(name, folder, meta, False, "model.keras is missing or empty")
    problem = keras_file_problem(model_file)
    return ModelInfo(name, folder, meta, not problem, problem)


def keras_file_problem(path: Path) -> str:
    """Why a `.keras` file cannot be offered, read from its zip directory and its config alone (no weights
    loaded), or "". A file that would inflate past its bounds is refused from the directory, unread."""
    try:
        with zipfile.ZipFile(path) as bundle:
            members = bundle.infolist()
            inflated = sum(member.file_size for member in members)
            if inflated > MAX_MODEL_BYTES:
                return f"model.keras would inflate to {inflated / 1e9:.1f} GB, more than a model here may"
            config_member = bundle.getinfo("config.json")
            if config_member.file_size > MAX_CONFIG_BYTES:
                return "model.keras holds a config.json far larger than any model's"
            config_text = bundle.read(config_member).decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ValueError, NotImplementedError, RuntimeError,
            zlib.error, lzma.LZMAError):
        return "model.keras is not a Keras file (not a zip archive with a model config)"
    if '"__lambda__"' in config_text or '"class_name": "Lambda"' in config_text:
        return CONTAINS_CODE
    return ""


def _folders(root: Path) -> list[Path]:
    """The model folders of `root`, and in a workspace's registry the shipped ones of the default registry."""
    own = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")] if root.is_dir() else []
    shared = config.models_dir()
    if root.resolve() == shared.resolve():
        return own
    return [*own, *(shared / name for name in SHIPPED if (shared / name).is_dir())]


def list_models(root: Path | None = None) -> list[ModelInfo]:
    """Every model folder, newest first; broken ones are listed as unavailable with their reason. Reads only."""
    infos = [read_info(p) for p in _folders(Path(root or config.models_dir()))]
    return sorted(infos, key=lambda i: (i.name != "mnist", -_mtime(i.path)))


def listing_signature(root: Path | None = None) -> tuple:
    """What changes whenever the listing would: each model folder's name and modification time (a save,
    replace or delete renames a folder, which changes both). Directory reads only, no file opened: a
    listing can be cached on it."""
    root = Path(root or config.models_dir())
    try:
        return str(root), tuple(sorted((item.name, item.stat().st_mtime_ns) for item in _folders(root)))
    except OSError:
        return str(root), ()


def saved_by_run(run_id: str, root: Path | None = None) -> ModelInfo | None:
    """The model a background run saved, found by the run id in its meta (only that folder is read fully)."""
    root = Path(root or config.models_dir())
    if not root.is_dir():
        return None
    for folder in root.iterdir():
        if folder.name.startswith("."):  # staging and set-aside copies are not the registry
            continue
        try:
            if read_json_file(folder / META_FILE).get("run") == run_id:
                return read_info(folder)
        except (UnreadableJson, AttributeError):
            continue
    return None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def resolve(name_or_path: str, root: Path | None = None) -> ModelInfo:
    """A name in the registry `root` (or a shipped model), or, in the default registry only, a path to a
    model folder or a `.keras` file."""
    paths = root is None
    root = Path(root or config.models_dir())
    candidate = Path(name_or_path)
    named = bool(names.PATTERN.match(name_or_path))
    if named and not (root / name_or_path).is_dir():
        recover(root)  # a replace that died between its renames: the old model is found, not "no model called"
    folder = next((p for p in _folders(root) if p.name == name_or_path), None) if named else None
    if folder is not None:
        info = read_info(folder)
    elif not paths:
        raise ModelError(f"There is no model called {name_or_path!r} in your workspace.")
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
    import keras  # loads TensorFlow

    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a bad file
        text = str(exc)
        if "safe_mode" in text or "Lambda" in text:
            reason = CONTAINS_CODE
        elif "zip" in text.lower() or "truncated" in text.lower() or isinstance(exc, (EOFError, OSError)):
            reason = "the file is damaged or cut short"
        else:
            reason = text.splitlines()[0][:160] if text else "Keras gave no reason"
        raise ModelError(f"The model file {Path(path).name} cannot be loaded: {reason}.") from None


def load_model(info: ModelInfo):
    """The Keras model of a resolved `info`, refused with a sentence when it disagrees with its meta."""
    model = load_keras_model(info.model_file)
    if info.meta:
        check_matches_meta(model, info)
    return model


def check_matches_meta(model, info: ModelInfo) -> None:
    meta = info.meta
    if isinstance(model.output, (list, tuple, dict)):
        raise ModelError(f"The model {info.name!r} has {len(model.output)} outputs; the studio uses models with "
                         "one output.")
    shape = list(model.input_shape[1:])
    if shape != meta["input_shape"]:
        raise ModelError(f"The model {info.name!r} takes inputs of shape {tuple(shape)}, but its meta.json says "
                         f"{tuple(meta['input_shape'])}; it was changed after saving.")
    if len(model.output_shape) != 2 or model.output_shape[-1] != len(meta["class_names"]):
        raise ModelError(f"The model {info.name!r} answers with output {tuple(model.output_shape[1:])}, but its "
                         f"meta.json names {len(meta['class_names'])} classes; it was changed after saving.")
    channels = 1 if is_grey(meta["kind"]) else 3
    if len(shape) != 3 or shape[-1] != channels:
        raise ModelError(f"The model {info.name!r} takes inputs of shape {tuple(shape)}, not a {meta['kind']} "
                         f"model's (height, width, {channels}) as its meta.json says; it was changed after saving.")
    if meta.get("backbone") and FEATURES_LAYER not in {layer.name for layer in model.layers}:
        raise ModelError(f"The model {info.name!r} has no pretrained backbone, but its meta.json says it has "
                         f"{meta['backbone']}; it was changed after saving.")
    check_answers_probabilities(model, info.name, shape)


def check_answers_probabilities(model, name: str, shape: list) -> None:
    """One forward pass on a blank input: the answer must be finite probabilities that sum to 1. A model
    with NaN weights, or one that returns logits, would print NaN or a "confidence" of 125 otherwise."""
    answer = np.asarray(model(np.zeros((1, *shape), np.float32), training=False), dtype=np.float64)
    if not np.isfinite(answer).all():
        raise ModelError(f"The model {name!r} answers with numbers that are not finite (NaN or infinity): its "
                         "weights are broken.")
    if answer.min() < -1e-6 or abs(answer.sum() - 1) > 1e-3:
        raise ModelError(f"The model {name!r} does not answer with probabilities (they sum to {answer.sum():.3g}): "
                         "the studio uses models whose last layer is a softmax.")


def load(name_or_path: str, root: Path | None = None):
    """(ModelInfo, keras model) for a registry name or path."""
    info = resolve(name_or_path, root)
    return info, load_model(info)


def delete(name: str, root: Path | None = None) -> None:
    """Remove a model from the registry; the shipped models are refused."""
    root = Path(root or config.models_dir())
    names.check(name)
    if name in SHIPPED:
        raise ModelError(f"{name!r} ships with the studio and cannot be deleted.")
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
        history = read_json_file(info.path / HISTORY_FILE)
    except UnreadableJson:
        return {}
    return history if isinstance(history, dict) else {}
