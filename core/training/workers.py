"""Warm training workers on Ray: TensorFlow imported and MNIST loaded once, then run after run.

A worker is a Ray actor: a process of its own, on this machine or on any machine of the cluster. It trains
one run at a time with the same `train()` as `python -m core train`, writing the run's events into the
run's folder and its model into the registry of the run's workspace. Those folders are on a disk every
node sees (this machine's, or a shared folder mounted at the same path on each node); the worker is
given the submitter's locations (`config.locations()`) with each run.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import resource
import threading
import traceback
from pathlib import Path

import ray

from core import config, runtime
from core.data import specs
from core.errors import StudioError
from core.model.presets import get_preset, presets_for
from core.training import events, runs
from core.training.config import TrainConfig

NICENESS = 10
REHEARSAL_SAMPLES = 512


@functools.lru_cache(maxsize=2)
def _built_in_digits(val_fraction: float):
    return specs.load("mnist", val_fraction=val_fraction)


def load_warm(spec: str, val_fraction: float = 0.1):
    """`specs.load`, with MNIST kept in memory from one run to the next (it does not change on disk)."""
    return _built_in_digits(val_fraction) if spec == "mnist" else specs.load(spec, val_fraction=val_fraction)


def rehearse() -> None:
    """One small fit of the first digit preset, on 512 digits, saving nothing. A process's first fit pays for
    setting up TensorFlow's kernels and Keras' first trace of a training step (about a second here); a warm worker
    pays it before its first run, not the first person whose run it takes."""
    from core.training import recipe, scratch  # loads TensorFlow

    data = load_warm("mnist")
    small = dataclasses.replace(data, test=specs.subset(data.test, REHEARSAL_SAMPLES))
    cfg = TrainConfig(dataset="mnist", preset=presets_for(data.kind)[0], epochs=1, limit=REHEARSAL_SAMPLES).ready()
    scratch.fit(cfg, get_preset(cfg.preset), small, specs.subset(data.train, REHEARSAL_SAMPLES),
                specs.subset(data.val, REHEARSAL_SAMPLES), lambda event: None, lambda: False,
                recipe.make_strategy(cfg.strategy))


def memory_mb() -> float:
    """This process's resident size now."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 1e6


@ray.remote(num_cpus=1, max_restarts=0, max_concurrency=2)  # a second thread answers memory_mb while training
class Worker:
    def __init__(self):
        # TensorFlow's own thread pools use every core: a run alone trains at full speed, and two side by
        # side share the cores as the kernel schedules them. Training is batch work: at a lower priority it
        # takes the cores only while the server is not answering a visitor.
        os.nice(NICENESS)
        runtime.import_tensorflow_quietly()
        self.node = f"{os.uname().nodename}/{ray.get_runtime_context().get_node_id()[:8]}"
        # Warming and training take turns: both set Keras' global seed and dtype policy, and a run that comes
        # while the worker still warms waits the few seconds that takes.
        self._turn = threading.Lock()

    def warm(self, locations: dict[str, str]) -> str:
        """Load what most runs need, before the first one asks: MNIST, a rehearsed fit and the backbone's weights."""
        from core.model import lite0  # loads TensorFlow

        with self._turn:
            os.environ.update(locations)
            try:
                load_warm("mnist")
                rehearse()
                lite0.converted_weights()
            except StudioError:
                pass  # not on this node: a run that needs it says so itself
        return self.node

    def train(self, run_dir: str, cfg: dict, locations: dict[str, str]) -> dict:
        """Train one run; always ends its event log with done, failed or cancelled. Returns how it went."""
        run_dir = Path(run_dir)
        log = runs.EventLog(run_dir)
        with self._turn:
            os.environ.update(locations)  # one run at a time here, so the process's locations are this run's
            outcome = self._train(TrainConfig(**cfg), run_dir, log)
        return {"outcome": outcome, "node": self.node, "memory_mb": memory_mb()}

    def _train(self, cfg: TrainConfig, run_dir: Path, log: runs.EventLog) -> str:
        from core.training.train import train  # loads TensorFlow

        try:
            info = train(cfg.ready(), log.emit, runs.cancel_requested(run_dir), run_id=run_dir.name, load=load_warm)
        except StudioError as exc:
            log.emit(events.Failed(str(exc)))
            return "failed"
        except Exception as exc:  # noqa: BLE001 - a run must always end with an event, and the worker live on
            (run_dir / "output.log").write_text(traceback.format_exc())
            reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "an unexpected error"
            log.emit(events.Failed(f"Training failed: {reason}"))
            return "failed"
        return "done" if info else "cancelled"

    def memory_mb(self) -> float:
        return memory_mb()

    def pid(self) -> int:
        return os.getpid()


def connect() -> None:
    """Join `STUDIO_RAY_ADDRESS`, or start a local Ray on 127.0.0.1 (once per process): a Ray of our own,
    never one that something else started on this machine ("local")."""
    if ray.is_initialized():
        return
    env = {"env_vars": {"PYTHONPATH": str(config.PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}}
    address = config.ray_address()
    if address:
        ray.init(address=address, runtime_env=env, log_to_driver=False)
    else:
        ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False, runtime_env=env,
                 log_to_driver=False, num_cpus=max(config.training_slots(), os.cpu_count() or 1))
