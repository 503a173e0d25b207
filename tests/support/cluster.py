"""A two-node Ray cluster on 127.0.0.1 for the queue's cluster test, and the driver that trains on it.

`two_nodes()` starts a head and a second node (`ray start --block`, one CPU each, a temporary folder of
their own, so no other Ray on the machine is touched). `python -m tests.support.cluster` is the studio's
side: it joins the cluster through `STUDIO_RAY_ADDRESS`, queues 4 tiny runs from two workspaces, and
prints one JSON line saying where each run trained and where its model was saved.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

from tests.support.browser import free_port

RUNS_PER_WORKSPACE = 2


@contextmanager
def two_nodes():
    """Yield the environment that joins a fresh two-node cluster (address and its auth token)."""
    port, folder = free_port(), tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must be short
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}
    ray = [shutil.which("ray") or "ray", "start", "--block", "--num-cpus=1", "--node-ip-address=127.0.0.1",
           "--disable-usage-stats"]
    nodes = [subprocess.Popen([*ray, "--head", f"--port={port}", "--include-dashboard=false",
                               f"--temp-dir={folder}"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        wait_for_nodes(f"127.0.0.1:{port}", 1, env)
        nodes.append(subprocess.Popen([*ray, f"--address=127.0.0.1:{port}"], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        wait_for_nodes(f"127.0.0.1:{port}", 2, env)
        yield {**env, "STUDIO_RAY_ADDRESS": f"127.0.0.1:{port}"}
    finally:
        for node in reversed(nodes):
            node.terminate()
            try:
                node.wait(30)
            except subprocess.TimeoutExpired:
                node.kill()
        shutil.rmtree(folder, ignore_errors=True)


def wait_for_nodes(address: str, count: int, env: dict, timeout: float = 90) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = subprocess.run([shutil.which("ray") or "ray", "status", f"--address={address}"], env=env,
                                capture_output=True, text=True)
        if status.returncode == 0 and status.stdout.count(" node_") >= count:
            return
        time.sleep(1)
    raise RuntimeError(f"the Ray cluster at {address} did not reach {count} nodes")


def main() -> int:
    from core import workspace
    from core.training import queue, runs
    from core.training.config import TrainConfig
    from core.training.dispatcher import Dispatcher

    dispatcher = Dispatcher(slots=2).start()
    submitted = []
    for name in ("north", "south"):
        for number in range(RUNS_PER_WORKSPACE):
            cfg = TrainConfig(dataset="mnist", preset="mnist-seed", epochs=1, batch_size=32, limit=300,
                              steps_per_execution=1, name=f"{name}-{number}")
            submitted.append((name, queue.submit(cfg, workspace.named(name))))
    deadline = time.time() + 300
    while time.time() < deadline and any(runs.get_run(r.id, r.dir.parent).status in runs.ACTIVE
                                         for _, r in submitted):
        time.sleep(0.5)
    report = []
    for name, run in submitted:
        run = runs.get_run(run.id, run.dir.parent)
        report.append({"workspace": name, "status": run.status, "detail": run.detail, "model": run.model})
    print(json.dumps({"runs": report, "nodes": dispatcher.nodes}), flush=True)
    dispatcher.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
