"""Training runs in a background process, with a progress event log the dashboard polls.

A run is a folder `runs/<id>/` holding `config.json`, `process.json` (pid and start time),
`events.jsonl` (one JSON event a line, written by `python -m core train --run-dir`) and
`output.log`. The process outlives the Streamlit script run that started it: switching
pages or reloading does not touch it, and Keras never runs in Streamlit's script thread.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core import config
from core.errors import RunError
from core.model.registry import check_can_save, saved_by_run
from core.training import events
from core.training.config import TrainConfig, to_args

EVENTS = "events.jsonl"
STATUS_OF = {events.Done: "done", events.Failed: "failed", events.Cancelled: "cancelled"}


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
    status: str = "running"  # running, done, failed, cancelled, interrupted
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


def _process_start(pid: int) -> str | None:
    """The kernel's start time of a process (guards against a reused pid); None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def _alive(run_dir: Path) -> bool:
    try:
        record = json.loads((run_dir / "process.json").read_text())
    except (OSError, ValueError):
        return False
    return _process_start(record["pid"]) == record["start"]


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
    elif not _alive(run_dir):
        saved = saved_by_run(run.id)
        if saved:  # killed after the save, before its last event: the registry has the truth
            run.events.append(events.Done.of(saved, time=_mtime(saved.path)))
            run.status = "done"
        else:  # started but neither finished nor running: killed, crashed, or the machine restarted
            run.status = "interrupted" if (run_dir / "process.json").exists() else "failed"
            run.detail = "The training process stopped without finishing (killed or crashed); no model was saved."
    return run


def get_run(run_id: str, root: Path | None = None) -> Run:
    return load_run(Path(root or config.runs_dir()) / run_id)


def list_runs(root: Path | None = None) -> list[Run]:
    root = Path(root or config.runs_dir())
    if not root.is_dir():
        return []
    runs = [load_run(p) for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]
    return sorted(runs, key=lambda r: r.id, reverse=True)


def active_run(root: Path | None = None) -> Run | None:
    return next((r for r in list_runs(root) if r.status == "running"), None)


@contextmanager
def _start_lock(root: Path):
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start_run(cfg: TrainConfig, root: Path | None = None, env: dict | None = None) -> Run:
    """Start `python -m core train` in the background. Refused while another run is going."""
    root = Path(root or config.runs_dir())
    cfg = cfg.ready()
    if cfg.name:
        check_can_save(cfg.name, replace=cfg.replace)
    with _start_lock(root):
        running = active_run(root)
        if running:
            raise RunError(f"A training run is already going ({running.config.get('preset')} on "
                           f"{running.config.get('dataset')}); wait for it to finish or cancel it first.")
        run_id = time.strftime("%Y%m%d-%H%M%S")
        suffix = 1
        while (root / run_id).exists():
            suffix += 1
            run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{suffix}"
        run_dir = root / run_id
        run_dir.mkdir(parents=True)
        (run_dir / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
        command = [sys.executable, "-m", "core", "train", "--run-dir", str(run_dir), *to_args(cfg)]
        with open(run_dir / "output.log", "wb") as output:
            process = subprocess.Popen(command, cwd=config.PROJECT_ROOT, stdout=output, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True,
                                       env={**os.environ, **(env or {})})
        threading.Thread(target=process.wait, daemon=True).start()  # reap it, so it never lingers as a zombie
        (run_dir / "process.json").write_text(json.dumps({"pid": process.pid, "start": _process_start(process.pid)}))
        return load_run(run_dir)


def delete_run(run_id: str, root: Path | None = None) -> None:
    """Remove a finished run's folder (its log and curves); a run still going must be cancelled first."""
    run = get_run(Path(run_id).name, root)
    if not run.dir.is_dir():
        raise RunError(f"There is no run called {run_id!r}.")
    if run.status == "running":
        raise RunError("This run is still going: cancel it first.")
    shutil.rmtree(run.dir)


def cancel_run(run_id: str, root: Path | None = None, grace: float = 20.0) -> Run:
    """Ask the run to stop at its next batch; kill it if it does not within `grace` seconds."""
    root = Path(root or config.runs_dir())
    run_dir = root / run_id
    if not run_dir.is_dir():
        raise RunError(f"There is no run called {run_id}.")
    (run_dir / "cancel").touch()
    deadline = time.time() + grace
    while time.time() < deadline and _alive(run_dir):
        time.sleep(0.2)
    if _alive(run_dir):
        record = json.loads((run_dir / "process.json").read_text())
        try:
            os.killpg(record["pid"], signal.SIGKILL)
        except OSError:
            pass
    run = load_run(run_dir)
    if run.status == "interrupted":  # we had to kill it: record why it ended
        EventLog(run_dir).emit(events.Cancelled())
        run = load_run(run_dir)
    return run


def cancel_requested(run_dir: Path):
    """A cheap check for the training callback, looked at no more than every 0.3 s."""
    flag = Path(run_dir) / "cancel"
    state = {"at": 0.0, "value": False}

    def check() -> bool:
        now = time.time()
        if now - state["at"] > 0.3:
            state["at"], state["value"] = now, flag.exists()
        return state["value"]

    return check
