"""A real browser (Debian's Chromium through Playwright) against a real Streamlit server on 127.0.0.1.

Set SAVE_SCREENSHOTS=1 to write the page screenshots into docs/ (the README shows them); the
studio then uses the project's own data and models instead of the tiny test ones.
"""
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support import badfiles
from tests.support.browser import ROOT, draw_strokes, exceptions_on, launch, streamlit_server, wait_until_idle

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path("/usr/bin/chromium").exists() and "CHROMIUM" not in os.environ,
                                 reason="Debian's chromium is not installed (apt-get install chromium)")]
SAVE = os.environ.get("SAVE_SCREENSHOTS") == "1"
PAGES = [("", "overview"), ("eda", "eda"), ("your_classes", "your-classes"), ("train", "train"),
         ("evaluate", "evaluate"), ("predict", "predict"), ("inside", "inside")]


@pytest.fixture(scope="module")
def server_env(tmp_path_factory, tiny_mnist_dir, trained_digit_model):
    if SAVE:
        return {}
    import shutil

    root = tmp_path_factory.mktemp("browser-studio")
    shutil.copytree(trained_digit_model / "tiny", root / "models" / "mnist")
    return {"STUDIO_MODELS_DIR": str(root / "models"), "STUDIO_DATA_DIR": str(root / "data"),
            "STUDIO_RUNS_DIR": str(root / "runs"), "STUDIO_WORKSPACES_DIR": str(root / "workspaces"),
            "STUDIO_QUEUE_DIR": str(root / "queue"), "MNIST_DIR": str(tiny_mnist_dir),
            "STUDIO_WARM_WORKERS": "1"}  # warm while the first tests run, as a real server would be


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
    # the uploader's list and one gallery card, which comes once the picture is answered (a loaded machine is slow)
    expect(page.get_by_text("seven.png", exact=True)).to_have_count(2, timeout=60000)
    wait_until_idle(page)
    assert "not an image" not in page.inner_text("body")
    page.close()


def set_sample_limit(page, value: str) -> None:
    field = page.get_by_label("Use at most this many training samples (0 = all)")
    if not field.is_visible():
        page.get_by_text("More", exact=True).click()  # the field sits in a collapsed expander
    field.fill(value)


def test_your_classes_end_to_end_upload_webcam_train_through_a_reload_and_try_on_the_same_page(
        server, browser, tmp_path):
    """Issue 24: make 2 classes, add photos by upload and by the (fake) webcam, train with the one button,
    reload in the middle, and try a held-out photo on the same page; a photo of something else is "none of
    your classes" (issue 25)."""
    from PIL import Image
    from skimage import data

    from tests.support import make_photo

    folder = tmp_path / "photos"
    folder.mkdir()
    for kind, name in enumerate(("disc", "square")):
        for i in range(12):
            make_photo(kind, size=64, seed=kind * 100 + i).save(folder / f"{name}{i}.png")
    held_out = tmp_path / "held-out-disc.png"
    make_photo(0, size=64, seed=999).save(held_out)
    astronaut = tmp_path / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(astronaut)
    shots = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))

    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(f"{server}/your_classes")
    wait_until_idle(page)
    page.get_by_label("Name of the new dataset").fill("shapes")
    page.get_by_role("button", name="Create").click()
    page.wait_for_selector("text=Add a class to start", timeout=60000)
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
    page.get_by_text("Use the webcam", exact=True).first.click()
    page.wait_for_function("() => { const v = document.querySelector('[data-testid=\"stCameraInput\"] video');"
                           " return v && v.readyState >= 2 && v.videoWidth > 0; }", timeout=60000)
    page.get_by_role("button", name="Take Photo").click()  # Chromium's fake camera: a moving test pattern
    page.wait_for_selector("text=disc · 13 images", timeout=60000)
    wait_until_idle(page)
    assert exceptions_on(page) == 0
    page.screenshot(path=str(shots / "your-classes.png"), full_page=True)

    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_selector("text=/Waiting|Starting up|Computing features|Fitting/", timeout=120000)
    page.reload()  # in the middle of the run
    page.wait_for_selector("text=/Trained \\S+ in/", timeout=300000)
    wait_until_idle(page)
    main = page.locator('[data-testid="stMain"]')
    assert "Estimated accuracy" in main.inner_text() and exceptions_on(page) == 0  # 13 photos a class: folds
    page.get_by_test_id("stFileUploader").filter(has_text="Photos to try").locator('input[type="file"]') \
        .set_input_files([str(held_out), str(astronaut)])
    page.wait_for_selector("text=astronaut.jpg", timeout=60000)
    wait_until_idle(page)
    assert re.search(r"\bdisc\b · \d+%", main.inner_text()), main.inner_text()
    assert "None of your classes" in main.inner_text()  # a photo of something else entirely (issue 25)
    page.get_by_role("button", name="Export to TFLite").click()
    page.wait_for_selector("text=/Download shapes\\S*\\.tflite/", timeout=120000)
    page.screenshot(path=str(shots / "your-classes-trained.png"), full_page=True)
    assert exceptions_on(page) == 0
    page.close()


