"""Runs through the queue on warm Ray workers: live events, fairness, cancel, workers that die, restarts,
and workspaces that never reach each other's runs or models."""
import os
import signal
import time

import keras
import pytest
import ray

from core import config, workspace
from core.errors import ModelError, RunError
from core.model import registry
from core.training import dispatcher, events, queue, workers
from core.training import runs as jobs
from core.training.config import TrainConfig

ALICE, BOB = workspace.named("alice"), workspace.named("bob")


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


def finished(run: jobs.Run) -> jobs.Run:
    return wait_for(lambda: (r := jobs.get_run(run.id, run.dir.parent)).status not in jobs.ACTIVE and r)


# --- the queue alone: no worker needed -------------------------------------------------------------------


def test_the_order_is_round_robin_across_workspaces_and_first_come_inside_one():
    tickets = [queue.Ticket("a", "a1", 1.0), queue.Ticket("a", "a2", 2.0), queue.Ticket("a", "a3", 3.0),
               queue.Ticket("b", "b1", 4.0), queue.Ticket("c", "c1", 5.0), queue.Ticket("b", "b2", 6.0)]
    assert [t.run for t in queue.in_order(tickets)] == ["a1", "b1", "c1", "a2", "b2", "a3"]


def test_runs_wait_with_a_place_and_can_be_cancelled_while_waiting(studio, monkeypatch):
    monkeypatch.setenv("STUDIO_MAX_WAITING_RUNS", "2")
    first, second = queue.submit(small(), ALICE), queue.submit(small(), ALICE)
    other = queue.submit(small(), BOB)
    assert [first.status, second.status, other.status] == ["queued"] * 3
    assert [queue.place_of(r).position for r in (first, other, second)] == [1, 2, 3]
    with pytest.raises(RunError, match="2 runs waiting"):
        queue.submit(small(), ALICE)
    cancelled = jobs.cancel_run(first.id, ALICE.runs)
    assert cancelled.status == "cancelled" and queue.place_of(cancelled) is None
    assert [queue.place_of(r).position for r in (second, other)] == [1, 2]  # alice's second was there first
    assert not queue.take(queue.Ticket("alice", first.id, 0.0))  # a cancelled run is never trained


def test_a_workspace_cannot_reach_another_workspaces_runs_by_id_or_path(studio):
    run = queue.submit(small(), ALICE)
    for trick in (run.id, f"../../alice/runs/{run.id}", str(run.dir), "..", ""):
        with pytest.raises(RunError, match="no run called"):
            jobs.cancel_run(trick, BOB.runs)
        with pytest.raises(RunError, match="no run called"):
            jobs.delete_run(trick, BOB.runs)
    assert jobs.list_runs(BOB.runs) == [] and jobs.get_run(run.id, ALICE.runs).status == "queued"


def test_a_run_taken_by_a_worker_that_vanished_is_interrupted_after_a_restart(studio):
    run = queue.submit(small(), ALICE)
    assert queue.take(queue.waiting()[0])
    assert jobs.get_run(run.id, ALICE.runs).status == "running"
    stale = time.time() - jobs.HEARTBEAT_TIMEOUT - 1
    os.utime(run.dir / jobs.HEARTBEAT, (stale, stale))  # the server died with its workers
    interrupted = jobs.get_run(run.id, ALICE.runs)
    assert interrupted.status == "interrupted" and "no model was saved" in interrupted.detail


# --- on warm workers ---------------------------------------------------------------------------------


@pytest.fixture
def serving(studio):
    """The process's dispatcher (the one a studio server runs), training on local Ray workers."""
    return dispatcher.shared()


def test_a_workers_rehearsal_leaves_no_model_no_run_and_keras_as_it_was(studio):
    policy = keras.mixed_precision.global_policy().name
    workers.rehearse()
    assert keras.mixed_precision.global_policy().name == policy
    assert registry.list_models(config.models_dir()) == [] and not any(config.workspaces_dir().iterdir())
    assert not any(config.runs_dir().iterdir())


@pytest.mark.slow
def test_runs_of_two_workspaces_train_on_warm_workers_into_their_own_registries(serving):
    mine, theirs = queue.submit(small(name="mine"), ALICE), queue.submit(small(name="mine"), BOB)
    for run in (mine, theirs):
        done = finished(run)
        assert done.status == "done", done.detail
        kinds = [type(e) for e in done.events]
        assert events.Start in kinds and events.Epoch in kinds and kinds[-1] is events.Done
    assert registry.resolve("mine", ALICE.models).path.parent == ALICE.models
    assert registry.resolve("mine", BOB.models).path.parent == BOB.models
    assert "mine" not in {i.name for i in registry.list_models()}  # nor in the single-user registry
    # Alice deletes hers: Bob's stays, and nobody can delete a shipped model or reach one by path.
    registry.delete("mine", ALICE.models)
    assert registry.resolve("mine", BOB.models).available
    with pytest.raises(ModelError, match="in your workspace"):
        registry.resolve(str(BOB.models / "mine"), ALICE.models)


@pytest.mark.slow
def test_cancel_stops_a_training_run_and_saves_no_model(serving):
    run = queue.submit(small(epochs=30, limit=None), ALICE)
    wait_for(lambda: jobs.get_run(run.id, ALICE.runs).progress)
    cancelled = jobs.cancel_run(run.id, ALICE.runs)
    assert cancelled.status == "cancelled"
    assert [i.name for i in registry.list_models(ALICE.models)] == []


@pytest.mark.slow
def test_a_worker_that_dies_fails_only_its_run_and_the_next_run_trains(serving):
    run = queue.submit(small(epochs=30, limit=None), ALICE)
    wait_for(lambda: jobs.get_run(run.id, ALICE.runs).progress)
    busy = next(slot for slot in serving.slots if slot.run_dir == run.dir)
    os.kill(ray.get(busy.worker.pid.remote()), signal.SIGKILL)
    failed = finished(run)
    assert failed.status == "failed" and failed.detail == dispatcher.DIED
    assert finished(queue.submit(small(), ALICE)).status == "done"
