"""Experiments: one setting at several values, a queued run each, kept in the workspace, compared."""
import pytest

from core import workspace
from core.errors import RunError, StudioError
from core.training import experiments, queue, runs
from core.training.config import TrainConfig

ALICE, BOB = workspace.named("alice"), workspace.named("bob")


@pytest.mark.parametrize("setting, typed, values", [
    ("dropout", "0.1, 0.5", [0.1, 0.5]), ("epochs", "2;5;5", [2, 5]), ("augment", "on, off", [True, False]),
    ("learning_rate", "1e-3, 3e-3, 1e-2", [1e-3, 3e-3, 1e-2])])
def test_typed_values_are_read_for_their_setting(setting, typed, values):
    assert experiments.parse_values(setting, typed) == values


@pytest.mark.parametrize("setting, typed", [("dropout", "0.1"), ("dropout", "a, b"), ("epochs", "1,2,3,4,5,6"),
                                            ("seed", "1, 2"), ("augment", "maybe, on")])
def test_values_that_cannot_make_an_experiment_get_a_sentence(setting, typed):
    with pytest.raises(RunError):
        experiments.parse_values(setting, typed)


def test_an_experiment_queues_a_run_per_value_in_its_workspace_only(studio):
    base = TrainConfig(dataset="mnist", preset="mnist-seed", epochs=1, limit=300)
    experiment = experiments.start(base, "dropout", [0.0, 0.5], ALICE)
    assert len(experiment.runs) == 2 and [e.id for e in experiments.list_experiments(ALICE)] == [experiment.id]
    assert experiments.list_experiments(BOB) == []
    assert len(runs.list_runs(ALICE.runs)) == 2  # the experiment's own file is never taken for a run
    results = experiments.results(experiment, ALICE)
    assert [run.config["dropout"] for _, run in results] == [0.0, 0.5]
    assert len({run.config["name"] for _, run in results}) == 2  # each its own model
    row = experiments.row(experiment.label, 0.5, results[1][1])
    # queued, or already running where a dispatcher of this process (started by an earlier test) took it
    assert list(row)[0] == "dropout" and row["status"] in ("queued", "running")
    assert experiments.differing([run.config for _, run in results]) == ["dropout"]
    for _, run in results:
        runs.cancel_run(run.id, run.dir.parent)


def test_a_value_out_of_bounds_queues_nothing(studio):
    base = TrainConfig(dataset="mnist", preset="mnist-seed", epochs=1, limit=300)
    with pytest.raises(StudioError):
        experiments.start(base, "dropout", [0.1, 5.0], ALICE)
    assert experiments.list_experiments(ALICE) == [] and queue.waiting() == []
