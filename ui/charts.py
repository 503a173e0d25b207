"""Plotly figures shared by the pages (no Streamlit here: the figures are plain data)."""
from __future__ import annotations

import base64
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
from PIL import Image

from core.feature_maps import DIVERGING, SEQUENTIAL, maps_mosaic, tile, vector_cells

PALETTE = px.colors.qualitative.Set2
TEMPLATE = "plotly_white"
VECTOR_CELL = 12  # screen pixels of one value of a vector stage
NO_TEMPLATE: dict = {}  # an unvalidated figure keeps Streamlit's theme alone (Plotly would copy its default in)


def _style(fig, height: int = 360, title: str | None = None):
    """The studio's look. The legend sits under the plot and the top margin holds Plotly's toolbar, so neither
    covers the end of a curve, and a title never meets the legend."""
    legend = any(trace.showlegend is not False for trace in fig.data) and len(fig.data) > 1
    fig.update_layout(template=TEMPLATE, height=height + (40 if legend else 0),
                      margin=dict(l=10, r=10, t=56 if title else 36, b=10),
                      title=title, legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))
    return fig


def label_distribution(counts):
    fig = px.bar(counts, x="class", y="count", color="split", barmode="group", color_discrete_sequence=PALETTE,
                 text_auto=True)
    fig.update_xaxes(type="category")
    return _style(fig)


def sample_grid(rows: list[np.ndarray], row_labels: list[str]):
    """One row of digits per class, class names down the side."""
    columns = max(len(r) for r in rows)
    images = np.concatenate([np.concatenate([r, np.full((columns - len(r), *r.shape[1:]), np.nan)]) for r in rows])
    picture = tile(images.astype(np.float32), columns)
    height = rows[0].shape[1] + 2
    fig = px.imshow(picture, color_continuous_scale="gray", zmin=0, zmax=255, aspect="equal")
    fig.update_traces(hovertemplate="%{z:.0f}<extra></extra>")
    fig.update_coloraxes(showscale=False)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(tickvals=[i * height + height / 2 - 1 for i in range(len(rows))], ticktext=row_labels,
                     title="class")
    fig.update_layout(plot_bgcolor="white")
    return _style(fig, height=min(900, 48 * len(rows) + 40))


def class_images(images: np.ndarray, class_names: list[str], colorscale: str):
    """One small image per class, side by side (mean or variance images)."""
    fig = px.imshow(images, facet_col=0, facet_col_wrap=min(10, len(images)), color_continuous_scale=colorscale,
                    aspect="equal")
    for annotation, name in zip(fig.layout.annotations, class_names):
        annotation.text = name
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_traces(hovertemplate="x %{x}, y %{y}: %{z:.1f}<extra></extra>")
    return _style(fig, height=220 * int(np.ceil(len(images) / 10)))


def intensity_histogram(frame, selected: list[str]):
    part = frame[frame["class"].isin(selected)]
    fig = px.line(part, x="intensity", y="share", color="class", log_y=True, markers=False,
                  color_discrete_sequence=px.colors.qualitative.Dark24)
    fig.update_yaxes(title="share of pixels (log)")
    return _style(fig)


def embedding_scatter(frame, title: str):
    fig = px.scatter(frame, x="x", y="y", color="label", hover_data=["index"], opacity=0.75,
                     color_discrete_sequence=px.colors.qualitative.Dark24,
                     category_orders={"label": sorted(frame["label"].unique())})
    fig.update_traces(marker=dict(size=5))
    return _style(fig, height=480, title=title)


def size_scatter(sizes):
    fig = px.scatter(sizes, x="width", y="height", color="class", opacity=0.5, hover_data=["file"],
                     color_discrete_sequence=PALETTE)
    return _style(fig, height=400)


def aspect_histogram(sizes):
    """Bins of 0.05 on an axis a little wider than the data: one shared aspect ratio is one thin bar,
    not a block across the whole chart."""
    low, high = float(sizes["aspect"].min()), float(sizes["aspect"].max())
    fig = px.histogram(sizes, x="aspect", color="class", barmode="overlay", opacity=0.65,
                       color_discrete_sequence=PALETTE)
    fig.update_traces(xbins={"start": max(0.0, low - 0.025), "end": high + 0.05, "size": 0.05})
    fig.update_xaxes(title="width / height", range=[max(0.0, low - 0.3), high + 0.3])
    return _style(fig, height=400)


def channel_histograms(frame):
    fig = px.line(frame, x="intensity", y="share", color="channel", facet_col="class",
                  color_discrete_map={"red": "#E4572E", "green": "#29B473", "blue": "#3D7DD8"})
    return _style(fig, height=320)


