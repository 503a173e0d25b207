"""The dataset builder of the Your classes page: make classes, add images by upload or webcam, see and prune
them, delete a whole dataset.

Everything is written through `core.data.builder` into `custom/<dataset>/<class>/` of the visitor's
workspace, so the command line and the other pages see the dataset as soon as it has images. The classes and
their photos are one fragment: adding a photo reruns them, not the page around them.
"""
from __future__ import annotations

import time

import streamlit as st

from core.data import builder, catalog
from core.data.splits import MIN_PER_CLASS
from core.errors import StudioError
from core.wording import counted
from ui import resources, webcam, workspace
from ui.widgets import literal, renew_widget, rerun_part, widget_key

THUMBS_PER_ROW = 8
NEW = "+ New dataset"  # a plain sign: an emoji is an empty box without an emoji font
PHOTO_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"]


def mine():
    """The data folder of this visitor's workspace: where every dataset built here is kept."""
    return workspace.current().data


def forget(spec: str) -> None:
    """A built dataset changed on disk: read it afresh next time."""
    resources.forget_dataset(workspace.current().locate(spec))


def is_ready(spec: str) -> bool:
    """Whether a built dataset can be trained: two classes or more, each with enough images."""
    classes = builder.classes(spec, data_root=mine())
    return len(classes) >= 2 and all(len(images) >= MIN_PER_CLASS for images in classes.values())


def choose_or_create() -> str | None:
    """The dataset to work on: one of this workspace's, or a new one named here."""
    built = catalog.custom_specs(mine())
    options = [NEW, *built]
    # After a reload: the dataset picked in the sidebar if it is one of these, else the one changed last.
    newest = max(built, key=lambda spec: (mine() / spec).stat().st_mtime_ns, default=NEW)
    current = next((c for c in (st.session_state.get("builder_dataset"), st.session_state.get("dataset"))
                    if c in built), newest)
    index = options.index(current)
    choice = st.selectbox("Dataset", options, index=index, format_func=lambda o: o.removeprefix("custom/"))
    if choice != NEW:
        st.session_state["builder_dataset"] = choice
        return choice
    with st.form("new_dataset", clear_on_submit=True):
        name = st.text_input("Name of the new dataset", placeholder="for example hand signs")
        if st.form_submit_button("Create", icon=":material/create_new_folder:"):
            if not name.strip():
                st.error("Type a name for the dataset first.")
                return None
            try:
                st.session_state["builder_dataset"] = builder.create_dataset(name, data_root=mine())
            except StudioError as exc:
                st.error(str(exc))
                return None
            st.rerun()
    return None


def delete_dataset(spec: str) -> None:
    """A whole dataset removed, after a confirmation that says what goes."""
    classes = builder.classes(spec, data_root=mine())
    images = sum(len(found) for found in classes.values())
    with st.popover("Delete this dataset", icon=":material/delete_forever:"):
        st.write(f"Delete **{literal(spec.removeprefix('custom/'))}**: its "
                 f"{counted(len(classes), 'class', 'classes')} and {counted(images, 'image')}? Models trained on it "
                 "stay.")
        if st.button("Yes, delete it", key=f"drop_dataset_{spec}", type="primary"):
            try:
                builder.remove_dataset(spec, data_root=mine())
            except StudioError as exc:  # deleted meanwhile, in another tab
                st.error(str(exc))
            forget(spec)
            st.session_state.pop("builder_dataset", None)
            st.rerun()


@st.fragment
def classes_and_photos(spec: str) -> None:
    add_class_form(spec)
    classes = builder.classes(spec, data_root=mine())
    if not classes:
        st.info("Add a class to start, for example *cat* and *dog*, or *thumbs up* and *thumbs down*.")
        return
    camera(spec, list(classes))
    for class_name, images in classes.items():
        class_panel(spec, class_name, images)
    if not is_ready(spec):
        st.caption(f"Training needs at least 2 classes with {MIN_PER_CLASS} images or more each; "
                   "10 or more per class give a confident model.")


def add_class_form(spec: str) -> None:
    with st.form(f"add_class_{spec}", clear_on_submit=True):
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        name = left.text_input("New class", placeholder="for example thumbs up")
        if right.form_submit_button("Add class", icon=":material/add:"):
            try:
                builder.add_class(spec, name, data_root=mine())
                forget(spec)
            except StudioError as exc:
                st.error(str(exc))


def camera(spec: str, class_names: list[str]) -> None:
    if not st.toggle("Use the webcam", help="Hold the button to record a burst of photos into the class chosen "
                                            "here; a tap takes one."):
        return
    target = st.radio("Add webcam photos to", class_names, horizontal=True)
    frames = webcam.burst(f"Hold to record {target}", key=f"burst_{spec}")
    if not frames:
        return
    taken = time.strftime("%H%M%S")  # each burst's photos keep names of their own in the class
    added, problems = builder.add_images(spec, target, [(f"webcam-{taken}-{number}.jpg", frame)
                                                        for number, frame in enumerate(frames, 1)], data_root=mine())
    if problems:  # a still camera repeats itself: one sentence for the burst, not one per frame
        st.warning(f"{len(problems)} of {len(frames)} photos were not added. {problems[0]}")
    if added:
        forget(spec)
        st.toast(f"Added {counted(added, 'photo')} to {target}", icon=":material/photo_camera:")
        rerun_part()  # the class panels below show the new photos


def class_panel(spec: str, class_name: str, images) -> None:
    with st.container(border=True):
        title, remove = st.columns([5, 1], vertical_alignment="center")
        title.markdown(f"**{literal(class_name)}** · {counted(len(images), 'image')}")
        with remove.popover("Remove class", icon=":material/delete:"):
            st.write(f"Remove **{literal(class_name)}** and its {counted(len(images), 'image')}?")
            if st.button("Yes, remove it", key=f"drop_{spec}_{class_name}", type="primary"):
                try:
                    builder.remove_class(spec, class_name, data_root=mine())
                except StudioError as exc:  # removed meanwhile, in another tab
                    st.error(str(exc))
                forget(spec)
                rerun_part()
        uploader = f"builder_{spec}_{class_name}"
        for kind, message in st.session_state.pop(f"{uploader}_said", []):
            getattr(st, kind)(message)
        uploads = st.file_uploader(f"Add images to {class_name}", accept_multiple_files=True, type=PHOTO_TYPES,
                                   key=widget_key(uploader))
        if uploads:
            added, problems = builder.add_images(spec, class_name, [(f.name, f.getvalue()) for f in uploads],
                                                 data_root=mine())
            forget(spec)
            # Kept, the files would be added again after an image is removed: the uploader starts empty.
            said = [("warning", problem) for problem in problems]
            if added:
                said.insert(0, ("success", f"Added {counted(added, 'image')} to {class_name}."))
            st.session_state[f"{uploader}_said"] = said
            renew_widget(uploader)
            rerun_part()
        thumbnails(spec, class_name, images)


def thumbnails(spec: str, class_name: str, images) -> None:
    """The class's images in the order they were added, each under the name it had."""
    for start in range(0, len(images), THUMBS_PER_ROW):
        columns = st.columns(THUMBS_PER_ROW)
        for column, path in zip(columns, images[start:start + THUMBS_PER_ROW]):
            try:
                column.image(resources.thumbnail(str(path), path.stat().st_mtime_ns), width="stretch",
                             caption=builder.original_name(path))
            except StudioError:
                column.caption("unreadable")
            if column.button("Remove", key=f"remove_{spec}_{class_name}_{path.name}", icon=":material/close:",
                             type="tertiary"):
                builder.remove_image(path, mine())
                forget(spec)
                rerun_part()
