"""What the teacher's view shows: every workspace's runs and models, read only."""
from __future__ import annotations

from dataclasses import dataclass

from core import workspace
from core.model import registry
from core.model.registry import ModelInfo
from core.training import runs
from core.workspace import Workspace


@dataclass
class Seat:
    """One workspace as the teacher sees it."""

    workspace: Workspace
    runs: list[runs.Run]
    models: list[ModelInfo]  # its own, not the shipped ones

    @property
    def label(self) -> str:
        """Short enough to read out in class, long enough to tell 30 apart."""
        return "single-user (models/)" if self.workspace.is_default else self.workspace.name[:12]

    @property
    def last_active(self) -> float:
        times = [r.started for r in self.runs] + [r.launched for r in self.runs]
        return max(times, default=0.0)

    def count(self, *statuses: str) -> int:
        return sum(r.status in statuses for r in self.runs)


def seats() -> list[Seat]:
    """Every workspace with anything in it, most recently active first."""
    found = []
    for where in workspace.every():
        own = [i for i in registry.list_models(where.models)
               if i.path.parent.resolve() == where.models.resolve() and i.name not in registry.SHIPPED]
        seat = Seat(where, runs.list_runs(where.runs), own)
        if seat.runs or seat.models:
            found.append(seat)
    return sorted(found, key=lambda s: -s.last_active)
