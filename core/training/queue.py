"""The training queue: runs wait here, in a fair order, until a worker is free.

A waiting run is a ticket in the queue folder (shared by every workspace) and a `waiting` mark in its own
run folder. The queue is only files, so it survives a server restart: whatever waited still waits.
The order is round robin across workspaces and first come, first served inside one: every workspace's
oldest ticket comes before anybody's second, so one workspace with many runs never starves the others.
"""
from __future__ import annotations

import dataclasses
import json
import math
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from core import config
from core.errors import RunError
from core.model.registry import check_can_save
from core.training import runs
from core.training.config import TrainConfig
from core.wording import counted
from core.workspace import Workspace

DURATIONS = "durations.jsonl"  # how long recent runs trained: the start estimates
TYPICAL_SECONDS = 60.0  # the estimate before any run has finished
arrived = threading.Event()  # set by a submit in this process: its dispatcher need not wait for its next look


@dataclass(frozen=True)
class Ticket:
    workspace: str
    run: str
    submitted: float

    @property
    def path(self) -> Path:
        return config.queue_dir() / f"{self.submitted:.6f}-{self.run}-{self.workspace or '_'}.json"

    @property
    def run_dir(self) -> Path:
        return Workspace(self.workspace).runs / self.run


def submit(cfg: TrainConfig, where: Workspace) -> runs.Run:
    """Queue a run in the workspace `where`; refused with a sentence when its settings, its name or the
    workspace's number of waiting runs do not allow it."""
    cfg = dataclasses.replace(cfg, workspace=where.name).ready()
    if cfg.name:
        check_can_save(cfg.name, where.models, replace=cfg.replace)
    with runs.locked(config.queue_dir()):
        mine = [t for t in waiting() if t.workspace == where.name]
        if len(mine) >= config.max_waiting_runs():
            raise RunError(f"You already have {counted(len(mine), 'run')} waiting, the most one workspace may have; "
                           "wait for one to start, or cancel one.")
        with runs.locked(where.runs):
            run_dir = runs.new_run_dir(where.runs, cfg)
        ticket = Ticket(where.name, run_dir.name, time.time())
        (run_dir / runs.WAITING).write_text(json.dumps(dataclasses.asdict(ticket)))
        ticket.path.write_text(json.dumps(dataclasses.asdict(ticket)))
    arrived.set()
    return runs.load_run(run_dir)


def waiting() -> list[Ticket]:
    """Every ticket whose run still waits, oldest first (a run cancelled while waiting leaves its ticket
    behind for the dispatcher to drop)."""
    root = config.queue_dir()
    tickets = []
    for path in sorted(root.glob("*.json")) if root.is_dir() else []:
        try:
            ticket = Ticket(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            continue
        if (ticket.run_dir / runs.WAITING).exists():
            tickets.append(ticket)
    return sorted(tickets, key=lambda t: t.submitted)


def in_order(tickets: list[Ticket]) -> list[Ticket]:
    """Round robin across workspaces, oldest first inside each."""
    rank, seen = {}, {}
    for ticket in sorted(tickets, key=lambda t: t.submitted):
        rank[ticket] = seen.get(ticket.workspace, 0)
        seen[ticket.workspace] = rank[ticket] + 1
    return sorted(tickets, key=lambda t: (rank[t], t.submitted))


def next_ticket() -> Ticket | None:
    order = in_order(waiting())
    return order[0] if order else None


def take(ticket: Ticket) -> bool:
    """The run leaves the queue for a worker: from now on its heartbeat says whether it trains. False when
    it no longer waits (cancelled, or taken by another dispatcher)."""
    with runs.locked(config.queue_dir()):
        ticket.path.unlink(missing_ok=True)
        waiting_mark = ticket.run_dir / runs.WAITING
        if not waiting_mark.exists():
            return False
        (ticket.run_dir / runs.HEARTBEAT).touch()  # "running" until the worker's own beat takes over
        waiting_mark.unlink()
        return True


def drop_stale() -> None:
    """Forget tickets whose run no longer waits (cancelled, or its folder deleted)."""
    root = config.queue_dir()
    for path in root.glob("*.json") if root.is_dir() else []:
        try:
            ticket = Ticket(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            path.unlink(missing_ok=True)
            continue
        if not (ticket.run_dir / runs.WAITING).exists():
            path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Place:
    position: int  # 1 is next
    start_in: float  # seconds, estimated


def place_of(run: runs.Run) -> Place | None:
    """Where a waiting run stands in the queue and about when it starts; None once it left the queue."""
    order = in_order(waiting())
    position = next((i for i, t in enumerate(order) if t.run == run.id and t.run_dir == run.dir), None)
    if position is None:
        return None
    slots = config.training_slots()
    return Place(position + 1, math.ceil((position + 1) / slots) * typical_seconds())


def record_duration(seconds: float) -> None:
    """Called by the dispatcher when a run ends: the estimates follow what runs here really take."""
    root = config.queue_dir()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / DURATIONS, "a", encoding="utf-8") as handle:
        handle.write(f"{seconds:.1f}\n")


def typical_seconds() -> float:
    """The median of the last 20 runs' training time."""
    try:
        lines = (config.queue_dir() / DURATIONS).read_text().split()[-20:]
        return statistics.median(float(line) for line in lines) if lines else TYPICAL_SECONDS
    except (OSError, ValueError):
        return TYPICAL_SECONDS
