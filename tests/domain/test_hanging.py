"""Hanging a bag at the pump: the bag's status, the plan, its hang window, its beyond-use
time and the pump program, each a hard stop naming the difference.

The course: a relapsed-refractory adult (9 mcg/day days 1-7, then 28 mcg/day), 48-h bags
from 1 March 2027, 09:00 Paris (08:00 UTC). Slot 1 runs 1-3 March, slot 2 (the bag under
test) 3 March 08:00 UTC to 5 March 08:00 UTC at 9 mcg/day.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from blina.domain.body import BodyRules, BodySize, measure_body
from blina.domain.course_plan import CoursePlan
from blina.domain.course_state import BagRecord, BagStatus, CourseState, course_state
from blina.domain.hanging import hang_problems
from blina.domain.modifications import AdverseReaction, ModificationRules
from blina.domain.pharmacy.pump import Infusion
from blina.domain.planning import plan_course
from blina.domain.regimens import Regimen
from blina.domain.replanning.events import Event, Interruption
from blina.domain.replanning.replay import replan
from blina.domain.units import Mcg, McgPerDay, Ml, MlPerHour
from blina.knowledge import Knowledge

PARIS = ZoneInfo("Europe/Paris")
FIRST = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
SLOT_2 = datetime(2027, 3, 3, 8, 0, tzinfo=UTC)
SLOT_2_END = datetime(2027, 3, 5, 8, 0, tzinfo=UTC)
NINE = McgPerDay(Decimal(9))
TWENTY_EIGHT = McgPerDay(Decimal(28))
HOUR = timedelta(hours=1)
EARLY = HOUR
HANG_BY = SLOT_2 + 12 * HOUR
RATE = MlPerHour(Decimal(5))
VOLUME = Ml(Decimal(240))

# A 48-h bag at 9 mcg/day: 240 mL infused at 5 mL/h from a 270-mL bag holding 20.25 mcg
# (20.25 x 5 x 24 / 270 = 9 mcg/day).
TWO_DAY_BAG = Infusion(
    hours=48,
    rate=RATE,
    infuse=VOLUME,
    drug=Mcg(Decimal("20.25")),
    total=Ml(Decimal(270)),
    rate_source="label-2.4-48h",
)
# A 7-day bag at 9 mcg/day: 100.8 mL infused at 0.6 mL/h from a 110-mL bag holding
# 68.75 mcg (68.75 x 0.6 x 24 / 110 = 9 mcg/day).
SEVEN_DAY_BAG = Infusion(
    hours=168,
    rate=MlPerHour(Decimal("0.6")),
    infuse=Ml(Decimal("100.8")),
    drug=Mcg(Decimal("68.75")),
    total=Ml(Decimal(110)),
    rate_source="label-2.4-7day",
)


@pytest.fixture(scope="module")
def adult(body_rules: BodyRules) -> BodySize:
    return measure_body(
        weight_kg=Decimal(70), height_cm=Decimal(175), age_years=Decimal(40), rules=body_rules
    )


def _plan(regimen: Regimen, body: BodySize, bag_hours: int) -> CoursePlan:
    return plan_course(
        regimen=regimen,
        body=body,
        start=date(2027, 3, 1),
        bag_hours=bag_hours,
        zone=PARIS,
        cycles=1,
    )


@pytest.fixture(scope="module")
def plan(relapsed_refractory: Regimen, adult: BodySize) -> CoursePlan:
    return _plan(relapsed_refractory, adult, 48)


@pytest.fixture(scope="module")
def rules(knowledge: Knowledge) -> ModificationRules:
    return knowledge.toxicity.modifications


def _bag(
    bag_id: int,
    status: BagStatus,
    slot_start: datetime = SLOT_2,
    dose: McgPerDay = NINE,
    hung_at: datetime | None = None,
) -> BagRecord:
    return BagRecord(bag_id, f"B{bag_id}", slot_start, dose, status, hung_at)


def _state(
    plan: CoursePlan,
    now: datetime,
    bags: Sequence[BagRecord],
    events: Sequence[Event] = (),
    rules: ModificationRules | None = None,
) -> CourseState:
    replanned = None
    if events:
        assert rules is not None
        replanned = replan(plan, events, rules=rules, now=now)
    return course_state(
        plan=plan if replanned is None else replanned.plan,
        replanned=replanned,
        events=events,
        bags=bags,
        recorded_status="active",
        now=now,
        verify_lead=2 * HOUR,
    )


def _problems(
    state: CourseState,
    bag: BagRecord,
    *,
    infusion: Infusion = TWO_DAY_BAG,
    rate: MlPerHour = RATE,
    volume: Ml = VOLUME,
    hang_by: datetime | None = HANG_BY,
) -> tuple[str, ...]:
    return hang_problems(
        state=state,
        bag=bag,
        infusion=infusion,
        rate=rate,
        volume=volume,
        hang_by=hang_by,
        early=EARLY,
    )


def _running() -> BagRecord:
    """Slot 1's bag, on the pump since the first infusion."""
    return _bag(1, BagStatus.HUNG, FIRST, hung_at=FIRST)


