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


def petimages_dir() -> Path:
    """Microsoft's PetImages (`Cat/`, `Dog/`): `$PETIMAGES_DIR`, else `data/PetImages/`."""
    return _env_path("PETIMAGES_DIR", data_dir() / "PetImages")


def catsdogs_filtered_dir() -> Path:
    """TensorFlow's `cats_and_dogs_filtered`: `$CATSDOGS_FILTERED_DIR`, else `data/cats_and_dogs_filtered/`."""
    return _env_path("CATSDOGS_FILTERED_DIR", data_dir() / "cats_and_dogs_filtered")


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
