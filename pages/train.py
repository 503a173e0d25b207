"""Train: settings in a form, the workspace's runs queued and watched live, and the history of past runs."""
import time

import pandas as pd
import streamlit as st

from core import eda
from core.data import catalog
from core.errors import StudioError
from core.evaluation import estimate_sentence
from core.model import familiar
from core.model.presets import PRESETS, get_preset, presets_for
from core.names import name_from
from core.training import experiments, queue, runs
from core.training.config import SCHEDULES, TrainConfig, bounds, model_stem
from core.wording import counted
from ui import charts, resources, run_status, use_shell, workspace
from ui.widgets import explain_unavailable

EPOCHS_HELP = {
    False: "Passes over the training images. More epochs learn more, until the validation accuracy stops rising.",
    True: "The most passes over the photos' features the new head may take: it is fitted full-batch to "
          "convergence, which takes fewer than 100 passes and under a second, and then stops by itself.",
}
SMALL_PHOTO_SET = 1000  # under this many photos, training from scratch rarely beats guessing by much

use_shell()
st.title("Train a CNN")

where = workspace.current()
spec = st.session_state.get("dataset", "mnist")
kind = catalog.kind_of(spec)
st.markdown(f"Dataset: **{catalog.describe_spec(spec)}** (change it in the sidebar)")
data, problem = resources.try_dataset(where.locate(spec))
if data is None:
    explain_unavailable(spec, problem)
    st.stop()
images = len(data.train) + len(data.val) + len(data.test)
st.caption(f"{images:,} images in {len(data.class_names)} classes · train {len(data.train):,} · "
           f"validation {len(data.val):,} · test {len(data.test):,}")

# Outside the form, so that picking a preset at once shows that preset's defaults below.
preset_name = st.selectbox("Preset", presets_for(kind), format_func=lambda n: f"{n} — {PRESETS[n].description}")
preset = PRESETS[preset_name]
if kind == "photos" and not preset.backbone and images < SMALL_PHOTO_SET:
    st.info(f"This dataset has {images:,} photos. A CNN trained from scratch needs thousands to learn more than "
            "colours and backgrounds. **photos-transfer** starts from a network that has already seen a million "
            "ImageNet photos and usually reaches 90%+ from a few dozen photos per class, in seconds.",
            icon=":material/lightbulb:")
defaults = TrainConfig(dataset=spec, preset=preset_name).ready()  # the preset's settings, one source


def dropout_help() -> str:
    """What the one dropout setting does in this preset's layers, with the rates its default gives."""
    rates = preset.dropout_rates(defaults.dropout)
    text = ("The share of units switched off at random while training, so the network cannot lean on a few of "
            "them: more dropout fights overfitting on small datasets.")
    if len(set(rates)) == 1:
        layers = "its Dropout layer" if len(rates) == 1 else f"each of its {len(rates)} Dropout layers"
        return f"{text} This preset uses the value in {layers}."
    shares = " / ".join(f"{share:g}×" for share in preset.dropout_shares)
    return (f"{text} This preset's {len(rates)} Dropout layers take {shares} the value: the default "
            f"{defaults.dropout:g} gives {' / '.join(f'{r:g}' for r in rates)}.")


