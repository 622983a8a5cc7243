"""Invariants of plan_course over any patient, start, zone and regimen (hypothesis).

Each property holds for the shipped regimens and, where it does not depend on the
label's numbers, for synthetic regimens no label has (tests/factories.py).
"""

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.strategies import children_under_45_kg, plan_inputs, synthetic_regimens

from blina.domain.course_plan import CoursePlan, PlanDay
from blina.domain.errors import InvalidInput
from blina.domain.planning import plan_course
from blina.domain.regimens import DoseStep
from blina.knowledge import load_knowledge

SHIPPED = st.sampled_from(tuple(load_knowledge().regimens_by_id.values()))
DAY = timedelta(days=1)
EXAMPLES = settings(max_examples=50)


def _step(plan: CoursePlan, day: PlanDay) -> DoseStep:
    assert day.cycle is not None
    assert day.cycle_day is not None
    spec = plan.regimen.cycles[day.cycle - 1]
    (step,) = [s for s in spec.steps if s.first_day <= day.cycle_day <= s.last_day]
    return step


def _assert_infuses_every_cycle_day_once(plan: CoursePlan) -> None:
    expected = sum(spec.infusion_days for spec in plan.regimen.cycles[: len(plan.cycles)])
    assert plan.infusion_days == expected
    assert sum(day.infusing for day in plan.days) == expected
    per_cycle = Counter(day.cycle for day in plan.days if day.infusing)
    assert per_cycle == {
        spec.number: spec.infusion_days for spec in plan.regimen.cycles[: len(plan.cycles)]
    }


def _assert_no_dose_above_cap(plan: CoursePlan) -> None:
    for day in plan.days:
        assert day.dose.value <= plan.regimen.max_dose.value
        if day.infusing:
            assert day.dose.value <= _step(plan, day).cap.value
        else:
            assert day.dose.value == 0


def _assert_hospital_days_open_each_cycle(plan: CoursePlan) -> None:
    for day in plan.days:
        if day.cycle is None or day.cycle_day is None:
            assert not day.inpatient
        else:
            spec = plan.regimen.cycles[day.cycle - 1]
            assert day.inpatient is (day.cycle_day <= spec.inpatient_days)


def _assert_covers_each_day_once(plan: CoursePlan) -> None:
    dates = [day.date for day in plan.days]
    assert dates == [plan.first_day + n * DAY for n in range(len(dates))]
    assert plan.first_day == plan.cycles[0].start
    assert plan.last_day == plan.cycles[-1].end
    assert len(set(dates)) == len(dates)


@EXAMPLES
@given(inputs=plan_inputs(SHIPPED))
def test_plan_course_any_patient_infuses_28_days_per_cycle(inputs: dict[str, Any]) -> None:
    plan = plan_course(**inputs)

    assert plan.infusion_days == 28 * len(plan.cycles) == 28 * inputs["cycles"]
    _assert_infuses_every_cycle_day_once(plan)


@EXAMPLES
@given(inputs=plan_inputs(SHIPPED))
def test_plan_course_any_patient_never_exceeds_a_cap(inputs: dict[str, Any]) -> None:
    _assert_no_dose_above_cap(plan_course(**inputs))


@EXAMPLES
@given(inputs=plan_inputs(SHIPPED, children_under_45_kg()))
def test_plan_course_under_45kg_doses_bsa_times_per_m2_capped(inputs: dict[str, Any]) -> None:
    plan = plan_course(**inputs)
    bsa = inputs["body"].bsa.value

    for day in plan.days:
        if day.infusing:
            step = _step(plan, day)
            assert day.dose.value == min(bsa * step.per_m2.value, step.cap.value)


@EXAMPLES
@given(inputs=plan_inputs(SHIPPED))
def test_plan_course_any_patient_covers_each_calendar_day_once(inputs: dict[str, Any]) -> None:
    _assert_covers_each_day_once(plan_course(**inputs))


