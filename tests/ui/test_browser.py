"""A real browser (Debian's Chromium through Playwright) against a real Streamlit server on 127.0.0.1.

Set SAVE_SCREENSHOTS=1 to write the page screenshots into docs/ (the README shows them); the
studio then uses the project's own data and models instead of the tiny test ones.
"""
import os
import re
import time
from pathlib import Path

import pytest

from tests.support import badfiles
from tests.support.browser import ROOT, draw_strokes, exceptions_on, launch, streamlit_server, wait_until_idle

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path("/usr/bin/chromium").exists() and "CHROMIUM" not in os.environ,
                                 reason="Debian's chromium is not installed (apt-get install chromium)")]
SAVE = os.environ.get("SAVE_SCREENSHOTS") == "1"
PAGES = [("", "overview"), ("eda", "eda"), ("train", "train"), ("evaluate", "evaluate"), ("predict", "predict")]


@pytest.fixture(scope="module")
def server_env(tmp_path_factory, tiny_mnist_dir, trained_digit_model):
    if SAVE:
        return {}
    import shutil

    root = tmp_path_factory.mktemp("browser-studio")
    shutil.copytree(trained_digit_model / "tiny", root / "models" / "mnist")
    return {"STUDIO_MODELS_DIR": str(root / "models"), "STUDIO_DATA_DIR": str(root / "data"),
            "STUDIO_RUNS_DIR": str(root / "runs"), "STUDIO_WORKSPACES_DIR": str(root / "workspaces"),
            "STUDIO_QUEUE_DIR": str(root / "queue"), "MNIST_DIR": str(tiny_mnist_dir)}


@pytest.fixture(scope="module")
def server(server_env):
    with streamlit_server(server_env) as (url, _, _):
        yield url


def test_a_deep_link_opened_first_after_start_gets_the_studio_navigation(server_env, browser):
    # With a pages/ folder, Streamlit's first run after a start is in its file-name navigation mode.
    with streamlit_server(server_env) as (url, _, _):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/predict")
        wait_until_idle(page)
        navigation = page.get_by_test_id("stSidebarNav").inner_text()
        assert "Explore data" in navigation and "streamlit app" not in navigation
        assert page.get_by_role("heading", name="Predict").count() >= 1 and exceptions_on(page) == 0
        page.close()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


def test_every_page_opens_without_an_exception(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1800 if SAVE else 1000})
    shots = ROOT / "docs" if SAVE else tmp_path
    for path, name in PAGES:
        page.goto(f"{server}/{path}")
        wait_until_idle(page)
        assert exceptions_on(page) == 0, name
        assert "Traceback" not in page.inner_text("body")
        page.screenshot(path=str(shots / f"{name}.png"))
    page.close()


