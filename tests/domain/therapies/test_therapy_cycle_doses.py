"""Inotuzumab's plan: cycle doses by BSA, response-driven later cycles, the cycle limits,
re-planning around given dose dates, the cytoreduction check.

The facts are the shipped knowledge (therapy_inotuzumab.toml); the expected values are
written out from other-immunotherapies.md §1.2 so a changed TOML fails here too.
"""

import itertools
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from blina.domain.errors import InvalidInput
from blina.domain.therapies.cycle_doses import (
    CycleDoseFacts,
    CycleDoseRequest,
    Response,
    Transplant,
    plan_cycle_doses,
)
from blina.domain.therapies.model import EntryKind, TherapyDay, TherapyKind, TherapyPlan
from blina.knowledge import Knowledge

START = date(2027, 1, 4)
BSA = Decimal("1.72")
CR, CRI, NONE = Response.CR, Response.CRI, Response.NONE


@pytest.fixture(scope="module")
def facts(knowledge: Knowledge) -> CycleDoseFacts:
    therapy = knowledge.therapies["inotuzumab"]
    assert isinstance(therapy, CycleDoseFacts)
    return therapy


def _plan(facts: CycleDoseFacts, **changes: object) -> TherapyPlan:
    request = CycleDoseRequest(bsa_m2=BSA, start=START, transplant=Transplant.NOT_PLANNED)
    return plan_cycle_doses(facts, replace(request, **changes))  # type: ignore[arg-type]


def _dose(day: TherapyDay) -> Decimal:
    (dose,) = [e for e in day.entries if e.kind is EntryKind.DOSE]
    assert dose.dose is not None
    return dose.dose


def _warnings(plan: TherapyPlan) -> dict[str, str]:
    return {w.what: w.text for w in plan.warnings}


def _ends(plan: TherapyPlan) -> str:
    (end,) = [w.what for w in plan.warnings if w.what.startswith("plan-ends-")]
    return end


def test_first_cycle_alone_until_a_response_is_recorded(facts: CycleDoseFacts) -> None:
    plan = _plan(facts)

    assert plan.therapy == "inotuzumab"
    assert plan.kind is TherapyKind.CYCLE_DOSES
    assert [(d.on, d.label) for d in plan.days] == [
        (date(2027, 1, 4), "C1 D1"),
        (date(2027, 1, 11), "C1 D8"),
        (date(2027, 1, 18), "C1 D15"),
    ]
    # 0.8, 0.5, 0.5 mg/m2 x 1.72 m2 (§1.2)
    assert [_dose(d) for d in plan.days] == [Decimal("1.376"), Decimal("0.86"), Decimal("0.86")]
    assert _ends(plan) == "plan-ends-needs-response"
    assert "Cycle 2" in _warnings(plan)["plan-ends-needs-response"]
    assert plan.gaps == facts.gaps


def test_every_dose_day_has_premedication_monitoring_and_a_one_hour_infusion(
    facts: CycleDoseFacts,
) -> None:
    plan = _plan(facts, responses=(CR,))

    for day in plan.days:
        kinds = {(e.kind, e.what) for e in day.entries}
        assert {
            (EntryKind.PREMEDICATION, "corticosteroid"),
            (EntryKind.PREMEDICATION, "antipyretic"),
            (EntryKind.PREMEDICATION, "antihistamine"),
            (EntryKind.MONITORING, "weight"),
            (EntryKind.MONITORING, "bilirubin"),
            (EntryKind.MONITORING, "liver-tests"),
        } <= kinds
        (dose,) = [e for e in day.entries if e.kind is EntryKind.DOSE]
        assert "1 hour at 50 mL/h" in dose.text
        assert dose.unit == "mg"
    counts = [d.label for d in plan.days if any(e.what == "blood-counts" for e in d.entries)]
    assert counts == ["C2 D1"]


def test_cytoreduction_entry_only_on_the_first_dose(facts: CycleDoseFacts) -> None:
    plan = _plan(facts, responses=(CR,))

    with_entry = [d.label for d in plan.days if any(e.what == "cytoreduction" for e in d.entries)]
    assert with_entry == ["C1 D1"]
    (entry,) = [e for e in plan.days[0].entries if e.what == "cytoreduction"]
    assert "not given: check it is <= 10000/mm3" in entry.text


