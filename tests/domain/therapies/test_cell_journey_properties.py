"""Invariants of the CAR-T planner over generated journeys (issue 19 "Tests"):
lymphodepletion always ends within the product's window before day 0; the obecabtagene
second dose falls on Day 10 +/- 2 or is deferred (CRS grade 2, up to Day 21) or stopped
(CRS grade >= 3) by the rule, or withheld by the physician; cell doses stay within the
weight band; a refused journey is refused with the field named, never planned."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from tests.car_t_strategies import journeys, weights

from blina.domain.errors import InvalidInput
from blina.domain.therapies.car_t import CarTProduct, cell_dose_band, tocilizumab_dose
from blina.domain.therapies.cell_journey import Journey, plan_cell_journey
from blina.domain.therapies.cell_second_dose import FirstDoseReaction
from blina.domain.therapies.model import TherapyPlan
from blina.domain.units import M2, Kg
from blina.knowledge import load_knowledge

CAR_T = load_knowledge().car_t
WINDOWED = [CAR_T.product("tisagenlecleucel"), CAR_T.product("brexucabtagene")]
AUCATZYL = CAR_T.product("obecabtagene")
EXAMPLES = settings(max_examples=60)
LYMPHODEPLETING = {"fludarabine", "cyclophosphamide"}


def _day(label: str) -> int:
    return int(label.removeprefix("day "))


def _plan_or_refusal(product: CarTProduct, journey: Journey) -> TherapyPlan | None:
    """The plan, or None when refused for a date the rules do not allow (any other
    refusal is a failure)."""
    try:
        return plan_cell_journey(product, journey)
    except InvalidInput as error:
        if error.field not in {"lymphodepletion_start", "second_dose_on"}:
            raise
        return None


@pytest.mark.parametrize("product", WINDOWED, ids=lambda p: p.key)
@EXAMPLES
@given(journey=journeys(split=False))
def test_lymphodepletion_always_ends_within_the_window_before_day_0(
    product: CarTProduct, journey: Journey
) -> None:
    window = product.lymphodepletion
    assert window.end_earliest_day is not None
    assert window.end_latest_day is not None
    plan = _plan_or_refusal(product, journey)
    if plan is None:
        start = journey.lymphodepletion_start
        assert start is not None
        end = (start - journey.first_infusion).days + window.last_offset
        assert not window.end_earliest_day <= end <= window.end_latest_day
        return
    days = [
        _day(day.label)
        for day in plan.days
        for entry in day.entries
        if entry.what in LYMPHODEPLETING
    ]
    assert window.end_earliest_day <= max(days) <= window.end_latest_day
    assert max(days) - min(days) == window.last_offset
    doses = [e for d in plan.days for e in d.entries if e.what in LYMPHODEPLETING]
    per_m2 = {drug.drug: drug.per_m2.value for drug in window.drugs}
    assert all(e.dose == per_m2[e.what] * journey.bsa.value for e in doses)


@EXAMPLES
@given(journey=journeys(split=True))
def test_obecabtagene_second_dose_on_day_10_plus_minus_2_or_by_the_rule(journey: Journey) -> None:
    plan = _plan_or_refusal(AUCATZYL, journey)
    reaction = journey.first_dose_reaction
    crs = 0 if reaction is None else reaction.crs_grade
    icans = 0 if reaction is None else reaction.icans_grade
    if plan is None:
        return
    infusions = [
        _day(day.label) for day in plan.days for e in day.entries if e.what == AUCATZYL.key
    ]
    assert infusions[0] == 1
    if crs >= 3 or journey.second_dose_withheld:
        assert infusions == [1]
    elif crs == 2 and icans == 0:
        assert 8 <= infusions[1] <= 21
    else:
        assert 8 <= infusions[1] <= 12
    if journey.second_dose_on is None and len(infusions) == 2:
        assert infusions[1] == 10


def test_obecabtagene_second_date_is_refused_exactly_outside_what_the_rule_allows() -> None:
    # Exhaustive over the finite grid: no reaction or every CRS x ICANS grade, every day
    # from Day 2 to Day 30, withheld or not.
    grades = range(5)
    reactions = [None, *(FirstDoseReaction(c, i) for c in grades for i in grades)]
    day1 = date(2026, 3, 2)
    wrong = []
    for reaction, day, withheld in itertools.product(reactions, range(2, 31), (False, True)):
        crs = 0 if reaction is None else reaction.crs_grade
        icans = 0 if reaction is None else reaction.icans_grade
        latest = 21 if crs == 2 and icans == 0 else 12
        allowed = withheld or (crs < 3 and 8 <= day <= latest)
        journey = Journey(
            first_infusion=day1,
            weight=Kg(Decimal(70)),
            bsa=M2(Decimal("1.8")),
            marrow_blasts_percent=Decimal(5),
            first_dose_reaction=reaction,
            second_dose_on=day1 + timedelta(days=day - 1),
            second_dose_withheld=withheld,
        )
        planned = _plan_or_refusal(AUCATZYL, journey) is not None
        if planned != allowed:
            wrong.append((reaction, day, withheld))

    assert wrong == []


@EXAMPLES
@given(weight=weights())
def test_cell_doses_stay_within_the_weight_band(weight: Kg) -> None:
    kymriah = cell_dose_band(CAR_T.product("tisagenlecleucel").cell_doses, weight)
    tecartus = cell_dose_band(CAR_T.product("brexucabtagene").cell_doses, weight)
    w = weight.value

    if w <= 50:
        assert (kymriah.low, kymriah.high) == (Decimal("0.2e6") * w, Decimal("5.0e6") * w)
    else:
        assert (kymriah.low, kymriah.high) == (Decimal("0.1e8"), Decimal("2.5e8"))
    assert tecartus.low == tecartus.high == min(Decimal("1e6") * w, Decimal("1e8"))


@EXAMPLES
@given(journey=journeys(split=False))
def test_planned_infusion_dose_is_the_band_for_the_weight(journey: Journey) -> None:
    product = CAR_T.product("brexucabtagene")
    plan = plan_cell_journey(product, Journey(journey.first_infusion, journey.weight, journey.bsa))
    (dose,) = [e.dose for d in plan.days for e in d.entries if e.what == product.key]

    assert dose is not None
    assert dose <= Decimal("1e8")
    assert dose == cell_dose_band(product.cell_doses, journey.weight).high


@EXAMPLES
@given(weight=weights())
def test_tocilizumab_never_exceeds_the_cap_or_its_mg_per_kg(weight: Kg) -> None:
    table = AUCATZYL.tocilizumab
    dose = tocilizumab_dose(table, weight).dose.value
    per_kg = table.light_per_kg if weight.value < 30 else table.heavy_per_kg

    assert dose <= table.heavy_max.value
    assert dose <= (per_kg * weight.value) + Decimal("0.05")


@EXAMPLES
@given(journey=journeys(split=True))
def test_obecabtagene_daily_checks_run_a_week_past_the_last_infusion(journey: Journey) -> None:
    plan = _plan_or_refusal(AUCATZYL, journey)
    if plan is None:
        return
    infusions = [d.on for d in plan.days for e in d.entries if e.what == AUCATZYL.key]
    checks = [d.on for d in plan.days for e in d.entries if e.what == "daily-check"]

    assert checks[0] == infusions[0] + timedelta(days=1)
    assert checks[-1] == infusions[-1] + timedelta(days=7)
    assert len(set(checks)) == len(checks) == (checks[-1] - checks[0]).days + 1
