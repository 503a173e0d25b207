"""Look inside, input to painted page, on this machine: the model call, the drawing, and the page in Chromium.

Inputs as people send them: canvas drawings (280×280 RGBA, varied strokes, `core.data.digit_sets` set a)
for the digit and garment models, real photos for the photo model (FLOWERS_DIR or OTHERS_DIR when set,
else generated ones), each prepared by the model's own input path first.
- model call: `Inside.look` (one multi-output call returning every stage) plus the answer line;
- drawing: every stage's view and the strip's one HTML block, as the page builds them (`ui.charts.stage_views`,
  `ui.stage_strip.strip_html`; its pictures are PNG data URIs in it);
- in Chromium: from a new test image number typed on the page (a photo uploaded for the photo model) to the
  first frame painted with the new input's caption in, no element left stale and every picture decoded, timed
  in the page itself, on a real server with the shipped models, once the server has finished starting: its two
  warm training workers load TensorFlow and rehearse a fit in the first half minute, which took a core from the
  page (40–90 ms a change) in the runs up to 2026-12-07.
Usage: python -m bench.inside [CALLS]   (default 60; the browser part 30 changes per model)
"""
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

from bench.latency import percentiles

ROOT = Path(__file__).resolve().parent.parent
MODELS = ["mnist", "fashion", "catsdogs", "mnist-seed"]  # mnist-seed: trained here for 1 epoch on 6,000 digits


def drawings(count: int) -> list:
    from core.data import digit_sets

    return [digit_sets.make("canvas", i, None, None, None, 1_000_000)[0] for i in range(count)]


