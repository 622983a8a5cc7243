"""The CAR-T journey planner, step by step, for the three products (reference §2-§5, §8),
and the re-plan of the obecabtagene second dose after CRS or ICANS (§5.2).

About 650 lines: one planner's specification, in the order of the journey (collection,
lymphodepletion, infusion, monitoring, re-plan), kept in one file so each step's tests sit
beside the others that share its fixtures and helpers."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from blina.domain.errors import InvalidInput
from blina.domain.therapies.car_t import CarTProduct, Leukapheresis, Manufacturing
from blina.domain.therapies.cell_journey import (
    Bridging,
    Journey,
    plan_cell_journey,
    replan_after_first_dose,
    windows_of_journey,
)
from blina.domain.therapies.cell_second_dose import FirstDoseReaction
from blina.domain.therapies.model import Entry, EntryKind, TherapyKind, TherapyPlan
from blina.domain.units import M2, Kg, Mg
from blina.knowledge import Knowledge

DAY0 = date(2026, 3, 2)
ONE = timedelta(days=1)


@pytest.fixture(scope="module")
def kymriah(knowledge: Knowledge) -> CarTProduct:
    return knowledge.car_t.product("tisagenlecleucel")


@pytest.fixture(scope="module")
def tecartus(knowledge: Knowledge) -> CarTProduct:
    return knowledge.car_t.product("brexucabtagene")


@pytest.fixture(scope="module")
def aucatzyl(knowledge: Knowledge) -> CarTProduct:
    return knowledge.car_t.product("obecabtagene")


def _journey(**changes: object) -> Journey:
    base = Journey(first_infusion=DAY0, weight=Kg(Decimal("38")), bsa=M2(Decimal("1.20")))
    return replace(base, **changes)  # type: ignore[arg-type]


def _obe(**changes: object) -> Journey:
    return _journey(marrow_blasts_percent=Decimal("12"), **changes)


def _entries(plan: TherapyPlan, what: str) -> list[tuple[str, Entry]]:
    return [(day.label, e) for day in plan.days for e in day.entries if e.what == what]


def _warning(plan: TherapyPlan, what: str) -> str:
    return next(w.text for w in plan.warnings if w.what == what)


def _has_warning(plan: TherapyPlan, what: str) -> bool:
    return any(w.what == what for w in plan.warnings)


# --- shape --------------------------------------------------------------------------------


def test_plan_cell_journey_is_a_cell_journey_labelled_from_day_0(kymriah: CarTProduct) -> None:
    plan = plan_cell_journey(kymriah, _journey())

    assert plan.therapy == "tisagenlecleucel"
    assert plan.kind is TherapyKind.CELL_JOURNEY
    assert [d.on for d in plan.days] == sorted({d.on for d in plan.days})
    assert all(d.label == f"day {(d.on - DAY0).days}" for d in plan.days)
    assert plan.days[0].label == "day -5"


def test_plan_cell_journey_obecabtagene_counts_the_first_infusion_as_day_1(
    aucatzyl: CarTProduct,
) -> None:
    plan = plan_cell_journey(aucatzyl, _obe())

    assert all(d.label == f"day {(d.on - DAY0).days + 1}" for d in plan.days)
    assert [label for label, _ in _entries(plan, "obecabtagene")] == ["day 1", "day 10"]


def test_plan_cell_journey_every_entry_and_warning_cites_a_known_source(
    knowledge: Knowledge, kymriah: CarTProduct, tecartus: CarTProduct, aucatzyl: CarTProduct
) -> None:
    bridging = Bridging("as chosen", DAY0 - 30 * ONE)
    full = {"leukapheresis_on": DAY0 - 40 * ONE, "product_ready_on": DAY0 - 9 * ONE}
    plans = [
        plan_cell_journey(kymriah, _journey(bridging=bridging, **full)),
        plan_cell_journey(tecartus, _journey(bridging=bridging, **full)),
        plan_cell_journey(aucatzyl, _obe(bridging=bridging, lymphodepletion_start=DAY0 - 6 * ONE)),
    ]
    cited = [
        *(e.source for p in plans for d in p.days for e in d.entries),
        *(w.source for p in plans for w in p.warnings),
        *(g.source for p in plans for g in p.gaps),
    ]

    assert [source for source in cited if source not in knowledge.sources] == []


def test_plan_cell_journey_gaps_are_the_products_not_retrieved_facts(
    aucatzyl: CarTProduct,
) -> None:
    plan = plan_cell_journey(aucatzyl, _obe())

    assert plan.gaps == tuple(topic.gap for topic in aucatzyl.gaps)
    assert any("ICANS" in gap.fact for gap in plan.gaps)


# --- before the infusion ------------------------------------------------------------------


def test_plan_cell_journey_tisagenlecleucel_lymphodepletion_ends_on_day_minus_2_by_default(
    kymriah: CarTProduct,
) -> None:
    plan = plan_cell_journey(kymriah, _journey())
    flu = _entries(plan, "fludarabine")
    cy = _entries(plan, "cyclophosphamide")

    assert [label for label, _ in flu] == ["day -5", "day -4", "day -3", "day -2"]
    assert [label for label, _ in cy] == ["day -5", "day -4"]
    assert {e.dose for _, e in flu} == {Decimal("36.00")}  # 30 mg/m2 x 1.20 m2
    assert {e.dose for _, e in cy} == {Decimal("600.00")}  # 500 mg/m2 x 1.20 m2
    assert flu[0][1].basis == "30 mg/m2 \u00d7 1.20 m2"
    assert flu[0][1].unit == "mg"


def test_plan_cell_journey_tisagenlecleucel_lymphodepletion_may_start_earlier_in_the_window(
    kymriah: CarTProduct,
) -> None:
    plan = plan_cell_journey(kymriah, _journey(lymphodepletion_start=DAY0 - 17 * ONE))

    assert [label for label, _ in _entries(plan, "fludarabine")][-1] == "day -14"


@pytest.mark.parametrize("days_before", [18, 4])
def test_plan_cell_journey_lymphodepletion_outside_the_window_is_refused(
    kymriah: CarTProduct, days_before: int
) -> None:
    start = DAY0 - days_before * ONE

    with pytest.raises(InvalidInput, match="lymphodepletion_start") as error:
        plan_cell_journey(kymriah, _journey(lymphodepletion_start=start))

    assert "a date from 2026-02-13 to 2026-02-25" in str(error.value)
    assert "ends between day -14 and day -2" in str(error.value)


def test_plan_cell_journey_brexucabtagene_lymphodepletion_on_the_label_days(
    tecartus: CarTProduct,
) -> None:
    plan = plan_cell_journey(tecartus, _journey())

    assert [label for label, _ in _entries(plan, "fludarabine")] == ["day -4", "day -3", "day -2"]
    assert [(label, e.dose) for label, e in _entries(plan, "cyclophosphamide")] == [
        ("day -2", Decimal("1080.00"))
    ]


def test_plan_cell_journey_obecabtagene_lymphodepletion_is_a_recorded_step_without_doses(
    aucatzyl: CarTProduct,
) -> None:
    start = DAY0 - 6 * ONE
    plan = plan_cell_journey(aucatzyl, _obe(lymphodepletion_start=start))
    (ld,) = _entries(plan, "lymphodepletion")
    (marrow,) = _entries(plan, "marrow-sample")

    assert ld == ("day -5", ld[1])
    assert ld[1].kind is EntryKind.STEP
    assert ld[1].dose is None
    assert "fludarabine and cyclophosphamide" in ld[1].text
    assert marrow[0] == "day -12"  # within 7 days before lymphodepletion starts
    assert _entries(plan, "fludarabine") == []
    assert not _has_warning(plan, "lymphodepletion-start")


def test_plan_cell_journey_obecabtagene_without_a_lymphodepletion_start_asks_for_it(
    aucatzyl: CarTProduct,
) -> None:
    plan = plan_cell_journey(aucatzyl, _obe())

    assert _entries(plan, "lymphodepletion") == []
    assert "Record the lymphodepletion start date" in _warning(plan, "lymphodepletion-start")


def test_plan_cell_journey_obecabtagene_lymphodepletion_after_the_infusion_is_refused(
    aucatzyl: CarTProduct,
) -> None:
    with pytest.raises(InvalidInput, match="lymphodepletion_start 2026-03-02"):
        plan_cell_journey(aucatzyl, _obe(lymphodepletion_start=DAY0))


def test_plan_cell_journey_obecabtagene_without_a_marrow_sample_rule_shows_no_sample(
    aucatzyl: CarTProduct,
) -> None:
    product = replace(aucatzyl, marrow_sample=None)

    plan = plan_cell_journey(product, _obe(lymphodepletion_start=DAY0 - 6 * ONE))

    assert _entries(plan, "marrow-sample") == []
    assert len(_entries(plan, "lymphodepletion")) == 1


def test_plan_cell_journey_collection_steps_from_the_recorded_dates(
    kymriah: CarTProduct,
) -> None:
    journey = _journey(
        leukapheresis_on=DAY0 - 40 * ONE,
        product_ready_on=DAY0 - 10 * ONE,
        bridging=Bridging("  inotuzumab, one cycle  ", DAY0 - 35 * ONE),
    )
    plan = plan_cell_journey(kymriah, journey)
    (apheresis,) = _entries(plan, "leukapheresis")
    (made,) = _entries(plan, "manufacturing")
    (ready,) = _entries(plan, "product-ready")
    (bridge,) = _entries(plan, "bridging")

    assert apheresis[0] == "day -40"
    assert "about 3\u20136 h" in apheresis[1].text
    assert made[0] == "day -19"  # 3 weeks after collection
    assert "3 to 4 weeks (2026-02-11 to 2026-02-18)" in made[1].text
    assert ready == ("day -10", ready[1])
    assert ready[1].source == "car-t-physician-choice"
    assert bridge[1].text == "Bridging therapy (the physician's choice): inotuzumab, one cycle."
    assert not _has_warning(plan, "manufacturing")


def test_plan_cell_journey_without_a_collection_date_asks_for_it(kymriah: CarTProduct) -> None:
    plan = plan_cell_journey(kymriah, _journey())

    assert _entries(plan, "manufacturing") == []
    assert "Record the leukapheresis date" in _warning(plan, "manufacturing")


def test_plan_cell_journey_brexucabtagene_collection_has_sessions_and_no_window(
    tecartus: CarTProduct,
) -> None:
    plan = plan_cell_journey(tecartus, _journey(leukapheresis_on=DAY0 - 40 * ONE))
    (apheresis,) = _entries(plan, "leukapheresis")

    assert "about 3\u20136 h; 1\u20134 sessions depending on the T-cell count" in apheresis[1].text
    assert _entries(plan, "manufacturing") == []
    assert not _has_warning(plan, "manufacturing")


def test_plan_cell_journey_obecabtagene_collection_has_the_trial_median_and_trial_bridging(
    aucatzyl: CarTProduct,
) -> None:
    journey = _obe(leukapheresis_on=DAY0 - 40 * ONE, bridging=Bridging("x", DAY0 - 30 * ONE))
    plan = plan_cell_journey(aucatzyl, journey)
    (apheresis,) = _entries(plan, "leukapheresis")
    (made,) = _entries(plan, "manufacturing")
    (bridge,) = _entries(plan, "bridging")

    assert apheresis[1].text.endswith("through an IV line.")
    assert made[0] == "day -17"  # 22 days after collection
    assert "a trial figure, not a label window" in made[1].text
    assert "92.9% of patients in the FELIX trial" in bridge[1].text


def test_plan_cell_journey_leukapheresis_with_sessions_only(tecartus: CarTProduct) -> None:
    product = replace(tecartus, leukapheresis=Leukapheresis(None, None, 1, 4, "s"))

    plan = plan_cell_journey(product, _journey(leukapheresis_on=DAY0 - 40 * ONE))

    assert (
        "(1\u20134 sessions depending on the T-cell count)"
        in _entries(plan, "leukapheresis")[0][1].text
    )


def test_plan_cell_journey_manufacturing_without_window_or_median_dates_nothing(
    kymriah: CarTProduct,
) -> None:
    product = replace(kymriah, manufacturing=Manufacturing(None, None, None, "s"))

    plan = plan_cell_journey(product, _journey(leukapheresis_on=DAY0 - 40 * ONE))

    assert _entries(plan, "manufacturing") == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"leukapheresis_on": DAY0}, "leukapheresis_on"),
        ({"product_ready_on": DAY0 + ONE}, "product_ready_on"),
        (
            {"leukapheresis_on": DAY0 - 9 * ONE, "product_ready_on": DAY0 - 10 * ONE},
            "product_ready_on",
        ),
        ({"bridging": Bridging(" ", DAY0 - 9 * ONE)}, "bridging"),
        ({"bridging": Bridging("x", DAY0)}, "bridging_start"),
        (
            {"leukapheresis_on": DAY0 - 9 * ONE, "bridging": Bridging("x", DAY0 - 10 * ONE)},
            "bridging_start",
        ),
    ],
)
def test_plan_cell_journey_dates_out_of_order_are_refused(
    kymriah: CarTProduct, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput, match=f"^{field} "):
        plan_cell_journey(kymriah, _journey(**changes))


def test_plan_cell_journey_product_ready_on_the_infusion_day_is_allowed(
    kymriah: CarTProduct,
) -> None:
    plan = plan_cell_journey(kymriah, _journey(product_ready_on=DAY0))

    assert _entries(plan, "product-ready")[0][0] == "day 0"


# --- the infusion ---------------------------------------------------------------------------


def test_plan_cell_journey_tisagenlecleucel_infusion_shows_the_band_for_the_weight(
    kymriah: CarTProduct,
) -> None:
    plan = plan_cell_journey(kymriah, _journey())
    ((label, infusion),) = _entries(plan, "tisagenlecleucel")

    assert label == "day 0"
    assert infusion.kind is EntryKind.DOSE
    assert infusion.dose is None  # a band, not one number
    assert infusion.unit == "cells"
    assert "7.6 \u00d7 10\u2076 to 1.9 \u00d7 10\u2078 CAR-positive viable T cells" in infusion.text
    assert "10\u201320 mL/min; no leukodepleting filter; confirm the patient's identity" in (
        infusion.text
    )


def test_plan_cell_journey_brexucabtagene_infusion_is_one_dose_by_weight(
    tecartus: CarTProduct,
) -> None:
    plan = plan_cell_journey(tecartus, _journey())
    ((_, infusion),) = _entries(plan, "brexucabtagene")

    assert infusion.dose == Decimal("38000000")
    assert "within 30 min" in infusion.text
    assert "mL/min" not in infusion.text


def test_plan_cell_journey_premedication_before_each_infusion_without_steroids(
    kymriah: CarTProduct, aucatzyl: CarTProduct
) -> None:
    kym = plan_cell_journey(kymriah, _journey())
    obe = plan_cell_journey(aucatzyl, _obe())

    assert [label for label, _ in _entries(kym, "acetaminophen")] == ["day 0"]
    assert "30\u201360 min before" in _entries(kym, "antihistamine")[0][1].text
    assert "Avoid prophylactic systemic corticosteroids" in _warning(
        kym, "no-prophylactic-steroids"
    )
    assert [label for label, _ in _entries(obe, "acetaminophen")] == ["day 1", "day 10"]
    assert _entries(obe, "antihistamine") == []  # not retrieved for obecabtagene
    assert "timing not retrieved" in _entries(obe, "acetaminophen")[0][1].text
    assert not _has_warning(obe, "no-prophylactic-steroids")


@pytest.mark.parametrize(
    ("blasts", "first", "second"),
    [("20", Decimal(100) * 10**6, Decimal(310) * 10**6), ("20.5", Decimal(10) * 10**6, None)],
    ids=["low-burden", "high-burden"],
)
def test_plan_cell_journey_obecabtagene_split_by_marrow_blasts(
    aucatzyl: CarTProduct, blasts: str, first: Decimal, second: Decimal | None
) -> None:
    plan = plan_cell_journey(aucatzyl, _journey(marrow_blasts_percent=Decimal(blasts)))
    doses = _entries(plan, "obecabtagene")

    assert [(label, e.dose) for label, e in doses] == [("day 1", first), ("day 10", second)]
    assert "no leukodepleting filter" in doses[0][1].text
    assert "confirm" not in doses[0][1].text


def test_plan_cell_journey_obecabtagene_high_burden_second_dose_is_the_certificate_s(
    aucatzyl: CarTProduct,
) -> None:
    plan = plan_cell_journey(aucatzyl, _journey(marrow_blasts_percent=Decimal(40)))
    second = _entries(plan, "obecabtagene")[1][1]

    assert "the remainder of the total, from the Release for Infusion certificate" in second.text
    assert second.basis == "marrow blasts 40% (> 20%), total 410 \u00d7 10\u2076"


@pytest.mark.parametrize("blasts", [None, Decimal("-1"), Decimal("100.1"), Decimal("NaN")])
def test_plan_cell_journey_obecabtagene_needs_the_marrow_blasts(
    aucatzyl: CarTProduct, blasts: Decimal | None
) -> None:
    with pytest.raises(InvalidInput, match=r"marrow_blasts_percent .* a percentage from 0 to 100"):
        plan_cell_journey(aucatzyl, _journey(marrow_blasts_percent=blasts))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("marrow_blasts_percent", Decimal(5)),
        ("second_dose_on", DAY0 + 9 * ONE),
        ("first_dose_reaction", FirstDoseReaction(1, 0)),
        ("second_dose_withheld", True),
    ],
)
def test_plan_cell_journey_split_fields_are_refused_for_one_infusion(
    tecartus: CarTProduct, field: str, value: object
) -> None:
    with pytest.raises(InvalidInput, match=f"^{field} given .* brexucabtagene is one infusion"):
        plan_cell_journey(tecartus, _journey(**{field: value}))


@pytest.mark.parametrize("days_after", [7, 11])
def test_plan_cell_journey_obecabtagene_second_dose_in_day_10_plus_minus_2(
    aucatzyl: CarTProduct, days_after: int
) -> None:
    plan = plan_cell_journey(aucatzyl, _obe(second_dose_on=DAY0 + days_after * ONE))

    assert _entries(plan, "obecabtagene")[1][0] == f"day {days_after + 1}"
    assert _warning(plan, "second-dose-give") == "Second infusion on Day 10 \u00b1 2 days."


@pytest.mark.parametrize("days_after", [6, 12])
def test_plan_cell_journey_obecabtagene_second_dose_outside_the_window_is_refused(
    aucatzyl: CarTProduct, days_after: int
) -> None:
    with pytest.raises(InvalidInput, match="second_dose_on") as error:
        plan_cell_journey(aucatzyl, _obe(second_dose_on=DAY0 + days_after * ONE))

    assert "a date from 2026-03-09 (Day 8) to 2026-03-13 (Day 12)" in str(error.value)


# --- after the infusion ---------------------------------------------------------------------


def test_plan_cell_journey_tisagenlecleucel_monitoring_and_current_periods(
    kymriah: CarTProduct,
) -> None:
    plan = plan_cell_journey(kymriah, _journey())

    assert [label for label, _ in _entries(plan, "daily-check")] == [
        f"day {n}" for n in range(1, 8)
    ]
    assert [label for label, _ in _entries(plan, "monitoring-period")] == ["day 14"]
    near = _entries(plan, "stay-near")
    drive = _entries(plan, "no-driving")
    assert [label for label, _ in near] == [f"day {n}" for n in range(1, 15)]
    assert [label for label, _ in drive] == [f"day {n}" for n in range(1, 15)]
    assert {e.kind for _, e in near} == {EntryKind.STAY_NEAR}
    assert {e.source for _, e in near + drive} == {"tisagenlecleucel-periods-2025"}
    assert not _has_warning(plan, "superseded-stay-near")
    assert not _has_warning(plan, "superseded-no-driving")


def test_plan_cell_journey_brexucabtagene_shows_the_superseded_periods_and_dates_none(
    tecartus: CarTProduct,
) -> None:
    plan = plan_cell_journey(tecartus, _journey())

    assert _entries(plan, "stay-near") == []
    assert _entries(plan, "no-driving") == []
    assert "at least 4 weeks (to 2026-03-30)" in _warning(plan, "superseded-stay-near")
    assert "at least 8 weeks (to 2026-04-27)" in _warning(plan, "superseded-no-driving")
    assert "at least 14 days (to 2026-03-16)" in _warning(plan, "older-daily-monitoring")
    assert [label for label, _ in _entries(plan, "daily-check")] == [
        f"day {n}" for n in range(1, 8)
    ]


def test_plan_cell_journey_team_period_replaces_the_missing_one(tecartus: CarTProduct) -> None:
    plan = plan_cell_journey(tecartus, _journey(stay_near_days=28, no_driving_days=56))

    assert len(_entries(plan, "stay-near")) == 28
    assert len(_entries(plan, "no-driving")) == 56
    assert {e.source for _, e in _entries(plan, "stay-near")} == {"car-t-physician-choice"}
    assert not _has_warning(plan, "superseded-stay-near")


def test_plan_cell_journey_warnings_carry_the_class_and_the_crs_management(
    kymriah: CarTProduct,
) -> None:
    plan = plan_cell_journey(kymriah, _journey(weight=Kg(Decimal("20"))))
    whats = [w.what for w in plan.warnings]

    assert whats[:4] == [
        "indication",
        "secondary-t-cell-malignancy",
        "day-counting",
        "recorded-by-the-team",
    ]
    assert "life-long" in _warning(plan, "secondary-t-cell-malignancy")
    tocilizumab = _warning(plan, "tocilizumab")
    assert "tocilizumab 240.0 mg IV over 1 h (12 mg/kg \u00d7 20 kg)" in tocilizumab
    assert "at least 8 h apart; at most 4 doses" in tocilizumab
    assert "methylprednisolone (dose not retrieved)" in tocilizumab


# --- the re-plan after the first obecabtagene infusion --------------------------------------


def test_replan_after_first_dose_crs_grade_2_may_defer_up_to_day_21(
    aucatzyl: CarTProduct,
) -> None:
    journey = _obe()
    before = plan_cell_journey(aucatzyl, journey)

    changed, plan = replan_after_first_dose(
        aucatzyl, journey, FirstDoseReaction(2, 0), second_dose_on=DAY0 + 20 * ONE
    )

    assert changed.first_dose_reaction == FirstDoseReaction(2, 0)
    assert [label for label, _ in _entries(plan, "obecabtagene")] == ["day 1", "day 21"]
    assert "up to Day 21" in _warning(plan, "second-dose-may-defer")
    assert _entries(plan, "daily-check")[-1][0] == "day 28"  # 7 days after the last infusion
    assert [label for label, _ in _entries(before, "obecabtagene")] == ["day 1", "day 10"]


def test_replan_after_first_dose_crs_grade_2_may_still_give_on_day_10(
    aucatzyl: CarTProduct,
) -> None:
    _, plan = replan_after_first_dose(aucatzyl, _obe(), FirstDoseReaction(2, 0))

    assert [label for label, _ in _entries(plan, "obecabtagene")] == ["day 1", "day 10"]


def test_replan_after_first_dose_deferral_past_day_21_is_refused(aucatzyl: CarTProduct) -> None:
    with pytest.raises(InvalidInput, match=r"to 2026-03-22 \(Day 21\)"):
        replan_after_first_dose(
            aucatzyl, _obe(), FirstDoseReaction(2, 0), second_dose_on=DAY0 + 21 * ONE
        )


@pytest.mark.parametrize("crs", [3, 4])
def test_replan_after_first_dose_crs_grade_3_or_more_stops_the_second_dose(
    aucatzyl: CarTProduct, crs: int
) -> None:
    _, plan = replan_after_first_dose(aucatzyl, _obe(), FirstDoseReaction(crs, 0))

    assert [label for label, _ in _entries(plan, "obecabtagene")] == ["day 1"]
    assert [label for label, _ in _entries(plan, "acetaminophen")] == ["day 1"]
    assert "discontinue, no second infusion" in _warning(plan, "second-dose-stop")
    assert _entries(plan, "daily-check")[-1][0] == "day 8"  # counted from the one infusion


def test_replan_after_first_dose_stopped_second_dose_cannot_be_dated(
    aucatzyl: CarTProduct,
) -> None:
    with pytest.raises(InvalidInput, match=r"second_dose_on .* left out: CRS grade 3"):
        replan_after_first_dose(
            aucatzyl, _obe(), FirstDoseReaction(3, 0), second_dose_on=DAY0 + 9 * ONE
        )


def test_replan_after_first_dose_icans_leaves_the_decision_to_the_physician(
    aucatzyl: CarTProduct,
) -> None:
    _, plan = replan_after_first_dose(aucatzyl, _obe(), FirstDoseReaction(0, 2))

    assert [label for label, _ in _entries(plan, "obecabtagene")] == ["day 1", "day 10"]
    assert "the physician decides" in _warning(plan, "second-dose-physician")
    with pytest.raises(InvalidInput, match="second_dose_on"):
        replan_after_first_dose(
            aucatzyl, _obe(), FirstDoseReaction(0, 2), second_dose_on=DAY0 + 14 * ONE
        )


def test_replan_after_first_dose_physician_may_withhold_the_second_dose(
    aucatzyl: CarTProduct,
) -> None:
    changed, plan = replan_after_first_dose(
        aucatzyl, _obe(), FirstDoseReaction(0, 2), withheld=True
    )

    assert changed.second_dose_withheld
    assert [label for label, _ in _entries(plan, "obecabtagene")] == ["day 1"]
    assert "The physician has withheld the second infusion." in _warning(
        plan, "second-dose-physician"
    )


def test_plan_cell_journey_without_the_filter_rule_says_nothing_of_filters(
    tecartus: CarTProduct,
) -> None:
    product = replace(tecartus, infusion=replace(tecartus.infusion, no_leukodepleting_filter=False))

    plan = plan_cell_journey(product, _journey())

    assert "filter" not in _entries(plan, "brexucabtagene")[0][1].text


def test_plan_cell_journey_tocilizumab_capped_for_a_heavy_patient(kymriah: CarTProduct) -> None:
    plan = plan_cell_journey(kymriah, _journey(weight=Kg(Decimal("110"))))

    assert f"tocilizumab {Mg(Decimal(800))} IV" in _warning(plan, "tocilizumab")


def test_windows_of_journey_are_the_plans_dates(aucatzyl: CarTProduct) -> None:
    journey = _obe(
        first_dose_reaction=FirstDoseReaction(2, 0),
        second_dose_on=DAY0 + 15 * ONE,
        stay_near_days=20,
    )
    plan = plan_cell_journey(aucatzyl, journey)

    def dates(what: str) -> list[date]:
        return [d.on for d in plan.days for e in d.entries if e.what == what]

    windows = windows_of_journey(aucatzyl, journey)

    assert windows.last_infusion == DAY0 + 15 * ONE
    assert list(windows.daily_checks) == dates("daily-check")
    assert windows.stay_near_until == max(dates("stay-near"))
    assert [windows.monitor_until] == dates("monitoring-period")
    with pytest.raises(InvalidInput, match="second_dose_on"):
        windows_of_journey(aucatzyl, replace(journey, second_dose_on=DAY0 + 30 * ONE))


def test_plan_cell_journey_per_m2_lymphodepletion_needs_the_bsa(
    kymriah: CarTProduct, aucatzyl: CarTProduct
) -> None:
    with pytest.raises(InvalidInput, match=r"^bsa None .* lymphodepletion is dosed in mg/m2"):
        plan_cell_journey(kymriah, _journey(bsa=None))

    plan = plan_cell_journey(aucatzyl, _obe(bsa=None))

    assert len(_entries(plan, "obecabtagene")) == 2


@pytest.mark.parametrize("key", ["tisagenlecleucel", "obecabtagene"])
def test_plan_cell_journey_leukapheresis_after_lymphodepletion_starts_is_refused(
    knowledge: Knowledge, key: str
) -> None:
    start = DAY0 - 6 * ONE  # obecabtagene's recorded start; KYMRIAH's planned one is day -5
    journey = _journey(
        leukapheresis_on=DAY0 - 5 * ONE,
        lymphodepletion_start=start if key == "obecabtagene" else None,
        marrow_blasts_percent=Decimal(5) if key == "obecabtagene" else None,
    )

    with pytest.raises(InvalidInput, match=r"^leukapheresis_on .* before lymphodepletion starts"):
        plan_cell_journey(knowledge.car_t.product(key), journey)
