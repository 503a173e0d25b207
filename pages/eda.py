"""Explore data: structure, balance, samples and pixel statistics of the active dataset."""
import numpy as np
import pandas as pd
import streamlit as st

from core import eda
from core.data import acquire, catalog
from core.errors import StudioError
from core.names import name_from, slug
from ui import charts, resources, use_shell, workspace
from ui.widgets import explain_unavailable, literal

use_shell()
st.title("Explore data")

st.page_link("pages/your_classes.py", label="Build a classifier of your own classes: photos by upload or webcam, "
             "trained and tried on one page", icon=":material/add_a_photo:")

with st.expander("Import a dataset from a zip with one folder per class", icon=":material/folder_zip:"):
    with st.form("import_zip", clear_on_submit=True):
        upload = st.file_uploader("Zip of class folders", type=["zip"])
        name = st.text_input("Dataset name", placeholder="for example flowers (default: the zip's name)")
        replace = st.checkbox("Replace the dataset of that name if there is one",
                              help="Without this, a name that is taken is refused, so no dataset is ever "
                                   "replaced by accident.")
        if st.form_submit_button("Import", icon=":material/upload:"):
            if upload is None:
                st.error("Choose a zip file first: one folder per class, with the images inside.")
            else:
                try:
                    with st.status("Unpacking and checking every image…") as status:
                        chosen = name_from(name, "dataset") if name.strip() else slug(upload.name.rsplit(".", 1)[0])
                        spec = acquire.import_zip(upload.getvalue(), chosen, replace=replace,
                                                  data_root=workspace.current().data)
                        resources.forget_dataset(workspace.current().locate(spec))
                        resources.dataset(workspace.current().locate(spec))
                        status.update(label="Imported", state="complete")
                    st.session_state["pending_dataset"] = spec
                    st.rerun()
                except StudioError as exc:
                    st.error(str(exc))

picked = st.session_state.get("dataset", "mnist")
st.caption(f"Dataset: **{literal(catalog.describe_spec(picked))}** (change it in the sidebar)")
spec = workspace.current().locate(picked)  # what the caches are keyed by: one person's custom/x is not another's
with st.status(f"Loading {catalog.describe_spec(spec)}…", expanded=False) as status:
    data, problem = resources.try_dataset(spec)
    status.update(label="Loaded" if data else "Not available", state="complete" if data else "error")
if data is None:
    explain_unavailable(spec, problem)
    st.stop()

if catalog.is_grey(data.kind):
    summary = eda.grey_summary(data)
    columns = st.columns(len(summary))
    for column, (label, value) in zip(columns, summary.items()):
        column.metric(label.replace("_", " ").capitalize(), value if isinstance(value, str) else f"{value:,}")

    st.subheader("Label distribution, train vs test")
    st.plotly_chart(charts.label_distribution(eda.label_counts(data)), width="stretch")

    st.subheader("Samples per class")
    if st.button("Reshuffle", icon=":material/shuffle:"):
        st.session_state["sample_seed"] = int(np.random.default_rng().integers(1_000_000))
    seed = st.session_state.get("sample_seed", 0)
    per_class = st.slider("Samples per class", 1, 10, 6)
    picks = eda.samples_per_class(data.train.x, data.train.y, per_class, seed)
    st.plotly_chart(charts.sample_grid([picks[c] for c in sorted(picks)], [data.class_names[c] for c in sorted(picks)]),
                    width="stretch")

    st.subheader("Mean and variance image per class")
    means, variances = resources.mean_variance(spec)
    tab_mean, tab_var = st.tabs(["Mean", "Variance"])
    tab_mean.plotly_chart(charts.class_images(means, data.class_names, "Viridis"), width="stretch")
    tab_var.plotly_chart(charts.class_images(variances, data.class_names, "Magma"), width="stretch")

    st.subheader("Pixel intensity")
    histogram = resources.intensity_histogram(spec)
    chosen = st.multiselect("Classes", ["all", *data.class_names], default=["all", *data.class_names[:2]])
    st.plotly_chart(charts.intensity_histogram(histogram, chosen or ["all"]), width="stretch")

    st.subheader("2-D map of a sample")
    left, right = st.columns([1, 3])
    method = left.radio("Method", ["PCA", "t-SNE"], help="t-SNE takes about half a minute on 2,000 images.")
    samples = left.select_slider("Images", [500, 1000, 2000, 3000], value=2000)
    if method == "t-SNE" and not left.toggle("Compute t-SNE", value=False):
        right.info("t-SNE runs on demand: switch on **Compute t-SNE**.")
    else:
        with right, st.spinner(f"Computing {method}…"):
            frame = resources.embedding(spec, method.lower().replace("-", ""), samples)
            right.plotly_chart(charts.embedding_scatter(frame, f"{method} of {samples:,} training images"),
                               width="stretch")
else:
    report = data.cleaning
    counts = eda.label_counts(data)
    a, b, c, d = st.columns(4)
    a.metric("Usable images", f"{report['kept']:,}")
    b.metric("Skipped files", f"{report['skipped']:,}")
    c.metric("Classes", len(data.class_names))
    d.metric("Train / val / test", f"{len(data.train)} / {len(data.val)} / {len(data.test)}")

    st.subheader("Class counts")
    st.plotly_chart(charts.label_distribution(counts), width="stretch")
    ratio = eda.imbalance(data)
    if ratio > eda.IMBALANCED:
        st.warning(f"The largest class has {ratio:.1f}× as many images as the smallest. Training weighs the "
                   "classes so that the small one counts as much (**Class weights** on the Train page, on by "
                   "default here); more images of the small class help more.")
    else:
        st.caption(f"Balanced: the largest class has {ratio:.1f}× as many images as the smallest.")

    st.subheader("Cleaning report")
    if report["skipped"]:
        reasons = pd.DataFrame([{"reason": k, "files": v} for k, v in report["skipped_by_reason"].items()])
        left, right = st.columns([1, 2])
        left.dataframe(reasons, hide_index=True, width="stretch")
        right.dataframe(pd.DataFrame(report["skipped_files"]), hide_index=True, width="stretch", height=220)
    else:
        st.success("Every file decoded: nothing was skipped.")

    sizes = resources.photo_sizes(spec, data.fingerprint)
    left, right = st.columns(2)
    left.subheader("Width × height")
    left.plotly_chart(charts.size_scatter(sizes), width="stretch")
    right.subheader("Aspect ratio")
    right.plotly_chart(charts.aspect_histogram(sizes), width="stretch")

    st.subheader("Samples")
    if st.button("Reshuffle", icon=":material/shuffle:"):
        st.session_state["sample_seed"] = int(np.random.default_rng().integers(1_000_000))
    sample = resources.photo_sample(spec, data.fingerprint, 6, st.session_state.get("sample_seed", 0))
    for name, thumbs in sample.items():
        st.markdown(f"**{literal(name)}**")
        if thumbs:
            st.image([t for t, _ in thumbs], caption=[f for _, f in thumbs], width=128)

    st.subheader("Colour channels per class")
    st.plotly_chart(charts.channel_histograms(resources.channel_histograms(spec, data.fingerprint)), width="stretch")