def training_curves(histories: dict[str, dict], metric: str):
    """Train (solid) and validation (dashed) curves of one metric for one or more runs."""
    fig = go.Figure()
    for number, (label, history) in enumerate(histories.items()):
        colour = px.colors.qualitative.Plotly[number % 10]
        for key, dash in ((metric, "solid"), (f"val_{metric}", "dash")):
            values = history.get(key) or []
            if values:
                fig.add_trace(go.Scatter(x=list(range(1, len(values) + 1)), y=values, mode="lines+markers",
                                         name=f"{label} · {'validation' if key.startswith('val_') else 'train'}",
                                         line=dict(color=colour, dash=dash)))
    longest = max((len(h.get(metric) or []) for h in histories.values()), default=0)
    fig.update_xaxes(title="epoch", dtick=1 if longest <= 20 else None)
    fig.update_yaxes(title=metric)
    return _style(fig, height=320)


def confusion_matrix(matrix, class_names: list[str], normalise: bool):
    """The confusion matrix, with one invisible marker on each cell: clicking a cell selects it (Plotly
    selects points, never the cells of a heat map)."""
    counts = np.asarray(matrix, dtype=float)
    values = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalise else counts
    text = np.vectorize(lambda v: f"{v:.2f}" if normalise else f"{int(v)}")(values)
    fig = go.Figure(go.Heatmap(z=values, x=class_names, y=class_names, colorscale="Blues", text=text,
                               texttemplate="%{text}", hoverinfo="skip"))
    true, predicted = np.divmod(np.arange(counts.size), len(class_names))
    fig.add_trace(go.Scatter(
        x=[class_names[p] for p in predicted], y=[class_names[t] for t in true], mode="markers",
        customdata=np.stack([true, predicted, counts.ravel()], axis=1).astype(int).tolist(), showlegend=False,
        marker=dict(symbol="square", size=max(12, 360 // max(len(class_names), 1)), opacity=0.01, color="white"),
        hovertemplate="true %{y}, predicted %{x}: %{customdata[2]:.0f} · click to see them<extra></extra>"))
    fig.update_xaxes(title="predicted", type="category")
    fig.update_yaxes(title="true", type="category", autorange="reversed")
    fig.update_layout(dragmode=False, clickmode="event+select")
    return _style(fig, height=max(360, 40 * len(class_names) + 120))


def per_class_accuracy(per_class: dict):
    names = list(per_class)
    values = [per_class[n] if per_class[n] is not None else 0 for n in names]
    fig = px.bar(x=names, y=values, labels={"x": "class", "y": "accuracy"}, text=[f"{v:.3f}" for v in values],
                 color_discrete_sequence=[PALETTE[0]])
    fig.update_xaxes(type="category")
    fig.update_yaxes(range=[max(0, min(values) - 0.05), 1.0])
    return _style(fig, height=300)


def roc_curve(roc: dict, auc: float):
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=roc["fpr"], y=roc["tpr"], mode="lines", name=f"ROC (AUC {auc:.3f})", fill="tozeroy"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line=dict(dash="dot", color="gray")))
    fig.update_xaxes(title="false positive rate", range=[0, 1])
    fig.update_yaxes(title="true positive rate", range=[0, 1.02])
    return _style(fig, height=380)


