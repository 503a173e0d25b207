"""A real browser against a real server, for the flows that train: your own classes from upload to export,
two people training at once, and an experiment of two runs. Their pages answer while runs train, so each wait
allows two minutes: a loaded 2-core CI machine is that slow, and the flow is what is checked here.

SAVE_SCREENSHOTS=1 writes their screenshots too (see test_browser.py).
"""
import os
import re
import time
from pathlib import Path

from playwright.sync_api import expect

from tests.support.browser import ROOT, SAVE, draw_strokes, exceptions_on, wait_until_idle
from tests.support.marks import BROWSER_TESTS

pytestmark = BROWSER_TESTS
WARM_WORKERS = 1  # these tests train: the server's worker warms while the first one builds its dataset


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
    page.wait_for_selector("text=Add a class to start", timeout=120000)
    for name in ("disc", "square"):
        page.get_by_label("New class").fill(name)
        page.get_by_role("button", name="Add class").click()
        page.wait_for_selector(f"text=Add images to {name}", timeout=120000)
        wait_until_idle(page)
    for name in ("disc", "square"):
        uploader = page.get_by_test_id("stFileUploader").filter(has_text=f"Add images to {name}")
        uploader.locator('input[type="file"]').set_input_files(sorted(str(p) for p in folder.glob(f"{name}*.png")))
        page.wait_for_selector(f"text=Added 12 images to {name}", timeout=120000)
        wait_until_idle(page)
    page.get_by_text("Use the webcam", exact=True).first.click()
    recorder = page.frame_locator('iframe[title*="webcam_burst"]')  # Chromium's fake camera: a moving pattern
    recorder.get_by_text("Ready").wait_for(timeout=120000)
    recorder.get_by_role("button", name="Hold to record disc").hover()
    page.mouse.down()  # held for about 1.5 s: a burst of photos at 4 a second, sent when let go
    time.sleep(1.5)
    page.mouse.up()
    page.wait_for_selector("text=/disc · (1[4-9]|[2-9][0-9]) images/", timeout=120000)  # 12 uploaded + a burst
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
    page.wait_for_selector("text=astronaut.jpg", timeout=120000)
    wait_until_idle(page)
    expect(main).to_contain_text(re.compile(r"disc · \d+%"), timeout=120000)  # each card comes when answered
    expect(main).to_contain_text("None of your classes", timeout=120000)  # something else entirely (issue 25)
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
    second_tab = pages["first-model"].context.new_page()  # the same browser, so the same workspace
    second_tab.set_viewport_size({"width": 1400, "height": 1100})
    second_tab.goto(f"{server}/predict")  # opened before the runs, as a student has Predict open already
    wait_until_idle(second_tab)
    for page in pages.values():  # both at once: both are queued, neither is refused
        page.get_by_role("button", name="Start training").click()
    first = pages["first-model"]
    # a warm worker may have finished the tiny run already
    first.wait_for_selector("text=/Waiting: |Starting up|Epoch \\d+|Finished: model/", timeout=120000)
    first.get_by_test_id("stSidebarNav").get_by_text("Explore data", exact=True).click()  # the run goes on
    first.wait_for_selector("text=Label distribution", timeout=120000)
    first.get_by_test_id("stSidebarNav").get_by_text("Train", exact=True).click()

    draw_strokes(second_tab, [[(80, 60), (200, 60), (120, 230)]])  # while both runs train
    second_tab.wait_for_selector("text=What the model sees (28×28)", timeout=120000)
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
    expect(page.get_by_text(re.compile(r"Experiment \d{8}-\d{6}: dropout"))).to_be_visible(timeout=120000)
    expect(page.get_by_text("All 2 runs have ended.")).to_be_visible(timeout=300000)
    table = page.locator(".st-key-experiment_table table")
    assert table.locator("th").first.inner_text().strip() == "dropout"
    rows = table.locator("tbody tr").all_inner_texts()
    assert len(rows) == 2 and all("done" in row for row in rows), rows
    charts = page.locator(".st-key-experiment_curves .js-plotly-plot")
    expect(charts).to_have_count(2, timeout=120000)  # accuracy and loss, each overlaying both runs
    names = page.evaluate("Array.from(document.querySelectorAll('.st-key-experiment_curves .js-plotly-plot'))"
                          ".map(chart => chart.data.map(trace => trace.name))")
    assert all({n.split(" · ")[0] for n in traces} == {"dropout 0.0", "dropout 0.5"} for traces in names), names
    assert exceptions_on(page) == 0
    if SAVE:
        page.screenshot(path=str(ROOT / "docs" / "experiment.png"))
    page.close()