def test_drawing_on_the_canvas_gives_a_prediction(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(f"{server}/predict")
    wait_until_idle(page)
    draw_strokes(page, [[(80, 60), (200, 60), (120, 230)]])  # a 7
    page.wait_for_selector("text=What the model sees (28×28)", timeout=60000)
    wait_until_idle(page)
    answer = page.locator('[data-testid="stMain"] h3').all_inner_texts() + \
        page.locator('[data-testid="stAlert"]').all_inner_texts()
    assert any(re.fullmatch(r"\d", a.strip()) or "Not sure" in a for a in answer), answer
    assert exceptions_on(page) == 0
    if SAVE:
        page.screenshot(path=str(ROOT / "docs" / "predict-canvas.png"))
    page.close()


def test_uploading_images_gives_a_gallery(server, browser, tmp_path):
    files = badfiles.write_all(tmp_path / "uploads")
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(f"{server}/predict")
    wait_until_idle(page)
    page.get_by_role("tab", name="Upload images").click()
    page.locator('input[type="file"]').last.set_input_files([str(files["seven.png"]), str(files["text.png"])])
    page.wait_for_selector("text=seven.png", timeout=60000)
    wait_until_idle(page)
    body = page.inner_text("body")
    assert "not an image" in body  # the text file gets its sentence
    assert exceptions_on(page) == 0 and "Traceback" not in body

    # A second batch replaces the first only after "Remove all images": new files join the old ones.
    page.get_by_role("button", name="Remove all images").click()
    page.wait_for_selector("text=seven.png", state="detached", timeout=60000)
    page.locator('input[type="file"]').last.set_input_files([str(files["seven.png"])])
    page.wait_for_selector("text=seven.png", timeout=60000)
    wait_until_idle(page)
    assert page.get_by_text("seven.png", exact=True).count() == 2  # the uploader's list and one gallery card
    assert "not an image" not in page.inner_text("body")
    page.close()


def set_sample_limit(page, value: str) -> None:
    field = page.get_by_label("Use at most this many training samples (0 = all)")
    if not field.is_visible():
        page.get_by_text("More", exact=True).click()  # the field sits in a collapsed expander
    field.fill(value)


def test_one_session_trains_while_another_predicts(server, browser):
    trainer = browser.new_context(viewport={"width": 1400, "height": 1400}).new_page()
    trainer.goto(f"{server}/train")
    wait_until_idle(trainer)
    set_sample_limit(trainer, "600")
    # 50 epochs: on the tiny set one takes 0.3 s, and the run must last long enough to be seen running.
    epochs = trainer.get_by_role("slider").first
    epochs.focus()
    epochs.press("End")
    assert trainer.get_by_test_id("stSliderThumbValue").first.inner_text() == "50"
    trainer.get_by_role("button", name="Start training").click()
    trainer.wait_for_selector("text=/Epoch \\d+\\/\\d+ · batch/", timeout=120000)

    # The run survives a switch to another page and back.
    trainer.get_by_test_id("stSidebarNav").get_by_text("Explore data", exact=True).click()
    wait_until_idle(trainer)
    trainer.get_by_test_id("stSidebarNav").get_by_text("Train", exact=True).click()
    trainer.wait_for_selector("text=/Run \\d{8}-\\d{6}/", timeout=60000)

    browsing = browser.new_page(viewport={"width": 1400, "height": 1000})  # a third session explores data
    browsing.goto(f"{server}/eda")
    wait_until_idle(browsing)
    assert exceptions_on(browsing) == 0 and "Label distribution" in browsing.inner_text("body")
    browsing.close()

    predictor = trainer.context.new_page()  # the same browser, so the same workspace
    predictor.set_viewport_size({"width": 1400, "height": 1100})
    predictor.goto(f"{server}/predict")
    wait_until_idle(predictor)
    started = time.perf_counter()
    draw_strokes(predictor, [[(80, 60), (200, 60), (120, 230)]])
    predictor.wait_for_selector("text=What the model sees (28×28)", timeout=60000)
    assert time.perf_counter() - started < 30  # stays responsive while the other session trains
    assert exceptions_on(predictor) == 0

    trainer.wait_for_selector("text=Finished", timeout=300000)
    model_name = re.search(r"model (\S+) saved", trainer.inner_text("body")).group(1)
    assert exceptions_on(trainer) == 0

    # The new model is in the sidebar at once, on every page.
    predictor.get_by_test_id("stSidebarNav").get_by_text("Evaluate", exact=True).click()
    wait_until_idle(predictor)
    predictor.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").nth(1).click()
    assert predictor.get_by_role("option", name=re.compile(re.escape(model_name))).count() == 1
    predictor.keyboard.press("Escape")

    # A second run can be cancelled; it saves nothing.
    set_sample_limit(trainer, "0")
    trainer.get_by_role("slider").first.focus()
    trainer.keyboard.press("End")  # 50 epochs: long enough to cancel
    trainer.get_by_role("button", name="Start training").click()
    trainer.wait_for_selector("text=/Epoch \\d+\\/50 · batch/", timeout=120000)
    trainer.get_by_role("button", name="Cancel run").click()
    trainer.wait_for_selector("text=Cancelled: no model was saved.", timeout=120000)
    assert exceptions_on(trainer) == 0
    trainer.context.close()


def test_build_a_dataset_in_the_browser_train_it_through_a_reload_and_predict(server, browser, tmp_path):
    from tests.support import make_photo

    folder = tmp_path / "photos"
    folder.mkdir()
    for kind, name in enumerate(("disc", "square")):
        for i in range(12):
            make_photo(kind, size=64, seed=kind * 100 + i).save(folder / f"{name}{i}.png")
    held_out = tmp_path / "held-out-disc.png"
    make_photo(0, size=64, seed=999).save(held_out)
    shots = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))

    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(f"{server}/eda")
    wait_until_idle(page)
    page.get_by_text("Build a dataset of your own classes", exact=False).click()
    page.get_by_label("Name of the new dataset").fill("shapes")
    page.get_by_role("button", name="Create").click()
    page.wait_for_selector("text=Saved in your workspace as custom/shapes", timeout=60000)
    for name in ("disc", "square"):
        page.get_by_label("New class").fill(name)
        page.get_by_role("button", name="Add class").click()
        page.wait_for_selector(f"text=Add images to {name}", timeout=60000)
        wait_until_idle(page)
    for name in ("disc", "square"):
        uploader = page.get_by_test_id("stFileUploader").filter(has_text=f"Add images to {name}")
        uploader.locator('input[type="file"]').set_input_files(sorted(str(p) for p in folder.glob(f"{name}*.png")))
        page.wait_for_selector(f"text=Added 12 images to {name}", timeout=60000)
        wait_until_idle(page)
    assert exceptions_on(page) == 0
    page.screenshot(path=str(shots / "dataset-builder.png"))
    page.get_by_role("button", name="Explore and train this dataset").click()
    wait_until_idle(page)

    page.get_by_test_id("stSidebarNav").get_by_text("Train", exact=True).click()
    wait_until_idle(page)
    assert "Width (filters" not in page.inner_text('[data-testid="stMain"]')  # photos-transfer, the first preset
    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector("text=/Starting up|Epoch \\d+/", timeout=120000)
    page.reload()  # in the middle of the run
    page.wait_for_selector("text=Finished", timeout=300000)
    wait_until_idle(page)
    body = page.inner_text("body")
    assert "Evaluate this model" in body and "start-up" in body and exceptions_on(page) == 0
    model = re.search(r"model (\S+) saved", body).group(1)
    page.screenshot(path=str(shots / "finished-run.png"))

    page.get_by_test_id("stSidebarNav").get_by_text("Predict", exact=True).click()
    wait_until_idle(page)
    assert f"Model {model}" in page.inner_text('[data-testid="stMain"]')  # the new model is the selected one
    page.locator('input[type="file"]').last.set_input_files(str(held_out))
    page.wait_for_selector("text=held-out-disc.png", timeout=60000)
    wait_until_idle(page)
    assert re.search(r"\bdisc\b · \d+%", page.inner_text('[data-testid="stMain"]')), page.inner_text("body")
    assert exceptions_on(page) == 0
    page.close()


