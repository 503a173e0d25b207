"""Every location the studio reads or writes, and every environment variable that moves one.

Nothing else in the project reads `os.environ` for a path: a newcomer looking for "where does
X live" reads this one file.
"""
from __future__ import annotations

import os
from pathlib import Path

from core.errors import StudioError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEED = 1337


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def data_dir() -> Path:
    """Datasets the studio fetched or a person built: `$STUDIO_DATA_DIR`, else `data/`."""
    return _env_path("STUDIO_DATA_DIR", PROJECT_ROOT / "data")


def models_dir() -> Path:
    """The model registry: `$STUDIO_MODELS_DIR`, else `models/`."""
    return _env_path("STUDIO_MODELS_DIR", PROJECT_ROOT / "models")


def runs_dir() -> Path:
    """Background training runs and their event logs: `$STUDIO_RUNS_DIR`, else `runs/`."""
    return _env_path("STUDIO_RUNS_DIR", PROJECT_ROOT / "runs")


def keras_cache_dir() -> Path:
    """Keras' own download cache (`~/.keras/datasets`), the last place MNIST is looked for."""
    return _env_path("KERAS_HOME", Path.home() / ".keras") / "datasets"


def mnist_places() -> list[Path]:
    """Where MNIST is looked for, in order: `$MNIST_DIR`, `data/mnist/`, Keras' cache."""
    places = [Path(os.environ["MNIST_DIR"]).expanduser()] if os.environ.get("MNIST_DIR") else []
    return places + [data_dir() / "mnist", keras_cache_dir()]


DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")  # what `apt-get install dataset-fashion-mnist` gives


def fashion_mnist_places() -> list[Path]:
    """Where Fashion-MNIST is looked for, in order: `$FASHION_MNIST_DIR`, Debian's dataset-fashion-mnist package,
    `data/fashion-mnist/`, Keras' cache."""
    places = [Path(os.environ["FASHION_MNIST_DIR"]).expanduser()] if os.environ.get("FASHION_MNIST_DIR") else []
    return places + [DEBIAN_FASHION_MNIST, data_dir() / "fashion-mnist", keras_cache_dir() / "fashion-mnist"]


def petimages_dir() -> Path:
    """Microsoft's PetImages (`Cat/`, `Dog/`): `$PETIMAGES_DIR`, else `data/PetImages/`."""
    return _env_path("PETIMAGES_DIR", data_dir() / "PetImages")


def catsdogs_filtered_dir() -> Path:
    """TensorFlow's `cats_and_dogs_filtered`: `$CATSDOGS_FILTERED_DIR`, else `data/cats_and_dogs_filtered/`."""
    return _env_path("CATSDOGS_FILTERED_DIR", data_dir() / "cats_and_dogs_filtered")


def sketches_dir() -> Path:
    """People's stroke drawings (sketch-rnn's omniglot, kanji and sheep `.npz` files) that the digit gate learns
    "not a digit" from: `$SKETCHES_DIR`, else `data/sketches/`."""
    return _env_path("SKETCHES_DIR", data_dir() / "sketches")


def features_dir() -> Path:
    """Cached backbone features of photo datasets (transfer learning trains on these)."""
    return data_dir() / ".features"


def backbone_cache_dir() -> Path:
    """Converted pretrained weights, keyed by the checkpoint's SHA-256 (made once, reused at every start)."""
    return models_dir() / ".backbones"


def _env_bytes(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise StudioError(f"{name} must be a whole number of bytes, not {value!r}.")
    return int(value)


def max_unpack_bytes() -> int:
    """The most one imported archive may unpack to: `$STUDIO_MAX_UNPACK_BYTES`, else 2 GB."""
    return _env_bytes("STUDIO_MAX_UNPACK_BYTES", 2 * 1024 ** 3)


def max_custom_bytes() -> int:
    """The most all imported and built datasets together may hold: `$STUDIO_MAX_CUSTOM_BYTES`, else 20 GB."""
    return _env_bytes("STUDIO_MAX_CUSTOM_BYTES", 20 * 1024 ** 3)


def workspaces_dir() -> Path:
    """Every named workspace, one folder each: `$STUDIO_WORKSPACES_DIR`, else `workspaces/`."""
    return _env_path("STUDIO_WORKSPACES_DIR", PROJECT_ROOT / "workspaces")


def queue_dir() -> Path:
    """The training queue shared by every workspace, one ticket a waiting run: `$STUDIO_QUEUE_DIR`, else `queue/`."""
    return _env_path("STUDIO_QUEUE_DIR", PROJECT_ROOT / "queue")


def ray_address() -> str | None:
    """An existing Ray cluster to train on (`$STUDIO_RAY_ADDRESS`, e.g. 10.0.0.5:6379); unset, the studio
    starts a local Ray of its own on 127.0.0.1."""
    return os.environ.get("STUDIO_RAY_ADDRESS") or None


def _env_count(name: str, default: int, low: int = 0) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < low:
        raise StudioError(f"{name} must be a whole number of at least {low}, not {value!r}.")
    return int(value)


def training_slots() -> int:
    """How many runs train at once: `$STUDIO_TRAINING_SLOTS`, else one per core and per 4 GB of memory (a
    worker with TensorFlow and a dataset takes 1–3 GB), at least one."""
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3
    return _env_count("STUDIO_TRAINING_SLOTS", max(1, min(os.cpu_count() or 1, int(memory_gb // 4))), low=1)


def warm_workers() -> int:
    """Workers started with the queue, before any run asks (`$STUDIO_WARM_WORKERS`, else every slot): the
    tests set 0, so that no page test starts TensorFlow workers it does not use."""
    return _env_count("STUDIO_WARM_WORKERS", training_slots())


def max_waiting_runs() -> int:
    """How many runs one workspace may have waiting: `$STUDIO_MAX_WAITING_RUNS`, else 3."""
    return _env_count("STUDIO_MAX_WAITING_RUNS", 3, low=1)


LOCATION_VARIABLES = ("STUDIO_DATA_DIR", "STUDIO_MODELS_DIR", "STUDIO_RUNS_DIR", "STUDIO_WORKSPACES_DIR",
                      "STUDIO_QUEUE_DIR", "MNIST_DIR", "FASHION_MNIST_DIR", "PETIMAGES_DIR",
                      "CATSDOGS_FILTERED_DIR", "SKETCHES_DIR", "KERAS_HOME", "STUDIO_MAX_UNPACK_BYTES",
                      "STUDIO_MAX_CUSTOM_BYTES")


def locations() -> dict[str, str]:
    """The variables that move a location, as set here: a worker on another process or machine trains a run
    with the submitter's locations."""
    return {name: os.environ[name] for name in LOCATION_VARIABLES if name in os.environ}
