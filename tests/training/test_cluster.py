"""The queue on a real two-node Ray cluster (both nodes on 127.0.0.1): runs from two workspaces spread over
both nodes, and every model comes back to its owner's workspace."""
import json
import shutil
import subprocess
import sys

import pytest

from core import workspace
from core.model import registry
from tests.support import ROOT
from tests.support.cluster import RUNS_PER_WORKSPACE, two_nodes

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("ray") is None, reason="Ray's command line is not installed")]


def test_four_runs_from_two_workspaces_train_on_both_nodes_into_their_own_workspaces(studio):
    with two_nodes() as env:
        driver = subprocess.run([sys.executable, "-m", "tests.support.cluster"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=420)
    assert driver.returncode == 0, driver.stderr[-3000:]
    report = json.loads(driver.stdout.strip().splitlines()[-1])
    assert [r["status"] for r in report["runs"]] == ["done"] * 2 * RUNS_PER_WORKSPACE, report
    assert len(set(report["nodes"])) == 2, report["nodes"]  # both nodes trained
    for run in report["runs"]:
        mine, other = workspace.named(run["workspace"]), workspace.named({"north": "south"}.get(run["workspace"],
                                                                                                 "north"))
        assert registry.resolve(run["model"], mine.models).path.parent == mine.models
        assert run["model"] not in {i.name for i in registry.list_models(other.models)}