def test_two_browsers_are_two_workspaces_that_train_at_once_and_never_meet(server, browser):
    pages = {}
    for name in ("first-model", "second-model"):
        page = browser.new_context(viewport={"width": 1400, "height": 1400}).new_page()  # a browser of its own
        page.goto(f"{server}/train")
        wait_until_idle(page)
        set_sample_limit(page, "300")
        page.get_by_role("slider").first.focus()
        page.keyboard.press("Home")  # 1 epoch
        page.locator('input[aria-label="Model name (optional)"]').fill(name)
        pages[name] = page
    for page in pages.values():  # both at once: both are queued, neither is refused
        page.get_by_role("button", name="Start training").click()
    for name, page in pages.items():
        page.wait_for_selector(f"text=Finished: model {name} saved", timeout=300000)
        assert exceptions_on(page) == 0
    for name, page in pages.items():
        other = next(n for n in pages if n != name)
        page.reload()  # the cookie keeps the workspace
        page.wait_for_selector(f"text=Finished: model {name} saved", timeout=120000)
        wait_until_idle(page)
        assert page.get_by_test_id("stDataFrame").count() == 1 and other not in page.inner_text("body")
        page.goto(f"{server}/evaluate?model={other}")  # a deep link to the other's model reaches nothing
        wait_until_idle(page)
        assert other not in page.inner_text("body") and exceptions_on(page) == 0
        page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").nth(1).click()
        offered = [page.get_by_role("option").nth(i).inner_text() for i in range(page.get_by_role("option").count())]
        assert any(name in o for o in offered) and not any(other in o for o in offered), offered
        page.context.close()