def probabilities(class_names: list[str], probs: list[float], highlight: int | None = None):
    colours = [PALETTE[1] if i == highlight else "#C7CCD9" for i in range(len(class_names))]
    fig = go.Figure(go.Bar(x=class_names, y=probs, marker_color=colours, text=[f"{p:.0%}" for p in probs],
                           textposition="outside", hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    fig.update_xaxes(type="category")
    fig.update_yaxes(range=[0, 1.12], tickformat=".0%")
    return _style(fig, height=260)


def png_bytes(picture: np.ndarray, palette: np.ndarray | None = None) -> bytes:
    """An RGB picture, or levels with their (256, 3) palette, as a quickly made PNG: crisp, and a fifth of what
    Streamlit's own JPEG at quality 100 would send on every stroke."""
    image = Image.fromarray(picture)
    if palette is not None:
        image.putpalette(palette.ravel().tolist())
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def png_source(picture: np.ndarray, palette: np.ndarray | None = None) -> str:
    """A picture as a PNG data URI (see `png_bytes`). Plotly draws it as one image instead of a trace of numbers,
    and the page puts it in itself: no file to store and fetch on every stroke."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(picture, palette)).decode()


def feature_maps(mosaic):
    """A stage's maps as one picture, zoomed by the browser with crisp pixels, with one invisible marker on
    each tile: clicking a tile selects it (Plotly selects points, never pixels of an image). Built unvalidated:
    a page of 28 stages would otherwise spend a second in Plotly's checks."""
    width, height = mosaic.shown_size
    centres = np.array([mosaic.centre(i) for i in range(mosaic.count)])
    return go.Figure({
        "data": [{"type": "image", "source": png_source(mosaic.levels, mosaic.scale.table),
                  "dx": mosaic.zoom, "dy": mosaic.zoom,
                  "hoverinfo": "skip"},
                 {"type": "scatter", "x": centres[:, 0], "y": centres[:, 1], "mode": "markers",
                  "customdata": np.arange(mosaic.count), "showlegend": False,
                  "marker": {"symbol": "square", "size": mosaic.side * mosaic.zoom, "opacity": 0.01,
                             "color": "white"},
                  "hovertemplate": "map %{customdata}<extra></extra>"}],
        "layout": {"height": height + 8, "width": width + 8, "margin": {"l": 4, "r": 4, "t": 4, "b": 4},
                   "template": NO_TEMPLATE,
                   "autosize": False, "dragmode": False, "clickmode": "event+select",
                   "xaxis": {"visible": False, "range": [0, width]},
                   "yaxis": {"visible": False, "range": [height, 0], "scaleanchor": "x"}},
    }, _validate=False)


def one_map(values: np.ndarray, scale, title: str):
    """One feature map enlarged, its values on hover, on its stage's colour scale."""
    fig = go.Figure(go.Heatmap(z=values, zmin=scale.low, zmax=scale.high, colorscale=_scale_colours(scale),
                               hovertemplate="row %{y}, column %{x}: %{z:.4f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", title="row", constrain="domain")
    fig.update_xaxes(title="column", constrain="domain")
    return _style(fig, height=360, title=title)


def _scale_colours(scale) -> list:
    anchors = DIVERGING if scale.signed else SEQUENTIAL
    return [[i / (len(anchors) - 1), f"rgb{tuple(a)}"] for i, a in enumerate(anchors)]


def scores(class_names: list[str], values, number_format: str, title: str, highlight: int | None = None):
    """One bar per class with its number on it: logits or probabilities. Built unvalidated, like the maps,
    because Look inside redraws it on every stroke."""
    values = [float(v) for v in values]
    colours = [PALETTE[1] if i == highlight else "#8DA0CB" for i in range(len(class_names))]
    return go.Figure({
        "data": [{"type": "bar", "x": list(class_names), "y": values, "marker": {"color": colours},
                  "text": [format(v, number_format) for v in values], "textposition": "auto",
                  "hovertemplate": "%{x}: %{y:.4f}<extra></extra>"}],
        "layout": {"height": 260, "margin": {"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
                   "title": {"text": title}, "xaxis": {"type": "category"}, "template": NO_TEMPLATE},
    }, _validate=False)


@dataclass(frozen=True)
class Bars:
    """Logits or probabilities as a row of bars with their numbers: one per class, the top class marked."""

    labels: list[str]
    values: list[float]
    number_format: str
    top: int


@dataclass(frozen=True)
class StageView:
    """What Look inside draws for one stage: a picture (a PNG data URI, `width` pixels wide on the page, each
    of its pixels a crisp square) with its mosaic or caption, or bars (logits and probabilities)."""

    picture: str | None = None
    width: int = 0
    mosaic: object = None
    caption: str | None = None
    bars: Bars | None = None


_DRAWERS = ThreadPoolExecutor(2, thread_name_prefix="stage-views")  # kept: starting threads on every stroke costs


def stage_views(stages, outputs, class_names: list[str]) -> list[StageView]:
    """`stage_view` of every stage; a dropout stage reuses the view of the stage before it, whose output it
    passes on unchanged when the model answers."""
    drawn = [i for i, stage in enumerate(stages) if stage.kind != "dropout" or i == 0]
    # PNG encoding lets go of the GIL: both cores draw
    made = dict(zip(drawn, _DRAWERS.map(lambda i: stage_view(stages[i], outputs[i], class_names), drawn)))
    views = []
    for i in range(len(stages)):
        views.append(made[i] if i in made else views[-1])
    return views


def stage_view(stage, output: np.ndarray, class_names: list[str]) -> StageView:
    """Maps are a mosaic (a picture; `feature_maps(mosaic)` makes it clickable), a vector is rows of cells,
    logits and probabilities are bars."""
    if stage.kind in ("logits", "softmax"):
        return StageView(bars=Bars(list(class_names), [float(v) for v in output],
                                   ".2f" if stage.kind == "logits" else ".1%", int(np.argmax(output))))
    if stage.maps:
        mosaic = maps_mosaic(output)
        return StageView(png_source(mosaic.sent(), mosaic.scale.table), int(mosaic.shown_size[0]), mosaic=mosaic)
    cells, scale = vector_cells(output)
    return StageView(png_source(cells), cells.shape[1] * VECTOR_CELL,
                     caption=f"{len(output):,} values, one cell each, from {scale.low:.2f} to {scale.high:.2f}")
