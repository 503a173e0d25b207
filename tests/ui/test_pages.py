"""Every page under Streamlit's AppTest, on tiny data and a tiny model."""
import base64
import io
import re
import threading
import time
import zipfile

import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.workspace import DEFAULT, Workspace
from tests.support import ROOT, SEVEN, badfiles, build_photo_folder, canvas_rgba

PAGES = ["pages/overview.py", "pages/eda.py", "pages/your_classes.py", "pages/train.py", "pages/evaluate.py",
         "pages/predict.py", "pages/inside.py"]


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield


@pytest.fixture(autouse=True)
def served_like_a_real_server(monkeypatch):
    """AppTest turns Streamlit's old folder mode back on before every run (a `pages/` folder exists);
    a real server leaves it off once `st.navigation` has run. Behave like the server."""
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


def open_page(page: str, where: Workspace = DEFAULT) -> AppTest:
    """A new session on `page`, as a browser whose cookie names the workspace `where` (AppTest sends no
    cookies): the default one, which the fixtures fill, unless a test says otherwise."""
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)
    app.session_state["workspace"] = where
    app.run()
    if page != "pages/overview.py":
        app.switch_page(page)
        app.run()
    return app


def no_problems(app: AppTest) -> None:
    assert not app.exception, [e.message for e in app.exception]


def by_label(widgets, label: str):
    matches = [w for w in widgets if w.label.startswith(label)]
    assert matches, f"no widget labelled {label!r}: {[w.label for w in widgets]}"
    return matches[0]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(studio_with_model, page):
    app = open_page(page)
    no_problems(app)
    assert app.title, page


@pytest.mark.parametrize("page", PAGES)
def test_every_page_works_with_an_empty_registry(studio, page):
    app = open_page(page)
    no_problems(app)


def test_overview_shows_datasets_and_models(studio_with_model):
    app = open_page("pages/overview.py")
    values = [m.value for m in app.metric]
    assert "1,200" in values and "300" in values  # the tiny MNIST counts
    captions = " ".join(c.value for c in app.caption)
    assert "PETIMAGES_DIR" in captions and "CATSDOGS_FILTERED_DIR" in captions
    assert app.dataframe[0].value["model"].tolist() == ["mnist", "tiny"]


