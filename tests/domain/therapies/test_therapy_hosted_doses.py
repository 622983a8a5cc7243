"""Rituximab and gemtuzumab: doses placed on the days of host courses the physician dates.

Expected values written out from other-immunotherapies.md §6.2 and §7.2.
"""

from datetime import date
from decimal import Decimal

import pytest

from blina.domain.errors import InvalidInput
from blina.domain.therapies.facts import PremedicationFact
from blina.domain.therapies.hosted_doses import (
    HostedDoseFacts,
    HostedDoseRequest,
    host_date,
    plan_hosted_doses,
)
from blina.domain.therapies.model import EntryKind, TherapyDay, TherapyKind
from blina.knowledge import Knowledge

D = Decimal


def _facts(knowledge: Knowledge, key: str) -> HostedDoseFacts:
    facts = knowledge.therapies[key]
    assert isinstance(facts, HostedDoseFacts)
    return facts


@pytest.fixture(scope="module")
def rituximab(knowledge: Knowledge) -> HostedDoseFacts:
    return _facts(knowledge, "rituximab")


@pytest.fixture(scope="module")
def gemtuzumab(knowledge: Knowledge) -> HostedDoseFacts:
    return _facts(knowledge, "gemtuzumab")


def _dose(day: TherapyDay) -> Decimal:
    (dose,) = [e for e in day.entries if e.kind is EntryKind.DOSE]
    assert dose.dose is not None
    return dose.dose


ALL_RITUXIMAB = {
    "copdam1": date(2027, 1, 10),
    "copdam2": date(2027, 1, 31),
    "cym-cyve1": date(2027, 2, 21),
    "cym-cyve2": date(2027, 3, 21),
}


def test_rituximab_six_doses_on_day_minus2_and_day1_of_induction(
    rituximab: HostedDoseFacts,
) -> None:
    plan = plan_hosted_doses(rituximab, HostedDoseRequest(D("1.10"), ALL_RITUXIMAB))

    assert plan.kind is TherapyKind.HOSTED_DOSES
    assert [(d.on, d.label) for d in plan.days] == [
        (date(2027, 1, 8), "COPDAM1 day -2"),
        (date(2027, 1, 10), "COPDAM1 day 1"),
        (date(2027, 1, 29), "COPDAM2 day -2"),
        (date(2027, 1, 31), "COPDAM2 day 1"),
        (date(2027, 2, 21), "CYM/CYVE1 day 1"),
        (date(2027, 3, 21), "CYM/CYVE2 day 1"),
    ]
    assert {_dose(d) for d in plan.days} == {D("412.50")}  # 375 mg/m2 x 1.10 m2, no cap
    assert not [w for w in plan.warnings if w.what == "undated-host-courses"]


def test_rituximab_first_dose_only_carries_hepatitis_b_screening(
    rituximab: HostedDoseFacts,
) -> None:
    plan = plan_hosted_doses(rituximab, HostedDoseRequest(D("1.10"), ALL_RITUXIMAB))

    screened = [
        d.label for d in plan.days if any(e.what == "hepatitis-b-screening" for e in d.entries)
    ]
    assert screened == ["COPDAM1 day -2"]
    for day in plan.days:
        premeds = {e.what for e in day.entries if e.kind is EntryKind.PREMEDICATION}
        assert premeds == {"acetaminophen", "antihistamine"}
        assert all(e.dose is None for e in day.entries if e.kind is EntryKind.PREMEDICATION)


def test_rituximab_undated_courses_are_named(rituximab: HostedDoseFacts) -> None:
    plan = plan_hosted_doses(
        rituximab, HostedDoseRequest(D("1.10"), {"copdam1": date(2027, 1, 10)})
    )

    assert len(plan.days) == 2
    (undated,) = [w for w in plan.warnings if w.what == "undated-host-courses"]
    assert undated.text.endswith("COPDAM2 (days -2, 1), CYM/CYVE1 (day 1), CYM/CYVE2 (day 1)")


