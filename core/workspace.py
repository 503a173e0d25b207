"""Workspaces: each visitor's own models, runs and datasets, which nobody else reaches.

The default workspace is the single-user layout (`models/`, `runs/`, `data/custom/`): the command line's,
unless it is told `--workspace NAME`. A named workspace has the same three folders under
`workspaces/<name>/`. The shipped models and the built-in datasets are shared by every workspace and
written by none (the registry never deletes or replaces a shipped model).

A browser's workspace is named by 128 random bits, so it cannot be guessed; a signed-in person's is
named by a hash of who they are, so it follows them to any browser.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from core import config, names
from core.data import catalog
from core.errors import DataError


@dataclass(frozen=True)
class Workspace:
    name: str = ""  # "" is the single-user layout

    @property
    def is_default(self) -> bool:
        return not self.name

    @property
    def home(self) -> Path:
        return config.workspaces_dir() / self.name

    @property
    def models(self) -> Path:
        """Where this workspace's models are saved (the shipped ones are listed beside them)."""
        return config.models_dir() if self.is_default else self.home / "models"

    @property
    def registry(self) -> Path | None:
        """What the registry's calls take as `root`: None in the default workspace, whose registry also takes
        paths (the command line's); this workspace's own folder otherwise, which takes names only."""
        return None if self.is_default else self.models

    @property
    def runs(self) -> Path:
        return config.runs_dir() if self.is_default else self.home / "runs"

    @property
    def data(self) -> Path:
        """The folder its datasets' specs are relative to: `custom/<name>` lives in `data/custom/<name>`."""
        return config.data_dir() if self.is_default else self.home / "data"

    def locate(self, spec: str) -> str:
        """The spec core loads for a spec as this workspace names it: one of its own datasets as that folder's
        path, a built-in one unchanged. A named workspace reaches nothing else: no path, no other
        workspace's dataset."""
        if spec in catalog.BUILT_IN:
            return spec
        if self.is_default:
            return spec
        parts = Path(spec).parts
        if len(parts) != 2 or parts[0] != catalog.CUSTOM or not names.PATTERN.match(parts[1]):
            raise DataError(f"There is no dataset called {spec!r} in your workspace.")
        return str(self.data / spec)

    def portable(self, spec: str) -> str:
        """The spec to record in meta.json and to show: one of its datasets as `custom/<name>`."""
        return catalog.portable_spec(spec, self.data)


DEFAULT = Workspace()


def named(name: str) -> Workspace:
    """A workspace by its name (the command line's `--workspace`); "" is the default one."""
    return Workspace(names.check(name, "workspace")) if name else DEFAULT


def new() -> Workspace:
    """A fresh workspace for a browser that has none: 32 hex digits, unguessable."""
    return Workspace(secrets.token_hex(16))


def of_user(issuer: str, subject: str) -> Workspace:
    """The workspace of a signed-in person: the same on every browser, and revealing nothing of who."""
    return Workspace("user-" + hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:40])


def every() -> list[Workspace]:
    """The default workspace and every named one that exists (the teacher's view)."""
    root = config.workspaces_dir()
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and names.PATTERN.match(p.name)) \
        if root.is_dir() else []
    return [DEFAULT, *(Workspace(name) for name in found)]