def test_canvas_drawing_is_predicted_and_the_model_is_loaded_once(studio_with_model, monkeypatch):
    from core.inference.predictor import Predictor

    loaded = []
    original = Predictor.from_info.__func__
    monkeypatch.setattr(Predictor, "from_info", classmethod(lambda cls, *a, **k: loaded.append(1) or
                                                              original(cls, *a, **k)))
    image = Image.fromarray(canvas_rgba(SEVEN))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    app = open_page("pages/predict.py")
    loads = len(loaded)
    app.session_state["canvas_single_0"] = {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": url}}
    app.run()
    no_problems(app)
    answers = [m.value for m in app.markdown] + [w.value for w in app.warning]
    assert any("confident" in text or "Not sure" in text for text in answers)
    assert "28×28" in str([i.proto for i in app.get("image")])
    for _ in range(3):
        app.run()
    assert len(loaded) == loads == 1  # loaded once, on the first prediction; reruns never reload it


def test_empty_canvas_says_no_digit(studio_with_model):
    empty = io.BytesIO()
    Image.new("RGBA", (280, 280), (0, 0, 0, 0)).save(empty, "PNG")
    app = open_page("pages/predict.py")
    app.session_state["canvas_single_0"] = {"drawing": {"raw": {"objects": []}, "data": "data:image/png;base64,"
                                                        + base64.b64encode(empty.getvalue()).decode()}}
    app.run()
    no_problems(app)
    assert any("No digit found" in i.value for i in app.info)


def test_uploads_give_a_gallery_and_bad_files_a_sentence(studio_with_model):
    app = open_page("pages/predict.py")
    files = [("seven.png", badfiles.USABLE["seven.png"](), "image/png"),
             ("text.png", badfiles.BAD["text.png"](), "image/png"),
             ("bomb.png", badfiles.BAD["bomb.png"](), "image/png"),
             ("blank.jpg", badfiles.BAD["blank_paper.jpg"](), "image/jpeg")]
    app.file_uploader(key="uploads_0").set_value(files)
    app.run()
    no_problems(app)
    errors = " ".join(e.value for e in app.error)
    assert "text.png" in errors and "bomb.png" in errors
    assert any("No digit found" in i.value for i in app.info)
    assert any("%" in m.value and ("**" in m.value or "Not sure" in m.value) for m in app.markdown)

    app.button(key="clear_uploads").click().run()  # a fresh set: the previous images and answers are gone
    no_problems(app)
    assert not app.error and not any("No digit found" in i.value for i in app.info)
    assert app.file_uploader(key="uploads_1").value in (None, [])


def test_evaluate_shows_metrics_and_makes_a_kaggle_submission(studio_with_model):
    from tests.support import kaggle_csv

    app = open_page("pages/evaluate.py")
    no_problems(app)
    labels = [m.label for m in app.metric]
    assert "Test accuracy" in labels and "Test loss" in labels
    assert any("95% confidence interval" in c.value for c in app.caption)
    assert not app.warning  # 300 test images: no small-test warning
    assert [s.value for s in app.subheader][:4] == ["Confusion matrix", "Per-class accuracy",
                                                     "Classification report", "Misclassified samples"]
    by_label(app.toggle, "Normalise").set_value(True)
    app.run()
    app.file_uploader(key="kaggle_test").set_value(("test.csv", kaggle_csv(7, labelled=False).encode(), "text/csv"))
    app.run()
    no_problems(app)
    assert any("Predicted 7 digits" in s.value for s in app.success)
    app.file_uploader(key="kaggle_test").set_value(("test.csv", b"a,b\n1,2\n", "text/csv"))
    app.run()
    assert any("columns" in e.value for e in app.error)
    app.button[[b.label for b in app.button].index("Export to TFLite")].click()
    app.run()
    no_problems(app)
    assert any(b.label.startswith("Download mnist.tflite") for b in app.get("download_button"))


def wait_for_finish(app: AppTest, timeout: float = 300) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        app.run()
        no_problems(app)
        if any("Finished" in s.value for s in app.success) or app.error:
            return
        time.sleep(1)
    raise AssertionError("the training run did not finish")


@pytest.mark.parametrize("preset", ["mnist-seed", "mnist-bn"])
def test_the_train_form_starts_from_the_presets_own_settings(studio, preset):
    """Its defaults are core's: the preset's epochs and dropout, the flag table's dropout range, class weights
    decided on the training split, and the name a run of it would be saved under."""
    from core import eda
    from core.data import specs
    from core.training.config import TrainConfig, bounds, model_stem

    cfg = TrainConfig(dataset="mnist", preset=preset).ready()
    app = open_page("pages/train.py")
    app.selectbox[[b.label for b in app.selectbox].index("Preset")].set_value(preset).run()
    no_problems(app)
    assert by_label(app.slider, "Epochs").value == cfg.epochs
    dropout = by_label(app.slider, "Dropout")
    assert dropout.value == cfg.dropout and (dropout.min, dropout.max) == bounds("dropout")
    data = specs.load("mnist")
    assert by_label(app.toggle, "Class weights").value == eda.wants_class_weights(data.train.y, 10)
    assert by_label(app.text_input, "Model name").placeholder == f"generated: {model_stem(cfg)}-<date>-<time>"
    assert model_stem(cfg) == preset  # never "mnist-mnist-seed"


def start_training(app: AppTest, limit: int) -> None:
    by_label(app.slider, "Epochs").set_value(1)
    by_label(app.number_input, "Use at most").set_value(limit)
    app.button[[b.label for b in app.button].index("Start training")].click()
    app.run()
    no_problems(app)


@pytest.mark.slow
def test_training_page_runs_a_job_to_completion(studio):
    app = open_page("pages/train.py")
    by_label(app.text_input, "Model name").set_value("my first model")
    start_training(app, 300)
    assert not app.error, [e.value for e in app.error]
    wait_for_finish(app)
    assert any("Finished: model **my-first-model**" in s.value for s in app.success), [e.value for e in app.error]
    assert app.dataframe[0].value["status"].tolist() == ["done"]
    assert app.session_state["model"] == "my-first-model"  # the new model is the one selected
    start_training(app, 300)  # the same name again, without asking to replace it
    assert "already exists" in app.error[0].value and "Replace the model of that name" in app.error[0].value
    reloaded = open_page("pages/train.py")  # a new session, as after a browser reload
    assert any("Finished: model **my-first-model**" in s.value for s in reloaded.success)
    assert "start-up" in reloaded.success[0].value
    app.switch_page("pages/evaluate.py")
    app.run()
    no_problems(app)
    assert any(m.label == "Test accuracy" for m in app.metric)


@pytest.mark.slow
def test_zip_upload_makes_a_dataset_for_eda_training_and_prediction(studio):
    source = build_photo_folder(studio / "src" / "shapes", ["disc", "square", "bar"], per_class=8)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for path in source.rglob("*"):
            if path.is_file():
                bundle.write(path, f"shapes/{path.relative_to(source)}")
    app = open_page("pages/eda.py")
    by_label(app.file_uploader, "Zip of class folders").set_value(("shapes.zip", buffer.getvalue(),
                                                                  "application/zip"))
    by_label(app.text_input, "Dataset name").set_value("shapes")
    app.button[[b.label for b in app.button].index("Import")].click()
    app.run()
    app.run()
    no_problems(app)
    assert not app.error, [e.value for e in app.error]
    assert app.session_state["dataset"].endswith("shapes")
    assert "Cleaning report" in [s.value for s in app.subheader]
    assert [m.value for m in app.metric][:3] == ["26", "4", "3"]  # 24 good, a BMP and a CMYK kept

    app.switch_page("pages/train.py")
    app.run()
    assert not [w for w in app.select_slider if w.label.startswith("Width")]  # not for a pretrained backbone
    by_label(app.select_slider, "Batch size").set_value(16)
    start_training(app, 0)
    wait_for_finish(app)
    assert any("Finished" in s.value for s in app.success), [e.value for e in app.error]

    app.switch_page("pages/evaluate.py")
    app.run()
    no_problems(app)
    # 2 to 9 photos a class: every one trained, and the page says the estimate is from folds, not a test split
    assert any("Estimated accuracy" in i.value and "no unseen photo" in i.value for i in app.info)

    app.switch_page("pages/predict.py")
    app.run()
    no_problems(app)
    from tests.support import jpeg_bytes, make_photo

    # a JPEG like the folder's photos: a PNG's noise is not JPEG's, and its features sit far from both classes
    app.file_uploader(key="uploads_0").set_value([("disc.jpg", jpeg_bytes(make_photo(0, seed=5)), "image/jpeg")])
    app.run()
    no_problems(app)
    app.toggle(key="cam_upload_0").set_value(True)
    app.run()
    no_problems(app)
    assert "Grad-CAM" in str([i.proto for i in app.get("image")])


@pytest.mark.parametrize("page", PAGES)
def test_every_page_works_beside_broken_models(studio_with_model, page):
    from tests.support import BROKEN_META, break_models

    break_models(studio_with_model / "models", "tiny")
    app = open_page(page)
    no_problems(app)
    offered = app.sidebar.selectbox[1].options
    assert "tiny" in [o.split(" · ")[0] for o in offered]
    assert not {o.split(" · ")[0] for o in offered} & {*BROKEN_META, "lambda"}
    if page == "pages/predict.py":
        app.sidebar.selectbox[1].set_value("other-shape").run()
        no_problems(app)
        assert "changed after saving" in app.error[0].value


@pytest.mark.slow
def test_a_model_that_cannot_learn_is_called_out_after_training(studio):
    """Both classes hold the same grey picture: no model can tell them apart."""
    grey = io.BytesIO()
    Image.new("RGB", (40, 40), (128, 128, 128)).save(grey, "PNG")
    for name in ("left", "right"):
        folder = studio / "data" / "custom" / "same" / name
        folder.mkdir(parents=True)
        for i in range(20):
            (folder / f"{i}.png").write_bytes(grey.getvalue())
    app = open_page("pages/train.py")
    app.session_state["dataset"] = "custom/same"
    app.run()
    by_label(app.selectbox, "Preset").set_value("photos-cnn")
    app.run()
    by_label(app.select_slider, "Batch size").set_value(16)
    start_training(app, 0)
    wait_for_finish(app)
    assert any("learned next to nothing" in w.value for w in app.warning), [w.value for w in app.warning]


@pytest.mark.slow
def test_your_classes_builds_a_class_folder_says_duplicates_and_deletes_it_with_confirmation(studio):
    from tests.support import make_photo

    def png(kind, seed):
        buffer = io.BytesIO()
        make_photo(kind, seed=seed).save(buffer, "PNG")
        return buffer.getvalue()

    app = open_page("pages/your_classes.py")
    by_label(app.text_input, "Name of the new dataset").set_value("hand signs")
    app.button[[b.label for b in app.button].index("Create")].click()
    app.run()
    no_problems(app)
    assert app.session_state["builder_dataset"] == "custom/hand-signs"
    for class_name in ("thumbs up", "Thumbs Up", "thumbs down"):
        by_label(app.text_input, "New class").set_value(class_name)
        app.button[[b.label for b in app.button].index("Add class")].click()
        app.run()
        if class_name == "Thumbs Up":  # one class, whatever the case
            assert any("'thumbs-up' is already there" in e.value for e in app.error), [e.value for e in app.error]
    no_problems(app)
    for kind, class_name in enumerate(("thumbs-up", "thumbs-down")):
        files = [(f"{class_name}{i}.png", png(kind, i), "image/png") for i in range(4)]
        files += [("notes.png", b"not an image at all", "image/png"), ("again.png", png(kind, 0), "image/png")]
        by_label(app.file_uploader, f"Add images to {class_name}").set_value(files)
        app.run()
        no_problems(app)
        assert any(f"Added 4 images to {class_name}" in s.value for s in app.success)
        said = [w.value for w in app.warning]
        assert any("notes.png" in w for w in said)  # a bad file is named, the rest are kept
        assert any(f"again.png is already in {class_name}" in w for w in said)  # a duplicate is said, not dropped
    by_label(app.toggle, "Use the webcam").set_value(True)  # the burst recorder is drawn (recording: the browser test)
    app.run()
    no_problems(app)
    folder = studio / "data" / "custom" / "hand-signs"
    assert sorted(p.name for p in folder.iterdir()) == ["thumbs-down", "thumbs-up"]
    assert len(list((folder / "thumbs-up").iterdir())) == 4
    app.button(key=next(b.key for b in app.button if b.key and b.key.startswith("remove_custom/hand-signs_thumbs-up"))
               ).click()
    app.run()
    assert len(list((folder / "thumbs-up").iterdir())) == 3
    assert "/" + str(studio) not in str(app)  # no message shows a server path

    # Training and trying it on this page are walked in the browser test, which also reloads mid-run.
    app.button(key="drop_dataset_custom/hand-signs").click()
    app.run()
    no_problems(app)
    assert not folder.exists() and "builder_dataset" not in app.session_state


def test_delete_a_model_and_a_run_with_confirmation(studio_with_model):
    app = open_page("pages/overview.py")
    assert "mnist" not in app.selectbox(key="delete_model_choice").options  # shipped: not offered
    app.selectbox(key="delete_model_choice").set_value("tiny")
    app.button[[b.label for b in app.button].index("Yes, delete tiny")].click()
    app.run()
    no_problems(app)
    assert app.dataframe[0].value["model"].tolist() == ["mnist"]


def test_class_names_are_shown_as_typed_never_as_markdown(studio):
    """Issue 27: a class folder called "[win](example.org)" rendered as a live link on Explore."""
    root = build_photo_folder(studio / "data" / "custom" / "odd", ["[win](example.org)", "**bold**"],
                              per_class=4, broken=False)
    app = open_page("pages/eda.py")
    app.session_state["dataset"] = "custom/" + root.name
    app.run()
    no_problems(app)
    shown = [m.value for m in app.markdown]
    assert "**\\[win\\]\\(example\\.org\\)**" in shown and "**\\*\\*bold\\*\\***" in shown


def test_a_model_deleted_by_another_session_is_said_not_swapped_in_silence(studio_with_model):
    """Issue 27: a session whose model another deleted answered its next upload with mnist, saying nothing."""
    from core.model import registry

    app = open_page("pages/predict.py")
    app.session_state["model"] = "tiny"
    app.run()
    registry.delete("tiny")  # another visitor, on the Overview page
    app.run()
    no_problems(app)
    assert app.session_state["model"] == "mnist"
    assert any("The model tiny is no longer here" in w.value for w in app.sidebar.warning)


def test_the_teacher_sees_every_workspace_only_after_the_password(studio):
    from core.training import events, runs
    from core.training.config import TrainConfig

    for name in ("alice", "bob"):
        run_dir = runs.new_run_dir(Workspace(name).runs, TrainConfig(preset="mnist-seed").ready())
        runs.EventLog(run_dir).emit(events.Failed("no digits today"))
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)
    app.secrets["studio"] = {"teacher_password": "s3cret"}
    app.session_state["workspace"] = Workspace("carol")
    app.run()
    app.switch_page("pages/classroom.py")
    app.run()
    no_problems(app)
    assert not app.dataframe  # nothing shown before the password
    by_label(app.text_input, "Teacher password").set_value("guess")
    app.button[0].click()
    app.run()
    assert "not the teacher password" in app.error[0].value and not app.dataframe
    by_label(app.text_input, "Teacher password").set_value("s3cret")
    app.button[0].click()
    app.run()
    no_problems(app)
    roster = app.dataframe[0].value
    assert sorted(roster["workspace"]) == ["alice", "bob"] and roster["failed"].tolist() == [1, 1]
    assert not [b for b in app.button if "Delete" in b.label or "Cancel" in b.label]  # read only


