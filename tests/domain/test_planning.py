"""plan_course: golden day-by-day plans, bag changes, premedication, errors.

The expected plans are computed here from the reference facts
(tests/knowledge/reference/blinatumomab-label.md, cited by section), never from
planning.py's private helpers.
"""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.factories import (
    make_adult,
    make_body,
    make_child,
    make_cycle,
    make_premedication,
    make_regimen,
    make_step,
)

from blina.domain.body import AgeGroup, BodySize
from blina.domain.course_plan import CoursePlan, DoseBasis
from blina.domain.errors import InvalidInput
from blina.domain.planning import plan_course
from blina.domain.regimens import PremedTrigger, Regimen
from blina.knowledge import Knowledge

START = date(2026, 1, 5)
START_TIME = time(9, 0)
ZONE_UTC = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


# --- facts transcribed from the reference ------------------------------------------------


@dataclass(frozen=True)
class StepFacts:
    first: int
    last: int
    fixed: Decimal
    per_m2: Decimal
    cap: Decimal


@dataclass(frozen=True)
class CycleFacts:
    phase: str
    length_days: int
    steps: tuple[StepFacts, ...]
    hospital_days: int


@dataclass(frozen=True)
class PremedFacts:
    drug: str
    dose_mg: Decimal | None
    dose_mg_per_m2: Decimal | None
    max_mg: Decimal | None
    cycles: tuple[int, ...] | None  # None: every cycle
    before_step_up: bool
    minutes_before: int | None  # None: "before", no interval stated


@dataclass(frozen=True)
class RegimenFacts:
    cycles: tuple[CycleFacts, ...]
    adult: PremedFacts
    pediatric: PremedFacts


# §1.2, §1.3, §1.4: every infusion runs D1-28 at 28 mcg/day (>= 45 kg) or 15 mcg/m2/day
# capped at 28 mcg/day (< 45 kg); only R/R cycle 1 starts at 9 mcg/day (5 mcg/m2/day, max 9).
FULL_28 = (StepFacts(1, 28, Decimal(28), Decimal(15), Decimal(28)),)
RR_C1 = (
    StepFacts(1, 7, Decimal(9), Decimal(5), Decimal(9)),
    StepFacts(8, 28, Decimal(28), Decimal(15), Decimal(28)),
)
# §1.4: pediatric dexamethasone 5 mg/m2 (max 20 mg) before the first dose of cycle 1 only
# (the same rule as §1.3's pediatric rule).
PEDIATRIC_DEX_C1 = PremedFacts(
    "dexamethasone", None, Decimal(5), Decimal(20), (1,), before_step_up=False, minutes_before=None
)

GOLDEN: dict[str, RegimenFacts] = {
    # §1.2 table: C1-2 induction, C3-5 consolidation (42 d), C6-9 continued therapy (84 d);
    # hospital: first 9 days of C1, first 2 days of C2. Premedication: adults dexamethasone
    # 20 mg 1 h before the first dose of each cycle and before a step dose; pediatric
    # 5 mg/m2 (max 20 mg) before the first dose and the step dose, in cycle 1 only.
    "relapsed-refractory": RegimenFacts(
        cycles=(
            CycleFacts("induction", 42, RR_C1, 9),
            CycleFacts("induction", 42, FULL_28, 2),
            *(CycleFacts("consolidation", 42, FULL_28, 0),) * 3,
            *(CycleFacts("continued therapy", 84, FULL_28, 0),) * 4,
        ),
        adult=PremedFacts(
            "dexamethasone", Decimal(20), None, None, None, before_step_up=True, minutes_before=60
        ),
        pediatric=PremedFacts(
            "dexamethasone",
            None,
            Decimal(5),
            Decimal(20),
            (1,),
            before_step_up=True,
            minutes_before=None,
        ),
    ),
    # §1.3 table: C1 induction, C2-4 consolidation, 42 d; hospital: 3 days of C1, 2 of C2.
    # Premedication: adults prednisone 100 mg 1 h before the first dose of each cycle.
    "mrd-positive": RegimenFacts(
        cycles=(
            CycleFacts("induction", 42, FULL_28, 3),
            CycleFacts("consolidation", 42, FULL_28, 2),
            *(CycleFacts("consolidation", 42, FULL_28, 0),) * 2,
        ),
        adult=PremedFacts(
            "prednisone", Decimal(100), None, None, None, before_step_up=False, minutes_before=60
        ),
        pediatric=PEDIATRIC_DEX_C1,
    ),
    # §1.4: E1910 (trial, not label): 4 cycles of 28 days; §1.2 US-2014: at least 2 weeks
    # treatment-free, so 42-day cycles; hospital 3 days of C1, 2 of C2 (verified items).
    # Adults: dexamethasone 20 mg within 1 h before the first dose of each cycle.
    "consolidation": RegimenFacts(
        cycles=(
            CycleFacts("consolidation", 42, FULL_28, 3),
            CycleFacts("consolidation", 42, FULL_28, 2),
            *(CycleFacts("consolidation", 42, FULL_28, 0),) * 2,
        ),
        adult=PremedFacts(
            "dexamethasone", Decimal(20), None, None, None, before_step_up=False, minutes_before=60
        ),
        pediatric=PEDIATRIC_DEX_C1,
    ),
}

