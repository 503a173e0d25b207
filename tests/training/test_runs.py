"""Background training runs: live events, one at a time, cancel, and runs killed mid-way."""
import json
import os
import signal
import time

import pytest

from core.errors import RunError
from core.model import registry
from core.training import events
from core.training import runs as jobs
from core.training.config import TrainConfig

pytestmark = pytest.mark.slow  # every test here trains a model or loads a shipped one


def wait_for(predicate, timeout=240, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out")


def small(epochs=1, limit=600, **extra):
    return TrainConfig(dataset="mnist", preset="mnist-seed", epochs=epochs, batch_size=32, limit=limit,
                       steps_per_execution=1, **extra)


def test_a_run_goes_in_the_background_and_finishes(studio):
    run = jobs.start_run(small())
    assert run.status == "running"
    done = wait_for(lambda: (r := jobs.get_run(run.id)).status != "running" and r)
    assert done.status == "done", (done.detail, (done.dir / "output.log").read_text()[-2000:])
    assert done.model and registry.resolve(done.model).available
    kinds = [type(e) for e in done.events]
    assert events.Start in kinds and events.Epoch in kinds and kinds[-1] is events.Done
    assert done.result.model == done.model and done.learning_rate > 0 and done.history["val_accuracy"]
    # Killed after the save, before its last event: the run still reports the model it saved.
    wait_for(lambda: not jobs._alive(done.dir), timeout=30)
    lines = (done.dir / jobs.EVENTS).read_text().splitlines()
    (done.dir / jobs.EVENTS).write_text("\n".join(lines[:-1]) + "\n")
    again = jobs.get_run(run.id)
    assert again.status == "done" and again.model == done.model
    assert again.result == events.Done.of(registry.resolve(done.model), time=again.result.time)


def test_a_second_run_is_refused_while_one_is_going(studio):
    run = jobs.start_run(small(epochs=30, limit=None))
    try:
        with pytest.raises(RunError, match="already going"):
            jobs.start_run(small())
    finally:
        jobs.cancel_run(run.id)


def test_cancel_stops_the_run_and_saves_no_model(studio):
    run = jobs.start_run(small(epochs=30, limit=None))
    wait_for(lambda: jobs.get_run(run.id).progress)
    cancelled = jobs.cancel_run(run.id)
    assert cancelled.status == "cancelled"
    assert registry.list_models() == []
    assert jobs.active_run() is None


def test_a_killed_run_is_marked_interrupted_and_earlier_models_stay(studio):
    first = jobs.start_run(small())
    wait_for(lambda: jobs.get_run(first.id).status == "done")
    run = jobs.start_run(small(epochs=30, limit=None))
    wait_for(lambda: jobs.get_run(run.id).progress)
    pid = json.loads((run.dir / "process.json").read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    killed = wait_for(lambda: (r := jobs.get_run(run.id)).status != "running" and r, timeout=30)
    assert killed.status == "interrupted" and "no model was saved" in killed.detail
    assert [i.name for i in registry.list_models()] == [jobs.get_run(first.id).model]
    registry.load(jobs.get_run(first.id).model)
    # History survives a server restart: it is read back from disk.
    assert {r.id: r.status for r in jobs.list_runs()} == {first.id: "done", run.id: "interrupted"}
