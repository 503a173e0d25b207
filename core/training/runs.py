"""Training runs as folders on disk, with a progress event log the dashboard polls.

A run is a folder `runs/<id>/` in its workspace, holding `config.json`, `waiting` while it is in the
queue (`core.training.queue`), `heartbeat` while a worker holds it (`core.training.dispatcher` beats it)
and `events.jsonl` (one JSON event a line, written by the worker, `core.training.workers`). Everything
about a run is read from its folder, so it survives page switches, reloads and server restarts, and
Keras never runs in Streamlit's script thread.
"""
from __future__ import annotations

import fcntl
import json
import shutil
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core import config, names, workspace
from core.errors import RunError
from core.model.registry import saved_by_run
from core.training import events
from core.training.config import TrainConfig

EVENTS = "events.jsonl"
WAITING = "waiting"  # present from submission until a worker takes the run
HEARTBEAT = "heartbeat"
HEARTBEAT_TIMEOUT = 10.0  # seconds without a beat after which a taken run is no longer training
CANCEL, KILL = "cancel", "kill"  # asked by cancel_run: stop at the next batch; stop the worker
STATUS_OF = {events.Done: "done", events.Failed: "failed", events.Cancelled: "cancelled"}
ACTIVE = ("queued", "running")


class EventLog:
    """Appends events as JSON lines; each line is flushed so a reader never waits for a buffer."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / EVENTS
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def emit(self, event: events.Event) -> None:
        line = json.dumps(event.to_json(), default=str)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()


def read_events(run_dir: Path) -> list[events.Event]:
    try:
        lines = (Path(run_dir) / EVENTS).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        try:
            event = events.from_json(json.loads(line))
        except ValueError:
            continue  # the last line may be half written while we read
        if event is not None:
            found.append(event)
    return found


@dataclass
class Run:
    id: str
    dir: Path
    config: dict
    events: list[events.Event] = field(default_factory=list)
    status: str = "running"  # queued, running, done, failed, cancelled, interrupted
    detail: str = ""

    def _last(self, kind):
        return next((e for e in reversed(self.events) if isinstance(e, kind)), None)

    @property
    def result(self) -> events.Done | None:
        """What the run made, once it has saved its model."""
        return self._last(events.Done)

    @property
    def model(self) -> str | None:
        return self.result.model if self.result else None

    @property
    def ended(self) -> events.Event | None:
        """The event the run ended with (done, failed or cancelled), or None while it goes."""
        return self._last(events.FINAL)

    @property
    def progress(self) -> events.Progress | None:
        """The latest batch or epoch: where training is."""
        return self._last(events.Progress)

    @property
    def status_message(self) -> str | None:
        """The latest step reported outside the epochs (loading, computing features, saving)."""
        status = self._last(events.Status)
        return status.message if status else None

    @property
    def training_started(self) -> float | None:
        """When training proper began (its start event), after loading the data and building the model."""
        start = self._last(events.Start)
        return start.time if start else None

    @property
    def epochs(self) -> list[events.Epoch]:
        return [e for e in self.events if isinstance(e, events.Epoch)]

    @property
    def learning_rate(self) -> float | None:
        """The rate the last epoch ended with, else the configured one."""
        return self.epochs[-1].lr if self.epochs else self.config.get("learning_rate")

    @property
    def val_accuracy(self) -> float | None:
        """The validation accuracy of the last epoch so far."""
        return self.epochs[-1].metrics.get("val_accuracy") if self.epochs else None

    @property
    def history(self) -> dict[str, list[float]]:
        """Loss and accuracy per epoch, train and validation, as Keras' history holds them."""
        keys = ("loss", "val_loss", "accuracy", "val_accuracy")
        return {key: [e.metrics[key] for e in self.epochs if key in e.metrics] for key in keys}

    @property
    def started(self) -> float:
        return self.events[0].time if self.events else _mtime(self.dir)

    @property
    def launched(self) -> float:
        """When the run's process was started: its config is written just before."""
        return _mtime(self.dir / "config.json") or self.started


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _alive(run_dir: Path) -> bool:
    """Whether a worker holds this run now: the dispatcher that gave it one touches the heartbeat several
    times a second until the run ends, so a dead server or a lost worker shows within seconds."""
    return time.time() - _mtime(Path(run_dir) / HEARTBEAT) < HEARTBEAT_TIMEOUT