# The child's BSA by Mosteller, sqrt(110 cm x 20 kg / 3600), rounded half-up to 0.01 m2.
CHILD_BSA = (
    (Decimal(110) * Decimal(20) / Decimal(3600))
    .sqrt()
    .quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
)


def _daily_dose(step: StepFacts, body: BodySize) -> Decimal:
    """§1.1: >= 45 kg a fixed dose; < 45 kg BSA x per-m2 dose, capped at the fixed dose."""
    if body.weight.value >= 45:
        return step.fixed
    assert body.bsa is not None
    return min(step.per_m2 * body.bsa.value, step.cap)


def _premed_dose(premed: PremedFacts, body: BodySize) -> Decimal:
    if premed.dose_mg is not None:
        return premed.dose_mg
    assert premed.dose_mg_per_m2 is not None
    assert premed.max_mg is not None
    assert body.bsa is not None
    return min(premed.dose_mg_per_m2 * body.bsa.value, premed.max_mg)


Row = tuple[Any, ...]


def _expected_rows(
    facts: RegimenFacts, body: BodySize, start: date = START, zone: ZoneInfo = ZONE_UTC
) -> list[Row]:
    """One row per calendar day: date, cycle, phase, cycle day, dose, infusing, inpatient,
    step-up, premedication (drug, mg), bag changes (instants). 24-h bags: one per infusing
    day, hung 24 elapsed hours after the previous one (STYLE §4: elapsed time in UTC)."""
    premed = facts.adult if body.age_group is AgeGroup.ADULT else facts.pediatric
    rows: list[Row] = []
    cycle_start = start
    for number, cycle in enumerate(facts.cycles, start=1):
        first_bag = datetime.combine(cycle_start, START_TIME, tzinfo=zone).astimezone(UTC)
        for cycle_day in range(1, cycle.length_days + 1):
            step = next((s for s in cycle.steps if s.first <= cycle_day <= s.last), None)
            step_up = step is not None and step is not cycle.steps[0] and cycle_day == step.first
            in_cycles = premed.cycles is None or number in premed.cycles
            premed_due = in_cycles and (cycle_day == 1 or (step_up and premed.before_step_up))
            rows.append(
                (
                    cycle_start + (cycle_day - 1) * DAY,
                    number,
                    cycle.phase,
                    cycle_day,
                    Decimal(0) if step is None else _daily_dose(step, body),
                    step is not None,
                    cycle_day <= cycle.hospital_days,
                    step_up,
                    ((premed.drug, _premed_dose(premed, body)),) if premed_due else (),
                    () if step is None else (first_bag + (cycle_day - 1) * 24 * HOUR,),
                )
            )
        cycle_start += cycle.length_days * DAY
    return rows


def _actual_rows(plan: CoursePlan) -> list[Row]:
    return [
        (
            day.date,
            day.cycle,
            day.phase,
            day.cycle_day,
            day.dose.value,
            day.infusing,
            day.inpatient,
            day.step_up,
            tuple((p.drug, p.dose.value) for p in day.premedication),
            day.bag_changes,
        )
        for day in plan.days
    ]


def _plan(regimen: Regimen, body: BodySize, **overrides: Any) -> CoursePlan:
    arguments: dict[str, Any] = {
        "regimen": regimen,
        "body": body,
        "start": START,
        "bag_hours": 24,
        "zone": ZONE_UTC,
    }
    return plan_course(**(arguments | overrides))


PATIENTS = {"adult-70kg": make_adult, "child-20kg": make_child}


