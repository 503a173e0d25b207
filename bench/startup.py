"""Dashboard start and page switches, measured in Debian's Chromium through Playwright.

start: from `streamlit run` (process start) to the Overview's title painted in the browser.
switch: a click in the sidebar navigation to the next page's title painted, with the model and
data already cached (each page visited once first). Usage: python -m bench.startup [ROUNDS]  (default 3)
"""
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from tests.support.browser import launch, streamlit_server, wait_until_idle

PAGES = [("Explore data", "Explore data"), ("Train", "Train a CNN"), ("Evaluate", "Evaluate a model"),
         ("Predict", "Predict"), ("Overview", "CNN Studio")]


def main() -> int:
    from playwright.sync_api import sync_playwright

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto("about:blank")
        starts = []
        for _ in range(rounds):
            started = time.perf_counter()
            with streamlit_server() as (url, _, healthy):
                page.goto(url)
                page.get_by_role("heading", name="CNN Studio").first.wait_for(timeout=60000)
                painted = time.perf_counter() - started
                starts.append((healthy, painted))
                wait_until_idle(page)
                for link, _ in PAGES:  # warm every cache once
                    page.get_by_test_id("stSidebarNav").get_by_text(link, exact=True).click()
                    wait_until_idle(page)
                switches = []
                for _ in range(2):
                    for link, title in PAGES:
                        began = time.perf_counter()
                        page.get_by_test_id("stSidebarNav").get_by_text(link, exact=True).click()
                        page.get_by_role("heading", name=title).first.wait_for(timeout=30000)
                        switches.append((link, time.perf_counter() - began))
                        wait_until_idle(page)
        browser.close()
    print(f"dashboard start over {rounds} round(s), server process start -> ...")
    for number, (healthy, painted) in enumerate(starts, 1):
        print(f"  round {number}: server healthy {healthy:.2f} s, Overview painted {painted:.2f} s")
    print(f"  median Overview painted {statistics.median(p for _, p in starts):.2f} s   target <= 3 s")
    times = [s for _, s in switches]
    print(f"page switch (cached), {len(times)} switches in the last round: median {statistics.median(times):.3f} s, "
          f"max {max(times):.3f} s   target <= 0.5 s")
    for link in dict(switches):
        print(f"  to {link:13} {statistics.median(s for target, s in switches if target == link):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
