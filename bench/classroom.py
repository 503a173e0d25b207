"""A class of N visitors on one real studio server (127.0.0.1), over Streamlit's own protocol.

Each visitor is a light client (`bench.streamlit_client`) with a workspace of its own. It opens Predict,
uploads 3 handwritten digits one after another, each joining the ones before as in a browser (real MNIST
test digits, scanned-looking 280×280 PNGs), switches to the cat/dog model and uploads 2 camera-sized JPEGs
(1600×1200) to a fresh uploader. TRAINERS of them first submit
a small run on the Train page (1 epoch, 2,000 MNIST samples). Before the class comes in, the same 1-epoch
MNIST run goes three times in turn as whole processes (the seeds' plain Keras script, the studio's cold
`python -m core train`) and through the queue on a warm worker.

Reported: input-to-answer p50/p99 (upload start to the rerun that shows the answer), the server's resident
memory at its peak and after the visitors left (plus the workers'), each queued run's wait and training
time and where its model was saved. Every loop is bounded in count and time.
A person takes 2–4 s between two uploads (THINK; `--stress` sets it to 0).
Usage: python -m bench.classroom [VISITORS] [TRAINERS] [--stress]   (default 30 and 10)
"""
from __future__ import annotations

import asyncio
import io
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from bench._mnist import mnist_folder, read_idx
from bench.streamlit_client import Visitor
from core import workspace
from core.model import registry
from core.training import runs
from tests.support.browser import ROOT, rss_mb, streamlit_server

DIGITS, PHOTOS = 3, 2
THINK = (2.0, 4.0)  # seconds a person takes between two uploads (finding the next file); 0 0 for a stress test
SMALL_RUN = {"Epochs": 1, "Use at most this many training samples": 2000}
RUN_TIMEOUT = 900
PAIRS = 3  # rounds of the one-epoch comparison


