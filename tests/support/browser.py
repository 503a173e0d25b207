"""Helpers for real-browser checks: a Streamlit server on 127.0.0.1 and Debian's Chromium via Playwright."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SAVE = os.environ.get("SAVE_SCREENSHOTS") == "1"  # write the README's screenshots into docs/
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 # A webcam that is a test pattern, allowed without a prompt: st.camera_input works headless.
                 "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def streamlit_server(env: dict | None = None, timeout: float = 90):
    """Start `streamlit run streamlit_app.py` on a free port; yield (base url, process, seconds to healthy)."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.time() > deadline or process.poll() is not None:
                    raise RuntimeError("the Streamlit server did not start") from None
                time.sleep(0.2)
        yield url, process, time.perf_counter() - started
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_until_idle(page, timeout: float = 120) -> None:
    """Wait until the page has rendered: a title, no spinner, and nothing changing for a second."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout * 1000)
    deadline = time.time() + timeout
    last, quiet_since = None, time.time()
    while time.time() < deadline:
        busy = page.locator('[data-testid*="Spinner"], [data-testid="stStatusWidget"]').count() > 0
        snapshot = page.evaluate("document.body.innerText.length + ':' + document.querySelectorAll('*').length")
        if busy or snapshot != last:
            last, quiet_since = snapshot, time.time()
        elif time.time() - quiet_since > 1.0:
            return
        time.sleep(0.1)


def visible_canvas(page, timeout: float = 60):
    """The drawing canvas on screen (the component's script loads after the page)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        canvases = page.locator("canvas")
        boxes = [(canvases.nth(i), canvases.nth(i).bounding_box()) for i in range(canvases.count())]
        shown = [(c, b) for c, b in boxes if b and b["width"] > 100]
        if shown:
            time.sleep(0.5)  # let Fabric.js attach its mouse handlers
            return shown[-1]
        time.sleep(0.2)
    raise AssertionError("no drawing canvas appeared")


def draw_strokes(page, strokes) -> None:
    """Draw polylines (coordinates relative to the visible canvas) with the mouse."""
    _, box = visible_canvas(page)
    for stroke in strokes:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x, box["y"] + y)
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=12)
        page.mouse.up()


def exceptions_on(page) -> int:
    return page.locator('[data-testid="stException"]').count()
