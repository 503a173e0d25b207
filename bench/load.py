"""A bounded load test: 10 concurrent Chromium sessions on one dashboard server on 127.0.0.1.

Each session opens the Predict page and uploads a digit picture ROUNDS times (a 7, then a 1, ...),
checking the answer each time. Reports p50/p95 response times, errors and the server's memory
before and after. Usage: python -m bench.load [SESSIONS] [ROUNDS]   (default 10 sessions x 5 rounds)
"""
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from tests.support.badfiles import digit_picture
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, rss_mb, streamlit_server

DIGITS = ["7", "1"]


async def session(browser, url: str, files: dict, rounds: int, timings: list, wrong: list) -> None:
    page = await browser.new_page(viewport={"width": 1300, "height": 1000})
    await page.goto(f"{url}/predict")
    await page.get_by_role("tab", name="Upload images").click()
    uploader = page.locator('input[type="file"]').last
    for number in range(rounds):
        digit = DIGITS[number % len(DIGITS)]
        began = time.perf_counter()
        await uploader.set_input_files([str(files[digit])])
        card = page.locator(f'[data-testid="stMain"] :text("{files[digit].name}")').first
        await card.wait_for(timeout=120000)
        answer = page.locator('[data-testid="stMain"] strong').filter(has_text=digit).first
        try:
            await answer.wait_for(timeout=60000)
        except Exception:  # noqa: BLE001 - a wrong or missing answer is what we count
            wrong.append(digit)
        timings.append(time.perf_counter() - began)
        # New files join the old ones; remove them, so the next answer cannot be read off an old card.
        await page.get_by_role("button", name="Remove all images").click()
        await card.wait_for(state="detached", timeout=120000)
        uploader = page.locator('input[type="file"]').last
    await page.close()


async def run(sessions: int, rounds: int) -> None:
    from playwright.async_api import async_playwright

    folder = Path(tempfile.mkdtemp(prefix="bench-load-"))
    files = {}
    for digit in DIGITS:
        path = folder / f"digit_{digit}_{'seven' if digit == '7' else 'one'}.png"
        digit_picture(200, text_digit=digit).save(path)
        files[digit] = path
    with streamlit_server() as (url, process, _):
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            warm = await browser.new_page()
            await warm.goto(f"{url}/predict")
            await warm.get_by_text("classes · input").first.wait_for(timeout=120000)  # the model is loaded
            await asyncio.sleep(2)
            before = rss_mb(process.pid)
            timings, wrong = [], []
            started = time.perf_counter()
            await asyncio.gather(*(session(browser, url, files, rounds, timings, wrong) for _ in range(sessions)))
            elapsed = time.perf_counter() - started
            after = rss_mb(process.pid)
            await browser.close()
    timings.sort()
    print(f"{sessions} concurrent browser sessions x {rounds} uploads on one server, {elapsed:.0f} s in all")
    print(f"  response time (upload -> answer shown): p50 {statistics.median(timings):.2f} s, "
          f"p95 {timings[int(0.95 * (len(timings) - 1))]:.2f} s, max {timings[-1]:.2f} s")
    print(f"  answers: {len(timings) - len(wrong)} right, {len(wrong)} wrong or missing")
    print(f"  server memory: {before:.0f} MB before, {after:.0f} MB after ({after - before:+.0f} MB)")


def main() -> int:
    sessions = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    asyncio.run(run(sessions, rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
