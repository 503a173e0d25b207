"""Evaluate: how a registry model does on its dataset's held-out test split."""
import numpy as np
import streamlit as st

from core.data import catalog, kaggle
from core.errors import StudioError
from core.evaluation import SMALL_TEST, cell_samples, estimate_sentence, test_input
from core.images import read_image_file, thumbnail_rgb
from core.inference.gradcam import overlay
from core.model import registry
from core.wording import counted
from ui import charts, resources, selected_model_info, sentence_or_stop, use_shell, workspace
from ui.tables import report_frame
from ui.widgets import enlarge

CELL_SHOWN = 200  # a cell's images shown at most (a diagonal cell of MNIST holds a thousand)

use_shell()
st.title("Evaluate a model")

info = selected_model_info()
where = workspace.current()
with sentence_or_stop():
    result, probabilities = resources.evaluation(info, where)
    data = resources.dataset(where.locate(info.meta.get("dataset", "mnist")))
    predictor = resources.predictor(info)

meta = info.meta
st.caption(f"Model **{info.name}** · preset {meta.get('preset', '?')} · dataset "
           f"{catalog.describe_spec(meta['dataset'])} · {result['samples']:,} test samples")

low, high = result["accuracy_interval"]
estimated = estimate_sentence(meta.get("metrics", {}))
columns = st.columns(4)
columns[0].metric("Accuracy on these photos" if estimated else "Test accuracy", f"{result['accuracy']:.2%}",
                  help="The share of test images answered right.")
columns[0].caption(f"95% confidence interval {low:.1%} – {high:.1%} (Wilson)")
columns[1].metric("Test loss", f"{result['loss']:.4f}")
columns[2].metric("Errors", f"{len(result['misclassified']):,}")
columns[3].metric("AUC" if "auc" in result else "Classes", f"{result['auc']:.4f}" if "auc" in result
                  else len(data.class_names))

if estimated:
    st.info(f"{estimated} There is no unseen photo left to test it on here: the figures on this page are on "
            "photos it trained on, and show what it learnt, not how it does on new photos.",
            icon=":material/info:")
elif result["samples"] < SMALL_TEST:
    st.warning(f"The test split has only {result['samples']} images, so this accuracy is a rough guide: the true "
               f"accuracy could be anywhere from {low:.0%} to {high:.0%}. More images per class narrow it.")

left, right = st.columns([3, 2])
with left:
    st.subheader("Confusion matrix")
    normalise = st.toggle("Normalise by true class", value=False)
    cell = st.plotly_chart(charts.confusion_matrix(result["confusion_matrix"], data.class_names, normalise),
                           width="stretch", key="confusion", on_select="rerun", selection_mode="points",
                           config={"displayModeBar": False})
    st.caption("Click a cell to see its test images.")
with right:
    st.subheader("Per-class accuracy")
    st.plotly_chart(charts.per_class_accuracy(result["per_class_accuracy"]), width="stretch")
    st.subheader("Classification report")
    report = report_frame(result)
    st.dataframe(report.style.format({"precision": "{:.4f}", "recall": "{:.4f}", "f1-score": "{:.4f}"}),
                 width="stretch")
    st.download_button("Download the report (CSV)", report.to_csv().encode(), f"{info.name}-report.csv",
                       "text/csv", icon=":material/download:")

if "roc" in result:
    st.subheader("ROC curve")
    st.plotly_chart(charts.roc_curve(result["roc"], result["auc"]), width="stretch")


def sample_gallery(items: list[dict], key: str) -> None:
    """Test images with their true and predicted class and confidence; Grad-CAM over them on request."""
    names = data.class_names
    grey = catalog.is_grey(data.kind)
    if grey:
        pictures = [np.asarray(data.test.x[item["index"]]) for item in items]
    else:
        pictures = [thumbnail_rgb(read_image_file(data.test.paths[item["index"]]), 160) for item in items]
    if st.toggle("Grad-CAM", key=f"cam_{key}", help="Where the evidence for the predicted class sits."):
        pictures = [with_grad_cam(item) for item in items]
    captions = [f"true {names[i['true']]} → {names[i['predicted']]} ({i['confidence']:.0%})" for i in items]
    st.image([enlarge(p, 96) if grey else p for p in pictures], caption=captions, width=96 if grey else 160)


def with_grad_cam(item: dict) -> np.ndarray:
    """A test sample as the model saw it, under the Grad-CAM of the class it answered."""
    model_input = test_input(predictor, data.test, item["index"])
    return overlay(model_input.squeeze(), predictor.explain_input(model_input, item["predicted"]))


points = cell.selection.points if cell else []
if points:
    true, predicted, _ = (int(v) for v in points[0]["customdata"])
    items = cell_samples(data.test.y, probabilities, true, predicted)
    names = data.class_names
    st.subheader(f"True {names[true]}, predicted {names[predicted]}: {counted(len(items), 'test image')}")
    if not items:
        st.info("No test image falls in this cell.")
    else:
        if len(items) > CELL_SHOWN:
            st.caption(f"The {CELL_SHOWN} most confident of them.")
        with st.container(key="cell_images"):
            sample_gallery(items[:CELL_SHOWN], "cell")

st.subheader("Misclassified samples")
wrong = result["misclassified"]
if not wrong:
    st.success("No test sample is misclassified.")
else:
    order = st.radio("Order", ["Most confident mistakes first", "Least confident first"], horizontal=True)
    shown = st.slider("How many", 5, min(100, len(wrong)), min(30, len(wrong))) if len(wrong) > 5 else len(wrong)
    chosen = wrong if order.startswith("Most") else wrong[::-1]
    sample_gallery(chosen[:shown], "wrong")

history = registry.read_history(info)
if history:
    st.subheader("Training curves")
    left, right = st.columns(2)
    left.plotly_chart(charts.training_curves({info.name: history}, "accuracy"), width="stretch")
    right.plotly_chart(charts.training_curves({info.name: history}, "loss"), width="stretch")

with st.expander("Model details and export"):
    if st.button("Export to TFLite", icon=":material/smartphone:"):
        try:
            with st.spinner("Converting…"):
                st.session_state["tflite"] = (info.name, predictor.tflite())
        except StudioError as exc:
            st.error(str(exc))
    if st.session_state.get("tflite", (None,))[0] == info.name:
        flatbuffer = st.session_state["tflite"][1]
        st.download_button(f"Download {info.name}.tflite ({len(flatbuffer) / 1e6:.1f} MB)", flatbuffer,
                           f"{info.name}.tflite", "application/octet-stream", icon=":material/download:")
    st.code(meta.get("training_command", "(no command recorded)"), language="bash")
    st.json({k: v for k, v in meta.items() if k not in ("metrics",)}, expanded=False)

if data.kind == "digits":
    st.subheader("Kaggle submission")
    st.caption("Upload the Kaggle Digit Recognizer `test.csv` (pixel0 … pixel783) to get `submission.csv`.")
    upload = st.file_uploader("Kaggle test.csv", type=["csv"], key="kaggle_test")
    if upload is not None:
        try:
            text, count = kaggle.submission(predictor, upload)
            st.success(f"Predicted {count:,} digits.")
            st.download_button("Download submission.csv", text.encode(),
                               "submission.csv", "text/csv", icon=":material/download:")
        except StudioError as exc:
            st.error(str(exc))