@pytest.mark.parametrize(
    ("blasts", "status", "warned"),
    [
        (Decimal("10000"), "met (<= 10000/mm3)", False),
        (Decimal("10001"), "NOT met (> 10000/mm3)", True),
    ],
)
def test_cytoreduction_checked_against_ten_thousand_blasts(
    facts: CycleDoseFacts, blasts: Decimal, status: str, warned: bool
) -> None:
    plan = _plan(facts, blasts_per_mm3=blasts)

    (entry,) = [e for e in plan.days[0].entries if e.what == "cytoreduction"]
    assert status in entry.text
    assert ("cytoreduction-needed" in _warnings(plan)) is warned


def test_first_cycle_lengthened_to_28_days_moves_cycle_2(facts: CycleDoseFacts) -> None:
    short = _plan(facts, responses=(CR,))
    long = _plan(facts, responses=(CR,), first_cycle_days=28)

    assert short.days[3].on == START + timedelta(days=21)
    assert long.days[3].on == START + timedelta(days=28)
    assert long.days[3].label == "C2 D1"


def test_first_cycle_length_other_than_21_or_28_is_refused(facts: CycleDoseFacts) -> None:
    with pytest.raises(
        InvalidInput, match="first_cycle_days 25 is not allowed: must be one of 21, 28"
    ):
        _plan(facts, first_cycle_days=25)


@pytest.mark.parametrize(
    ("responses", "c2_d1"),
    [((CR,), Decimal("0.5")), ((CRI,), Decimal("0.5")), ((NONE,), Decimal("0.8"))],
)
def test_later_cycle_day1_dose_follows_the_recorded_response(
    facts: CycleDoseFacts, responses: tuple[Response, ...], c2_d1: Decimal
) -> None:
    plan = _plan(facts, responses=responses)

    cycle2 = [d for d in plan.days if d.label.startswith("C2 ")]
    assert [_dose(d) for d in cycle2] == [c2_d1 * BSA, Decimal("0.5") * BSA, Decimal("0.5") * BSA]


def test_response_once_reached_keeps_the_lower_day1_dose(facts: CycleDoseFacts) -> None:
    plan = _plan(facts, responses=(NONE, CR, NONE))

    day1 = {d.label: _dose(d) for d in plan.days if d.label.endswith("D1")}
    assert day1 == {
        "C1 D1": Decimal("0.8") * BSA,
        "C2 D1": Decimal("0.8") * BSA,
        "C3 D1": Decimal("0.5") * BSA,
        "C4 D1": Decimal("0.5") * BSA,
    }


def test_later_cycles_are_28_days(facts: CycleDoseFacts) -> None:
    plan = _plan(facts, responses=(CR, CR))

    starts = [d.on for d in plan.days if d.label.endswith("D1")]
    assert [(b - a).days for a, b in itertools.pairwise(starts)] == [21, 28]


def test_no_transplant_stops_at_six_cycles(facts: CycleDoseFacts) -> None:
    plan = _plan(facts, responses=(CR,) * 6)

    assert plan.days[-1].label == "C6 D15"
    assert len(plan.days) == 18
    assert _ends(plan) == "plan-ends-cycle-limit"


def test_no_cr_within_three_cycles_discontinues(facts: CycleDoseFacts) -> None:
    plan = _plan(facts, responses=(NONE, NONE, NONE))

    assert plan.days[-1].label == "C3 D15"
    assert _ends(plan) == "plan-ends-discontinue"


def test_cr_in_cycle_three_continues(facts: CycleDoseFacts) -> None:
    plan = _plan(facts, responses=(NONE, NONE, CRI))

    assert plan.days[-1].label == "C4 D15"
    assert _ends(plan) == "plan-ends-needs-response"


def test_transplant_two_cycles_then_mrd_decides(facts: CycleDoseFacts) -> None:
    ask = _plan(facts, transplant=Transplant.PLANNED, responses=(CR, CR))
    done = _plan(facts, transplant=Transplant.PLANNED, responses=(CR, CR), mrd_negative=True)
    third = _plan(facts, transplant=Transplant.PLANNED, responses=(CR, CR), mrd_negative=False)

    assert ask.days[-1].label == done.days[-1].label == "C2 D15"
    assert _ends(ask) == "plan-ends-needs-mrd"
    assert _ends(done) == "plan-ends-cycle-limit"
    assert third.days[-1].label == "C3 D15"
    assert "extra-cycle-before-transplant" in _warnings(third)
    assert _ends(third) == "plan-ends-cycle-limit"


def test_transplant_without_response_after_two_cycles_allows_a_third(
    facts: CycleDoseFacts,
) -> None:
    plan = _plan(facts, transplant=Transplant.PLANNED, responses=(NONE, NONE))

    assert plan.days[-1].label == "C3 D15"
    assert _dose(plan.days[-3]) == Decimal("0.8") * BSA


