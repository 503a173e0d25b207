"""Classroom: the teacher's read-only view of every workspace's runs and models."""
import time

import pandas as pd
import streamlit as st

from core import classroom
from core.data import catalog
from ui import teacher, use_shell

use_shell()
st.title("Classroom")

if not teacher.is_teacher():
    st.caption("Every visitor's runs and models, read only. Teachers only.")
    with st.form("teacher_password"):
        typed = st.text_input("Teacher password", type="password")
        if st.form_submit_button("Open", icon=":material/lock_open:"):
            if teacher.check_password(typed):
                st.rerun()
            st.error("That is not the teacher password set for this studio.")
    st.stop()


def count(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


def when(seconds: float) -> str:
    return time.strftime("%H:%M", time.localtime(seconds)) if seconds else "–"


@st.fragment(run_every=5.0)
def roster() -> None:
    seats = classroom.seats()
    if not seats:
        st.info("Nobody has trained a model yet.")
        return
    st.dataframe(pd.DataFrame([{
        "workspace": seat.label, "waiting": seat.count("queued"), "training": seat.count("running"),
        "finished": seat.count("done"), "failed": seat.count("failed", "interrupted"),
        "models": len(seat.models),
        "best test accuracy": max((m.accuracy for m in seat.models if m.accuracy is not None), default=None),
        "last active": when(seat.last_active),
    } for seat in seats]), hide_index=True, width="stretch",
        column_config={"best test accuracy": st.column_config.ProgressColumn(format="percent", min_value=0.0,
                                                                             max_value=1.0)})
    for seat in seats:
        with st.expander(f"{seat.label} · {count(len(seat.runs), 'run')} · {count(len(seat.models), 'model')}"):
            if seat.runs:
                st.dataframe(pd.DataFrame([{
                    "run": r.id, "preset": r.config.get("preset"),
                    "dataset": catalog.describe_spec(r.config.get("dataset", "")), "status": r.status,
                    "epochs": len(r.epochs), "val accuracy": r.val_accuracy, "model": r.model,
                } for r in seat.runs]), hide_index=True, width="stretch")
            if seat.models:
                st.dataframe(pd.DataFrame([{
                    "model": m.name, "preset": m.meta.get("preset"), "dataset": catalog.describe_spec(m.dataset),
                    "test accuracy": m.accuracy, "status": "ready" if m.available else m.reason,
                } for m in seat.models]), hide_index=True, width="stretch")


roster()
