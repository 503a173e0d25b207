"""Overview: what the studio does, which datasets are here, which models exist, where to go next."""
import pandas as pd
import streamlit as st

from core.data import catalog
from core.errors import StudioError
from core.model import registry
from ui import resources, use_shell, workspace
from ui.widgets import dataset_download

use_shell()
st.title("CNN Studio")
st.markdown(
    "Train and understand **convolutional neural networks** on images, end to end: look at the data, "
    "train a Keras CNN with live progress, evaluate it honestly on held-out data, and try it on your own "
    "drawings and photos."
)

steps = st.columns(5)
for column, (page, title, text) in zip(steps, [
    ("pages/eda.py", "Explore data", "Class balance, sample grids, mean images, pixel statistics, 2-D maps."),
    ("pages/your_classes.py", "Your classes", "Your own classifier from 10 photos a class: upload or webcam, "
                                              "one button to train, try it at once."),
    ("pages/train.py", "Train", "Pick a preset, tune epochs, dropout and learning rate, watch it learn."),
    ("pages/evaluate.py", "Evaluate", "Accuracy, confusion matrix, per-class report, the mistakes it makes."),
    ("pages/predict.py", "Predict", "Draw a digit, a number or a garment, upload photos, see where it looked."),
]):
    with column.container(border=True):
        st.markdown(f"**{title}**")
        st.caption(text)
        st.page_link(page, label=f"Open {title.lower()}", icon=":material/arrow_forward:")



def delete_model(name: str) -> None:
    """Delete, then close the popover: the next model is never one click away from deletion."""
    try:
        registry.delete(name, where.models)  # a session predicting with it keeps its loaded copy
    except StudioError as exc:
        st.session_state["delete_problem"] = str(exc)
    st.session_state["delete_popover"] = False


def photo_dataset_card(spec: str) -> None:
    """Counts of a photo dataset that is here, or a Download button with a progress bar when it is not."""
    st.markdown(f"*{catalog.describe_spec(spec)}*")
    if catalog.is_present(spec):
        data, problem = resources.try_dataset(spec)
        if data is None:
            st.warning(problem)
            return
        a, b, c = st.columns(3)
        a.metric("Usable photos", f"{data.cleaning['kept']:,}")
        b.metric("Skipped files", f"{data.cleaning['skipped']:,}")
        c.metric("Test photos", f"{len(data.test):,}")
        return
    dataset_download(spec)


def grey_dataset_card(spec: str) -> None:
    """A built-in dataset in the MNIST format: its counts, or the sentence saying how to get it."""
    st.markdown(f"**{catalog.describe_spec(spec)}** · 10 classes, 28×28 grayscale")
    try:
        train_count, test_count, source = resources.grey_counts(spec)
        a, b = st.columns(2)
        a.metric("Training images", f"{train_count:,}")
        b.metric("Test images", f"{test_count:,}")
        st.caption(f"Found in `{source}`")
    except StudioError as exc:
        st.warning(str(exc))


st.subheader("Datasets")
mnist_column, fashion_column, pets_column = st.columns(3)
for column, spec in ((mnist_column, "mnist"), (fashion_column, "fashion")):
    with column.container(border=True):
        grey_dataset_card(spec)

with pets_column.container(border=True):
    st.markdown("**Cats vs Dogs** · photos, 2 classes")
    for spec in ("cats_and_dogs_filtered", "catsdogs"):
        photo_dataset_card(spec)

st.subheader("Models")
where = workspace.current()
infos = resources.model_infos(where)
if infos:
    table = pd.DataFrame([{
        "model": info.name,
        "dataset": catalog.describe_spec(info.dataset) if info.available else info.dataset,
        "preset": info.meta.get("preset", ""),
        "test accuracy": info.accuracy,
        "epochs": info.meta.get("epochs_run"),
        "created": (info.meta.get("created") or "")[:16].replace("T", " "),
        "status": "ready" if info.available else f"unavailable: {info.reason}",
    } for info in infos])
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"test accuracy": st.column_config.ProgressColumn(format="percent", min_value=0.0,
                                                                                 max_value=1.0)})
    removable = [info.name for info in infos if info.name not in registry.SHIPPED]
    if removable:
        with st.popover("Delete a model", icon=":material/delete:", key="delete_popover"):
            doomed = st.selectbox("Model", removable, key="delete_model_choice",
                                  help="The models that ship with the studio cannot be deleted here.")
            st.button(f"Yes, delete {doomed}", type="primary", on_click=delete_model, args=(doomed,))
        problem = st.session_state.pop("delete_problem", None)
        if problem:
            st.error(problem)
else:
    st.info("The registry is empty. The Train page makes a model in a minute.")

st.subheader("Your workspace")
with st.container(border=True):
    if workspace.signed_in():
        st.markdown(f"Signed in as **{st.user.get('name') or st.user.get('email')}**: your runs, models and "
                    "datasets follow you to any browser. Nobody else sees them.")
        st.button("Sign out", on_click=st.logout, icon=":material/logout:")
    else:
        st.markdown("Your runs, models and datasets are kept in a workspace of your own, which this browser "
                    "remembers. Nobody else sees them; the shipped models and datasets are shared by all.")
        if workspace.login_configured():
            st.button("Sign in, to keep your workspace on any browser", on_click=st.login, icon=":material/login:")
        if st.toggle("Show a link to this workspace", key="show_workspace_link",
                     help="To open it on another computer or browser of yours."):
            st.code(workspace.link(st.context.url or ""), language=None)
            st.warning("Whoever opens this link works in your workspace, with your models: keep it to yourself.",
                       icon=":material/key:")
    st.caption(f"On the command line: `python -m core models --workspace {where.name}`" if where.name else
               "This is the single-user workspace of the command line (models/ and data/).")
