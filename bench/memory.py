"""Memory of a real dashboard server: resident size after the model is loaded, then after 500
predictions made through the Predict page (uploads from a real browser session), on 127.0.0.1.
Usage: python -m bench.memory [PREDICTIONS]   (default 500, in uploads of 10 images)
"""
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent

from tests.support.browser import launch, rss_mb, streamlit_server, wait_until_idle


def digit_files(folder: Path, count: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        image = Image.new("RGB", (200, 200), "white")
        ImageDraw.Draw(image).line([(50, 40), (150, 40 + rng.integers(-10, 10)), (90 + rng.integers(-20, 20), 170)],
                                   fill="black", width=int(rng.integers(10, 20)))
        path = folder / f"digit_{i}.png"
        image.save(path)
        paths.append(str(path))
    return paths


def main() -> int:
    import tempfile

    from playwright.sync_api import sync_playwright

    total = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    files = digit_files(Path(tempfile.mkdtemp(prefix="bench-memory-")), 10)
    with streamlit_server() as (url, process, _), sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/predict")
        wait_until_idle(page)
        page.get_by_role("tab", name="Upload images").click()
        uploader = page.locator('input[type="file"]').last
        uploader.set_input_files(files)
        page.wait_for_selector("text=digit_9.png", timeout=60000)
        wait_until_idle(page)
        loaded = rss_mb(process.pid)
        started = time.perf_counter()
        done = 10
        while done < total:
            # New files join the ones already uploaded, so each round starts a fresh set, as a person
            # trying one batch after another would; otherwise round n would predict 10·n images.
            page.get_by_role("button", name="Remove all images").click()
            page.wait_for_selector("text=digit_9.png", state="detached", timeout=60000)
            wait_until_idle(page)
            uploader = page.locator('input[type="file"]').last
            uploader.set_input_files(files)
            page.wait_for_selector("text=digit_9.png", timeout=60000)
            wait_until_idle(page)
            shown = page.get_by_text("digit_0.png", exact=True).count()
            if shown != 2:  # the uploader's file list and the gallery caption
                sys.exit(f"expected the 10 new images once, found digit_0.png {shown} times")
            done += 10
        after = rss_mb(process.pid)
        browser.close()
    print(f"server resident size after loading the model and 10 predictions: {loaded:.0f} MB")
    print(f"after {done} predictions through the Predict page ({time.perf_counter() - started:.0f} s): {after:.0f} MB")
    print(f"growth {after - loaded:+.0f} MB   target < 50 MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