def photo_files(count: int) -> list[Path]:
    from bench.few_shot import class_files

    for variable in ("FLOWERS_DIR", "OTHERS_DIR"):
        if os.environ.get(variable) and Path(os.environ[variable]).is_dir():
            files = [f for files in class_files(Path(os.environ[variable])).values() for f in files]
            return files[::max(1, len(files) // count)][:count]
    from tests.support import make_photo

    folder = ROOT / "bench" / "out" / "inside-photos"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        make_photo(i % 2, 320, seed=i).save(folder / f"generated-{i}.jpg")
    return sorted(folder.glob("generated-*.jpg"))[:count]


def mnist_seed_model(models: Path) -> Path:
    """A 1-epoch mnist-seed in a scratch registry: the preset the issue names, trained the studio's way."""
    if not (models / "mnist-seed" / "meta.json").is_file():
        from core.training.config import TrainConfig
        from core.training.train import train

        saved = os.environ.get("STUDIO_MODELS_DIR")
        os.environ["STUDIO_MODELS_DIR"] = str(models)
        try:
            train(TrainConfig(dataset="mnist", preset="mnist-seed", epochs=1, limit=6000, name="mnist-seed").ready())
        finally:
            if saved is None:
                del os.environ["STUDIO_MODELS_DIR"]
            else:
                os.environ["STUDIO_MODELS_DIR"] = saved
    return models


def server_side(name: str, root: Path | None, calls: int) -> dict:
    from core.images import read_image_file
    from core.inference.inside import Inside
    from core.inference.predictor import Predictor
    from ui import charts, stage_strip

    predictor = Predictor.from_registry(name, fast_single=True, root=root)
    inside = Inside(predictor.model)
    pictures = [read_image_file(f) for f in photo_files(calls)] if predictor.kind == "photos" else drawings(calls)
    inputs = []
    for picture in pictures:
        try:
            inputs.append(predictor.model_input(picture, is_sketch=predictor.kind != "photos"))
        except Exception:  # a drawing the garment input finds empty: not part of what is timed
            continue
    inside.look(inputs[0])
    predictor.predict_inputs(inputs[0][None])
    model_times, drawing_times, sizes = [], [], []
    for model_input in inputs:
        started = time.perf_counter()
        look = inside.look(model_input)
        predictor.predict_inputs(model_input[None])
        middle = time.perf_counter()
        views = charts.stage_views(inside.stages, look.outputs, predictor.class_names)
        sizes.append(len(stage_strip.strip_html(inside.stages, views)))
        finished = time.perf_counter()
        model_times.append(middle - started)
        drawing_times.append(finished - middle)
    return {"stages": len(inside.stages), "inputs": len(inputs), "model": model_times, "drawing": drawing_times,
            "total": [a + b for a, b in zip(model_times, drawing_times)], "bytes": float(np.mean(sizes))}


# Timed in the page, frame by frame, from the key press or the file's arrival (the event's own time stamp) to
# the first frame after the new input's caption is in, nothing is stale and every picture is decoded: Playwright's
# own waits poll at 20, 100 and 500 ms steps, and would add those steps to what is measured.
WATCH = """sign => { window.painted = new Promise(resolve => {
  let start = performance.now();
  for (const kind of ['keydown', 'change']) {
    document.addEventListener(kind, event => { start = event.timeStamp; }, {once: true, capture: true});
  }
  const done = () => document.body.textContent.includes(sign) && !document.querySelector('[data-stale="true"]')
    && [...document.images].every(image => image.complete);
  const frame = () => done() ? requestAnimationFrame(() => resolve(performance.now() - start))
                             : requestAnimationFrame(frame);
  requestAnimationFrame(frame);
}); }"""


def busy_seconds() -> float:
    """CPU seconds the machine has spent busy since it booted (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # less idle and waiting for disk


def wait_until_quiet(limit: float = 180, below: float = 0.2, window: float = 2.0) -> float:
    """Wait until the machine uses less than `below` of a core over `window` seconds (at most `limit` seconds);
    returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        before = busy_seconds()
        time.sleep(window)
        if (busy_seconds() - before) / window < below:
            break
    return time.perf_counter() - started


def in_chromium(name: str, env: dict, changes: int) -> list[float]:
    """Seconds from a new input (a test image number typed for a digit model, a photo uploaded for the photo
    model) to the page painted with nothing left stale, `changes` times; the first change is not counted."""
    from playwright.sync_api import sync_playwright

    from tests.support.browser import launch, streamlit_server, wait_until_idle

    samples = []
    with streamlit_server(env) as (url, _, _), sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/inside")
        wait_until_idle(page)
        page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').last.click()
        page.get_by_role("option").filter(has_text=name).first.click()
        wait_until_idle(page)
        files = photo_files(changes + 1)
        print(f"  waited {wait_until_quiet():.0f} s for the server to finish starting", flush=True)
        if name == "catsdogs":
            page.get_by_role("radio", name="Upload").or_(page.get_by_role("button", name="Upload")).first.click()
            wait_until_idle(page)
        for number in range(changes + 1):
            if name == "catsdogs":
                page.evaluate(WATCH, f"What the model sees: {files[number].name}")
                page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(files[number]))
            else:
                field = page.get_by_role("spinbutton", name="Test image number")
                field.fill(str(number + 1))
                page.evaluate(WATCH, f"test image {number + 1} ")
                field.press("Enter")
            milliseconds = page.evaluate("window.painted")
            if number:
                samples.append(milliseconds / 1000)
        browser.close()
    return samples


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    scratch = ROOT / "bench" / "out" / "inside-models"
    scratch.mkdir(parents=True, exist_ok=True)
    mnist_seed_model(scratch)
    print(f"Look inside, {calls} inputs per model (2 cores, warm)")
    for name in MODELS:
        root = scratch if name == "mnist-seed" else None
        result = server_side(name, root, calls)
        print(f"{name:11s} {result['stages']:2d} stages, {result['inputs']} inputs, "
              f"{result['bytes'] / 1e3:.0f} KB sent")
        for part in ("model", "drawing", "total"):
            print(f"  {part:8s} {percentiles(result[part])}")
    env = {"MNIST_DIR": os.environ.get("MNIST_DIR", "")}
    for name in ("mnist", "catsdogs"):
        samples = in_chromium(name, env, 30)
        print(f"{name:11s} in Chromium, test image changed → page painted: {percentiles(samples)}")


if __name__ == "__main__":
    main()