@EXAMPLES
@given(inputs=plan_inputs(SHIPPED), data=st.data())
def test_plan_course_later_cycle_start_is_honoured(inputs: dict[str, Any], data: Any) -> None:
    inputs["cycles"] = data.draw(st.integers(2, inputs["regimen"].max_cycles), label="cycles")
    number = data.draw(st.integers(2, inputs["cycles"]), label="cycle")
    delay = data.draw(st.integers(0, 60), label="delay days")
    specs = inputs["regimen"].cycles
    earliest = inputs["start"] + sum(s.length_days for s in specs[: number - 1]) * DAY

    plan = plan_course(**inputs, cycle_starts={number: earliest + delay * DAY})

    starts = [cycle.start for cycle in plan.cycles]
    assert starts[number - 1] == earliest + delay * DAY
    for before, spec, after in zip(starts, specs, starts[1:], strict=False):
        assert after == before + spec.length_days * DAY or spec.number + 1 == number
    assert sum(day.cycle is None for day in plan.days) == delay
    _assert_covers_each_day_once(plan)
    _assert_hospital_days_open_each_cycle(plan)


@EXAMPLES
@given(inputs=plan_inputs(SHIPPED), data=st.data())
def test_plan_course_cycle_start_before_earliest_raises(inputs: dict[str, Any], data: Any) -> None:
    inputs["cycles"] = data.draw(st.integers(2, inputs["regimen"].max_cycles), label="cycles")
    number = data.draw(st.integers(2, inputs["cycles"]), label="cycle")
    early = data.draw(st.integers(1, 100), label="days early")
    specs = inputs["regimen"].cycles
    earliest = inputs["start"] + sum(s.length_days for s in specs[: number - 1]) * DAY

    with pytest.raises(InvalidInput) as caught:
        plan_course(**inputs, cycle_starts={number: earliest - early * DAY})
    assert caught.value.field == "cycle_start"
    assert f"on or after {earliest}" in str(caught.value)


@EXAMPLES
@given(inputs=plan_inputs(SHIPPED))
def test_plan_course_bags_never_overlap_and_fill_each_cycle(inputs: dict[str, Any]) -> None:
    plan = plan_course(**inputs)

    for before, after in zip(plan.bags, plan.bags[1:], strict=False):
        assert before.start < before.end <= after.start
    for cycle in plan.cycles:
        bags = [bag for bag in plan.bags if bag.cycle == cycle.number]
        assert sum(bag.hours for bag in bags) == Decimal(28 * 24)
        assert bags[0].start == cycle.infusion_start
        assert bags[-1].end == cycle.infusion_end
        assert all(bag.hours <= inputs["bag_hours"] for bag in bags)
        assert all(bag.start.tzinfo is UTC for bag in bags)


@EXAMPLES
@given(inputs=plan_inputs(SHIPPED))
def test_plan_course_any_start_hangs_first_bag_at_local_start_time(
    inputs: dict[str, Any],
) -> None:
    plan = plan_course(**inputs)
    hung = datetime.combine(inputs["start"], inputs["start_time"], tzinfo=inputs["zone"])

    # As instants: Python never finds an ambiguous local time (the hour a clock goes
    # back) equal to a time in another zone, so both sides go to UTC first.
    assert plan.bags[0].start == hung.astimezone(UTC)


@EXAMPLES
@given(inputs=plan_inputs(synthetic_regimens()))
def test_plan_course_synthetic_regimen_keeps_every_invariant(inputs: dict[str, Any]) -> None:
    plan = plan_course(**inputs)

    _assert_infuses_every_cycle_day_once(plan)
    _assert_no_dose_above_cap(plan)
    _assert_covers_each_day_once(plan)
    _assert_hospital_days_open_each_cycle(plan)
    for cycle, spec in zip(plan.cycles, plan.regimen.cycles, strict=False):
        bags = [bag for bag in plan.bags if bag.cycle == cycle.number]
        assert sum(bag.hours for bag in bags) == Decimal(24 * spec.infusion_days)