# --- may be hung ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [BagStatus.VERIFIED, BagStatus.DISPENSED])
@pytest.mark.parametrize(
    "now",
    [SLOT_2 - EARLY, SLOT_2 - 30 * timedelta(minutes=1), SLOT_2, SLOT_2 + 3 * HOUR, HANG_BY],
    ids=["window-opens", "half-an-hour-early", "on-time", "3h-late", "at-hang-by"],
)
def test_a_verified_bag_in_its_window_with_its_program_may_be_hung(
    plan: CoursePlan, status: BagStatus, now: datetime
) -> None:
    bag = _bag(2, status)

    assert _problems(_state(plan, now, [_running(), bag]), bag) == ()


# --- the bag -------------------------------------------------------------------------------


def test_a_prepared_bag_is_not_hung_before_verification(plan: CoursePlan) -> None:
    bag = _bag(2, BagStatus.PREPARED)

    problems = _problems(_state(plan, SLOT_2 - HOUR / 2, [_running(), bag]), bag)

    assert problems == ("bag B2 is prepared: only a verified bag is hung",)


@pytest.mark.parametrize(
    "status", [BagStatus.HUNG, BagStatus.REMOVED, BagStatus.DISCARDED, BagStatus.VOIDED]
)
def test_a_bag_already_hung_or_gone_cannot_be_hung(plan: CoursePlan, status: BagStatus) -> None:
    bag = _bag(2, status, hung_at=SLOT_2 - HOUR / 2)

    problems = _problems(_state(plan, SLOT_2 - HOUR / 4, [_running(), bag]), bag)

    assert problems == (f"bag B2 is {status.value}: it cannot be hung",)


def test_a_bag_at_another_dose_than_its_slot_is_not_hung(plan: CoursePlan) -> None:
    """Slot 5 (8 March 08:00 UTC) is the first 28-mcg/day bag; this one holds 9."""
    slot_5 = datetime(2027, 3, 8, 8, 0, tzinfo=UTC)
    bag = _bag(5, BagStatus.VERIFIED, slot_5, NINE)

    problems = _problems(_state(plan, slot_5 - HOUR / 2, [bag]), bag, hang_by=slot_5 + HOUR)

    assert problems == (
        "do not hang bag B5: the current plan's bag at this time is 28 mcg/day, not 9 mcg/day",
    )


def test_a_second_bag_for_a_filled_slot_is_not_hung(plan: CoursePlan) -> None:
    first, second = _bag(2, BagStatus.VERIFIED), _bag(3, BagStatus.VERIFIED)
    state = _state(plan, SLOT_2 - HOUR / 2, [_running(), first, second])

    assert _problems(state, first) == ()
    assert _problems(state, second) == ("do not hang bag B3: another bag already fills this slot",)


def test_no_bag_is_hung_while_the_infusion_is_interrupted(
    plan: CoursePlan, rules: ModificationRules
) -> None:
    at = SLOT_2 - 3 * HOUR
    bag = _bag(2, BagStatus.DISPENSED)
    state = _state(
        plan, SLOT_2, [_running(), bag], [Interruption(at, AdverseReaction.CRS, 3)], rules
    )

    assert _problems(state, bag) == (
        "do not hang bag B2: the infusion is interrupted: no restart is recorded",
    )


# --- the hang window and the beyond-use time ---------------------------------------------------


def test_a_bag_is_not_hung_before_its_window_opens(plan: CoursePlan) -> None:
    bag = _bag(2, BagStatus.VERIFIED)

    problems = _problems(_state(plan, SLOT_2 - EARLY - HOUR, [_running(), bag]), bag)

    assert problems == (
        "bag B2 is for 2027-03-03T08:00:00+00:00: it may be hung from 2027-03-03T07:00:00+00:00",
    )


def test_a_bag_is_not_hung_after_its_slot_ended(plan: CoursePlan) -> None:
    bag = _bag(2, BagStatus.VERIFIED)

    problems = _problems(
        _state(plan, SLOT_2_END, [_running(), bag]), bag, hang_by=SLOT_2_END + HOUR
    )

    assert problems == ("bag B2's time in the plan ended at 2027-03-05T08:00:00+00:00",)


