"""Server-drawn charts: the geometry of an inline SVG, as data a template writes out.

Pure functions of what they are given (no clock, no knowledge lookup): the caller passes
the readings and the thresholds, so the page, its tests and a print view draw the same
chart. Coordinates are in the SVG's own units; the ``viewBox`` is as wide as the page's
content on a 360 px phone (one unit, one pixel there), and the SVG scales to the width
of wider pages.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from blina.domain.triage.check_in import Temperature
from blina.domain.triage.rules import TemperatureRule, TriageLevel

__all__ = [
    "HEIGHT",
    "WIDTH",
    "ChartPoint",
    "ChartThreshold",
    "ChartTick",
    "TemperatureChart",
    "temperature_chart",
]

WIDTH = 328
HEIGHT = 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 8, 12, 28  # room for the axis labels
_INSET = 8  # the first and last reading are drawn this far inside the plot
_LABEL_GAP = 12  # a threshold's label height: labels closer than this are moved up
_MAX_TICKS = 8


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One reading: when, the temperature as entered, where it is drawn, and the most
    urgent threshold it crosses (None when it crosses none)."""

    at: datetime
    temperature: Temperature
    x: str
    y: str
    level: TriageLevel | None


@dataclass(frozen=True, slots=True)
class ChartThreshold:
    """A triage threshold drawn across the plot, with its label just above it."""

    rule_id: str
    level: TriageLevel
    compare: str
    celsius: Decimal
    y: str
    label_y: str


@dataclass(frozen=True, slots=True)
class ChartTick:
    position: str
    text: str
    at: datetime | None = None  # a time tick's moment, which the page writes in its language


@dataclass(frozen=True, slots=True)
class TemperatureChart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    points: tuple[ChartPoint, ...]
    polyline: str
    thresholds: tuple[ChartThreshold, ...]
    y_ticks: tuple[ChartTick, ...]
    x_ticks: tuple[ChartTick, ...]


def temperature_chart(
    readings: Sequence[tuple[datetime, Temperature]], thresholds: Sequence[TemperatureRule]
) -> TemperatureChart | None:
    """The chart of ``readings`` (aware local times) in C, with a line for each
    threshold; None when there is no reading.

    The temperature axis spans every reading and every threshold, with a margin of a
    tenth of that span (a degree when all are equal: layout, not a clinical number); the
    time axis spans the first to the last reading.
    """
    if not readings:
        return None
    ordered = sorted(readings, key=lambda reading: reading[0])
    values = [float(t.celsius) for _, t in ordered] + [float(t.threshold_c) for t in thresholds]
    low, high = min(values), max(values)
    margin = (high - low) / 10 or 1.0
    low, high = low - margin, high + margin
    left, right = _LEFT, WIDTH - _RIGHT
    top, bottom = _TOP, HEIGHT - _BOTTOM

    def y_of(celsius: float) -> float:
        return bottom - (celsius - low) / (high - low) * (bottom - top)

    first, last = ordered[0][0], ordered[-1][0]
    seconds = (last - first).total_seconds()

    def x_of(at: datetime) -> float:
        if seconds <= 0:
            return (left + right) / 2
        span = right - left - 2 * _INSET
        return left + _INSET + (at - first).total_seconds() / seconds * span

    points = tuple(
        ChartPoint(
            at,
            temperature,
            _n(x_of(at)),
            _n(y_of(float(temperature.celsius))),
            _level(temperature.celsius, thresholds),
        )
        for at, temperature in ordered
    )
    return TemperatureChart(
        WIDTH,
        HEIGHT,
        left,
        right,
        top,
        bottom,
        points,
        " ".join(f"{p.x},{p.y}" for p in points),
        _threshold_lines(thresholds, y_of),
        _y_ticks(low, high, y_of),
        _x_ticks(first, last, x_of),
    )


def _level(celsius: Decimal, thresholds: Sequence[TemperatureRule]) -> TriageLevel | None:
    crossed = [t.level for t in thresholds if t.applies(celsius)]
    return max(crossed, key=lambda level: level.rank, default=None)


def _threshold_lines(
    thresholds: Sequence[TemperatureRule], y_of: Callable[[float], float]
) -> tuple[ChartThreshold, ...]:
    """A line per threshold; from the lowest line up, a label is moved up if it would
    overlap the one below it."""
    lines: list[ChartThreshold] = []
    below: float | None = None
    for rule in sorted(thresholds, key=lambda t: t.threshold_c):
        y = y_of(float(rule.threshold_c))
        label_y = y - 3 if below is None else min(y - 3, below - _LABEL_GAP)
        below = label_y
        lines.append(
            ChartThreshold(
                rule.id, rule.level, str(rule.compare), rule.threshold_c, _n(y), _n(label_y)
            )
        )
    return tuple(lines)


def _y_ticks(low: float, high: float, y_of: Callable[[float], float]) -> tuple[ChartTick, ...]:
    """Whole degrees, every one or every few so that at most ``_MAX_TICKS`` show."""
    start, stop = math.ceil(low), math.floor(high)
    step = max(1, math.ceil((stop - start + 1) / _MAX_TICKS))
    return tuple(ChartTick(_n(y_of(d)), f"{d} °C") for d in range(start, stop + 1, step))


def _x_ticks(
    first: datetime, last: datetime, x_of: Callable[[datetime], float]
) -> tuple[ChartTick, ...]:
    if last == first:
        return (ChartTick(_n(x_of(first)), f"{first:%Y-%m-%d %H:%M}", first),)
    return (
        ChartTick(_n(x_of(first)), f"{first:%Y-%m-%d %H:%M}", first),
        ChartTick(_n(x_of(last)), f"{last:%Y-%m-%d %H:%M}", last),
    )


def _n(coordinate: float) -> str:
    return f"{coordinate:.1f}"
