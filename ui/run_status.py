"""How a training run is told on screen: one progress line for the Train page and the sidebar alike,
and the phases of a finished run with their times."""
from __future__ import annotations

import time

from core.training import events, queue, runs


def ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def waiting(run: runs.Run) -> str:
    """'Waiting: 2nd in the queue, starts in about 1 min'."""
    place = queue.place_of(run)
    if place is None:
        return "Waiting for a worker…"
    minutes = round(place.start_in / 60)
    when = f"about {minutes} min" if minutes >= 1 else "under a minute"
    return f"Waiting: {ordinal(place.position)} in the queue, starts in {when}"


def progress(run: runs.Run) -> tuple[float, str]:
    """(share done, the line under the bar): the queue, the start-up step until the first batch, then epoch
    and batch."""
    if run.status == "queued":
        return 0.0, waiting(run)
    last = run.progress
    if last is None:
        status = run.status_message or "Taken by a worker"
        return 0.0, f"Starting up ({time.time() - run.started:.0f} s): {status}…"
    epochs, steps = max(last.epochs, 1), max(last.steps, 1)
    epoch = min(last.epoch, epochs)
    batch = min(last.batch, steps) if isinstance(last, events.Batch) else steps
    share = min(1.0, ((epoch - 1) + batch / steps) / epochs)
    return share, f"Epoch {epoch}/{epochs} · batch {batch}/{steps}"


def phases(run: runs.Run) -> str:
    """'waiting 3 s · start-up 1 s · training 31 s · evaluating and saving 4 s' for a finished run."""
    start, end = run.training_started, run.ended
    if start is None or end is None:
        return ""
    trained = max((e.time for e in run.epochs), default=start)
    parts = [("waiting", run.started - run.launched), ("start-up", start - run.started),
             ("training", trained - start), ("evaluating and saving", end.time - trained)]
    return " · ".join(f"{label} {max(seconds, 0):.0f} s" for label, seconds in parts)


def total_seconds(run: runs.Run) -> float:
    return max(0.0, (run.ended.time if run.ended else time.time()) - run.launched)