with st.form(f"train_settings_{preset_name}"):
    left, middle, right = st.columns(3)
    epochs = left.slider("Epochs", 1, max(50, defaults.epochs), defaults.epochs,
                         help=EPOCHS_HELP[bool(preset.backbone)])
    low, high = bounds("dropout")
    dropout = left.slider("Dropout", low, high, float(defaults.dropout), 0.05, help=dropout_help())
    batch_size = middle.select_slider("Batch size", [16, 32, 64, 128, 256, 512], value=defaults.batch_size,
                                      help="Images per training step.")
    learning_rate = middle.select_slider("Learning rate", [1e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2],
                                         value=defaults.learning_rate, format_func=lambda v: f"{v:g}",
                                         help="How big each step is. Too high and training jumps about; too low "
                                              "and it crawls.")
    width, batch_norm = defaults.width, defaults.batch_norm
    if not preset.backbone:  # a pretrained backbone has its own width and normalisation
        width = middle.select_slider("Width (filters ×)", [0.25, 0.5, 0.75, 1.0, 1.5, 2.0], value=defaults.width,
                                     help="Multiplies the number of filters in every convolution: wider networks "
                                          "learn more detail and train slower.")
        batch_norm = right.toggle("Batch normalisation", value=defaults.batch_norm,
                                  help="Rescales each layer's outputs while training: faster, steadier learning.")
    augment = right.toggle("Augmentation", value=defaults.augment,
                           help="Digits: rotation, zoom, shift, stroke width. Photos: flips, rotation, zoom, contrast.")
    weighted = right.toggle("Class weights", value=eda.wants_class_weights(data.train.y, len(data.class_names)),
                            help="Counts each image of a rare class for more, so that a large class does not drown "
                                 "a small one. On by default when one class has over twice the training images "
                                 "of another.")
    patience = right.number_input("Early-stopping patience (0 = off)", 0, 20, 0,
                                  help="Stop after this many epochs without a better validation loss, and keep the "
                                       "best epoch's weights.")
    with st.expander("More"):
        schedule = st.radio("Learning-rate schedule", list(SCHEDULES), horizontal=True,
                            index=list(SCHEDULES).index(defaults.lr_schedule),
                            help="  \n".join(f"**{name}** {what}." for name, what in SCHEDULES.items()))
        limit = st.number_input("Use at most this many training samples (0 = all)", 0, 1_000_000, 0, step=1000)
        fine_tune = 0
        if preset.backbone:
            fine_tune = st.number_input(
                "Fine-tuning epochs", 0, 20, 0,
                help="After the new head is trained, also adjust the top blocks of the pretrained network, at a "
                     "tenth of the learning rate: a few points more on photos unlike ImageNet's, several times "
                     "slower.")
        name = st.text_input("Model name (optional)", placeholder=f"generated: {model_stem(defaults)}-<date>-<time>",
                             help="Any words: \"my first model\" is saved as my-first-model.")
        replace = st.checkbox("Replace the model of that name if there is one",
                              help="Without this, a name that is taken is refused before training starts, so "
                                   "no model is ever replaced by accident.")
    started = st.form_submit_button("Start training", type="primary", icon=":material/play_arrow:")

if started:
    try:
        cfg = TrainConfig(dataset=spec, preset=preset_name, epochs=epochs, dropout=dropout, batch_size=batch_size,
                          learning_rate=learning_rate, augment=augment, batch_norm=batch_norm,
                          early_stopping=patience, width=width, lr_schedule=schedule, limit=limit or None,
                          fine_tune_epochs=fine_tune, class_weights=weighted,
                          name=name_from(name) if name.strip() else None, replace=replace)
        run = queue.submit(cfg, where)
        st.session_state["watch_run"] = run.id
        st.toast(f"Queued: {preset_name} on {catalog.describe_spec(spec)}", icon=":material/schedule:")
    except StudioError as exc:
        st.error(str(exc))


with st.expander("Try several values", icon=":material/science:"):
    st.caption("One setting at two to five values, one run per value, everything else at this preset's defaults: "
               "the runs queue like any other, and their curves and scores are compared below when they finish.")
    with st.form(f"experiment_{preset_name}"):
        left, middle, right = st.columns(3)
        setting = left.selectbox("Setting", list(experiments.SETTINGS), format_func=experiments.LABELS.get)
        typed = middle.text_input("Values, separated by commas", placeholder="0.1, 0.5",
                                  help="Numbers for dropout, epochs, learning rate, batch size and width; on, off "
                                       "for augmentation.")
        samples = right.number_input("Training samples (0 = all)", 0, 1_000_000, 0, step=1000,
                                     help="Fewer samples make each run quicker, and overfitting easier to see.")
        tried = st.form_submit_button("Start one run per value", icon=":material/science:")
    if tried:
        try:
            values = experiments.parse_values(setting, typed)
            base = TrainConfig(dataset=spec, preset=preset_name, limit=samples or None)
            experiment = experiments.start(base, setting, values, where)
            st.session_state["watch_experiment"] = experiment.id
            st.toast(f"Queued {len(experiment.runs)} runs, one per {experiment.label}", icon=":material/science:")
        except StudioError as exc:
            st.error(str(exc))