def test_overview_says_whose_workspace_this_is_and_gives_a_link_only_when_asked(studio):
    app = open_page("pages/overview.py", Workspace("0123456789abcdef0123456789abcdef"))
    no_problems(app)
    assert not app.code
    app.toggle(key="show_workspace_link").set_value(True).run()
    assert app.code[0].value.endswith("/?workspace=0123456789abcdef0123456789abcdef")


def test_fashion_mnist_explores_trains_evaluates_and_reads_a_sketch_and_a_product_photo(studio):
    """Issue 24: the third built-in dataset gets EDA, a preset, evaluation, and a garment canvas and uploads."""
    from core.training.config import TrainConfig
    from core.training.train import train
    from tests.inference.test_garment_input import product_photo

    app = open_page("pages/eda.py")
    app.session_state["dataset"] = "fashion"
    app.run()
    no_problems(app)
    assert "Mean and variance image per class" in [s.value for s in app.subheader]

    train(TrainConfig(dataset="fashion", preset="fashion-cnn", epochs=1, limit=300, batch_size=32,
                      name="clothes").ready())
    app.session_state["model"] = "clothes"
    app.switch_page("pages/evaluate.py")
    app.run()
    no_problems(app)
    app.switch_page("pages/predict.py")
    app.run()
    no_problems(app)
    assert [t.label for t in app.tabs] == ["Draw a garment", "Upload images"]
    photo = io.BytesIO()
    product_photo().save(photo, "PNG")
    app.file_uploader(key="uploads_0").set_value([("trousers.png", photo.getvalue(), "image/png"),
                                                  ("blank.png", blank_png(), "image/png")])
    app.run()
    no_problems(app)
    assert "what the model sees" in str([i.proto for i in app.get("image")])
    assert any("No garment found" in i.value for i in app.info)


