"""Where things live on disk. Every location can be moved by an environment variable."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def data_dir() -> Path:
    return _env_path("STUDIO_DATA_DIR", PROJECT_ROOT / "data")


def models_dir() -> Path:
    return _env_path("STUDIO_MODELS_DIR", PROJECT_ROOT / "models")


def runs_dir() -> Path:
    return _env_path("STUDIO_RUNS_DIR", PROJECT_ROOT / "runs")


def keras_cache_dir() -> Path:
    return _env_path("KERAS_HOME", Path.home() / ".keras") / "datasets"


SEED = 1337