def curves(history: dict, key: str) -> None:
    """Loss on the left, accuracy on the right: the same order for the live run and for past runs."""
    left, right = st.columns(2)
    left.plotly_chart(charts.training_curves(history, "accuracy"), width="stretch", key=f"acc_{key}")
    right.plotly_chart(charts.training_curves(history, "loss"), width="stretch", key=f"loss_{key}")


def outcome(run: runs.Run) -> None:
    """What a finished run made, and what to do when it learned nothing."""
    final = run.result
    measured = "estimated accuracy" if final.estimate else "test accuracy"
    st.success(f"Finished: model **{final.model}** saved, {measured} **{final.test_accuracy:.2%}**, "
               f"in {run_status.total_seconds(run):.0f} s ({run_status.phases(run)}).")
    if final.estimate:
        st.info(estimate_sentence({"test_accuracy": final.test_accuracy, "estimate": final.estimate}),
                icon=":material/info:")
    if final.familiar:
        st.info(familiar.sentence(final.familiar), icon=":material/help:")
    if final.near_chance:
        st.warning(f"This model has learned next to nothing: its validation accuracy "
                   f"({final.val_accuracy:.0%}) is within a few points of always guessing the most common class "
                   f"({final.chance_accuracy:.0%}). Try **photos-transfer** for photos, more images per class, "
                   "more epochs, or a lower learning rate; check that each class folder holds what its name says.",
                   icon=":material/warning:")
    if st.button("Evaluate this model", icon=":material/fact_check:", key=f"eval_{run.id}"):
        st.session_state["pending_model"] = final.model
        st.switch_page("pages/evaluate.py")


def show_run(run: runs.Run) -> None:
    """Its place in the queue, or progress and live curves, or the outcome of one run."""
    if run.status == "queued":
        st.progress(0.0, text=run_status.waiting(run))
    elif run.status == "running":
        share, text = run_status.progress(run)
        st.progress(share, text=text)
        last = run.progress
        metrics = last.metrics if last else {}
        columns = st.columns(4)
        columns[0].metric("Loss", f"{metrics['loss']:.4f}" if "loss" in metrics else "–")
        columns[1].metric("Accuracy", f"{metrics['accuracy']:.2%}" if "accuracy" in metrics else "–")
        columns[2].metric("ETA", f"{max(last.eta, 0):.0f} s" if last else "–")
        lr = run.learning_rate
        columns[3].metric("Learning rate", f"{lr:.2g}" if lr else "–")
    elif run.status == "done":
        outcome(run)
    elif run.status == "cancelled":
        st.warning("Cancelled: no model was saved.")
    else:
        st.error(run.detail or "The run failed.")
    if any(run.history.values()):
        curves({run.id: run.history}, run.id)


def settings_line(config: dict) -> str:
    """The settings a run was started with, dropout as the rate of each of its Dropout layers."""
    try:
        rates = get_preset(config["preset"]).dropout_rates(config["dropout"])
        return (f"{counted(config['epochs'], 'epoch')} · dropout {' / '.join(f'{r:g}' for r in rates)} · batch "
                f"{config['batch_size']} · learning rate {config['learning_rate']:g} ({config['lr_schedule']})")
    except (KeyError, TypeError, StudioError):  # a run folder from an older studio
        return ""


def live_view() -> None:
    """The one this session started; else the run going now; else, after a reload, the latest one. Other
    runs waiting or going in this workspace get a line each."""
    past = runs.list_runs(where.runs)
    mine = st.session_state.get("watch_run")
    run = next((r for r in past if r.id == mine), None) or next((r for r in past if r.status == "running"), None) \
        or (past[0] if past else None)
    if run is None:
        st.info("No run yet: choose settings above and press **Start training**.")
        return
    st.subheader(f"Run {run.id}: {run.config.get('preset')} on {catalog.describe_spec(run.config.get('dataset', ''))}")
    st.caption(settings_line(run.config))
    if run.status in runs.ACTIVE and st.button("Cancel run", icon=":material/stop:", key=f"cancel_{run.id}"):
        with st.spinner("Stopping…"):
            run = runs.cancel_run(run.id, where.runs)
    show_run(run)
    for other in (r for r in past if r.status in runs.ACTIVE and r.id != run.id):
        st.caption(f"Also in this workspace: run {other.id} ({other.config.get('preset')}): "
                   f"{run_status.progress(other)[1]}")
    was_running = st.session_state.get("live_was_running")
    st.session_state["live_was_running"] = run.status in runs.ACTIVE
    if was_running and run.status not in runs.ACTIVE:
        if run.model:
            st.session_state["pending_model"] = run.model  # the sidebar selects the new model
        st.rerun(scope="app")  # the new model must appear in the sidebar and on the other pages


