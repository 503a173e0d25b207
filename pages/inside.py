"""Look inside: what every stage of a model makes of one input, its first filters, one filter at work, and
its scores becoming probabilities. Live as the person draws or uploads."""
import numpy as np
import pandas as pd
import streamlit as st

from core.data import catalog
from core.data.samples import sample_picture
from core.errors import NoDigitError, NoGarmentError, StudioError
from core.evaluation import test_input
from core.feature_maps import Scale, filter_pictures, outline, window_on
from core.images import decode_image
from ui import (
    INSIDE_INPUT,
    INSIDE_SOURCE,
    charts,
    resources,
    selected_model_info,
    sentence_or_stop,
    stage_strip,
    use_shell,
    workspace,
)
from ui.sidebar import choose, remember
from ui.tables import number_grid
from ui.widgets import answer_line, drawing_canvas, enlarge

NO_TOOLBAR = {"displayModeBar": False}
TEST_IMAGE, MAX_TEST_IMAGE = "image", 100_000  # the test image number's widget key, also the address's name

use_shell()
st.title("Look inside")
st.html(stage_strip.STYLE)  # once a page, outside the live part: the strip itself is sent with every input

info = selected_model_info()
name, where = info.name, workspace.current()
with sentence_or_stop():
    predictor = resources.predictor(info)
    inside = resources.inside(info)
grey = catalog.is_grey(predictor.kind)
st.caption(f"Model **{name}** · {len(inside.stages)} stages · "
           f"{inside.model.count_params():,} parameters. Each stage below shows what it makes of the picture.")


def dataset_sample(index: int):
    """(model input, what it is) of test image `index` of the model's dataset, or None when it is not here."""
    data, _ = resources.try_dataset(where.locate(info.meta.get("dataset", "mnist")))
    if data is None or not len(data.test):
        return None
    index = min(index, len(data.test) - 1)
    true = data.class_names[int(data.test.y[index])]
    return test_input(predictor, data.test, index), f"test {'image' if grey else 'photo'} {index} (a {true})"


def chosen_input():
    """(the model input the page shows, what it is, whether it was drawn on a canvas), from the source the person
    picks; None after a sentence."""
    handed = st.session_state.get(INSIDE_INPUT)
    sources = (["From Predict"] if handed and handed["model"] == name else []) + ["A test image"] + \
        (["Draw"] if grey else []) + ["Upload"]
    choose(INSIDE_SOURCE, sources, sources[0])  # a reload keeps the source, from the address
    source = st.segmented_control("Input", sources, key=INSIDE_SOURCE) or sources[0]
    try:
        if source == "From Predict":
            return handed["input"], "your drawing on Predict", True
        if source == "A test image":
            index = st.number_input("Test image number", 0, MAX_TEST_IMAGE, key=TEST_IMAGE, bind="query-params")
            found = dataset_sample(int(index))
            if found is not None:
                return (*found, False)
            st.caption("The model's dataset is not on this machine, so the page starts from a picture of its own.")
            return predictor.model_input(sample_picture(predictor.kind), is_sketch=True), "a sample picture", True
        if source == "Draw":
            picture = drawing_canvas("inside", 280, 280, stroke=18)
            if picture is None or not picture[..., 3].any():
                st.info("Draw on the canvas: every stage below follows your drawing.")
                return None
            return predictor.model_input(picture, is_sketch=True), "your drawing", True
        upload = st.file_uploader("A picture", type=["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"],
                                  key="inside_upload")
        if upload is None:
            st.info("Upload a picture: every stage below follows it.")
            return None
        return predictor.model_input(decode_image(upload.getvalue())), upload.name, False
    except (NoDigitError, NoGarmentError, StudioError) as exc:
        st.info(str(exc))
        return None


def strip(look) -> None:
    """A stage's maps made clickable on request, then every stage in order, each with its output, its shape,
    its parameters and one sentence, drawn as one block so that a stroke repaints it at once."""
    views = charts.stage_views(inside.stages, look.outputs, predictor.class_names)
    enlarged(look, views)
    st.html(stage_strip.strip_html(inside.stages, views))


def enlarged(look, views) -> None:
    """The chosen stage's maps as a clickable mosaic (one Plotly chart, not one a stage: a stroke would repaint
    every chart for seconds), and the clicked map shown large with its values, following the input until
    another map is clicked."""
    with_maps = [i for i, stage in enumerate(inside.stages) if stage.maps]
    number = st.selectbox("Enlarge a map of", [None, *with_maps], key=f"inside_enlarge_{name}",
                          format_func=lambda i: "no stage" if i is None else f"{i}. {inside.stages[i].title}",
                          help="Pick a stage, then click one of its maps.")
    if number is None:
        return
    mosaic, stage = views[number].mosaic, inside.stages[number]
    event = st.plotly_chart(charts.feature_maps(mosaic), key=f"maps_{name}_{number}", on_select="rerun",
                            selection_mode="points", config=NO_TOOLBAR, width="content")
    points = event.selection.points if event else []
    clicked = f"inside_map_{name}_{number}"  # kept here: a new input redraws the chart and clears its selection
    if points and int(points[0]["customdata"]) < stage.maps:
        st.session_state[clicked] = int(points[0]["customdata"])
    channel = st.session_state.get(clicked)
    if channel is not None:
        st.plotly_chart(charts.one_map(look.outputs[number][..., channel], mosaic.scale,
                                       f"map {channel} of stage {number}, enlarged"),
                        key=f"map_{name}_{number}", config=NO_TOOLBAR)
    else:
        st.caption("Click a map to enlarge it.")


