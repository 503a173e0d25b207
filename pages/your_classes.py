"""Your classes: name your classes, add photos, train with one button, try the model at once, take it away."""
import streamlit as st

from core.data.splits import MIN_PER_CLASS
from core.errors import StudioError
from core.evaluation import estimate_sentence
from core.model import familiar
from core.training import queue, runs
from core.training.config import TrainConfig
from ui import resources, run_status, use_shell, workspace
from ui.dataset_builder import PHOTO_TYPES, choose_or_create, classes_and_photos, delete_dataset, is_ready
from ui.uploads import answered
from ui.widgets import answer_line, clear_button, widget_key

PRESET = "photos-transfer"  # the one button trains the pretrained backbone at its defaults: the best on few photos

use_shell()
st.title("Your classes")
st.markdown("Teach a classifier classes of your own, in four steps on this page: **name** the classes, **add "
            "photos** by upload or webcam, **train** with one button, and **try it** on new photos at once. "
            "About 10 photos a class are enough to start.")
where = workspace.current()
spec = choose_or_create()
if spec is None:
    st.stop()
delete_dataset(spec)

st.subheader("1 · Classes and photos", divider="gray")
classes_and_photos(spec)


def runs_of_this_dataset() -> list[runs.Run]:
    return [run for run in runs.list_runs(where.runs) if run.config.get("dataset") == spec]


def newest_model():
    """The model trained last on this dataset in this workspace, or None."""
    made = [info for info in resources.model_infos(where) if info.available and info.dataset == spec]
    return max(made, key=lambda info: info.meta.get("created", ""), default=None)


def train_step() -> None:
    """One button, the run's progress while it waits and trains, and what it made."""
    latest = next(iter(runs_of_this_dataset()), None)
    if latest is not None and latest.status in runs.ACTIVE:
        share, text = run_status.progress(latest) if latest.status == "running" else (0.0, run_status.waiting(latest))
        st.progress(share, text=text)
        if st.button("Cancel", icon=":material/stop:", key=f"cancel_{latest.id}"):
            runs.cancel_run(latest.id, where.runs)
            st.rerun(scope="app")
        st.session_state["classes_run_active"] = True
        return
    if st.session_state.pop("classes_run_active", False):
        if latest is not None and latest.model:
            st.session_state["pending_model"] = latest.model  # the sidebar selects the new model
        st.rerun(scope="app")  # the run ended: the new model appears below and in the sidebar
    if latest is not None and latest.status == "done" and latest.result:
        st.success(f"Trained **{latest.result.model}** in {run_status.total_seconds(latest):.0f} s.")
        sentence = estimate_sentence({"test_accuracy": latest.result.test_accuracy,
                                      "estimate": latest.result.estimate})
        st.caption(sentence or f"Test accuracy {latest.result.test_accuracy:.1%}.")
        if latest.result.familiar:
            st.caption(familiar.sentence(latest.result.familiar))
    elif latest is not None and latest.status in ("failed", "interrupted"):
        st.error(latest.detail or "The last run failed.")
    # Never disabled: photos are added in another fragment, which does not rerun this one.
    if st.button("Train again" if latest is not None else "Train", type="primary", icon=":material/model_training:"):
        if not is_ready(spec):
            st.warning(f"Add at least 2 classes with {MIN_PER_CLASS} photos or more each first.")
            return
        try:
            queue.submit(TrainConfig(dataset=spec, preset=PRESET), where)
        except StudioError as exc:
            st.error(str(exc))
            return
        st.rerun(scope="app")  # the step polls while the run is active


def try_step() -> None:
    """New photos, uploaded or from the webcam, answered by the newest model of this dataset; then export."""
    info = newest_model()
    if info is None:
        st.info("Train first: the model you train here answers your photos in this step.")
        return
    predictor = resources.predictor(info)
    st.caption(f"Model **{info.name}** · {', '.join(predictor.class_names)}")
    left, right = st.columns(2)
    files = left.file_uploader("Photos to try", accept_multiple_files=True, type=PHOTO_TYPES,
                               key=widget_key("try_uploads"))
    if files:
        with left:
            clear_button("try_uploads", "Remove these photos")
    snapshot = None
    if right.toggle("Use the webcam", key="try_webcam"):
        snapshot = right.camera_input("Take a photo to try", key=widget_key("try_camera"))
    sent = [(f.name, f) for f in files or []] + ([("webcam", snapshot)] if snapshot else [])
    results = answered(sent, info, predictor, "try_answers", 224)
    for file_name, _, problem in (r for r in results if r[1] is None):
        st.error(f"**{file_name}**: {problem}")
    columns = st.columns(4)
    for number, (file_name, thumbnail, outcome) in enumerate(r for r in results if r[1] is not None):
        with columns[number % 4].container(border=True):
            st.image(thumbnail, caption=file_name)
            st.markdown(answer_line(outcome))
    export(info, predictor)


def export(info, predictor) -> None:
    if st.button("Export to TFLite", icon=":material/smartphone:", key="classes_export"):
        try:
            with st.spinner("Converting…"):
                st.session_state["classes_tflite"] = (info.name, predictor.tflite())
        except StudioError as exc:
            st.error(str(exc))
    made = st.session_state.get("classes_tflite")
    if made and made[0] == info.name:
        st.download_button(f"Download {info.name}.tflite ({len(made[1]) / 1e6:.1f} MB)", made[1],
                           f"{info.name}.tflite", "application/octet-stream", icon=":material/download:")


st.subheader("2 · Train", divider="gray")
st.fragment(train_step, run_every=1.0 if any(r.status in runs.ACTIVE for r in runs_of_this_dataset()) else None)()
st.subheader("3 · Try it, and take it with you", divider="gray")
st.fragment(try_step)()
