"""Look inside's strip of stages as one block of HTML: each stage's title, shape, parameters, sentence and
picture (or bars), in order. One element for the whole strip instead of five a stage: the browser then lays out
a stroke's new strip once, not 140 times, which halves the time from input to painted page. Its style is put in
the page once: a new <style> with every stroke would have the browser restyle the whole page. A stage out of
sight is not drawn until it is scrolled to (`content-visibility: auto`): only the first few are on screen."""
from __future__ import annotations

from html import escape

from core.wording import counted
from ui.charts import PALETTE, Bars, StageView

BAR_WIDTH = 220  # pixels of the longest bar
STYLE = f"""<style>
.inside-stage {{ border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; padding: 0.75rem 1rem;
  margin-bottom: 0.75rem; content-visibility: auto; contain-intrinsic-size: auto 220px; }}
.inside-stage p {{ margin: 0 0 0.25rem 0; }}
.inside-stage .sentence {{ font-size: 0.875rem; opacity: 0.7; }}
.inside-stage img {{ image-rendering: pixelated; display: block; max-width: 100%; }}
.inside-stage .bars {{ display: grid; gap: 2px 0; align-items: center; font-size: 0.875rem; }}
.inside-stage .bars > span {{ padding: 0 0.5rem; }}
.inside-stage .bars .side {{ display: flex; }}
.inside-stage .bars .side.left {{ justify-content: flex-end; border-right: 1px solid rgba(49, 51, 63, 0.4); }}
.inside-stage .bar {{ height: 0.9rem; background: #8DA0CB; }}
.inside-stage .bar.top {{ background: {PALETTE[1]}; }}
</style>"""


def shape_text(stage) -> str:
    """"32 maps of 26×26" or "128 values"."""
    if stage.maps:
        height, width, count = stage.shape
        return f"{counted(count, 'map')} of {height}×{width}"
    return f"{stage.shape[0]:,} values"


def strip_html(stages, views: list[StageView]) -> str:
    """Every stage in order, as one HTML block; its `STYLE` is put in the page once, not with every input."""
    return "".join(stage_html(number, stage, view) for number, (stage, view) in enumerate(zip(stages, views)))


def stage_html(number: int, stage, view: StageView) -> str:
    heading = (f"<p><strong>{number}. {escape(stage.title)}</strong> · {shape_text(stage)} · "
               f"{stage.params:,} parameters</p><p class='sentence'>{escape(stage.sentence)}</p>")
    if view.bars is not None:
        body = bars_html(view.bars)
    else:
        body = f"<img src='{view.picture}' width='{view.width}' alt='stage {number}'>"
        if view.caption:
            body += f"<p class='sentence'>{escape(view.caption)}</p>"
    return f"<div class='inside-stage' id='stage-{number}'>{heading}{body}</div>"


def bars_html(bars: Bars) -> str:
    """One row a class: its name, a bar as long as its share of the largest size, its number. When a value is
    below zero (a logit), zero sits in the middle: negative bars grow to the left, positive ones to the right."""
    largest = max((abs(v) for v in bars.values), default=1.0) or 1.0
    signed = min(bars.values, default=0.0) < 0
    half = BAR_WIDTH / 2 if signed else BAR_WIDTH
    rows = []
    for i, (label, value) in enumerate(zip(bars.labels, bars.values)):
        bar = (f"<div class='bar{' top' if i == bars.top else ''}' "
               f"style='width: {abs(value) / largest * half:.0f}px'></div>")
        cells = ([f"<div class='side left'>{bar if value < 0 else ''}</div>",
                  f"<div class='side'>{bar if value >= 0 else ''}</div>"] if signed else [bar])
        rows.append(f"<span>{escape(str(label))}</span>{''.join(cells)}"
                    f"<span>{format(value, bars.number_format)}</span>")
    columns = f"max-content {half:.0f}px {half:.0f}px max-content" if signed else \
        f"max-content {BAR_WIDTH}px max-content"
    return f"<div class='bars' style='grid-template-columns: {columns}'>{''.join(rows)}</div>"
