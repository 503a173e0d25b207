"""Predict: draw a digit, a number or a garment, or upload pictures or photos, and see what the model says."""
import streamlit as st

from core.data.catalog import is_grey
from core.errors import NoDigitError, NoGarmentError, StudioError
from core.inference.gradcam import overlay
from ui import INSIDE_INPUT, INSIDE_SOURCE, charts, resources, selected_model_info, sentence_or_stop, use_shell
from ui.uploads import answered
from ui.widgets import answer_line, clear_button, drawing_canvas, enlarge, widget_key

use_shell()
st.title("Predict")

info = selected_model_info()
name = info.name
with sentence_or_stop():
    predictor = resources.predictor(info)
st.caption(f"Model **{name}** · {len(predictor.class_names)} classes · input {predictor.input_shape}")
st.page_link("pages/inside.py", label="Look inside this model: every layer, live", icon=":material/layers:")


def show_prediction(prediction, key: str, picture_for_cam=None) -> None:
    """The answer, the top 3 when unsure, all probabilities, and Grad-CAM."""
    if prediction.unsure:
        top = ", ".join(f"{label} ({p:.0%})" for label, p in prediction.top(3))
        st.warning(f"Not sure. Best guesses: {top}")
    else:
        st.markdown(f"### {prediction.label}  \n**{prediction.confidence:.1%}** confident")
    st.plotly_chart(charts.probabilities(prediction.class_names, prediction.probabilities, prediction.index),
                    width="stretch", key=f"probs_{key}")
    if picture_for_cam is not None and st.toggle("Show Grad-CAM", key=f"cam_{key}",
                                                 help="Where the evidence for the predicted class sits."):
        heat = predictor.explain(prediction)
        st.image(enlarge(overlay(picture_for_cam, heat), 168), caption="Grad-CAM")


def read_or_explain(read, picture, empty: str):
    """`read(picture)`, or None after one sentence when the canvas is empty or holds no digit or garment."""
    if picture is None:
        st.info(empty)
        return None
    try:
        return read(picture)
    except (NoDigitError, NoGarmentError) as exc:
        st.info(str(exc))
        return None


def one_from_canvas(empty: str) -> None:
    """One digit or one garment drawn on the canvas, what the model sees, and its answer."""
    left, right = st.columns([3, 2])
    with left:
        picture = drawing_canvas("single", 280, 280, stroke=18)
    with right:
        prediction = read_or_explain(lambda drawn: predictor.predict(drawn, is_sketch=True), picture, empty)
        if prediction is None:
            return
        st.image(enlarge(prediction.model_input), caption="What the model sees (28×28)")
        show_prediction(prediction, "canvas", picture_for_cam=prediction.model_input.squeeze())
        if st.button("Look inside with this drawing", icon=":material/layers:"):
            st.session_state[INSIDE_INPUT] = {"model": name, "input": prediction.model_input}
            st.session_state[f"pending_{INSIDE_SOURCE}"] = "From Predict"  # over what the address remembers
            st.switch_page("pages/inside.py")


def number_from_canvas() -> None:
    picture = drawing_canvas("multi", 720, 220, stroke=16)
    reading = read_or_explain(lambda drawn: predictor.read_number(drawn, is_sketch=True), picture,
                              "Write a number across the canvas, digits side by side.")
    if reading is None:
        return
    st.markdown(f"## {reading.text}")
    st.caption(f"{len(reading.digits)} digit(s) · all correct with probability {reading.confidence:.1%}")
    st.image([enlarge(d.model_input, 84) for d in reading.digits],
             caption=[f"{d.label} · {d.confidence:.0%}" + (" · not sure" if d.unsure else "") for d in reading.digits])


ANSWERS = "upload_answers"
THUMBNAIL = 112 if is_grey(predictor.kind) else 224  # a grey picture is shown beside what the model saw


@st.fragment  # a new upload reruns the gallery, not the canvases and the sidebar around it
def uploads() -> None:
    files = st.file_uploader("Images", type=["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"],
                             accept_multiple_files=True, key=widget_key("uploads"),
                             help="Checked by content, not by name. Large photos are scaled down.")
    if not files:
        st.session_state.pop(ANSWERS, None)
        return
    clear_button("uploads", "Remove all images")  # new files join those already uploaded; this starts afresh
    results = answered([(f.name, f) for f in files], info, predictor, ANSWERS, THUMBNAIL)
    for file_name, _, problem in (r for r in results if r[1] is None):
        st.error(f"**{file_name}**: {problem}")
    columns = st.columns(4)
    for number, (file_name, thumbnail, outcome) in enumerate(r for r in results if r[1] is not None):
        with columns[number % 4].container(border=True):
            if isinstance(outcome, StudioError):
                st.image(thumbnail, caption=file_name)
                st.info(str(outcome))
                continue
            if is_grey(predictor.kind):  # the picture as sent, and what became of it
                st.image([thumbnail, enlarge(outcome.model_input.squeeze(), THUMBNAIL)],
                         caption=[file_name, "what the model sees"])
            else:
                st.image(thumbnail, caption=file_name)
            st.markdown(answer_line(outcome))
            if outcome.looks_like:
                st.caption(f"Looks like: {outcome.looks_like[0]} ({outcome.looks_like[1]:.0%})")
            if st.toggle("Grad-CAM", key=f"cam_upload_{number}"):
                heat = predictor.explain(outcome)
                base = outcome.model_input if predictor.kind == "photos" else outcome.model_input.squeeze()
                st.image(enlarge(overlay(base, heat), 168) if is_grey(predictor.kind)
                         else overlay(base, heat), caption="Grad-CAM")


if predictor.kind == "digits":
    draw, number, upload = st.tabs(["Draw a digit", "Write a number", "Upload images"])
    with draw:
        one_from_canvas("Draw a digit on the canvas.")
    with number:
        number_from_canvas()
    with upload:
        uploads()
elif predictor.kind == "clothing":
    draw, upload = st.tabs(["Draw a garment", "Upload images"])
    with draw:
        st.caption("Draw the outline of one garment: a closed outline is filled in, because every garment the "
                   "model learnt from is a solid shape.")
        one_from_canvas(f"Draw one of: {', '.join(predictor.class_names)}.")
    with upload:
        st.caption("Photos of one garment on a plain background work best: the model learnt from product photos.")
        uploads()
else:
    st.markdown(f"Upload photos of: {', '.join(predictor.class_names)}.")
    uploads()
