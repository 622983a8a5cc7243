"""A therapy plan read on one day (``therapy_today``) and the care team's entries of a day
(``clinic_entries``), on a tisagenlecleucel journey with the site's stay-near and
no-driving periods, and on small plans written out by hand."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blina.domain.therapies.car_t import CarTProduct
from blina.domain.therapies.cell_journey import Journey, plan_cell_journey
from blina.domain.therapies.model import (
    Entry,
    EntryKind,
    TherapyDay,
    TherapyKind,
    TherapyPlan,
)
from blina.domain.therapies.today import (
    CLINIC_KINDS,
    PlanPhase,
    clinic_entries,
    days_since_cell_infusion,
    therapy_today,
)
from blina.domain.units import M2, Kg
from blina.knowledge import Knowledge

DAY0 = date(2027, 3, 1)
ONE = timedelta(days=1)


@pytest.fixture(scope="module")
def kymriah(knowledge: Knowledge) -> TherapyPlan:
    product: CarTProduct = knowledge.car_t.product("tisagenlecleucel")
    journey = Journey(
        first_infusion=DAY0,
        weight=Kg(Decimal(38)),
        bsa=M2(Decimal("1.20")),
        stay_near_days=14,
        no_driving_days=28,
    )
    return plan_cell_journey(product, journey)


def _entry(kind: EntryKind, what: str = "x") -> Entry:
    return Entry(kind, what, f"{what} text", "src")


def _plan(*days: tuple[date, tuple[EntryKind, ...]]) -> TherapyPlan:
    return TherapyPlan(
        "inotuzumab",
        TherapyKind.CYCLE_DOSES,
        tuple(
            TherapyDay(on, f"D{n}", tuple(_entry(k) for k in kinds))
            for n, (on, kinds) in enumerate(days, 1)
        ),
        (),
        (),
    )


def test_on_day_0_the_infusion_is_today_and_no_dose_follows(kymriah: TherapyPlan) -> None:
    today = therapy_today(kymriah, DAY0)

    assert today.phase is PlanPhase.UNDER_WAY
    assert today.day is not None
    assert today.day.label == "day 0"
    assert any(e.kind is EntryKind.DOSE for e in today.day.entries)
    assert today.next_dose is None, "one infusion"


def test_from_day_1_the_restrictions_run_to_their_last_day(kymriah: TherapyPlan) -> None:
    today = therapy_today(kymriah, DAY0 + ONE)

    # Stay near for 14 days and no driving for 28 (the site's periods), to day 14 and 28.
    assert today.stay_near_until == DAY0 + 14 * ONE
    assert today.no_driving_until == DAY0 + 28 * ONE


def test_before_the_journey_the_next_dose_is_the_first_lymphodepletion_day(
    kymriah: TherapyPlan,
) -> None:
    today = therapy_today(kymriah, DAY0 - 10 * ONE)

    assert today.phase is PlanPhase.BEFORE
    assert today.day is None
    assert today.next_dose is not None
    assert today.next_dose.label == "day -5"
    assert {e.what for e in today.next_dose.entries} == {"fludarabine", "cyclophosphamide"}
    assert today.stay_near_until is None
    assert today.no_driving_until is None


def test_after_the_stay_near_period_only_the_driving_rule_holds(kymriah: TherapyPlan) -> None:
    today = therapy_today(kymriah, DAY0 + 20 * ONE)

    assert today.stay_near_until is None
    assert today.no_driving_until == DAY0 + 28 * ONE


def test_after_the_last_day_the_plan_is_over(kymriah: TherapyPlan) -> None:
    today = therapy_today(kymriah, kymriah.days[-1].on + ONE)

    assert today.phase is PlanPhase.OVER
    assert today.day is None
    assert today.next_dose is None


def test_a_day_with_nothing_planned_between_dose_days() -> None:
    plan = _plan((DAY0, (EntryKind.DOSE,)), (DAY0 + 7 * ONE, (EntryKind.DOSE,)))

    today = therapy_today(plan, DAY0 + 3 * ONE)

    assert today.phase is PlanPhase.UNDER_WAY
    assert today.day is None
    assert today.next_dose is not None
    assert today.next_dose.on == DAY0 + 7 * ONE


def test_a_restriction_broken_by_a_day_ends_before_the_gap() -> None:
    near = (EntryKind.STAY_NEAR,)
    plan = _plan((DAY0, near), (DAY0 + ONE, near), (DAY0 + 3 * ONE, near))

    assert therapy_today(plan, DAY0).stay_near_until == DAY0 + ONE
    assert therapy_today(plan, DAY0 + 3 * ONE).stay_near_until == DAY0 + 3 * ONE


def test_an_empty_plan_has_not_begun() -> None:
    today = therapy_today(_plan(), DAY0)

    assert today.phase is PlanPhase.BEFORE
    assert today.day is None
    assert today.next_dose is None


def test_the_clinic_acts_on_doses_steps_and_checks_not_on_the_familys_restrictions(
    kymriah: TherapyPlan,
) -> None:
    [day0] = [d for d in kymriah.days if d.on == DAY0]
    [day1] = [d for d in kymriah.days if d.on == DAY0 + ONE]

    assert [e.kind for e in clinic_entries(day0)] == [e.kind for e in day0.entries]
    assert any(e.kind is EntryKind.DOSE for e in clinic_entries(day0))
    # Day 1: the daily check is the clinic's; staying near and not driving the family's.
    assert {e.kind for e in day1.entries} == {
        EntryKind.MONITORING,
        EntryKind.STAY_NEAR,
        EntryKind.NO_DRIVING,
    }
    assert [e.what for e in clinic_entries(day1)] == ["daily-check"]
    # Every kind of entry is the clinic's but the two periods the family keeps: a new kind
    # is placed on one side or the other on purpose.
    assert set(EntryKind) - CLINIC_KINDS == {EntryKind.STAY_NEAR, EntryKind.NO_DRIVING}


@given(offset=st.integers(min_value=-60, max_value=120))
def test_today_agrees_with_the_plan_on_any_day(kymriah: TherapyPlan, offset: int) -> None:
    on = DAY0 + offset * ONE

    today = therapy_today(kymriah, on)

    planned = [d for d in kymriah.days if d.on == on]
    assert today.day == (planned[0] if planned else None)
    later = [
        d for d in kymriah.days if d.on > on and any(e.kind is EntryKind.DOSE for e in d.entries)
    ]
    assert today.next_dose == (later[0] if later else None)
    for until, kind in (
        (today.stay_near_until, EntryKind.STAY_NEAR),
        (today.no_driving_until, EntryKind.NO_DRIVING),
    ):
        days = {d.on for d in kymriah.days if any(e.kind is kind for e in d.entries)}
        if until is None:
            assert on not in days
        else:
            assert on <= until
            assert until + ONE not in days
            assert all(on + n * ONE in days for n in range((until - on).days + 1))


# --- days since the cell infusion (triage's window) ---------------------------------------


@given(offset=st.integers(min_value=-60, max_value=120))
def test_days_since_the_infusion_count_from_day_0_and_are_unknown_before(
    kymriah: TherapyPlan, offset: int
) -> None:
    """The lymphodepletion doses before day 0 are not the cell infusion."""
    counted = days_since_cell_infusion(kymriah, DAY0 + offset * ONE)

    assert counted == (offset if offset >= 0 else None)


def _split(first: date, second: date) -> TherapyPlan:
    """A split-dose journey written out: lymphodepletion, then the product twice."""
    return TherapyPlan(
        "obecabtagene",
        TherapyKind.CELL_JOURNEY,
        (
            TherapyDay(first - 4 * ONE, "day -4", (_entry(EntryKind.DOSE, "fludarabine"),)),
            TherapyDay(first, "day 1", (_entry(EntryKind.DOSE, "obecabtagene"),)),
            TherapyDay(first + ONE, "day 2", (_entry(EntryKind.MONITORING, "daily-check"),)),
            TherapyDay(second, "day 10", (_entry(EntryKind.DOSE, "obecabtagene"),)),
        ),
        (),
        (),
    )


def test_a_split_dose_counts_from_the_latest_infusion() -> None:
    first, second = DAY0, DAY0 + 9 * ONE
    plan = _split(first, second)

    assert days_since_cell_infusion(plan, first - 2 * ONE) is None
    assert days_since_cell_infusion(plan, first) == 0
    assert days_since_cell_infusion(plan, second - ONE) == 8
    assert days_since_cell_infusion(plan, second) == 0
    assert days_since_cell_infusion(plan, second + 3 * ONE) == 3


def test_a_plan_of_doses_has_no_cell_infusion() -> None:
    plan = _plan((DAY0, (EntryKind.DOSE,)))

    assert days_since_cell_infusion(plan, DAY0) is None