# --- golden plans ------------------------------------------------------------------------


def test_make_child_bsa_is_mosteller_rounded_half_up() -> None:
    child = make_child()

    assert Decimal("0.78") == CHILD_BSA
    assert child.bsa is not None
    assert child.bsa.value == CHILD_BSA
    assert child.age_group is AgeGroup.PEDIATRIC


@pytest.mark.parametrize("patient", PATIENTS)
@pytest.mark.parametrize("regimen_id", GOLDEN)
def test_plan_course_golden_regimen_matches_reference_every_day(
    knowledge: Knowledge, regimen_id: str, patient: str
) -> None:
    body = PATIENTS[patient]()
    plan = _plan(knowledge.regimen(regimen_id), body)

    assert _actual_rows(plan) == _expected_rows(GOLDEN[regimen_id], body)


@pytest.mark.parametrize("patient", PATIENTS)
@pytest.mark.parametrize("regimen_id", GOLDEN)
def test_plan_course_golden_regimen_premedication_due_before_the_dose(
    knowledge: Knowledge, regimen_id: str, patient: str
) -> None:
    body = PATIENTS[patient]()
    facts = GOLDEN[regimen_id]
    premed = facts.adult if body.age_group is AgeGroup.ADULT else facts.pediatric
    plan = _plan(knowledge.regimen(regimen_id), body)

    assert plan.premedication
    for dose in plan.premedication:
        # Every dose in these plans starts at 09:00 UTC on the day its premedication is due.
        dose_start = datetime.combine(dose.due.date(), START_TIME, tzinfo=UTC)
        if premed.minutes_before is None:
            assert dose.due <= dose_start
        else:
            assert dose.due == dose_start - timedelta(minutes=premed.minutes_before)


@pytest.mark.parametrize(
    ("regimen_id", "expected_warning"),
    [("relapsed-refractory", False), ("mrd-positive", False), ("consolidation", True)],
)
def test_plan_course_trial_based_regimen_warns_it_rests_on_trial_data(
    knowledge: Knowledge, regimen_id: str, expected_warning: bool
) -> None:
    plan = _plan(knowledge.regimen(regimen_id), make_adult())

    assert [w for w in plan.warnings if "trial data" in w] == (
        [
            "Consolidation of Ph-negative B-ALL: the dosing rests on trial data, not on the "
            "label's table (trial-e1910)."
        ]
        if expected_warning
        else []
    )


