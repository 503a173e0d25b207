"""The sidebar every page shares: the active dataset and model, and any training run in progress."""
import streamlit as st

from core.data import specs
from core.training import runs
from ui import resources, run_status


def model_label(info) -> str:
    accuracy = f" · {info.accuracy:.2%}" if info.accuracy is not None else ""
    return f"{info.name}{accuracy}"


def render() -> None:
    with st.sidebar:
        st.markdown("## :material/neurology: CNN Studio")
        st.caption("Explore · train · evaluate · predict")
        known = specs.known_specs()
        if "pending_dataset" in st.session_state:  # a page imported a dataset: select it
            st.session_state["dataset"] = st.session_state.pop("pending_dataset")
        if st.session_state.get("dataset") not in known:
            st.session_state["dataset"] = "mnist"
        st.selectbox("Dataset", known, key="dataset", format_func=specs.describe_spec)
        infos = {info.name: info for info in resources.model_infos() if info.available}
        if "pending_model" in st.session_state:  # a page chose a model (a run just made it): select it
            st.session_state["model"] = st.session_state.pop("pending_model")
        if infos:
            if st.session_state.get("model") not in infos:
                st.session_state["model"] = next(iter(infos))
            st.selectbox("Model", list(infos), key="model", format_func=lambda name: model_label(infos[name]))
        else:
            st.info("No model yet: the Train page makes one.")
        if runs.active_run():
            st.fragment(training_link, run_every=2.0)()


def training_link() -> None:
    """The run going now, with the same progress line as the Train page; gone (and the app refreshed,
    so that its model is offered) when it ends."""
    running = runs.active_run()
    if running is None:
        st.rerun(scope="app")
    _, text = run_status.progress(running)
    st.page_link("pages/train.py", label=f"Training {running.config.get('preset')}: {text}",
                 icon=":material/hourglass_top:")