def blank_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 60), "white").save(buffer, "PNG")
    return buffer.getvalue()


def test_look_inside_starts_from_a_test_image_and_shows_every_stage_and_a_filter_at_work(studio_with_model):
    app = open_page("pages/inside.py")
    no_problems(app)
    strip = next(h.proto.body for h in app.get("html") if "<div class='inside-stage'" in h.proto.body)
    headers = re.findall(r"<strong>(\d+)\. [^<]*</strong> · ([^·]*) ·", strip)
    assert [int(n) for n, _ in headers] == list(range(12)), headers  # mnist-seed, stage by stage, in order
    assert headers[1][1].strip() == "32 maps of 26×26", headers
    assert strip.count("<img ") == 10 and strip.count("class='bars'") == 2  # maps and vectors; logits, softmax
    assert not [m for m in app.markdown if m.value.startswith("Sum of the 9 products")]  # only the chosen view is drawn
    by_label(app.segmented_control, "View").set_value("A filter at work").run()
    sums = [m.value for m in app.markdown if m.value.startswith("Sum of the 9 products")]
    pixel = [m.value for m in app.markdown if m.value.startswith("The model's own pixel")]
    assert sums and pixel
    assert sums[0].rsplit("**", 2)[-2] == pixel[0].rsplit("**", 2)[-2]  # the hand-made sum is the model's pixel
    by_label(app.number_input, "Filter").set_value(5).run()
    no_problems(app)
    by_label(app.segmented_control, "Input").set_value("Draw").run()
    no_problems(app)
    assert any("Draw on the canvas" in i.value for i in app.info)


