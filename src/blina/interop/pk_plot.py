"""Exposure pictures: the estimated concentration curve with the course's events, and
virtual-population bands; PNG or SVG bytes.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global state, no
display): safe from a server thread. Every picture says it is a model-based estimate.
"""

import io
import textwrap
from collections.abc import Sequence
from typing import Literal

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from blina.domain.pk import Exposure, PkModel
from blina.domain.pk_course import Mark, MarkKind
from blina.domain.pk_population import Bands

__all__ = ["PictureFormat", "plot_exposure"]

PictureFormat = Literal["png", "svg"]

ESTIMATE = "Model-based estimate, not a measured level"
_LINE = "#1f4e79"
_BAND = "#6fa8dc"
# kind -> (colour, line style); bag changes are ticks along the bottom instead
_EVENTS = {
    MarkKind.CYCLE_START: ("#38761d", "-"),
    MarkKind.STEP_UP: ("#b45f06", "--"),
    MarkKind.INTERRUPTION: ("#cc0000", "-"),
    MarkKind.RESTART: ("#38761d", "--"),
    MarkKind.DISCONTINUATION: ("#000000", "-"),
    MarkKind.FLUSH: ("#a64d79", ":"),
}


def plot_exposure(
    *,
    model: PkModel,
    exposure: Exposure | None = None,
    bands: Bands | None = None,
    marks: Sequence[Mark] = (),
    title: str = "Estimated blinatumomab concentration",
    picture: PictureFormat = "png",
) -> bytes:
    """The picture as PNG or SVG bytes: ``exposure``'s curve, ``bands`` (the outer pair
    of percentiles shaded, the inner pair darker, the median dashed), and ``marks``.
    Time runs in days from the origin (the first infusion)."""
    figure = Figure(figsize=(10, 4.8), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if bands is not None:
        _draw_bands(axes, bands)
    if exposure is not None:
        axes.plot(
            exposure.times_h / 24.0,
            exposure.concentration_pg_per_ml,
            color=_LINE,
            linewidth=1.4,
            label=f"this patient (CL {exposure.clearance_l_per_h:.2f} L/h)",
        )
    _draw_marks(axes, marks)
    axes.set_xlabel("days from the first infusion")
    axes.set_ylabel("blinatumomab, pg/mL (estimated)")
    axes.set_ylim(bottom=0)
    axes.grid(True, color="#dddddd", linewidth=0.6)
    axes.set_title(f"{title}\n{ESTIMATE}", fontsize=11)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    sources = ", ".join(sorted(set(model.sources.values())))
    caption = f"{model.name} ({model.structure}). Sources: {sources}."
    figure.supxlabel("\n".join(textwrap.wrap(caption, 150)), fontsize=7, color="#555555")
    buffer = io.BytesIO()
    # a fixed salt for the SVG's element ids: the same input gives the same bytes
    with matplotlib.rc_context({"svg.hashsalt": "blina-exposure"}):
        figure.savefig(buffer, format=picture, metadata=_metadata(picture))
    return buffer.getvalue()


def _metadata(picture: PictureFormat) -> dict[str, str | None]:
    # No creation date: the same input gives the same bytes.
    if picture == "svg":
        return {"Date": None, "Title": ESTIMATE}
    return {"Title": ESTIMATE}


def _draw_bands(axes: Axes, bands: Bands) -> None:
    days = bands.times_h / 24.0
    values = bands.values
    pairs = len(bands.percentiles) // 2
    for depth in range(pairs):
        low, high = bands.percentiles[depth], bands.percentiles[-1 - depth]
        axes.fill_between(
            days,
            values[depth],
            values[-1 - depth],
            color=_BAND,
            alpha=0.25 + 0.2 * depth,
            linewidth=0,
            label=f"{low:g}th-{high:g}th percentile of {bands.count:,} virtual patients",
        )
    if len(bands.percentiles) % 2:
        middle = len(bands.percentiles) // 2
        axes.plot(
            days,
            values[middle],
            color=_BAND,
            linestyle="--",
            linewidth=1.0,
            label=f"{bands.percentiles[middle]:g}th percentile",
        )


def _draw_marks(axes: Axes, marks: Sequence[Mark]) -> None:
    seen: set[MarkKind] = set()
    changes = [mark.at_h / 24.0 for mark in marks if mark.kind is MarkKind.BAG_CHANGE]
    if changes:
        axes.plot(
            changes,
            np.zeros(len(changes)),
            linestyle="none",
            marker="|",
            markersize=9,
            color="#777777",
            label="bag change",
            clip_on=False,
        )
    for mark in marks:
        if mark.kind is MarkKind.BAG_CHANGE:
            continue
        colour, style = _EVENTS[mark.kind]
        axes.axvline(
            mark.at_h / 24.0,
            color=colour,
            linestyle=style,
            linewidth=1.0,
            alpha=0.8,
            label=None if mark.kind in seen else str(mark.kind).replace("-", " "),
        )
        seen.add(mark.kind)