def experiment_view() -> None:
    """The experiment this session started, else the latest one: a table whose first column is the setting
    that varied, and the runs' curves overlaid, each named by its value."""
    found = experiments.list_experiments(where)
    chosen = st.session_state.get("watch_experiment")
    experiment = next((e for e in found if e.id == chosen), None) or (found[0] if found else None)
    if experiment is None:
        return
    st.subheader(f"Experiment {experiment.id}: {experiment.label}")
    results = experiments.results(experiment, where)
    table = pd.DataFrame([experiments.row(experiment.label, value, run) for value, run in results])
    with st.container(key="experiment_table"):
        shares = {name: "{:.2%}" for name in ("train accuracy", "validation accuracy", "test accuracy")}
        st.table(table.style.hide(axis="index").format(
            {experiment.label: "{:g}" if experiment.setting != "augment" else str, "seconds": "{:.1f}", **shares},
            na_rep="–"))
    histories = {f"{experiment.label} {value}": run.history for value, run in results if run and run.epochs}
    if histories:
        with st.container(key="experiment_curves"):
            curves(histories, f"experiment_{experiment.id}")
    waiting = sum(1 for _, run in results if run and run.status in runs.ACTIVE)
    st.caption(f"{waiting} of {len(results)} runs still waiting or training." if waiting else
               f"All {len(results)} runs have ended.")


def run_label(run: runs.Run) -> str:
    return f"{run.model or run.config.get('preset')} ({run.id})"


def setting_header(key: str, differ: list[str]) -> str:
    name = key.replace("_", " ")
    return f"{name} ≠" if key in differ else name


def legend(run: runs.Run, differ: list[str]) -> str:
    """A run in a legend: its model and the settings that differ from the other compared runs, not a time stamp."""
    values = ", ".join(f"{key.replace('_', ' ')} {run.config.get(key)}" for key in differ)
    return f"{run.model or run.config.get('preset')}" + (f" · {values}" if values else f" · {run.id}")


active_now = bool(runs.active_runs(where.runs)) or started or tried
st.fragment(live_view, run_every=1.0 if active_now else None)()
st.fragment(experiment_view, run_every=2.0 if active_now else None)()

st.divider()
st.subheader("Past runs")
past = runs.list_runs(where.runs)
if not past:
    st.caption("Runs appear here once started.")
else:
    with_curves = [r for r in past if r.epochs]
    compare = st.multiselect("Compare", [r.id for r in with_curves], default=[r.id for r in with_curves[:2]],
                             format_func=lambda run_id: run_label(next(r for r in past if r.id == run_id)),
                             help="Their curves are overlaid below, and the settings that differ between them are "
                                  "marked ≠ in the table.")
    chosen = [r for r in with_curves if r.id in compare]
    differ = experiments.differing([r.config for r in chosen]) if len(chosen) > 1 else []
    table = pd.DataFrame([{
        "run": r.id, "model": r.model, "preset": r.config.get("preset"),
        "dataset": catalog.describe_spec(r.config.get("dataset", "")), "status": r.status,
        "epochs run": len(r.epochs), "val accuracy": r.val_accuracy,
        **{setting_header(key, differ): r.config.get(key) for key in experiments.COMPARED},
        "started": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started)),
    } for r in past])
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"val accuracy": st.column_config.NumberColumn(format="percent")})
    if chosen:
        curves({legend(r, differ): r.history for r in chosen}, "compare")
    finished = [r.id for r in past if r.status not in runs.ACTIVE]
    if finished:
        with st.popover("Delete a run", icon=":material/delete:"):
            doomed = st.selectbox("Run", finished, key="delete_run_choice")
            st.caption("Its log and curves go; a model it saved stays (delete models on the Overview page).")
            if st.button(f"Yes, delete run {doomed}", type="primary"):
                runs.delete_run(doomed, where.runs)
                st.rerun()