def test_look_inside_keeps_its_input_and_test_image_across_a_reload(studio_with_model):
    app = open_page("pages/inside.py")
    by_label(app.number_input, "Test image number").set_value(3).run()
    no_problems(app)
    assert app.query_params["input"] == "A test image"
    # The test image and the view are bound to the address by the browser itself (the browser test sees them).
    address = {"input": "A test image", "view": "A filter at work"}
    for image, shown in (("3", 3), ("not a number", 0)):  # an address edited by hand opens the first test image
        reloaded = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180)  # a new session
        reloaded.session_state["workspace"] = DEFAULT
        reloaded.query_params.update({**address, "image": image})
        reloaded.run()
        reloaded.switch_page("pages/inside.py")
        reloaded.run()
        no_problems(reloaded)
        assert by_label(reloaded.number_input, "Test image number").value == shown
        assert f"What the model sees: test image {shown} " in str([i.proto for i in reloaded.get("image")])
        assert by_label(reloaded.segmented_control, "View").value == "A filter at work"


def test_a_run_in_progress_has_a_sidebar_line_on_every_page_but_train_which_shows_it_itself(studio_with_model):
    from core.training import runs
    from core.training.config import TrainConfig

    where = Workspace("runner")
    run_dir = runs.new_run_dir(where.runs, TrainConfig(preset="mnist-seed").ready())
    held = threading.Event()

    def beat():  # what the dispatcher does while a worker trains the run
        while not held.wait(0.5):
            (run_dir / runs.HEARTBEAT).touch()

    (run_dir / runs.HEARTBEAT).touch()
    threading.Thread(target=beat, daemon=True).start()
    try:
        for page, shown in (("pages/overview.py", True), ("pages/predict.py", True), ("pages/train.py", False)):
            app = open_page(page, where)
            no_problems(app)
            lines = [link.proto.label for link in app.sidebar.get("page_link")
                     if link.proto.label.startswith("mnist-seed")]
            assert bool(lines) == shown, (page, lines)
        assert any(f"Run {run_dir.name}: mnist-seed" in h.value for h in app.subheader)  # Train's own live view
    finally:
        held.set()
