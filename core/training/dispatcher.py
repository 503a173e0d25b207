"""The dispatcher: hands queued runs to free warm workers, and keeps the workers healthy.

One dispatcher per process (`shared()`: the studio server's), in a thread of its own. Each step it
collects the runs that ended, stops the workers of runs asked to be killed, recycles workers that
trained many runs or grew large (Keras leaks a little with every model built, keras#17458), and starts
the next runs in the queue's fair order. A worker that dies takes only its own run with it: that run is
marked failed, and a fresh worker takes its place.
"""
from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import ray

from core import config
from core.training import events, queue, runs, workers

RECYCLE_AFTER_RUNS = 20
RECYCLE_ABOVE_MB = 3000.0
DIED = "The worker training this run stopped (out of memory, or killed); no model was saved."


@dataclass
class Slot:
    """A worker and the run it trains, if any."""

    worker: object
    runs: int = 0
    run_dir: Path | None = None
    future: object = None
    started: float = 0.0


class Dispatcher:
    def __init__(self, slots: int | None = None, warm: int | None = None):
        self.size = slots or config.training_slots()
        self.warm = self.size if warm is None else min(warm, self.size)
        self.slots: list[Slot] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.nodes: list[str] = []  # the Ray node each run trained on, in order (the cluster test reads it)
        self.connected = False
        self.locations = config.locations()  # the folders it serves: see step()

    def start(self) -> Dispatcher:
        """Dispatch from a thread of its own. Ray starts there too: with warm workers at once, else when the
        first run waits (a server nobody trains on never starts TensorFlow workers)."""
        self._thread = threading.Thread(target=self._loop, name="training-dispatcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)
        for slot in self.slots:
            ray.kill(slot.worker, no_restart=True)
        self.slots.clear()
        self.connected = False

    def _loop(self) -> None:
        if self.warm:
            self._connect()
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # noqa: BLE001 - a bad step must not end the dispatching for everyone
                time.sleep(1.0)
            queue.arrived.wait(0.25)  # the next look: at once for a run submitted here, else soon
            queue.arrived.clear()

    def _connect(self) -> None:
        workers.connect()
        while len(self.slots) < self.warm:
            self.slots.append(self._new_slot())
        self.connected = True

    def _new_slot(self, warm: bool = True) -> Slot:
        """A new worker; warmed ahead of its first run (not awaited) unless a run is about to take it, which
        then loads only what it needs."""
        worker = workers.Worker.remote()
        if warm:
            worker.warm.remote(config.locations())
        return Slot(worker)

    def step(self) -> None:
        if config.locations() != self.locations:
            return  # this process now points at other folders (a test's own studio): their queue is not ours
        if not self.connected:
            if queue.next_ticket() is None:
                return
            self._connect()
        self._collect()
        self._beat()
        self._kill_requested()
        queue.drop_stale()
        while True:
            slot = self._free_slot()
            ticket = queue.next_ticket() if slot else None
            if ticket is None:
                return
            if not queue.take(ticket):
                continue  # cancelled a moment ago
            cfg = runs.load_run(ticket.run_dir).config
            slot.run_dir, slot.started = ticket.run_dir, time.time()
            slot.future = slot.worker.train.remote(str(ticket.run_dir), cfg, config.locations())

    def _free_slot(self) -> Slot | None:
        for slot in self.slots:
            if slot.future is None:
                return slot
        if len(self.slots) < self.size:
            self.slots.append(self._new_slot(warm=False))
            return self.slots[-1]
        return None

    def _collect(self) -> None:
        busy = [slot for slot in self.slots if slot.future is not None]
        if not busy:
            return
        ready, _ = ray.wait([slot.future for slot in busy], num_returns=len(busy), timeout=0)
        for slot in busy:
            if slot.future not in ready:
                continue
            try:
                result = ray.get(slot.future)
            except ray.exceptions.RayError:  # the worker process died mid-run
                self._end(slot, died=True)
                continue
            self.nodes.append(result["node"])
            slot.runs += 1
            self._end(slot, died=result["memory_mb"] > RECYCLE_ABOVE_MB or slot.runs >= RECYCLE_AFTER_RUNS,
                      marked=True)

    def _end(self, slot: Slot, died: bool, marked: bool = False) -> None:
        """The run of `slot` ended: record how long it took and, if its worker died or is due for recycling,
        put a fresh one in its place."""
        run_dir = slot.run_dir
        queue.record_duration(time.time() - slot.started)
        (run_dir / runs.HEARTBEAT).unlink(missing_ok=True)
        if not marked and runs.load_run(run_dir).ended is None:
            log = runs.EventLog(run_dir)
            log.emit(events.Cancelled() if (run_dir / runs.KILL).exists() else events.Failed(DIED))
        slot.run_dir, slot.future = None, None
        if died:
            ray.kill(slot.worker, no_restart=True)
            self.slots[self.slots.index(slot)] = self._new_slot()

    def _beat(self) -> None:
        """Each run a worker holds is "running" while this beats (`runs._alive`)."""
        for slot in self.slots:
            if slot.run_dir is not None:
                (slot.run_dir / runs.HEARTBEAT).touch()

    def _kill_requested(self) -> None:
        for slot in self.slots:
            if slot.future is not None and (slot.run_dir / runs.KILL).exists():
                ray.kill(slot.worker, no_restart=True)  # its future fails; _collect ends the run as cancelled


@functools.cache
def _started() -> Dispatcher:
    return Dispatcher(warm=config.warm_workers()).start()


def shared() -> Dispatcher:
    """This process's dispatcher, started on first use with `config.warm_workers()` warm workers, serving the
    folders of this call's locations (a server's never change; each test has its own)."""
    serving = _started()
    serving.locations = config.locations()
    return serving
