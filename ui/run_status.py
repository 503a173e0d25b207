"""How a training run is told on screen: one progress line for the Train page and the sidebar alike,
and the phases of a finished run with their times."""
from __future__ import annotations

import time

from core.training import events, runs


def progress(run: runs.Run) -> tuple[float, str]:
    """(share done, the line under the bar): the start-up step until the first batch, then epoch and batch."""
    last = run.progress
    if last is None:
        status = run.status_message or "Starting Python and TensorFlow"
        return 0.0, f"Starting up ({time.time() - run.launched:.0f} s): {status}…"
    epochs, steps = max(last.epochs, 1), max(last.steps, 1)
    epoch = min(last.epoch, epochs)
    batch = min(last.batch, steps) if isinstance(last, events.Batch) else steps
    share = min(1.0, ((epoch - 1) + batch / steps) / epochs)
    return share, f"Epoch {epoch}/{epochs} · batch {batch}/{steps}"


def phases(run: runs.Run) -> str:
    """'start-up 6 s · training 31 s · evaluating and saving 4 s' for a finished run."""
    start, end = run.training_started, run.ended
    if start is None or end is None:
        return ""
    trained = max((e.time for e in run.epochs), default=start)
    parts = [("start-up", start - run.launched), ("training", trained - start),
             ("evaluating and saving", end.time - trained)]
    return " · ".join(f"{label} {max(seconds, 0):.0f} s" for label, seconds in parts)


def total_seconds(run: runs.Run) -> float:
    return max(0.0, (run.ended.time if run.ended else time.time()) - run.launched)
