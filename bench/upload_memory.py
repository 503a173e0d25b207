"""Memory of a real dashboard server while a person uploads very large photos to the Predict page.

Eight 8900×8900 JPEG photos (camera-like noise and gradients, so they are as heavy to decode as real
ones) are uploaded one after another to the shipped cat/dog model in a real Chromium session on
127.0.0.1. The server's resident size is sampled every 0.2 s throughout; then "Remove all images"
is pressed and the size is read again once it settles. All that, twice.
Usage: python -m bench.upload_memory [UPLOADS]   (default 8; target: peak < 1,600 MB, back within 100 MB)
"""
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tests.support.browser import launch, rss_mb, streamlit_server, wait_until_idle

SIDE = 8900
ROUNDS = 2


def camera_like_jpeg(path: Path, seed: int) -> None:
    """Smooth colour fields plus sensor-like grain: compresses like a real photo (tens of MB), not like a flat one."""
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).resize((SIDE, SIDE),
                                                                                          Image.Resampling.BICUBIC)
    grain = Image.fromarray(rng.integers(0, 256, (SIDE // 4, SIDE // 4, 3), dtype=np.uint8)).resize(
        (SIDE, SIDE), Image.Resampling.NEAREST)
    Image.blend(coarse, grain, 0.12).save(path, quality=88)


def select_model(page, name: str) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_test_id("stSelectbox").nth(1).click()
    page.get_by_role("option", name=name).first.click()
    wait_until_idle(page)


def main() -> int:
    from playwright.sync_api import sync_playwright

    uploads = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    folder = Path(tempfile.mkdtemp(prefix="bench-upload-memory-"))
    files = []
    for i in range(uploads):
        files.append(folder / f"huge_{i}.jpg")
        camera_like_jpeg(files[-1], i)
    megabytes = sum(f.stat().st_size for f in files) / 1e6
    with streamlit_server() as (url, process, _), sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/predict")
        wait_until_idle(page)
        select_model(page, "catsdogs")
        page.wait_for_selector("text=Upload photos of", timeout=120000)
        wait_until_idle(page)
        time.sleep(2)
        start = rss_mb(process.pid)
        samples, sampling = [], True

        def sample():
            while sampling:
                samples.append(rss_mb(process.pid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        shown, after_each = [], []
        for _ in range(ROUNDS):  # a second round tells memory kept for good from memory kept once
            for path in files:  # one upload after another, each joining those before it
                page.locator('input[type="file"]').last.set_input_files(str(path))
                page.wait_for_selector(f"text={path.name}", timeout=300000)
                wait_until_idle(page, timeout=300)
            shown.append(rss_mb(process.pid))
            page.get_by_role("button", name="Remove all images").click()
            page.wait_for_selector(f"text={files[0].name}", state="detached", timeout=60000)
            wait_until_idle(page)
            time.sleep(5)
            after_each.append(rss_mb(process.pid))
        seconds = time.perf_counter() - started
        sampling = False
        sampler.join()
        browser.close()
    peak = max(samples + shown)
    after = after_each[-1]
    print(f"{ROUNDS} rounds of {uploads} uploads of {SIDE}×{SIDE} JPEG ({megabytes:.0f} MB a round) to the "
          f"catsdogs model, answered in {seconds:.0f} s")
    print(f"server resident size: start {start:.0f} MB · peak {peak:.0f} MB · with all {uploads} shown "
          f"{' / '.join(f'{v:.0f}' for v in shown)} MB · after 'Remove all images' "
          f"{' / '.join(f'{v:.0f}' for v in after_each)} MB")
    print(f"peak {'under' if peak < 1600 else 'OVER'} 1,600 MB; back within {after - start:+.0f} MB of the start "
          f"({'within' if after - start <= 100 else 'OVER'} 100 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
