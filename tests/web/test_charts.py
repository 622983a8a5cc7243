"""The temperature chart's geometry: where each reading and each threshold is drawn."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from blina.domain.triage.check_in import Temperature, TemperatureUnit
from blina.domain.triage.rules import Compare, TemperatureRule, TriageLevel
from blina.knowledge import Knowledge
from blina.web.charts import HEIGHT, WIDTH, TemperatureChart, temperature_chart
from blina.web.viewmodels import alerting_temperature_rules

T0 = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)


def _rule(rule_id: str, level: TriageLevel, compare: Compare, celsius: str) -> TemperatureRule:
    return TemperatureRule(rule_id, level, compare, Decimal(celsius), "reason", "source")


# Thresholds made up for the geometry; the page draws the knowledge file's.
HIGH = _rule("high", TriageLevel.EMERGENCY, Compare.ABOVE, "40")
FEVER = _rule("fever", TriageLevel.CALL_NOW, Compare.AT_OR_ABOVE, "38")
LOW = _rule("low", TriageLevel.CALL_NOW, Compare.BELOW, "36")


def _c(text: str) -> Temperature:
    return Temperature(Decimal(text))


def _chart(readings: list[tuple[datetime, Temperature]]) -> TemperatureChart:
    chart = temperature_chart(readings, [HIGH, FEVER, LOW])
    assert chart is not None
    return chart


def _y(chart: TemperatureChart, rule_id: str) -> float:
    return next(float(t.y) for t in chart.thresholds if t.rule_id == rule_id)


def test_no_reading_no_chart() -> None:
    assert temperature_chart([], [HIGH, FEVER]) is None


def test_readings_are_drawn_in_time_order_across_the_plot() -> None:
    chart = _chart([(T0 + timedelta(hours=10), _c("37")), (T0, _c("38.5"))])
    assert [p.at for p in chart.points] == [T0, T0 + timedelta(hours=10)]
    xs = [float(p.x) for p in chart.points]
    assert chart.plot_left < xs[0] < xs[1] < chart.plot_right
    assert chart.polyline == " ".join(f"{p.x},{p.y}" for p in chart.points)
    assert [t.text for t in chart.x_ticks] == ["2026-12-10 08:00", "2026-12-10 18:00"]


def test_time_is_to_scale() -> None:
    chart = _chart(
        [(T0, _c("37")), (T0 + timedelta(hours=1), _c("37")), (T0 + timedelta(hours=4), _c("37"))]
    )
    x0, x1, x4 = (float(p.x) for p in chart.points)
    assert (x4 - x0) == pytest.approx(4 * (x1 - x0))


def test_one_reading_is_drawn_in_the_middle() -> None:
    chart = _chart([(T0, _c("37.2"))])
    assert float(chart.points[0].x) == (chart.plot_left + chart.plot_right) / 2
    assert len(chart.x_ticks) == 1


def test_a_warmer_reading_is_drawn_higher_and_between_its_thresholds() -> None:
    chart = _chart([(T0, _c("37")), (T0 + timedelta(hours=1), _c("39"))])
    y37, y39 = (float(p.y) for p in chart.points)
    assert y39 < y37  # SVG y grows downwards
    assert _y(chart, "high") < y39 < _y(chart, "fever") < y37 < _y(chart, "low")


@pytest.mark.parametrize("celsius", ["30.0", "36.5", "44.9"])
def test_every_reading_and_threshold_is_inside_the_plot(celsius: str) -> None:
    chart = _chart([(T0, _c(celsius)), (T0 + timedelta(hours=2), _c("37"))])
    ys = [float(p.y) for p in chart.points] + [float(t.y) for t in chart.thresholds]
    assert all(chart.plot_top <= y <= chart.plot_bottom for y in ys)
    ticks = [float(t.position) for t in chart.y_ticks]
    assert 2 <= len(ticks) <= 8
    assert all(chart.plot_top <= y <= chart.plot_bottom for y in ticks)


def test_fahrenheit_is_drawn_at_its_celsius() -> None:
    chart = _chart(
        [
            (T0, Temperature(Decimal("100.4"), TemperatureUnit.F)),
            (T0 + timedelta(hours=1), _c("37")),
        ]
    )
    fahrenheit = chart.points[0]
    assert fahrenheit.temperature.celsius == Decimal("38")
    assert float(fahrenheit.y) == pytest.approx(_y(chart, "fever"))


@pytest.mark.parametrize(
    ("celsius", "level"),
    [
        ("37", None),
        ("38", TriageLevel.CALL_NOW),
        ("40", TriageLevel.CALL_NOW),
        ("40.1", TriageLevel.EMERGENCY),
        ("35.9", TriageLevel.CALL_NOW),
    ],
)
def test_a_point_carries_the_most_urgent_line_it_crosses(
    celsius: str, level: TriageLevel | None
) -> None:
    assert _chart([(T0, _c(celsius))]).points[0].level == level


def test_close_threshold_labels_do_not_overlap() -> None:
    close = [
        _rule("a", TriageLevel.CALL_NOW, Compare.ABOVE, "37.5"),
        _rule("b", TriageLevel.CALL_NOW, Compare.AT_OR_ABOVE, "37.6"),
        _rule("c", TriageLevel.EMERGENCY, Compare.ABOVE, "37.7"),
    ]
    chart = temperature_chart([(T0, _c("30")), (T0, _c("45"))], close)
    assert chart is not None
    labels = sorted(float(t.label_y) for t in chart.thresholds)
    assert all(b - a >= 12 for a, b in pairwise(labels))
    for t in chart.thresholds:
        assert float(t.label_y) < float(t.y)  # above its own line


def test_the_page_draws_the_lines_that_alert_the_care_team(knowledge: Knowledge) -> None:
    rules = alerting_temperature_rules(knowledge.triage)
    assert rules
    assert {r.level for r in rules} <= {
        level for level, guide in knowledge.triage.levels.items() if guide.alert_care_team
    }
    assert [r.id for r in rules] == [
        r.id
        for r in knowledge.triage.temperature_rules
        if knowledge.triage.levels[r.level].alert_care_team
    ]
    chart = temperature_chart([(T0, _c("37"))], rules)
    assert chart is not None
    assert (chart.width, chart.height) == (WIDTH, HEIGHT)
    assert [(t.rule_id, t.celsius) for t in chart.thresholds] == sorted(
        ((r.id, r.threshold_c) for r in rules), key=lambda pair: pair[1]
    )