def test_transplant_first_cycle_waits_for_its_response(facts: CycleDoseFacts) -> None:
    plan = _plan(facts, transplant=Transplant.PLANNED)

    assert plan.days[-1].label == "C1 D15"
    assert _ends(plan) == "plan-ends-needs-response"
    assert "extra-cycle-before-transplant" not in _warnings(plan)


def test_more_responses_than_cycles_is_refused(facts: CycleDoseFacts) -> None:
    with pytest.raises(InvalidInput, match=r"^responses 7 is not allowed"):
        _plan(facts, responses=(CR,) * 7)


# --- re-planning around given dates ----------------------------------------------------------


def test_given_day8_late_moves_day15_to_keep_six_days(facts: CycleDoseFacts) -> None:
    plan = _plan(facts, given={(1, 8): date(2027, 1, 13)})  # day 10, +2

    assert [d.on for d in plan.days] == [date(2027, 1, 4), date(2027, 1, 13), date(2027, 1, 19)]
    assert not [w for w in plan.warnings if w.what.startswith("dose-date-")]


def test_given_day15_late_delays_the_next_cycle_start(facts: CycleDoseFacts) -> None:
    plan = _plan(facts, responses=(CR,), given={(1, 15): date(2027, 1, 20)})

    c2 = next(d for d in plan.days if d.label == "C2 D1")
    assert c2.on == date(2027, 1, 26)  # day 22 would be 5 days after; 6 needed
    assert plan.days[4].on == date(2027, 2, 2)  # C2 D8 counts from the moved day 1


def test_given_date_outside_the_window_is_a_warning(facts: CycleDoseFacts) -> None:
    plan = _plan(facts, given={(1, 8): date(2027, 1, 14)})  # day 11, +3

    texts = _warnings(plan)
    assert "outside 2027-01-11 +/- 2 days" in texts["dose-date-window"]
    assert plan.days[1].on == date(2027, 1, 14)
    assert plan.days[2].on == date(2027, 1, 20)  # day 17: 6 days later, still in the window


def test_no_day_in_the_window_keeps_the_spacing_is_a_warning(facts: CycleDoseFacts) -> None:
    plan = _plan(facts, given={(1, 8): date(2027, 1, 15)})  # day 12

    assert plan.days[2].on == date(2027, 1, 21)  # day 18: spacing kept, window missed
    assert "C1 D15: no day within the window" in _warnings(plan)["dose-date-window"]


def test_given_date_too_close_to_the_previous_dose_is_a_warning(facts: CycleDoseFacts) -> None:
    plan = _plan(facts, given={(1, 8): date(2027, 1, 9)})  # day 6: in the window, 5 days

    assert "5 days after the dose before, fewer than 6" in _warnings(plan)["dose-date-spacing"]


def test_planned_day8_never_falls_fewer_than_six_days_after_day1(facts: CycleDoseFacts) -> None:
    plan = _plan(facts)

    gaps = [(b.on - a.on).days for a, b in zip(plan.days, plan.days[1:], strict=False)]
    assert min(gaps) >= 6


def test_given_later_cycle_day1_reanchors_and_early_start_warns(facts: CycleDoseFacts) -> None:
    held = _plan(facts, responses=(CR,), given={(2, 1): date(2027, 2, 8)})
    early = _plan(facts, responses=(CR,), given={(2, 1): date(2027, 1, 24)})

    assert [d.on for d in held.days[3:]] == [date(2027, 2, 8), date(2027, 2, 15), date(2027, 2, 22)]
    assert "dose-date-early-cycle" not in _warnings(held)
    assert (
        "before the previous cycle's end (2027-01-25)" in _warnings(early)["dose-date-early-cycle"]
    )


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({(1, 1): date(2027, 1, 5)}, "dose_date C1D1 is not allowed: must be the start date"),
        ({(1, 8): date(2027, 1, 4)}, "must be a date after the dose before"),
        ({(3, 8): date(2027, 3, 1)}, "dose_date C3D8 is not allowed: must be a dose day"),
        ({(1, 9): date(2027, 1, 12)}, "dose_date C1D9 is not allowed"),
    ],
)
def test_given_dates_that_cannot_be_placed_are_refused(
    facts: CycleDoseFacts, given: dict[tuple[int, int], date], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        _plan(facts, responses=(CR,), given=given)


def test_given_start_date_for_day1_is_accepted(facts: CycleDoseFacts) -> None:
    assert _plan(facts, given={(1, 1): START}).days[0].on == START


def test_bsa_must_be_positive(facts: CycleDoseFacts) -> None:
    with pytest.raises(InvalidInput, match="bsa_m2"):
        _plan(facts, bsa_m2=Decimal("0"))
