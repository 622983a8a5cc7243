"""The re-plan counts the time bags ran: a bag hung after its time moves the rest of its
cycle (keeping each bag's key), 4 hours or more gets the label's restart care, and
hangs that say nothing of a pause (on time, early, another dose, mid-bag) change nothing."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.factories import make_adult, make_cycle, make_premedication, make_regimen, make_step

from blina.domain.course_plan import Bag, CoursePlan
from blina.domain.course_state import BagRecord, BagStatus, CoursePhase, course_state
from blina.domain.errors import InvalidInput
from blina.domain.modifications import AdverseReaction, ModificationRules
from blina.domain.planning import plan_course
from blina.domain.regimens import PremedTrigger
from blina.domain.replanning.decisions import DecisionKind, DecisionLevel, Replan
from blina.domain.replanning.events import Event, Hang, Interruption, Restart
from blina.domain.replanning.replay import replan
from blina.domain.units import McgPerDay
from blina.knowledge import Knowledge

START = date(2027, 3, 1)
FIRST = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LATER = datetime(2030, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
NINE, TWENTY_EIGHT = McgPerDay(Decimal(9)), McgPerDay(Decimal(28))
RESTART_PREMEDICATION = make_premedication(triggers=[PremedTrigger.RESTART], dose=Decimal(20))
REGIMEN = make_regimen(
    cycles=[
        make_cycle(1, steps=[make_step(1, 7, fixed=Decimal(9)), make_step(8, 28)]),
        make_cycle(2),
    ],
    premedication=[RESTART_PREMEDICATION],
)


@pytest.fixture(scope="module")
def rules(knowledge: Knowledge) -> ModificationRules:
    return knowledge.toxicity.modifications


def _plan(bag_hours: int = 24) -> CoursePlan:
    return plan_course(
        regimen=REGIMEN,
        body=make_adult(),
        start=START,
        bag_hours=bag_hours,
        zone=ZoneInfo("UTC"),
        cycles=2,
    )


def _replan(
    plan: CoursePlan,
    rules: ModificationRules,
    hangs: list[Hang],
    events: list[Event] | None = None,
    now: datetime = LATER,
) -> Replan:
    return replan(plan, events or [], rules=rules, now=now, hangs=hangs)


def _cycle_hours(plan: CoursePlan, cycle: int) -> timedelta:
    return sum((b.end - b.start for b in plan.bags if b.cycle == cycle), timedelta(0))


def test_a_bag_hung_late_moves_the_rest_of_its_cycle_and_keeps_every_key(
    rules: ModificationRules,
) -> None:
    plan = _plan()
    third = plan.bags[2]
    late = _replan(plan, rules, [Hang(third.start, NINE, third.start + 3 * HOUR)])

    before, after = plan.bags, late.plan.bags
    assert [b.key for b in after[:28]] == [b.start for b in before[:28]], "each keeps its key"
    assert after[:2] == before[:2], "the bags before the late one do not move"
    assert [b.start for b in after[2:28]] == [b.start + 3 * HOUR for b in before[2:28]]
    # the cycle gives its 28 days in all: it ends 3 h later; the step-up moves too
    assert _cycle_hours(late.plan, 1) == 28 * DAY
    assert late.plan.cycles[0].infusion_end == plan.cycles[0].infusion_end + 3 * HOUR
    assert late.plan.step_ups[0] == plan.step_ups[0] + 3 * HOUR
    # the infusion now ends on day 29 (12:00): the treatment-free days count from there,
    # so cycle 2 starts a day later, laid out afresh from its own start
    assert after[28].start == before[28].start + DAY
    assert [b.shift for b in after if b.cycle == 2] == [timedelta(0)] * 28
    [decision] = [d for d in late.decisions if d.action is DecisionKind.CONTINUE_CYCLE]
    assert decision.at == third.start
    assert "No bag ran for 3 h from 2027-03-03T09:00:00+00:00" in decision.reasons[0]
    assert "2 days given, 26 days to go" in decision.reasons[0]
    assert decision.source == rules.interruptions.same_cycle_source
    assert not late.plan.premedication, "under 4 hours: no restart care"


def test_late_hangs_add_up_and_each_counts_from_where_the_last_moved_it(
    rules: ModificationRules,
) -> None:
    plan = _plan()
    second, fifth = plan.bags[1], plan.bags[4]
    hangs = [
        Hang(second.start, NINE, second.start + 2 * HOUR),
        # due 2 h late already: hung 5 h after its first time is 3 h more
        Hang(fifth.start, NINE, fifth.start + 5 * HOUR),
    ]
    late = _replan(plan, rules, hangs)

    assert late.plan.bags[4].start == fifth.start + 5 * HOUR
    assert late.plan.bags[4].key == fifth.start
    assert late.plan.bags[3].start == plan.bags[3].start + 2 * HOUR
    assert _cycle_hours(late.plan, 1) == 28 * DAY
    delays = [d.reasons[0].split(" from ")[0] for d in late.decisions]
    assert delays == ["No bag ran for 2 h", "No bag ran for 3 h"]


def test_four_hours_without_a_bag_gets_the_label_s_restart_care(
    rules: ModificationRules,
) -> None:
    plan = _plan()
    third = plan.bags[2]
    hung = third.start + rules.interruptions.restart_care_min_hours * HOUR
    late = _replan(plan, rules, [Hang(third.start, NINE, hung)])

    [dose] = late.plan.premedication
    assert dose.drug == RESTART_PREMEDICATION.drug
    assert dose.due == hung - timedelta(minutes=RESTART_PREMEDICATION.minutes_before)
    kinds = [d.action for d in late.decisions]
    assert kinds == [DecisionKind.CONTINUE_CYCLE, DecisionKind.PREMEDICATE, DecisionKind.SUPERVISE]
    assert late.decisions[2].source == rules.interruptions.restart_care_source


@pytest.mark.parametrize(
    "hang",
    [
        pytest.param(lambda b: Hang(b.start, NINE, b.start), id="on-time"),
        pytest.param(lambda b: Hang(b.start, NINE, b.start - HOUR), id="early"),
        pytest.param(lambda b: Hang(b.start, NINE, b.start + timedelta(seconds=59)), id="seconds"),
        pytest.param(lambda b: Hang(b.start, TWENTY_EIGHT, b.start + 3 * HOUR), id="other-dose"),
        pytest.param(lambda b: Hang(b.start + 6 * HOUR, NINE, b.start + 9 * HOUR), id="mid-bag"),
        pytest.param(lambda b: Hang(b.start - DAY * 400, NINE, b.start), id="before-the-course"),
    ],
)
def test_a_hang_that_says_nothing_of_a_pause_changes_nothing(
    rules: ModificationRules, hang: Callable[[Bag], Hang]
) -> None:
    plan = _plan()
    result = _replan(plan, rules, [hang(plan.bags[2])])
    assert result.plan.bags == plan.bags
    assert result.decisions == ()


def test_more_than_the_same_cycle_limit_without_a_bag_moves_nothing_and_asks_for_the_log(
    rules: ModificationRules,
) -> None:
    plan = _plan()
    third = plan.bags[2]
    limit = rules.interruptions.same_cycle_max_days * DAY
    result = _replan(plan, rules, [Hang(third.start, NINE, third.start + limit + HOUR)])

    assert result.plan.bags == plan.bags
    [decision] = result.decisions
    assert decision.level is DecisionLevel.SOFT
    assert "record the interruption and the restart" in decision.reasons[0]


def test_an_interruption_recorded_while_no_bag_ran_ends_the_pause_there(
    rules: ModificationRules,
) -> None:
    plan = _plan()
    third = plan.bags[2]
    stop = third.start + 2 * HOUR
    events: list[Event] = [
        Interruption(stop, AdverseReaction.CRS, 1),
        Restart(stop + 3 * HOUR),
    ]
    # the bag went up only after the restart: the restart's own bag, keyed at the restart
    hangs = [Hang(third.start, NINE, stop + HOUR), Hang(stop + 3 * HOUR, NINE, stop + 3 * HOUR)]
    result = _replan(plan, rules, hangs, events)

    [paused] = [d for d in result.decisions if "No bag ran" in d.reasons[0]]
    assert "No bag ran for 2 h from 2027-03-03T09:00:00+00:00" in paused.reasons[0]
    restart_bag = next(b for b in result.plan.bags if b.start >= stop)
    assert restart_bag.start == stop + 3 * HOUR
    assert restart_bag.shift == timedelta(0), "a restart lays its bags out afresh"
    # 2 days given before the pause, then the rest after the restart: 28 days in all
    assert _cycle_hours(result.plan, 1) == 28 * DAY


def test_the_first_bag_hung_late_starts_the_infusion_then(rules: ModificationRules) -> None:
    plan = _plan()
    result = _replan(plan, rules, [Hang(FIRST, NINE, FIRST + 2 * HOUR)])
    assert result.plan.bags[0].start == FIRST + 2 * HOUR
    assert result.plan.bags[0].key == FIRST


def test_a_bag_hung_late_within_a_96_hour_layout_counts_only_at_a_bag_change(
    rules: ModificationRules,
) -> None:
    plan = _plan(bag_hours=96)
    second = plan.bags[1]
    result = _replan(
        plan,
        rules,
        [
            Hang(second.start + DAY, NINE, second.start + DAY + HOUR),  # mid-bag: nothing
            Hang(second.start, NINE, second.start + HOUR),
        ],
    )
    assert result.plan.bags[1].start == second.start + HOUR
    assert len([d for d in result.decisions if "No bag ran" in d.reasons[0]]) == 1


def test_a_hang_with_a_naive_time_is_refused_naming_it(rules: ModificationRules) -> None:
    plan = _plan()
    naive = datetime(2027, 3, 2, 9, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(InvalidInput, match=r"hangs\[0\]\.at"):
        _replan(plan, rules, [Hang(FIRST, NINE, naive)])
    with pytest.raises(InvalidInput, match=r"hangs\[0\]\.slot"):
        _replan(plan, rules, [Hang(naive, NINE, FIRST)])


def test_the_course_state_keeps_a_bag_made_before_the_late_hang_on_its_moved_slot(
    rules: ModificationRules,
) -> None:
    plan = _plan()
    first, second = plan.bags[0], plan.bags[1]
    hung_at = first.start + 3 * HOUR
    bags = [
        BagRecord(1, "AAAAAAAA", first.start, NINE, BagStatus.HUNG, hung_at),
        BagRecord(2, "BBBBBBBB", second.start, NINE, BagStatus.VERIFIED),
    ]
    now = second.start + HOUR  # the old time of bag 2: bag 1 still runs, 2 h to go
    replanned = _replan(plan, rules, [Hang(first.start, NINE, hung_at)], now=now)
    state = course_state(
        plan=replanned.plan,
        replanned=replanned,
        events=[],
        bags=bags,
        recorded_status="active",
        now=now,
        verify_lead=2 * HOUR,
    )
    assert state.phase is CoursePhase.INFUSING
    assert state.do_not_hang == ()
    slot = state.slot_of(bags[1])
    assert slot is not None
    assert slot.slot.start == second.start + 3 * HOUR
    assert slot.bag == bags[1]
    assert state.slot_at(second.start) is None, "nothing starts at the old time any more"
    assert state.to_remove is None, "the running bag is still the plan's"
    # what the plan infused so far is what the bag did
    assert state.planned == state.delivered
    other_dose = BagRecord(3, "CCCCCCCC", second.start, TWENTY_EIGHT, BagStatus.VERIFIED)
    assert state.slot_of(other_dose) is None, "a slot is its key and its dose"


@settings(max_examples=60, deadline=None)
@given(
    lates=st.lists(st.tuples(st.integers(0, 27), st.integers(0, 6 * 60)), min_size=1, max_size=6),
)
def test_every_cycle_infuses_its_labelled_time_and_keeps_its_keys_whatever_the_late_hangs(
    knowledge: Knowledge, lates: list[tuple[int, int]]
) -> None:
    rules = knowledge.toxicity.modifications
    plan = _plan()
    keys = {b.key: b for b in plan.bags}
    hangs: list[Hang] = []
    moved = timedelta(0)
    for index, minutes in sorted(dict(lates).items()):
        bag = plan.bags[index]
        moved += timedelta(minutes=minutes)
        hangs.append(Hang(bag.key, bag.dose, bag.key + moved))
    result = _replan(plan, rules, hangs)

    assert _cycle_hours(result.plan, 1) == 28 * DAY
    assert _cycle_hours(result.plan, 2) == 28 * DAY
    assert {b.key for b in result.plan.bags if b.cycle == 1} == {
        k for k, b in keys.items() if b.cycle == 1
    }
    for bag in result.plan.bags:
        if bag.cycle == 1:
            assert keys[bag.key].dose == bag.dose
    assert result.plan.bags[27].end - plan.bags[27].end == moved


def test_a_late_hang_in_a_later_cycle_moves_that_cycle_only(rules: ModificationRules) -> None:
    plan = _plan()
    bag = plan.bags[30]  # cycle 2's third bag
    result = _replan(plan, rules, [Hang(bag.start, bag.dose, bag.start + 2 * HOUR)])
    assert result.plan.bags[:30] == plan.bags[:30]
    assert result.plan.bags[30].start == bag.start + 2 * HOUR
    assert result.plan.bags[30].key == bag.start
    assert _cycle_hours(result.plan, 2) == 28 * DAY