@pytest.mark.parametrize(
    ("start", "dst_change", "before_local", "after_local"),
    [
        (date(2026, 3, 25), date(2026, 3, 29), time(9, 0), time(10, 0)),
        (date(2026, 10, 20), date(2026, 10, 25), time(9, 0), time(8, 0)),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_plan_course_across_dst_keeps_every_bag_24_real_hours(
    relapsed_refractory: Regimen,
    start: date,
    dst_change: date,
    before_local: time,
    after_local: time,
) -> None:
    body = make_adult()
    plan = _plan(relapsed_refractory, body, start=start, zone=PARIS)

    assert _actual_rows(plan) == _expected_rows(GOLDEN["relapsed-refractory"], body, start, PARIS)
    cycle_1 = [bag for bag in plan.bags if bag.cycle == 1]
    assert [bag.hours for bag in cycle_1] == [Decimal(24)] * 28
    # Elapsed durations are added in UTC (STYLE section 4; planning.py docstring), so within a
    # cycle the clinic's wall-clock time of the bag change moves with the DST change.
    for day in plan.days[:28]:
        (change,) = day.bag_changes
        expected = before_local if day.date < dst_change else after_local
        assert change.astimezone(PARIS).time() == expected
    # The step-up (C1D8, after the change) starts 7 x 24 elapsed hours after the first bag.
    assert plan.step_ups == (plan.cycles[0].infusion_start + 168 * HOUR,)
    assert plan.day(start + 7 * DAY).step_up
    # Cycle 2 starts again at the clinic's 09:00 wall-clock time.
    assert plan.day(plan.cycles[1].start).bag_changes[0].astimezone(PARIS).time() == START_TIME


def test_plan_course_rr_96h_bags_change_on_days_1_5_8_and_every_4_days(
    relapsed_refractory: Regimen,
) -> None:
    plan = _plan(relapsed_refractory, make_adult(), bag_hours=96, cycles=2)

    by_cycle = {
        number: [day for day in plan.days if day.cycle == number and day.bag_changes]
        for number in (1, 2)
    }
    # C1: the 9 -> 28 mcg/day step-up on day 8 forces a new bag; the last bag stops at the
    # end of day 28's infusion. C2: 28 days = 7 bags of 96 h.
    assert [d.cycle_day for d in by_cycle[1]] == [1, 5, 8, 12, 16, 20, 24, 28]
    assert [d.cycle_day for d in by_cycle[2]] == [1, 5, 9, 13, 17, 21, 25]
    assert [bag.hours for bag in plan.bags if bag.cycle == 1] == [
        Decimal(h) for h in (96, 72, 96, 96, 96, 96, 96, 24)
    ]
    assert [bag.dose.value for bag in plan.bags if bag.cycle == 1] == [Decimal(9)] * 2 + [
        Decimal(28)
    ] * 6


def test_plan_course_full_rr_course_ends_after_nine_cycles(relapsed_refractory: Regimen) -> None:
    plan = _plan(relapsed_refractory, make_adult())

    # §1.2: 5 cycles of 42 days and 4 of 84 days.
    assert len(plan.cycles) == 9
    assert plan.first_day == START
    assert plan.last_day == START + (5 * 42 + 4 * 84 - 1) * DAY
    assert plan.infusion_days == 9 * 28
    for cycle in plan.cycles:
        assert cycle.last_infusion_day == cycle.start + 27 * DAY
        assert cycle.infusion_end - cycle.infusion_start == 28 * 24 * HOUR


def test_plan_course_contraception_and_breastfeeding_end_48h_after_last_infusion(
    mrd_positive: Regimen,
) -> None:
    plan = _plan(mrd_positive, make_adult(), cycles=2)
    # Cycle 2 starts on day 43 at 09:00 and infuses 28 x 24 h; §6: 48 h after the last dose.
    last_infusion_end = datetime.combine(START + 42 * DAY + 28 * DAY, START_TIME, tzinfo=UTC)
    until = {p.kind: p.until for p in plan.precautions}

    assert until["contraception"] == last_infusion_end + 48 * HOUR
    assert until["no-breastfeeding"] == last_infusion_end + 48 * HOUR
    assert until["no-driving"] == last_infusion_end
    assert until["live-vaccines"] is None


def test_plan_course_step_up_premedication_names_the_step_up(
    relapsed_refractory: Regimen,
) -> None:
    plan = _plan(relapsed_refractory, make_adult(), cycles=1)

    assert [p.reason for p in plan.premedication] == [
        "before the first dose of cycle 1",
        "before the step-up dose in cycle 1",
    ]


def test_plan_course_mrd_adult_premedication_offers_the_equivalent(mrd_positive: Regimen) -> None:
    plan = _plan(mrd_positive, make_adult(), cycles=1)

    (dose,) = plan.premedication
    assert dose.alternative is not None
    assert "dexamethasone 16 mg" in dose.alternative


def test_plan_course_premedication_due_before_first_day_is_listed_in_days(
    relapsed_refractory: Regimen,
) -> None:
    # A first bag hung at 00:30 makes the adult dexamethasone due at 23:30 the evening
    # before: the day-by-day plan must still show every premedication dose.
    plan = _plan(relapsed_refractory, make_adult(), cycles=1, start_time=time(0, 30))

    listed = [(p.due, p.reason) for day in plan.days for p in day.premedication]
    assert listed == [(p.due, p.reason) for p in plan.premedication]


# --- dose basis --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weight_kg", "basis", "c2_dose"),
    [
        ("45", DoseBasis.FIXED, Decimal(28)),
        ("44.9", DoseBasis.BSA, Decimal("15") * Decimal("1.40")),
    ],
    ids=["45kg-fixed", "44.9kg-per-m2"],
)
def test_plan_course_weight_threshold_45kg_chooses_dose_basis(
    relapsed_refractory: Regimen, weight_kg: str, basis: DoseBasis, c2_dose: Decimal
) -> None:
    # 44.9 kg x 157 cm: sqrt(157 x 44.9 / 3600) = 1.3993 -> 1.40 m2.
    body = make_body(weight_kg=Decimal(weight_kg), height_cm=Decimal(157), age_years=Decimal(16))
    plan = _plan(relapsed_refractory, body, cycles=2)

    assert plan.dose_basis is basis
    assert plan.day(plan.cycles[1].start).dose.value == c2_dose


def test_plan_course_per_m2_dose_above_cap_is_capped() -> None:
    regimen = make_regimen(
        cycles=[make_cycle(1, steps=[make_step(1, 28, fixed=Decimal(10), per_m2=Decimal(50))])]
    )
    plan = _plan(regimen, make_child())

    # 50 x 0.78 = 39 mcg/day, capped at the fixed 10 mcg/day.
    assert {day.dose.value for day in plan.days if day.infusing} == {Decimal(10)}


def test_plan_course_premedication_per_m2_is_capped_at_max_dose() -> None:
    rule = make_premedication(
        age_group=AgeGroup.PEDIATRIC, dose_per_m2=Decimal(10), max_dose=Decimal(5)
    )
    plan = _plan(make_regimen(premedication=[rule]), make_child())

    assert [p.dose.value for p in plan.premedication] == [Decimal(5), Decimal(5)]


def test_plan_course_premedication_per_m2_without_max_is_not_capped() -> None:
    rule = make_premedication(age_group=AgeGroup.PEDIATRIC, dose_per_m2=Decimal(10))
    plan = _plan(make_regimen(premedication=[rule]), make_child())

    assert [p.dose.value for p in plan.premedication] == [Decimal("7.80"), Decimal("7.80")]


# --- cycles, gaps and spans --------------------------------------------------------------


def test_plan_course_later_cycle_start_leaves_untreated_gap_days(mrd_positive: Regimen) -> None:
    later = START + 42 * DAY + 10 * DAY
    plan = _plan(mrd_positive, make_adult(), cycles=3, cycle_starts={2: later})

    gap = [day for day in plan.days if day.cycle is None]
    assert [day.date for day in gap] == [START + (42 + i) * DAY for i in range(10)]
    assert all(
        not d.infusing and d.dose.value == 0 and d.cycle_day is None and d.monitoring == ()
        for d in gap
    )
    assert [c.start for c in plan.cycles] == [START, later, later + 42 * DAY]
    assert plan.day(later).cycle_day == 1


def test_plan_course_cycle_start_on_earliest_date_leaves_no_gap(mrd_positive: Regimen) -> None:
    plan = _plan(mrd_positive, make_adult(), cycles=2, cycle_starts={2: START + 42 * DAY})

    assert all(day.cycle is not None for day in plan.days)


def test_plan_course_inpatient_days_beyond_cycle_length_stop_at_cycle_end() -> None:
    regimen = make_regimen(cycles=[make_cycle(1, infusion_days=5, length_days=7, inpatient_days=9)])
    plan = _plan(regimen, make_adult())

    assert [(d.cycle_day, d.inpatient, d.infusing) for d in plan.days] == [
        (n, True, n <= 5) for n in range(1, 8)
    ]


def test_plan_course_cycle_without_treatment_free_days_is_followed_at_once() -> None:
    regimen = make_regimen(
        cycles=[make_cycle(1, infusion_days=3, length_days=3), make_cycle(2, infusion_days=2)]
    )
    plan = _plan(regimen, make_adult())

    assert [(d.cycle, d.cycle_day) for d in plan.days[:5]] == [
        (1, 1),
        (1, 2),
        (1, 3),
        (2, 1),
        (2, 2),
    ]


def test_plan_course_spans_cover_days_without_overlap(relapsed_refractory: Regimen) -> None:
    plan = _plan(relapsed_refractory, make_adult(), cycles=2)

    assert sum(span.length_days for span in plan.spans) == len(plan.days) == 84
    for before, after in zip(plan.spans, plan.spans[1:], strict=False):
        assert after.first == before.last + DAY


# --- monitoring, warnings, notes ---------------------------------------------------------


def test_plan_course_monitoring_course_start_only_on_first_day(mrd_positive: Regimen) -> None:
    plan = _plan(mrd_positive, make_adult())
    with_pregnancy = [d for d in plan.days if any("Pregnancy" in m for m in d.monitoring)]

    assert [d.date for d in with_pregnancy] == [START]


def test_plan_course_monitoring_supervision_on_cycle_starts_outside_hospital(
    mrd_positive: Regimen,
) -> None:
    plan = _plan(mrd_positive, make_adult())
    supervised = [d.cycle for d in plan.days if any("supervision" in m for m in d.monitoring)]

    # §1.5: every later cycle start needs supervision; C1 and C2 start in hospital (§1.3).
    assert supervised == [3, 4]


def test_plan_course_monitoring_nothing_on_treatment_free_days(mrd_positive: Regimen) -> None:
    plan = _plan(mrd_positive, make_adult(), cycles=1)

    assert all(d.monitoring for d in plan.days if d.infusing)
    assert not any(d.monitoring for d in plan.days if not d.infusing)


@pytest.mark.parametrize(
    ("patient", "bag_hours", "watched"),
    [
        ("child-20kg", 96, True),
        ("child-20kg", 24, False),
        ("adult-70kg", 96, False),
    ],
    ids=["child-preservative-bag", "child-preservative-free-bag", "adult-preservative-bag"],
)
def test_plan_course_acidosis_watched_only_for_children_on_preservative_bags(
    relapsed_refractory: Regimen, patient: str, bag_hours: int, watched: bool
) -> None:
    plan = _plan(relapsed_refractory, PATIENTS[patient](), bag_hours=bag_hours, cycles=1)
    acidosis = [d for d in plan.days if any("Acidosis" in m for m in d.monitoring)]

    assert len(acidosis) == (28 if watched else 0)


@pytest.mark.parametrize(
    ("weight_kg", "warned"),
    [("21.9", True), ("22", False)],
    ids=["21.9kg-warned", "22kg-not-warned"],
)
def test_plan_course_7_day_bag_below_22kg_warns_with_older_source(
    relapsed_refractory: Regimen, weight_kg: str, warned: bool
) -> None:
    body = make_body(weight_kg=Decimal(weight_kg), height_cm=Decimal(120), age_years=Decimal(7))
    plan = _plan(relapsed_refractory, body, bag_hours=168, cycles=1)

    assert plan.bag.hours == 168
    assert [w for w in plan.warnings if "health-canada-2018-7day" in w] == (
        [
            "168-h bag below 22 kg: an older source advises against it "
            "(health-canada-2018-7day); the newer rule allows it "
            "(ashp-2025-preservative-weight)."
        ]
        if warned
        else []
    )


def test_plan_course_notes_are_the_regimen_notes(mrd_positive: Regimen) -> None:
    plan = _plan(mrd_positive, make_adult(), cycles=1)

    assert plan.notes == mrd_positive.notes
    assert any("Intrathecal" in note.text for note in plan.notes)


# --- CoursePlan.day ----------------------------------------------------------------------


def test_course_plan_day_within_plan_returns_that_day(mrd_positive: Regimen) -> None:
    plan = _plan(mrd_positive, make_adult(), cycles=1)

    assert plan.day(START + 41 * DAY).cycle_day == 42


@pytest.mark.parametrize("offset", [-1, 42], ids=["day-before", "day-after"])
def test_course_plan_day_outside_plan_raises_invalid_input(
    mrd_positive: Regimen, offset: int
) -> None:
    plan = _plan(mrd_positive, make_adult(), cycles=1)

    with pytest.raises(InvalidInput) as caught:
        plan.day(START + offset * DAY)
    assert caught.value.field == "date"
    assert str(caught.value).endswith("must be within the plan, 2026-01-05 to 2026-02-15")


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("cycles", [0, 10])
def test_plan_course_rr_cycle_count_outside_1_to_9_raises(
    relapsed_refractory: Regimen, cycles: int
) -> None:
    with pytest.raises(InvalidInput) as caught:
        _plan(relapsed_refractory, make_adult(), cycles=cycles)
    assert caught.value.field == "cycles"
    assert caught.value.value == cycles
    assert ">= 1 and <= 9" in str(caught.value)


def test_plan_course_unknown_bag_hours_raises(relapsed_refractory: Regimen) -> None:
    with pytest.raises(InvalidInput) as caught:
        _plan(relapsed_refractory, make_adult(), bag_hours=12)
    assert caught.value.field == "bag_hours"
    assert str(caught.value) == "bag_hours 12 is not allowed: must be one of 24, 48, 72, 96, 168"


@pytest.mark.parametrize("bag_hours", [72, 96, 168])
def test_plan_course_preservative_bag_for_5kg_raises_naming_5_4kg(
    relapsed_refractory: Regimen, bag_hours: int
) -> None:
    body = make_body(weight_kg=Decimal(5), height_cm=Decimal(60), age_years=Decimal("0.5"))

    with pytest.raises(InvalidInput) as caught:
        _plan(relapsed_refractory, body, bag_hours=bag_hours)
    assert caught.value.field == "bag_hours"
    assert "below 5.4 kg" in str(caught.value)
    assert "one of 24, 48 at 5 kg" in str(caught.value)


def test_plan_course_preservative_bag_at_5_4kg_is_allowed(relapsed_refractory: Regimen) -> None:
    body = make_body(weight_kg=Decimal("5.4"), height_cm=Decimal(60), age_years=Decimal("0.5"))

    assert _plan(relapsed_refractory, body, bag_hours=96, cycles=1).bag.hours == 96


def test_plan_course_missing_height_under_45kg_raises(relapsed_refractory: Regimen) -> None:
    body = make_body(weight_kg=Decimal(30), height_cm=None, age_years=Decimal(30))

    with pytest.raises(InvalidInput) as caught:
        _plan(relapsed_refractory, body)
    assert caught.value.field == "height_cm"
    assert "per m2 of body surface area" in str(caught.value)


def test_plan_course_missing_height_for_child_over_45kg_raises_for_premedication(
    relapsed_refractory: Regimen,
) -> None:
    body = make_body(weight_kg=Decimal(50), height_cm=None, age_years=Decimal(10))

    with pytest.raises(InvalidInput) as caught:
        _plan(relapsed_refractory, body)
    assert caught.value.field == "height_cm"
    assert "premedication is dosed per m2" in str(caught.value)


def test_plan_course_missing_height_for_adult_over_45kg_plans(
    relapsed_refractory: Regimen,
) -> None:
    body = make_body(height_cm=None)

    assert _plan(relapsed_refractory, body, cycles=1).dose_basis is DoseBasis.FIXED


@pytest.mark.parametrize(
    ("cycles", "number"),
    [(None, 1), (2, 3), (None, 10)],
    ids=["cycle-1", "beyond-planned", "beyond-course"],
)
def test_plan_course_cycle_start_outside_later_cycles_raises(
    relapsed_refractory: Regimen, cycles: int | None, number: int
) -> None:
    with pytest.raises(InvalidInput) as caught:
        _plan(relapsed_refractory, make_adult(), cycles=cycles, cycle_starts={number: START})
    assert caught.value.field == "cycle_start"
    assert "(cycle 1 starts on the start date)" in str(caught.value)


def test_plan_course_cycle_start_before_earliest_raises(relapsed_refractory: Regimen) -> None:
    with pytest.raises(InvalidInput) as caught:
        _plan(relapsed_refractory, make_adult(), cycle_starts={2: START + 41 * DAY})
    assert caught.value.field == "cycle_start"
    assert str(caught.value) == (
        "cycle_start 2=2026-02-15 is not allowed: must be on or after 2026-02-16: cycle 1 has "
        "28 infusion days and 14 treatment-free days"
    )


def test_plan_course_restart_only_premedication_is_not_scheduled() -> None:
    # Restart premedication is data for re-planning; a first plan never schedules one.
    rule = make_premedication(triggers=(PremedTrigger.RESTART,), dose=Decimal(20))
    plan = _plan(make_regimen(premedication=[rule]), make_adult())

    assert plan.premedication == ()


@pytest.mark.parametrize(
    ("patient", "group"), [("adult-70kg", "adult"), ("child-20kg", "pediatric")]
)
def test_plan_says_where_the_adult_age_comes_from(
    relapsed_refractory: Regimen, patient: str, group: str
) -> None:
    """The label gives no age of its own for adult rather than pediatric rules."""
    plan = _plan(relapsed_refractory, PATIENTS[patient]())

    note = next(w for w in plan.warnings if w.startswith("Premedication differs"))
    assert f"this patient is taken as {group}" in note
    assert "was NOT RETRIEVED: blina uses 18 years" in note


def test_plan_without_the_age_note_or_one_age_group_says_nothing_of_age(
    relapsed_refractory: Regimen,
) -> None:
    adult = make_adult()
    silent = _plan(relapsed_refractory, replace(adult, age_group_note=None))
    adults_only = replace(
        relapsed_refractory,
        premedication=tuple(
            p for p in relapsed_refractory.premedication if p.age_group is AgeGroup.ADULT
        ),
    )

    assert not any("Premedication differs" in w for w in silent.warnings)
    assert not any("Premedication differs" in w for w in _plan(adults_only, adult).warnings)