def test_two_browsers_are_two_workspaces_that_train_at_once_and_never_meet(server, browser):
    """Two people start runs at the same moment: both are queued and both finish. Meanwhile the first one
    switches pages and a second tab of theirs predicts; neither person ever sees the other's run or model,
    and a reload keeps each one's own workspace."""
    pages = {}
    for name in ("first-model", "second-model"):
        page = browser.new_context(viewport={"width": 1400, "height": 1400}).new_page()  # a browser of its own
        page.goto(f"{server}/train")
        wait_until_idle(page)
        set_sample_limit(page, "300")
        epochs = page.get_by_role("slider").first
        epochs.focus()
        epochs.press("Home")  # 1 epoch
        page.locator('input[aria-label="Model name (optional)"]').fill(name)
        pages[name] = page
    for page in pages.values():  # both at once: both are queued, neither is refused
        page.get_by_role("button", name="Start training").click()
    first = pages["first-model"]
    first.wait_for_selector("text=/Waiting: |Starting up|Epoch \\d+/", timeout=60000)
    first.get_by_test_id("stSidebarNav").get_by_text("Explore data", exact=True).click()  # the run goes on
    first.wait_for_selector("text=Label distribution", timeout=60000)
    first.get_by_test_id("stSidebarNav").get_by_text("Train", exact=True).click()

    second_tab = first.context.new_page()  # the same browser, so the same workspace
    second_tab.set_viewport_size({"width": 1400, "height": 1100})
    second_tab.goto(f"{server}/predict")
    wait_until_idle(second_tab)
    draw_strokes(second_tab, [[(80, 60), (200, 60), (120, 230)]])
    second_tab.wait_for_selector("text=What the model sees (28×28)", timeout=60000)
    assert exceptions_on(second_tab) == 0

    for name, page in pages.items():
        page.wait_for_selector(f"text=Finished: model {name} saved", timeout=300000)
        assert exceptions_on(page) == 0
    second_tab.get_by_test_id("stSidebarNav").get_by_text("Evaluate", exact=True).click()  # offered at once
    wait_until_idle(second_tab)
    assert any(o.startswith("first-model") for o in sidebar_models(second_tab))
    for name, page in pages.items():
        other = next(n for n in pages if n != name)
        page.reload()  # the cookie keeps the workspace
        page.wait_for_selector(f"text=Finished: model {name} saved", timeout=120000)
        wait_until_idle(page)
        assert page.get_by_test_id("stDataFrame").count() == 1 and other not in page.inner_text("body")
        page.goto(f"{server}/evaluate?model={other}")  # a deep link to the other's model reaches nothing
        wait_until_idle(page)
        assert other not in page.inner_text("body") and exceptions_on(page) == 0
        offered = sidebar_models(page)
        assert any(name in o for o in offered) and not any(other in o for o in offered), offered
        page.context.close()


def sidebar_models(page) -> list[str]:
    """The models the sidebar offers (its dropdown opened, read, and closed)."""
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").nth(1).click()
    options = page.get_by_role("option")
    offered = [options.nth(i).inner_text() for i in range(options.count())]
    page.keyboard.press("Escape")
    return offered