def test_a_bag_without_a_beyond_use_time_is_not_hung(plan: CoursePlan) -> None:
    bag = _bag(2, BagStatus.VERIFIED)

    problems = _problems(_state(plan, SLOT_2, [_running(), bag]), bag, hang_by=None)

    assert problems == ("bag B2 has no beyond-use time in its recipe: do not hang it",)


def test_an_expired_bag_is_not_hung(plan: CoursePlan) -> None:
    bag = _bag(2, BagStatus.VERIFIED)

    problems = _problems(_state(plan, HANG_BY + timedelta(minutes=1), [_running(), bag]), bag)

    assert problems == ("bag B2 expired: it had to be hung by 2027-03-03T20:00:00+00:00",)


# --- the pump program ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "volume"),
    [(Decimal(0), Decimal(240)), (Decimal(5), Decimal(0)), (Decimal(0), Decimal(0))],
    ids=["no-rate", "no-volume", "neither"],
)
def test_a_pump_program_needs_a_rate_and_a_volume(
    plan: CoursePlan, rate: Decimal, volume: Decimal
) -> None:
    bag = _bag(2, BagStatus.VERIFIED)

    problems = _problems(
        _state(plan, SLOT_2, [_running(), bag]), bag, rate=MlPerHour(rate), volume=Ml(volume)
    )

    assert problems == ("the pump's rate and volume to be infused must both be > 0",)


def test_a_7_day_bag_run_at_ten_times_its_rate_names_the_overdose(
    relapsed_refractory: Regimen, adult: BodySize
) -> None:
    weekly = _plan(relapsed_refractory, adult, 168)
    bag = _bag(1, BagStatus.DISPENSED, FIRST, NINE)
    state = _state(weekly, FIRST - HOUR / 2, [bag])

    problems = _problems(
        state,
        bag,
        infusion=SEVEN_DAY_BAG,
        rate=MlPerHour(Decimal(6)),
        volume=Ml(Decimal("100.8")),
        hang_by=FIRST + HOUR,
    )

    assert problems == (
        "6 mL/h is not the 168-h bag's 0.6 mL/h: an overdose of 10.00 times the prescribed "
        "dose (90.000 instead of 9.000 mcg/day)",
    )


def test_a_pump_run_slower_than_the_bag_names_the_underdose(plan: CoursePlan) -> None:
    bag = _bag(2, BagStatus.VERIFIED)

    problems = _problems(
        _state(plan, SLOT_2, [_running(), bag]), bag, rate=MlPerHour(Decimal("2.5"))
    )

    assert problems == (
        "2.5 mL/h is not the 48-h bag's 5 mL/h: an underdose of 0.50 times the prescribed "
        "dose (4.500 instead of 9.000 mcg/day)",
    )


@pytest.mark.parametrize(
    ("volume", "expected"),
    [
        (
            Decimal(250),
            "volume to be infused 250 mL is more than the 240 mL this bag infuses: the pump "
            "would run past 48 h into the priming overfill",
        ),
        (
            Decimal(200),
            "volume to be infused 200 mL is less than the 240 mL this bag infuses: the "
            "infusion would stop before 48 h",
        ),
    ],
    ids=["more", "less"],
)
def test_a_volume_other_than_the_bags_is_a_stop(
    plan: CoursePlan, volume: Decimal, expected: str
) -> None:
    bag = _bag(2, BagStatus.VERIFIED)

    problems = _problems(_state(plan, SLOT_2, [_running(), bag]), bag, volume=Ml(volume))

    assert problems == (expected,)


def test_every_problem_is_named_in_order(plan: CoursePlan) -> None:
    bag = _bag(2, BagStatus.PREPARED)
    now = SLOT_2 - 3 * HOUR

    problems = _problems(
        _state(plan, now, [_running(), bag]),
        bag,
        rate=MlPerHour(Decimal(50)),
        volume=Ml(Decimal(250)),
        hang_by=now - HOUR,
    )

    assert problems == (
        "bag B2 is prepared: only a verified bag is hung",
        "bag B2 is for 2027-03-03T08:00:00+00:00: it may be hung from 2027-03-03T07:00:00+00:00",
        "bag B2 expired: it had to be hung by 2027-03-03T04:00:00+00:00",
        "50 mL/h is not the 48-h bag's 5 mL/h: an overdose of 10.00 times the prescribed "
        "dose (90.000 instead of 9.000 mcg/day)",
        "volume to be infused 250 mL is more than the 240 mL this bag infuses: the pump would "
        "run past 48 h into the priming overfill",
    )
