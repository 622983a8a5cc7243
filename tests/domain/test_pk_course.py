"""A course as the exposure model's input: from the plan, the re-plan, and the bags'
hang and removal times; flushes as boluses; the marks drawn on the curve.

The plans are the shipped relapsed-refractory regimen: an adult (70 kg, 9 then
28 mcg/day, 24-h bags) and a child (20 kg, 110 cm: 0.78 m2, 5 then 15 mcg/m2/day),
first bag 1 March 2027 at 09:00 UTC.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from blina.domain.body import measure_body
from blina.domain.course_plan import CoursePlan
from blina.domain.course_state import BagRecord, BagStatus
from blina.domain.errors import InvalidInput
from blina.domain.modifications import AdverseReaction
from blina.domain.pk_course import (
    Flush,
    MarkKind,
    bag_concentration,
    inputs_from_delivery,
    inputs_from_plan,
)
from blina.domain.planning import plan_course
from blina.domain.replanning.events import Discontinuation, Interruption, Restart
from blina.domain.replanning.replay import replan
from blina.domain.units import McgPerDay
from blina.knowledge import Knowledge

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
TWENTY_EIGHT = McgPerDay(Decimal(28))


def _plan(knowledge: Knowledge, weight: str, height: str, age: str) -> CoursePlan:
    body = measure_body(
        weight_kg=Decimal(weight),
        height_cm=Decimal(height),
        age_years=Decimal(age),
        rules=knowledge.body_rules,
    )
    return plan_course(
        regimen=knowledge.regimen("relapsed-refractory"),
        body=body,
        start=date(2027, 3, 1),
        bag_hours=24,
        zone=ZoneInfo("UTC"),
        cycles=1,
    )


@pytest.fixture(scope="module")
def adult(knowledge: Knowledge) -> CoursePlan:
    return _plan(knowledge, "70", "175", "40")


@pytest.fixture(scope="module")
def child(knowledge: Knowledge) -> CoursePlan:
    return _plan(knowledge, "20", "110", "6")


def test_inputs_from_plan_one_segment_per_run_of_bags_at_one_dose(adult: CoursePlan) -> None:
    course = inputs_from_plan(adult)
    infusions = course.inputs.infusions

    assert course.origin == START
    assert [(i.start_h, i.end_h) for i in infusions] == [(0.0, 168.0), (168.0, 672.0)]
    assert infusions[0].rate_ug_per_h == pytest.approx(9 / 24)
    assert infusions[1].rate_ug_per_h == pytest.approx(28 / 24)
    assert all(i.per_m2_ug_per_h is None and i.cap_ug_per_h is None for i in infusions)
    assert course.inputs.total_ug == pytest.approx(7 * 9 + 21 * 28)


def test_inputs_from_plan_marks_the_start_the_step_up_and_each_bag_change(
    adult: CoursePlan,
) -> None:
    marks = inputs_from_plan(adult).marks

    assert (marks[0].at_h, marks[0].kind) == (0.0, MarkKind.CYCLE_START)
    assert [m.at_h for m in marks if m.kind is MarkKind.STEP_UP] == [168.0]
    assert sum(m.kind is MarkKind.BAG_CHANGE for m in marks) == 27


def test_inputs_from_plan_per_m2_keeps_the_rate_per_m2_and_the_cap(child: CoursePlan) -> None:
    infusions = inputs_from_plan(child).inputs.infusions
    bsa = float(child.body.bsa.value) if child.body.bsa else 0.0

    assert bsa == pytest.approx(0.78)
    assert infusions[0].per_m2_ug_per_h == pytest.approx(float(child.bags[0].dose.value) / 24 / bsa)
    assert infusions[0].cap_ug_per_h == pytest.approx(9 / 24)
    assert infusions[1].cap_ug_per_h == pytest.approx(28 / 24)


def test_inputs_from_replan_has_the_gap_and_marks_the_events(knowledge: Knowledge) -> None:
    plan = _plan(knowledge, "70", "175", "40")
    events = [
        Interruption(START + 200 * HOUR, AdverseReaction.CRS, 2),
        Restart(START + 212 * HOUR),
        Discontinuation(START + 300 * HOUR),
    ]
    replanned = replan(plan, events, rules=knowledge.toxicity.modifications, now=START + 400 * HOUR)
    flush = Flush(
        START + 250 * HOUR,
        Decimal(5),
        bag_concentration(dose=TWENTY_EIGHT, pump_rate_ml_per_h=Decimal(10)),
    )

    course = inputs_from_plan(replanned.plan, events=events, flushes=[flush])

    running = [(i.start_h, i.end_h) for i in course.inputs.infusions]
    assert not any(start < 206 < end for start, end in running)  # stopped at 200, until 212
    assert max(end for _, end in running) == pytest.approx(300.0)
    assert course.interruptions_h == (200.0,)
    kinds = {m.kind: m for m in course.marks}
    assert kinds[MarkKind.INTERRUPTION].text == "interruption (crs grade 2)"
    assert kinds[MarkKind.RESTART].at_h == 212.0
    assert kinds[MarkKind.DISCONTINUATION].at_h == 300.0
    assert kinds[MarkKind.FLUSH].text == "flush 5 mL"
    assert course.inputs.boluses[0].at_h == 250.0
    assert course.inputs.boluses[0].dose_ug == pytest.approx(5 * 28 / 240)


def test_inputs_from_delivery_uses_hang_and_removal_times_less_the_stops() -> None:
    bags = [
        BagRecord(1, "A", START, TWENTY_EIGHT, BagStatus.REMOVED, START, START + 25 * HOUR),
        BagRecord(2, "B", START + 24 * HOUR, TWENTY_EIGHT, BagStatus.HUNG, START + 26 * HOUR),
        BagRecord(3, "C", START + 48 * HOUR, TWENTY_EIGHT, BagStatus.VERIFIED),
    ]
    events = [
        Interruption(START + 30 * HOUR, AdverseReaction.CRS, 3),
        Restart(START + 40 * HOUR),
    ]

    course = inputs_from_delivery(bags, events=events, now=START + 50 * HOUR)

    spans = [(i.start_h, i.end_h) for i in course.inputs.infusions]
    assert spans == [(0.0, 25.0), (26.0, 30.0), (40.0, 50.0)]
    assert [m.at_h for m in course.marks if m.kind is MarkKind.BAG_CHANGE] == [0.0, 26.0]
    assert course.hours(START + 2 * HOUR) == 2.0


def test_inputs_given_origin_is_used_and_must_be_aware(adult: CoursePlan) -> None:
    earlier = START - 24 * HOUR

    assert inputs_from_plan(adult, origin=earlier).inputs.infusions[0].start_h == 24.0
    with pytest.raises(InvalidInput, match="origin"):
        inputs_from_plan(adult, origin=datetime(2027, 3, 1))  # noqa: DTZ001


def test_inputs_from_delivery_nothing_hung_is_bad_input() -> None:
    with pytest.raises(InvalidInput, match="course"):
        inputs_from_delivery([], events=[], now=START)


@pytest.mark.parametrize(
    ("flush", "field"),
    [
        (Flush(datetime(2027, 3, 2), Decimal(1), Decimal(1)), "flushes[0].at"),  # noqa: DTZ001
        (Flush(START, Decimal(-1), Decimal(1)), "flushes[0].line_volume_ml"),
        (Flush(START, Decimal("NaN"), Decimal(1)), "flushes[0].line_volume_ml"),
        (Flush(START, Decimal(1), Decimal(-1)), "flushes[0].concentration_mcg_per_ml"),
        (Flush(START, Decimal(1), Decimal("Infinity")), "flushes[0].concentration_mcg_per_ml"),
    ],
)
def test_inputs_bad_flush_names_the_field(adult: CoursePlan, flush: Flush, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        inputs_from_plan(adult, flushes=[flush])
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("hours", "rate", "expected"),
    [(24, "10", "0.117"), (48, "5", "0.233"), (168, "0.6", "1.944")],
)
def test_bag_concentration_matches_the_reference_table(
    hours: int, rate: str, expected: str
) -> None:
    dose = McgPerDay(Decimal(28))

    found = bag_concentration(dose=dose, pump_rate_ml_per_h=Decimal(rate))

    assert round(found, 3) == Decimal(expected)  # pkpd.md §4.5 (28 mcg/day)
    assert hours  # the bag the rate belongs to


@pytest.mark.parametrize("rate", [Decimal(0), Decimal("NaN")])
def test_bag_concentration_needs_a_positive_pump_rate(rate: Decimal) -> None:
    with pytest.raises(InvalidInput, match="pump_rate_ml_per_h"):
        bag_concentration(dose=TWENTY_EIGHT, pump_rate_ml_per_h=rate)
