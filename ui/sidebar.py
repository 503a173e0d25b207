"""The sidebar every page shares: the active dataset and model, and this workspace's runs in progress."""
import streamlit as st

from core.data import catalog
from core.training import runs
from ui import resources, run_status, workspace


def model_label(info) -> str:
    accuracy = f" · {info.accuracy:.2%}" if info.accuracy is not None else ""
    return f"{info.name}{accuracy}"


def render(show_runs: bool = True) -> None:
    """The sidebar; with `show_runs`, a live line for each of this workspace's runs waiting or going."""
    with st.sidebar:
        st.markdown("## :material/neurology: CNN Studio")
        st.caption("Explore · train · evaluate · predict")
        where = workspace.current()
        known = catalog.known_specs(where.data)
        choose("dataset", known, "mnist")
        st.selectbox("Dataset", known, key="dataset", format_func=catalog.describe_spec)
        infos = {info.name: info for info in resources.model_infos(where) if info.available}
        if infos:
            gone = choose("model", list(infos), next(iter(infos)))
            st.selectbox("Model", list(infos), key="model", format_func=lambda name: model_label(infos[name]))
            if gone:
                st.warning(f"The model {gone} is no longer here (deleted, or broken since); "
                           f"{st.session_state['model']} is selected instead.", icon=":material/info:")
        else:
            st.info("No model yet: the Train page makes one.")
        remember("dataset", "model")
        if show_runs and runs.active_runs(where.runs):
            st.fragment(training_links, run_every=2.0)()


def choose(key: str, options, default):
    """Set a choice before its widget is drawn: a page's pending pick (a dataset just built, a model just
    trained), else the session's, else the address's (so a browser reload keeps it), else `default`.

    Returns the session's choice when it is no longer among the options, so the page can say so instead of
    answering with another model in silence."""
    pending = st.session_state.pop(f"pending_{key}", None)
    previous = st.session_state.get(key)
    for candidate in (pending, previous, st.query_params.get(key)):
        if candidate in options:
            st.session_state[key] = candidate
            return None
    st.session_state[key] = default
    return previous


def remember(*keys: str) -> None:
    """Keep the choices in the address: a reload, or a link shared with a colleague, opens the same ones."""
    for key in keys:
        if st.session_state.get(key) and st.query_params.get(key) != st.session_state[key]:
            st.query_params[key] = st.session_state[key]


def training_links() -> None:
    """This workspace's runs waiting or going, each with the same line as the Train page; gone (and the app
    refreshed, so that a new model is offered) when the last one ends."""
    active = runs.active_runs(workspace.current().runs)
    if not active:
        st.rerun(scope="app")
    for run in active:
        _, text = run_status.progress(run)
        st.page_link("pages/train.py", label=f"{run.config.get('preset')}: {text}",
                     icon=":material/hourglass_top:" if run.status == "running" else ":material/schedule:")
