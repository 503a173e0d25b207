"""Train: settings in a form, a background run watched live, and the history of past runs."""
import time

import pandas as pd
import streamlit as st

from core.data import specs
from core.data.acquire import slug
from core.errors import StudioError
from core.model.presets import PRESETS, presets_for
from core.training import runs
from core.training.config import SCHEDULES, TrainConfig
from ui import charts, use_shell

use_shell()
st.title("Train a CNN")

spec = st.session_state.get("dataset", "mnist")
kind = specs.kind_of(spec)
choices = presets_for(kind)

st.markdown(f"Dataset: **{specs.describe_spec(spec)}** (change it in the sidebar)")
# Outside the form, so that picking a preset at once shows that preset's defaults below.
preset_name = st.selectbox("Preset", choices, format_func=lambda n: f"{n} — {PRESETS[n].description}")
defaults = TrainConfig(dataset=spec, preset=preset_name).resolved()  # the preset's knobs, one source

with st.form(f"train_settings_{preset_name}"):
    left, middle, right = st.columns(3)
    epochs = left.slider("Epochs", 1, 50, 3 if kind == "digits" else 5)
    dropout = left.slider("Dropout", 0.0, 0.7, float(defaults.dropout), 0.05)
    batch_size = middle.select_slider("Batch size", [16, 32, 64, 128, 256, 512], value=defaults.batch_size)
    learning_rate = middle.select_slider("Learning rate", [1e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2],
                                         value=defaults.learning_rate, format_func=lambda v: f"{v:g}")
    width = middle.select_slider("Width (filters ×)", [0.25, 0.5, 0.75, 1.0, 1.5, 2.0], value=defaults.width)
    augment = right.toggle("Augmentation", value=defaults.augment,
                           help="Digits: rotation, zoom, shift, stroke width. Photos: flips, rotation, zoom, contrast.")
    batch_norm = right.toggle("Batch normalisation", value=defaults.batch_norm)
    patience = right.number_input("Early-stopping patience (0 = off)", 0, 20, 0)
    with st.expander("More"):
        schedule = st.radio("Learning-rate schedule", list(SCHEDULES), horizontal=True,
                            index=list(SCHEDULES).index(defaults.lr_schedule),
                            help="  \n".join(f"**{name}** {what}." for name, what in SCHEDULES.items()))
        limit = st.number_input("Use at most this many training samples (0 = all)", 0, 1_000_000, 0, step=1000)
        fine_tune = st.number_input("Fine-tuning epochs (transfer preset)", 0, 20, 0)
        name = st.text_input("Model name (optional)", placeholder="generated from dataset, preset and time",
                             help="Any words: \"my first model\" is saved as my-first-model.")
        replace = st.checkbox("Replace the model of that name if there is one",
                              help="Without this, a name that is taken is refused before training starts, so "
                                   "no model is ever replaced by accident.")
    started = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:")

if started:
    cfg = TrainConfig(dataset=spec, preset=preset_name, epochs=epochs, dropout=dropout, batch_size=batch_size,
                      learning_rate=learning_rate, augment=augment, batch_norm=batch_norm, early_stopping=patience,
                      width=width, lr_schedule=schedule, limit=limit or None, fine_tune_epochs=fine_tune,
                      name=slug(name) if name.strip() else None, replace=replace)
    try:
        run = runs.start_run(cfg.resolved().validate())
        st.session_state["watch_run"] = run.id
        st.toast(f"Training started: {preset_name} on {specs.describe_spec(spec)}", icon="🚀")
    except StudioError as exc:
        st.error(str(exc))


def show_run(run: runs.Run) -> None:
    """Progress, live curves and the outcome of one run."""
    last = run.last_batch or {}
    epochs = last.get("epochs") or run.config.get("epochs") or 1
    epoch, steps = last.get("epoch", 0), last.get("steps") or 1
    batch = last.get("batch", steps) if last.get("type") == "batch" else steps
    done_share = min(1.0, ((epoch - 1) + batch / steps) / epochs) if epoch else 0.0
    if run.status == "running":
        status = next((e["message"] for e in reversed(run.events) if e.get("type") == "status"), "Starting…")
        st.progress(done_share, text=f"Epoch {epoch}/{epochs} · batch {batch}/{steps}" if epoch else status)
        columns = st.columns(4)
        columns[0].metric("Loss", f"{last['loss']:.4f}" if "loss" in last else "–")
        columns[1].metric("Accuracy", f"{last['accuracy']:.2%}" if "accuracy" in last else "–")
        columns[2].metric("ETA", f"{last['eta']:.0f} s" if "eta" in last else "–")
        lr = next((e["lr"] for e in reversed(run.epochs) if "lr" in e), run.config.get("learning_rate"))
        columns[3].metric("Learning rate", f"{lr:.2g}" if lr else "–")
    elif run.status == "done":
        final = next(e for e in reversed(run.events) if e.get("type") == "done")
        st.success(f"Finished: model **{final['model']}** saved, test accuracy **{final['test_accuracy']:.2%}** "
                   f"in {final.get('seconds', 0):.0f} s.")
        if st.button("Evaluate this model", icon=":material/fact_check:", key=f"eval_{run.id}"):
            st.session_state["model"] = final["model"]
            st.switch_page("pages/evaluate.py")
    elif run.status == "cancelled":
        st.warning("Cancelled: no model was saved.")
    else:
        st.error(run.detail or "The run failed.")
    history = run.history
    if any(history.values()):
        left, right = st.columns(2)
        left.plotly_chart(charts.training_curves({run.id: history}, "loss"), width="stretch", key=f"loss_{run.id}")
        right.plotly_chart(charts.training_curves({run.id: history}, "accuracy"), width="stretch",
                           key=f"acc_{run.id}")


def live_view() -> None:
    active = runs.active_run()
    watched = active.id if active else st.session_state.get("watch_run")
    if watched is None:
        st.info("No run yet: choose settings above and press **Start training**.")
        return
    run = runs.get_run(watched)
    st.subheader(f"Run {run.id}: {run.config.get('preset')} on {specs.describe_spec(run.config.get('dataset', ''))}")
    if run.status == "running" and st.button("Cancel run", icon=":material/stop:"):
        with st.spinner("Stopping…"):
            run = runs.cancel_run(run.id)
    show_run(run)
    was_running = st.session_state.get("live_was_running")
    st.session_state["live_was_running"] = run.status == "running"
    if was_running and run.status != "running":
        st.rerun(scope="app")  # the new model must appear in the sidebar and on the other pages


active_now = runs.active_run() is not None or started
st.fragment(live_view, run_every=1.0 if active_now else None)()

st.divider()
st.subheader("Past runs")
past = runs.list_runs()
if not past:
    st.caption("Runs appear here once started.")
else:
    table = pd.DataFrame([{
        "run": r.id, "preset": r.config.get("preset"), "dataset": specs.describe_spec(r.config.get("dataset", "")),
        "epochs": len(r.epochs), "status": r.status, "model": r.model,
        "val accuracy": r.epochs[-1].get("val_accuracy") if r.epochs else None,
        "started": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started)),
    } for r in past])
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"val accuracy": st.column_config.NumberColumn(format="percent")})
    with_curves = [r for r in past if r.epochs]
    compare = st.multiselect("Overlay the curves of", [r.id for r in with_curves],
                             default=[r.id for r in with_curves[:2]])
    if compare:
        chosen = {r.id: r.history for r in with_curves if r.id in compare}
        left, right = st.columns(2)
        left.plotly_chart(charts.training_curves(chosen, "accuracy"), width="stretch")
        right.plotly_chart(charts.training_curves(chosen, "loss"), width="stretch")