def test_look_inside_a_drawn_digit_shows_every_stage_and_a_filter_whose_sum_is_the_pixel(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 3000})
    page.goto(f"{server}/predict")
    wait_until_idle(page)
    draw_strokes(page, [[(80, 60), (200, 60), (120, 230)]])  # a 7
    page.get_by_role("button", name="Look inside with this drawing").click(timeout=60000)
    expect(page.get_by_text("What the model sees: your drawing on Predict")).to_be_visible(timeout=60000)
    # mnist-seed: the input, conv 32, pool, dropout, conv 64, pool, dropout, then flatten, dense, dropout,
    # the logits and the softmax
    expect(page.locator('[class*="st-key-stage_"]')).to_have_count(12, timeout=60000)
    for number, maps in enumerate(["1 map of 28×28", "32 maps of 26×26", "32 maps of 13×13", "32 maps of 13×13",
                                   "64 maps of 11×11", "64 maps of 5×5", "64 maps of 5×5"]):
        assert maps in page.locator(f".st-key-stage_{number}").inner_text(), number
    stage = page.locator(".st-key-stage_1")
    stage.get_by_text("Enlarge a map").click()
    expect(stage.locator("path.point")).to_have_count(32, timeout=60000)  # one clickable tile per map
    stage.locator("path.point").nth(5).click(force=True)
    expect(page.get_by_text("map 5, enlarged")).to_be_visible(timeout=60000)

    page.get_by_role("tab", name="A filter at work").click()
    for label, value in (("Filter", "3"), ("Row of the output", "9"), ("Column of the output", "12")):
        field = page.get_by_role("spinbutton", name=label)
        field.fill(value)
        field.press("Enter")
        wait_until_idle(page)
    expect(page.get_by_text("The model's own pixel at row 9, column 12 of map 3")).to_be_visible(timeout=60000)
    total = re.search(r"= (-?\d+\.\d{4})", page.get_by_text("Sum of the 9 products").inner_text()).group(1)
    pixel = re.search(r"map 3: (-?\d+\.\d{4})", page.get_by_text("The model's own pixel").inner_text()).group(1)
    relu = re.search(r"ReLU: (-?\d+\.\d{4})", page.get_by_text("Sum of the 9 products").inner_text())
    assert (relu.group(1) if relu else total) == pixel  # mnist-seed's convolution has its ReLU inside it
    assert exceptions_on(page) == 0
    if SAVE:
        page.get_by_role("tab", name="Every stage").click()
        page.screenshot(path=str(ROOT / "docs" / "inside-digit.png"))
    page.close()


def test_a_confusion_matrix_cell_clicked_shows_exactly_its_test_images(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.goto(f"{server}/evaluate")
    wait_until_idle(page)
    chart = page.locator(".st-key-confusion .js-plotly-plot")
    expect(chart.locator("path.point")).to_have_count(100, timeout=60000)  # 10 × 10 cells, one marker each
    counts = page.evaluate("document.querySelector('.st-key-confusion .js-plotly-plot').data[1].customdata")
    cell = next(i for i, (true, predicted, count) in enumerate(counts) if true != predicted and count > 0)
    true, predicted, count = (int(v) for v in counts[cell])
    chart.locator("path.point").nth(cell).click(force=True)
    heading = page.get_by_role("heading", name=re.compile(f"True {true}, predicted {predicted}"))
    expect(heading).to_contain_text(f"{count} test image", timeout=60000)
    wait_until_idle(page)
    assert page.locator(".st-key-cell_images img").count() == count
    captions = page.locator('.st-key-cell_images [data-testid="stImageCaption"]').all_inner_texts()
    assert len(captions) == count and all(c.startswith(f"true {true} → {predicted} (") for c in captions)
    assert exceptions_on(page) == 0
    page.close()


def test_trying_two_dropout_values_gives_two_runs_one_overlay_and_a_table_led_by_dropout(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    page.goto(f"{server}/train")
    wait_until_idle(page)
    page.get_by_text("Try several values").click()
    page.get_by_role("textbox", name="Values, separated by commas").fill("0, 0.5")
    samples = page.get_by_role("spinbutton", name="Training samples (0 = all)")
    samples.fill("300")
    samples.press("Tab")
    page.get_by_role("button", name="Start one run per value").click()
    expect(page.get_by_text(re.compile(r"Experiment \d{8}-\d{6}: dropout"))).to_be_visible(timeout=60000)
    expect(page.get_by_text("All 2 runs have ended.")).to_be_visible(timeout=300000)
    table = page.locator(".st-key-experiment_table table")
    assert table.locator("th").first.inner_text().strip() == "dropout"
    rows = table.locator("tbody tr").all_inner_texts()
    assert len(rows) == 2 and all("done" in row for row in rows), rows
    charts = page.locator(".st-key-experiment_curves .js-plotly-plot")
    expect(charts).to_have_count(2, timeout=60000)  # accuracy and loss, each overlaying both runs
    names = page.evaluate("Array.from(document.querySelectorAll('.st-key-experiment_curves .js-plotly-plot'))"
                          ".map(chart => chart.data.map(trace => trace.name))")
    assert all({n.split(" · ")[0] for n in traces} == {"dropout 0.0", "dropout 0.5"} for traces in names), names
    assert exceptions_on(page) == 0
    if SAVE:
        page.screenshot(path=str(ROOT / "docs" / "experiment.png"))
    page.close()
