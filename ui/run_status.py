"""How a training run is told on screen: one progress line for the Train page and the sidebar alike,
and the phases of a finished run with their times."""
from __future__ import annotations

import time

from core.training import runs


def progress(run: runs.Run) -> tuple[float, str]:
    """(share done, the line under the bar): the start-up step until the first batch, then epoch and batch."""
    last = run.last_batch
    if not last:
        status = next((e["message"] for e in reversed(run.events) if e.get("type") == "status"),
                      "Starting Python and TensorFlow")
        return 0.0, f"Starting up ({time.time() - run.launched:.0f} s): {status}…"
    epochs = last.get("epochs") or run.config.get("epochs") or 1
    steps = last.get("steps") or 1
    epoch = min(last.get("epoch", 1), epochs)
    batch = min(last.get("batch", steps), steps) if last.get("type") == "batch" else steps
    share = min(1.0, ((epoch - 1) + batch / steps) / epochs)
    return share, f"Epoch {epoch}/{epochs} · batch {batch}/{steps}"


def _ended(run: runs.Run) -> float | None:
    return next((e["time"] for e in reversed(run.events) if e.get("type") in runs.TERMINAL), None)


def phases(run: runs.Run) -> str:
    """'start-up 6 s · training 31 s · evaluating and saving 4 s' for a finished run."""
    start = next((e["time"] for e in run.events if e.get("type") == "start"), None)
    end = _ended(run)
    if start is None or end is None:
        return ""
    trained = max((e["time"] for e in run.epochs), default=start)
    parts = [("start-up", start - run.launched), ("training", trained - start),
             ("evaluating and saving", end - trained)]
    return " · ".join(f"{label} {max(seconds, 0):.0f} s" for label, seconds in parts)


def total_seconds(run: runs.Run) -> float:
    return max(0.0, (_ended(run) or time.time()) - run.launched)