def first_filters() -> None:
    kernels = inside.first_filters()
    size = "×".join(str(k) for k in kernels.shape[1:3])
    st.markdown(f"The first convolution's **{len(kernels)} filters**, each {size}, as it learnt them.")
    st.caption("Red weights add what they cover, blue ones subtract it: a filter with red on one side and blue on "
               "the other finds an edge." if kernels.shape[-1] == 1 else
               "Each filter is shown in colour, stretched to its own range: it answers most to the pattern it "
               "looks like.")
    st.image(filter_pictures(kernels), caption=[str(i) for i in range(len(kernels))], width=56)


def filter_at_work(look) -> None:
    """One pixel of the first convolution, computed in front of the student."""
    stage = inside.stages[inside.first_conv_stage]
    height, width, filters = stage.shape
    strongest = np.unravel_index(np.argmax(look.outputs[inside.first_conv_stage][..., 0]), (height, width))
    pick = st.columns(3)  # it starts where filter 0 answers most, so the first sum is not a sum of zeros
    channel = pick[0].number_input("Filter", 0, filters - 1, 0, key="work_filter")
    row = pick[1].number_input("Row of the output", 0, height - 1, int(strongest[0]), key="work_row")
    column = pick[2].number_input("Column of the output", 0, width - 1, int(strongest[1]), key="work_column")
    work = inside.filter_at_work(look, int(row), int(column), int(channel))
    size = work.kernel.shape[:2]
    output = look.outputs[inside.first_conv_stage][..., work.channel]
    pictures = st.columns(2)
    pictures[0].image(window_on(look.conv_input, work.top, work.left, size), width=280,
                      caption=f"The input, the {size[0]}×{size[1]} window in yellow")
    pictures[1].image(outline(Scale.of(output).colour(output), work.row, work.column, (1, 1)), width=280,
                      caption=f"Map {work.channel}: the pixel it makes, outlined")
    for c in range(work.kernel.shape[-1]):
        named = "" if work.kernel.shape[-1] == 1 else f" ({'RGB'[c]})"
        for grid, values, title in zip(st.columns(3), (work.window, work.kernel, work.products),
                                       ("window", "kernel", "window × kernel")):
            grid.markdown(f"**{title}**{named}")
            grid.table(number_grid(values[..., c]))
    st.markdown(f"Sum of the {work.products.size} products: **{work.products.sum():.4f}** · plus the bias "
                f"{work.bias:.4f} · = **{work.total:.4f}**"
                + (f" · ReLU: **{work.activated:.4f}**" if work.activation == "relu" else ""))
    st.markdown(f"The model's own pixel at row {work.row}, column {work.column} of map {work.channel}: "
                f"**{work.value:.4f}**", help="The same number: a convolution is this sum, repeated at every "
                                              "position for every filter.")
    if work.then:
        st.caption("Then the same pixel in the stages that follow: "
                   + " → ".join(f"{title} {value:.4f}" for title, value in work.then))


def scores_to_probabilities(look) -> None:
    logits = look.logits
    exponentials = np.exp(logits - logits.max())
    st.markdown("The last dense layer gives each class a **score** (a logit). Softmax makes them probabilities: "
                "*e* to the power of each score, divided by their sum. Subtracting the largest score first "
                "changes no probability and keeps the numbers small.")
    table = pd.DataFrame({"class": predictor.class_names, "score": logits, "e^(score − max)": exponentials,
                          "probability": exponentials / exponentials.sum()})
    st.dataframe(table.style.format({"score": "{:.3f}", "e^(score − max)": "{:.4f}", "probability": "{:.2%}"}),
                 hide_index=True)
    top = int(np.argmax(logits))
    left, right = st.columns(2)
    left.plotly_chart(charts.scores(predictor.class_names, logits, ".2f", "scores (logits)", top),
                      config=NO_TOOLBAR, key="logit_bars")
    right.plotly_chart(charts.scores(predictor.class_names, look.probabilities, ".1%", "probabilities", top),
                       config=NO_TOOLBAR, key="probability_bars")


@st.fragment  # a stroke on the canvas reruns this, not the sidebar
def look_inside() -> None:
    top = st.columns([2, 3])
    with top[0]:
        found = chosen_input()
    remember(INSIDE_SOURCE)
    if found is None:
        return
    model_input, what, drawn = found
    look = inside.look(model_input)
    with top[1]:
        # In the page itself, as the strip's pictures are: no file for the browser to fetch on every stroke.
        st.image(charts.png_source(enlarge(model_input) if grey else model_input.astype(np.uint8)), width=200,
                 caption=f"What the model sees: {what}")
        st.markdown(answer_line(predictor.predict_inputs(model_input[None], drawn=drawn)[0]))
    # One view drawn at a time: a stroke then repaints one view, not four. A segmented control, not tabs: tabs
    # are five more elements for the browser to take in on every new input (20 ms each time, measured in pairs).
    views = {"Every stage": strip, "First filters": lambda _: first_filters(), "A filter at work": filter_at_work,
             "Scores to probabilities": scores_to_probabilities}
    view = st.segmented_control("View", list(views), default="Every stage", required=True, key="view",
                                bind="query-params")  # a reload keeps the view, as it keeps the input
    views[view](look)


look_inside()