def workspace_of(run: Run) -> workspace.Workspace:
    return workspace.named(run.config.get("workspace", ""))


def load_run(run_dir: Path) -> Run:
    run_dir = Path(run_dir)
    try:
        cfg = json.loads((run_dir / "config.json").read_text())
    except (OSError, ValueError):
        cfg = {}
    run = Run(run_dir.name, run_dir, cfg, read_events(run_dir))
    final = run.ended
    if final:
        run.status = STATUS_OF[type(final)]
        run.detail = getattr(final, "error", "") or getattr(final, "message", "")
    elif (run_dir / WAITING).exists():
        run.status = "queued"
    elif not _alive(run_dir):
        saved = saved_by_run(run.id, workspace_of(run).models)
        if saved:  # killed after the save, before its last event: the registry has the truth
            run.events.append(events.Done.of(saved, time=_mtime(saved.path)))
            run.status = "done"
        else:  # taken by a worker but neither finished nor training: killed, crashed, or the server restarted
            run.status = "interrupted"
            run.detail = "The training stopped without finishing (killed, crashed, or the server restarted); " \
                         "no model was saved."
    return run


def get_run(run_id: str, root: Path | None = None) -> Run:
    """A run of the runs folder `root` (a workspace's `runs`); its id is a name, never a path."""
    root = Path(root or config.runs_dir())
    if not isinstance(run_id, str) or not names.PATTERN.match(run_id) or not (root / run_id).is_dir():
        raise RunError(f"There is no run called {run_id!r}.")
    return load_run(root / run_id)


def list_runs(root: Path | None = None) -> list[Run]:
    root = Path(root or config.runs_dir())
    if not root.is_dir():
        return []
    runs = [load_run(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(runs, key=lambda r: r.id, reverse=True)


def active_runs(root: Path | None = None) -> list[Run]:
    """Runs waiting or training, oldest first."""
    return sorted((r for r in list_runs(root) if r.status in ACTIVE), key=lambda r: r.id)


@contextmanager
def locked(root: Path):
    """One submitter or dispatcher at a time changes a runs or queue folder."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def new_run_dir(root: Path, cfg: TrainConfig) -> Path:
    """A fresh run folder named by the time, holding its config (called under `locked(root)`)."""
    run_id = time.strftime("%Y%m%d-%H%M%S")
    suffix = 1
    while (root / run_id).exists():
        suffix += 1
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{suffix}"
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    return run_dir


def delete_run(run_id: str, root: Path | None = None) -> None:
    """Remove a finished run's folder (its log and curves); a run waiting or going must be cancelled first."""
    run = get_run(run_id, root)
    if run.status in ACTIVE:
        raise RunError("This run is still waiting or going: cancel it first.")
    shutil.rmtree(run.dir)


def cancel_run(run_id: str, root: Path | None = None, grace: float = 20.0) -> Run:
    """A waiting run leaves the queue. A training one is asked to stop at its next batch; if it does not
    within `grace` seconds, its worker is stopped (by the dispatcher, which holds it)."""
    run = get_run(run_id, root)
    if run.status == "queued":
        with locked(config.queue_dir()):  # the lock `queue.take` holds: either it is taken, or it is cancelled
            if (run.dir / WAITING).exists():
                (run.dir / WAITING).unlink()
                EventLog(run.dir).emit(events.Cancelled())
                return load_run(run.dir)
        run = load_run(run.dir)
    if run.status != "running":
        return run
    (run.dir / CANCEL).touch()
    deadline = time.time() + grace
    while time.time() < deadline and get_run(run_id, root).status == "running":
        time.sleep(0.2)
    if get_run(run_id, root).status == "running":
        (run.dir / KILL).touch()
        deadline = time.time() + HEARTBEAT_TIMEOUT + 5
        while time.time() < deadline and get_run(run_id, root).status == "running":
            time.sleep(0.2)
    run = load_run(run.dir)
    if run.status == "interrupted":  # its worker was stopped: record why it ended
        EventLog(run.dir).emit(events.Cancelled())
        run = load_run(run.dir)
    return run


def cancel_requested(run_dir: Path):
    """A cheap check for the training callback, looked at no more than every 0.3 s."""
    flag = Path(run_dir) / CANCEL
    state = {"at": 0.0, "value": False}

    def check() -> bool:
        now = time.time()
        if now - state["at"] > 0.3:
            state["at"], state["value"] = now, flag.exists()
        return state["value"]

    return check
