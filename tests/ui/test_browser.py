"""A real browser (Debian's Chromium through Playwright) against a real Streamlit server on 127.0.0.1.

Set SAVE_SCREENSHOTS=1 to write the page screenshots into docs/ (the README shows them); the
studio then uses the project's own data and models instead of the tiny test ones.
"""
import re

from playwright.sync_api import expect

from tests.support import badfiles
from tests.support.browser import ROOT, SAVE, draw_strokes, exceptions_on, streamlit_server, wait_until_idle
from tests.support.marks import BROWSER_TESTS

pytestmark = BROWSER_TESTS
PAGES = [("", "overview"), ("eda", "eda"), ("your_classes", "your-classes"), ("train", "train"),
         ("evaluate", "evaluate"), ("predict", "predict"), ("inside", "inside")]


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
    # the uploader lists the files at once; the gallery's cards come once the pictures are answered
    expect(page.get_by_text("seven.png", exact=True)).to_have_count(2, timeout=60000)
    wait_until_idle(page)
    body = page.inner_text("body")
    assert "not an image" in body  # the text file gets its sentence
    assert exceptions_on(page) == 0 and "Traceback" not in body

    # A second batch replaces the first only after "Remove all images": new files join the old ones.
    page.get_by_role("button", name="Remove all images").click()
    page.wait_for_selector("text=seven.png", state="detached", timeout=60000)
    page.locator('input[type="file"]').last.set_input_files([str(files["seven.png"])])
    expect(page.get_by_text("seven.png", exact=True)).to_have_count(2, timeout=60000)
    wait_until_idle(page)
    assert "not an image" not in page.inner_text("body")
    # One more file joins the gallery; the first keeps its card and answer (each file is answered once).
    page.locator('input[type="file"]').last.set_input_files([str(files["cmyk.jpg"])])
    expect(page.get_by_text("cmyk.jpg", exact=True)).to_have_count(2, timeout=60000)
    wait_until_idle(page)
    expect(page.get_by_text("seven.png", exact=True)).to_have_count(2)
    assert exceptions_on(page) == 0
    page.close()


def test_look_inside_a_drawn_digit_shows_every_stage_and_a_filter_whose_sum_is_the_pixel(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 3000})
    page.goto(f"{server}/predict")
    wait_until_idle(page)
    draw_strokes(page, [[(80, 60), (200, 60), (120, 230)]])  # a 7
    page.get_by_role("button", name="Look inside with this drawing").click(timeout=60000)
    expect(page.get_by_text("What the model sees: your drawing on Predict")).to_be_visible(timeout=60000)
    stages = page.locator(".inside-stage")
    if not SAVE:  # the README's screenshot shows the shipped model, mnist-bn, whose stages are others
        # mnist-seed: the input, conv 32, pool, dropout, conv 64, pool, dropout, then flatten, dense, dropout,
        # the logits and the softmax
        expect(stages).to_have_count(12, timeout=60000)
        for number, maps in enumerate(["1 map of 28×28", "32 maps of 26×26", "32 maps of 13×13",
                                       "32 maps of 13×13", "64 maps of 11×11", "64 maps of 5×5", "64 maps of 5×5"]):
            text = stages.nth(number).inner_text()
            assert f"{number}. " in text and maps in text, number
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Enlarge a map of").click()
    page.get_by_role("option", name="1. convolution").first.click()
    chart = page.locator('[class*="st-key-maps_"]')
    expect(chart.locator("path.point")).to_have_count(32, timeout=60000)  # one clickable tile per map
    chart.locator("path.point").nth(5).click(force=True)
    expect(page.get_by_text("map 5 of stage 1, enlarged")).to_be_visible(timeout=60000)

    page.get_by_role("radio", name="A filter at work").click()
    expect(page).to_have_url(re.compile(r"[?&]view=A(\+|%20)filter(\+|%20)at(\+|%20)work"))  # a reload keeps it
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
    page.get_by_role("radio", name="A test image").click()
    field = page.get_by_role("spinbutton", name="Test image number")
    field.fill("4")
    field.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]image=4(&|$)"))  # a reload opens the same test image
    assert exceptions_on(page) == 0
    if SAVE:
        page.get_by_role("radio", name="Every stage").click()
        expect(stages.first).to_be_visible(timeout=60000)
        wait_until_idle(page)
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