def scanned_digit(image: np.ndarray) -> bytes:
    """An MNIST test digit as a scan: dark ink on light paper, 280×280, a little grain."""
    rng = np.random.default_rng(int(image.sum()))
    big = np.asarray(Image.fromarray(255 - image).resize((280, 280), Image.Resampling.BICUBIC), np.float32)
    paper = np.clip(big * 0.85 + 30 + rng.normal(0, 6, big.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(paper).save(buffer, "PNG")
    return buffer.getvalue()


def camera_photo(seed: int) -> bytes:
    """A 1600×1200 JPEG as heavy to decode as a phone photo: colour fields and sensor grain."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (9, 12, 3), dtype=np.uint8)).resize((1600, 1200),
                                                                                        Image.Resampling.BICUBIC)
    grain = Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)).resize((1600, 1200))
    buffer = io.BytesIO()
    Image.blend(coarse, grain, 0.1).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


class Sampler:
    """The resident memory of the server, and of everything it started (the Ray workers), every 0.2 s."""

    def __init__(self, pid: int):
        self.pid, self.server, self.total, self._stop = pid, [], [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(0.2):
            self.server.append(rss_mb(self.pid))
            self.total.append(sum(rss_mb(pid) for pid in [self.pid, *descendants(self.pid)]))

    def stop(self):
        self._stop.set()
        self._thread.join()


def descendants(pid: int) -> list[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()
    children = [int(p) for p in found]
    return children + [grandchild for child in children for grandchild in descendants(child)]


async def submit_run(visitor: Visitor) -> None:
    """The Train page's form, as a person fills it: 1 epoch, 2,000 samples, Start training."""
    screen = await visitor.run("train")
    visitor.slide(screen.find("Epochs"), SMALL_RUN["Epochs"])
    visitor.set(screen.find("Use at most"), int_value=SMALL_RUN["Use at most this many training samples"])
    visitor.press(screen.find("Start training"))
    await visitor.run("train")
    visitor.release_triggers()


ANSWER = re.compile(r"\d+%|not sure|neither|no digit|not a digit|doesn't look", re.IGNORECASE)


async def answer_time(visitor: Visitor, screen, name: str, data: bytes, pause: float, files: int) -> float:
    """After `pause` (the person finding the file), upload start to the end of the rerun that shows the
    answers of all `files` in the uploader, this one's included (a label with its share, or a refusal)."""
    await asyncio.sleep(pause)
    uploader = screen.find("Images")
    started = time.perf_counter()
    await visitor.upload(uploader, [(name, data)])
    screen = await visitor.run("predict", fragment=screen.fragments.get(uploader.id, ""))
    if sum(bool(ANSWER.search(text)) and not text.startswith("Looks like") for text in screen.texts) < files:
        raise AssertionError(f"no answer for {name}")
    return time.perf_counter() - started


async def one_visitor(url: str, trains: bool, digits, photos, record: dict, seed: int, think) -> None:
    visitor = Visitor(url, workspace.new().name)
    rng = random.Random(seed)
    record["workspace"] = visitor.workspace
    await visitor.connect()
    try:
        if trains:
            await submit_run(visitor)
        screen = await visitor.run("predict")
        for i, digit in enumerate(digits):
            seconds = await answer_time(visitor, screen, f"digit{i}.png", digit, rng.uniform(*think), i + 1)
            record.setdefault("answers", []).append(seconds)
            record.setdefault("when", []).append((seconds, f"digit {i + 1}", time.perf_counter()))
        model = screen.find("Model")
        visitor.set(model, string_value=next(o for o in model.options if o.startswith("catsdogs")))
        visitor.states.pop(screen.find("Images").id, None)
        screen = await visitor.run("predict")
        for i, photo in enumerate(photos):
            seconds = await answer_time(visitor, screen, f"photo{i}.jpg", photo, rng.uniform(*think), i + 1)
            record["answers"].append(seconds)
            record["when"].append((seconds, f"photo {i + 1}", time.perf_counter()))
        record["answered"] = True
    finally:
        await visitor.close()


async def first_visit(url: str) -> None:
    """One visitor on Predict with each shipped model, as the teacher would check the studio before class."""
    visitor = Visitor(url, workspace.new().name)
    await visitor.connect()
    screen = await visitor.run("predict")
    model = screen.find("Model")
    visitor.set(model, string_value=next(o for o in model.options if o.startswith("catsdogs")))
    await visitor.run("predict")
    await visitor.close()


def queued_run_seconds(url: str) -> dict:
    """The 1-epoch MNIST run (all 54,000 samples) through the queue on a warm worker: from its submission (its
    config written) to its saved model (the done event), by the run's own records; and from the press of Start
    training to this process seeing it done, polled every 0.1 s."""

    async def go():
        visitor = Visitor(url, workspace.new().name)
        await visitor.connect()
        screen = await visitor.run("train")
        visitor.slide(screen.find("Epochs"), 1)
        visitor.press(screen.find("Start training"))
        started = time.perf_counter()
        await visitor.run("train")
        await visitor.close()
        return visitor.workspace, started

    name, started = asyncio.run(go())
    run = wait_for_runs([workspace.named(name)], every=0.1)[0]
    if run.result is None:
        raise RuntimeError(f"the queued 1-epoch run ended {run.status}: {run.detail}")
    return {"seconds": run.result.time - run.launched,
            "pressed to seen done": time.perf_counter() - started,
            "accuracy": run.result.test_accuracy}


def wait_for_runs(places: list[workspace.Workspace], count: int = 1, every: float = 0.5) -> list[runs.Run]:
    deadline = time.time() + RUN_TIMEOUT
    while time.time() < deadline:
        found = [r for where in places for r in runs.list_runs(where.runs)]
        if len(found) >= count and all(r.status not in runs.ACTIVE for r in found):
            return found
        time.sleep(every)
    return [r for where in places for r in runs.list_runs(where.runs)]


def whole_process(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, timeout=RUN_TIMEOUT)
    return time.perf_counter() - started


def one_epoch_side_by_side(url: str, env: dict) -> dict:
    """The same 1-epoch MNIST run, PAIRS times in turn: the seeds' plain Keras script, the studio's cold
    `python -m core train`, and the queued run on a warm worker. Taken in turn, all three meet the machine in the
    same state (its speed drifts by up to 2× over minutes); the ratio is of the medians."""
    cold_train = [sys.executable, "-m", "core", "train", "--dataset", "mnist", "--preset", "mnist-seed", "--epochs",
                  "1"]
    seconds = {"seeds' plain Keras script": [], "studio, cold process": [], "queued on a warm worker": [],
               "queued, press to seen done": []}
    accuracy = []
    for _ in range(PAIRS):
        seconds["seeds' plain Keras script"].append(whole_process(
            [sys.executable, "-m", "bench.plain_keras_mnist", "1"], {**os.environ, **env}))
        seconds["studio, cold process"].append(whole_process(
            [*cold_train, "--workspace", workspace.new().name],  # in the bench's folder, never the checkout's models/
            {**os.environ, **env}))
        warm = queued_run_seconds(url)
        seconds["queued on a warm worker"].append(warm["seconds"])
        seconds["queued, press to seen done"].append(warm["pressed to seen done"])
        accuracy.append(warm["accuracy"])
    report = {what: [round(s, 1) for s in each] for what, each in seconds.items()}
    medians = {what: statistics.median(each) for what, each in seconds.items()}
    report["warm run test accuracy"] = accuracy
    report["plain over warm (medians)"] = round(medians["seeds' plain Keras script"]
                                                / medians["queued on a warm worker"], 2)
    return report


async def the_class(url: str, visitors: int, trainers: int, digits, photos, think) -> list[dict]:
    records = [{} for _ in range(visitors)]
    tasks = [one_visitor(url, i < trainers, digits[i], photos[i], records[i], i, think) for i in range(visitors)]
    outcomes = await asyncio.gather(*(asyncio.wait_for(t, RUN_TIMEOUT) for t in tasks), return_exceptions=True)
    for record, outcome in zip(records, outcomes):
        if isinstance(outcome, BaseException):
            record["error"] = f"{type(outcome).__name__}: {outcome}"[:200]
    return records


def main() -> int:
    numbers = [int(a) for a in sys.argv[1:] if a.isdigit()]
    visitors = numbers[0] if numbers else 30
    trainers = min(visitors, numbers[1] if len(numbers) > 1 else 10)
    think = (0.0, 0.0) if "--stress" in sys.argv else THINK
    folder = Path(tempfile.mkdtemp(prefix="bench-classroom-"))
    env = {"STUDIO_WORKSPACES_DIR": str(folder / "workspaces"), "STUDIO_QUEUE_DIR": str(folder / "queue"),
           "STUDIO_RUNS_DIR": str(folder / "runs"), "STUDIO_DATA_DIR": str(folder / "data"),
           "MNIST_DIR": str(mnist_folder())}
    os.environ.update(env)  # this process reads the runs and models the server writes
    test_images = read_idx("t10k-images-idx3-ubyte")
    digits = [[scanned_digit(test_images[v * DIGITS + i]) for i in range(DIGITS)] for v in range(visitors)]
    photos = [[camera_photo(v * PHOTOS + i) for i in range(PHOTOS)] for v in range(visitors)]

    with streamlit_server(env, timeout=180) as (url, process, _):
        asyncio.run(first_visit(url))  # the server's first page starts the dispatcher and its warm workers
        time.sleep(45)  # they import TensorFlow, load MNIST and rehearse a fit
        one_epoch = one_epoch_side_by_side(url, env)
        start_memory = rss_mb(process.pid)
        sampler = Sampler(process.pid)
        started = time.perf_counter()
        records = asyncio.run(the_class(url, visitors, trainers, digits, photos, think))
        class_seconds = time.perf_counter() - started
        trained = wait_for_runs([workspace.named(r["workspace"]) for r in records[:trainers] if "workspace" in r],
                                trainers)
        time.sleep(75)  # Streamlit frees a closed session's state a minute after it left (our config)
        after = rss_mb(process.pid)
        sampler.stop()
    answers = sorted(a for r in records for a in r.get("answers", []))
    report = {
        "visitors": visitors, "trainers": trainers, "think_s": think, "class_seconds": round(class_seconds, 1),
        "answers": len(answers), "errors": [r["error"] for r in records if "error" in r],
        "answer_p50_s": round(statistics.median(answers), 3) if answers else None,
        "answer_p99_s": round(float(np.percentile(answers, 99)), 3) if answers else None,
        # which answers were slowest, and how far into the class they came (seconds)
        "slowest_answers": [[round(s, 2), what, round(at - s - started, 1)] for s, what, at in
                            sorted((w for r in records for w in r.get("when", [])), reverse=True)[:6]],
        "server_mb": {"start": round(start_memory), "peak": round(max(sampler.server)), "after": round(after)},
        "server_and_workers_peak_mb": round(max(sampler.total)),
        "runs": [{"status": r.status, "wait_s": round(r.started - r.launched, 1),
                  "train_s": round((r.ended.time if r.ended else r.started) - r.started, 1),
                  "own_workspace": bool(r.model) and owned(r)} for r in trained],
        "one_epoch_mnist": one_epoch,
    }
    print(json.dumps(report, indent=2))
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "classroom.json").write_text(json.dumps(report, indent=2))
    return 0


def owned(run: runs.Run) -> bool:
    """Its model is in its own workspace's registry, and no other workspace holds a model this workspace trained.
    (Two runs that end in the same second give their models the same name, each in its own workspace: the name
    alone does not tell whose a model is; the command recorded in its meta does.)"""
    mine = runs.workspace_of(run)
    holders = [w for w in workspace.every() for info in registry.list_models(w.models)
               if info.name == run.model and info.path.parent == w.models
               and f"--workspace {mine.name}" in (info.meta.get("training_command") or "")]
    return holders == [mine] and registry.resolve(run.model, mine.models).available

if __name__ == "__main__":
    sys.exit(main())
