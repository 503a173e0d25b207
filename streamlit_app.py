"""CNN Studio: the dashboard's entry point. Page config, navigation, and the sidebar every page shares."""
import streamlit as st

from core.runtime import hide_tensorflow_warnings, return_large_blocks_promptly
from core.training import dispatcher
from ui import resources, run_page, sidebar, teacher

return_large_blocks_promptly()  # a server that took large uploads gives the memory back (once per process)
hide_tensorflow_warnings()  # the README promises a quiet log
resources.registry_recovered()  # an interrupted replace is undone once, before any page lists the models
dispatcher.shared()  # once per server: warm workers start, and runs that waited through a restart are picked up
st.set_page_config(page_title="CNN Studio", page_icon=":material/neurology:", layout="wide",
                   initial_sidebar_state="expanded")

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("pages/eda.py", title="Explore data", icon=":material/query_stats:"),
    st.Page("pages/your_classes.py", title="Your classes", icon=":material/add_a_photo:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/fact_check:"),
    st.Page("pages/predict.py", title="Predict", icon=":material/draw:"),
    st.Page("pages/inside.py", title="Look inside", icon=":material/layers:"),
]
if teacher.configured():
    PAGES.append(st.Page("pages/classroom.py", title="Classroom", icon=":material/groups:"))

navigation = st.navigation(PAGES)
# Train shows every run of the workspace live itself: the sidebar's line would repeat it at another pace.
sidebar.render(show_runs=navigation.url_path != "train")
run_page(navigation)