def test_rituximab_gaps_and_boxed_warnings_are_on_the_plan(rituximab: HostedDoseFacts) -> None:
    plan = plan_hosted_doses(rituximab, HostedDoseRequest(D("1.10"), ALL_RITUXIMAB))

    assert plan.gaps == rituximab.gaps
    assert any("infusion rates" in g.fact for g in plan.gaps)
    assert {"hepatitis-b-reactivation", "fatal-infusion-reactions"} <= {
        w.what for w in plan.warnings
    }


def test_gemtuzumab_induction_days_1_4_7_capped_at_one_vial(gemtuzumab: HostedDoseFacts) -> None:
    request = HostedDoseRequest(
        D("1.90"),
        {
            "induction": date(2027, 1, 4),
            "consolidation1": date(2027, 2, 15),
            "consolidation2": date(2027, 3, 22),
        },
        weight_kg=D("80"),
    )

    plan = plan_hosted_doses(gemtuzumab, request)

    assert [(d.on, d.label) for d in plan.days] == [
        (date(2027, 1, 4), "Induction day 1"),
        (date(2027, 1, 7), "Induction day 4"),
        (date(2027, 1, 10), "Induction day 7"),
        (date(2027, 2, 15), "Consolidation 1 day 1"),
        (date(2027, 3, 22), "Consolidation 2 day 1"),
    ]
    assert {_dose(d) for d in plan.days} == {D("4.5")}  # 3 x 1.90 = 5.7 mg, capped
    (dose,) = [e for e in plan.days[0].entries if e.kind is EntryKind.DOSE]
    assert dose.basis == "3 mg/m2 x 1.90 m2 = 5.7 mg, capped at 4.5 mg per dose"
    premeds = {e.what: e.dose for e in plan.days[0].entries if e.kind is EntryKind.PREMEDICATION}
    assert premeds == {
        "acetaminophen": D("650"),
        "diphenhydramine": D("50"),
        "methylprednisolone": D("80"),
    }


def test_gemtuzumab_small_bsa_below_the_cap(gemtuzumab: HostedDoseFacts) -> None:
    plan = plan_hosted_doses(
        gemtuzumab, HostedDoseRequest(D("1.40"), {"induction": date(2027, 1, 4)})
    )

    assert _dose(plan.days[0]) == D("4.20")
    (steroid,) = [e for e in plan.days[0].entries if e.what == "methylprednisolone"]
    assert steroid.dose is None  # no weight given: the per-kg dose is not computed


@pytest.mark.parametrize(
    ("host_day1", "message"),
    [
        ({"induction2": date(2027, 1, 4)}, "host_day1 induction2 is not allowed: must be one of"),
        (
            {"induction": date(2027, 1, 4), "consolidation1": date(2027, 1, 8)},
            "must be a date after Induction day 7",
        ),
    ],
)
def test_gemtuzumab_bad_host_dates_are_refused(
    gemtuzumab: HostedDoseFacts, host_day1: dict[str, date], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        plan_hosted_doses(gemtuzumab, HostedDoseRequest(D("1.5"), host_day1))


def test_bsa_must_be_positive(gemtuzumab: HostedDoseFacts) -> None:
    with pytest.raises(InvalidInput, match="bsa_m2"):
        plan_hosted_doses(gemtuzumab, HostedDoseRequest(D("0"), {}))


def test_host_day_zero_only_where_the_host_counts_one() -> None:
    assert host_date(date(2027, 1, 10), 0, counts_day_zero=True) == date(2027, 1, 9)
    with pytest.raises(InvalidInput, match="day 0"):
        host_date(date(2027, 1, 10), 0, counts_day_zero=False)


def test_premedication_per_kg_capped_at_its_maximum() -> None:
    fact = PremedicationFact("x", "text", "src", mg_per_kg=D("15"), max_mg=D("650"))

    small = fact.entry(D("20"))
    large = fact.entry(D("60"))

    assert (small.dose, small.basis) == (D("300"), "15 mg/kg x 20 kg")
    assert (large.dose, large.basis) == (D("650"), "15 mg/kg x 60 kg = 900 mg, capped at 650 mg")


def test_premedication_per_kg_without_cap() -> None:
    fact = PremedicationFact("x", "text", "src", mg_per_kg=D("1"))

    assert fact.entry(D("70")).dose == D("70")
