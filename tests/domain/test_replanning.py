"""Re-planning scenarios: short and long interruptions, discontinuation, reduced restarts
with their step-up, premedication and supervision after 4 hours, and bad event logs."""

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from tests.factories import (
    make_adult,
    make_child,
    make_cycle,
    make_premedication,
    make_regimen,
    make_step,
)

from blina.domain.body import AgeGroup, BodySize
from blina.domain.course_plan import CoursePlan
from blina.domain.errors import InvalidInput
from blina.domain.modifications import (
    ActionKind,
    AdverseReaction,
    DoseRule,
    ModificationRow,
    ModificationRules,
    Rule,
    WeightBand,
)
from blina.domain.planning import plan_course
from blina.domain.regimens import PremedTrigger, Regimen
from blina.domain.replanning.decisions import (
    CourseStatus,
    Decision,
    DecisionKind,
    DecisionLevel,
    Replan,
)
from blina.domain.replanning.events import Discontinuation, Event, Interruption, Restart
from blina.domain.replanning.replay import replan
from blina.domain.units import McgPerDay
from blina.knowledge import Knowledge

AR = AdverseReaction
START = date(2027, 3, 1)
FIRST = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LATER = datetime(2030, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def rules(knowledge: Knowledge) -> ModificationRules:
    return knowledge.toxicity.modifications


def _plan(
    regimen: Regimen, body: BodySize | None = None, cycles: int = 2, **kw: object
) -> CoursePlan:
    return plan_course(
        regimen=regimen,
        body=body or make_adult(),
        start=START,
        bag_hours=24,
        zone=kw.pop("zone", ZoneInfo("UTC")),  # type: ignore[arg-type]
        cycles=cycles,
        **kw,  # type: ignore[arg-type]
    )


def _at(days: float, hours: float = 0) -> datetime:
    return FIRST + timedelta(days=days, hours=hours)


def _replan(
    plan: CoursePlan, events: Sequence[Event], rules: ModificationRules, now: datetime = LATER
) -> Replan:
    return replan(plan, events, rules=rules, now=now)


def _kinds(result: Replan) -> list[str]:
    return [str(d.action) for d in result.decisions]


def _decision(result: Replan, kind: DecisionKind) -> Decision:
    return next(d for d in result.decisions if d.action is kind)


def _infused(result: Replan, cycle: int) -> timedelta:
    return sum((b.end - b.start for b in result.plan.bags if b.cycle == cycle), timedelta(0))


def _mcg(value: str) -> McgPerDay:
    return McgPerDay(Decimal(value))


# --- no events -----------------------------------------------------------------------------


def test_replan_no_events_reproduces_the_plan(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    plan = _plan(relapsed_refractory, cycles=9, zone=ZoneInfo("Europe/Paris"))

    result = _replan(plan, [], rules)

    assert result.plan.days == plan.days
    assert result.plan.bags == plan.bags
    assert result.plan.premedication == plan.premedication
    assert result.plan.cycles == plan.cycles
    assert result.decisions == ()
    assert result.status is CourseStatus.COMPLETED


@pytest.mark.parametrize(
    ("now", "status"),
    [
        (_at(10), CourseStatus.ACTIVE),
        (_at(60), CourseStatus.ACTIVE),
        (_at(42 + 28), CourseStatus.COMPLETED),
    ],
    ids=["during-cycle-1", "during-cycle-2", "at-the-last-infusion-end"],
)
def test_replan_status_follows_now(
    mrd_positive: Regimen, rules: ModificationRules, now: datetime, status: CourseStatus
) -> None:
    assert _replan(_plan(mrd_positive), [], rules, now).status is status


# --- a short interruption within a cycle ---------------------------------------------------


def test_replan_short_interruption_continues_cycle_to_28_infusion_days(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    plan = _plan(mrd_positive)
    events = [Interruption(_at(10), AR.INFECTION, 2), Restart(_at(12, 6))]

    result = _replan(plan, events, rules)

    assert _infused(result, 1) == 28 * DAY
    cycle = result.plan.cycles[0]
    assert cycle.infusion_end == plan.cycles[0].infusion_end + timedelta(days=2, hours=6)
    assert cycle.end == plan.cycles[0].end + 3 * DAY
    assert result.plan.cycles[1].start == plan.cycles[1].start + 3 * DAY
    # The infusion was stopped: the log says "interrupt" first, and why no rule applies.
    assert _kinds(result) == ["interrupt", "continue-cycle", "restart", "premedicate", "supervise"]
    stopped = _decision(result, DecisionKind.INTERRUPT).reasons
    assert stopped[0].startswith("The infusion was stopped as recorded")
    assert "no row below grade 3" in stopped[-1]
    paused = [d for d in result.plan.days if d.cycle == 1 and not d.infusing]
    assert [d.date for d in paused[:2]] == [date(2027, 3, 11), date(2027, 3, 12)]
    assert (
        "2 days 6 h (at most 7 days)" in _decision(result, DecisionKind.CONTINUE_CYCLE).reasons[0]
    )


def test_replan_short_interruption_exactly_7_days_stays_in_cycle(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    result = _replan(
        _plan(mrd_positive), [Interruption(_at(5), AR.OTHER, 2), Restart(_at(12))], rules
    )

    assert [c.number for c in result.plan.cycles] == [1, 2]
    assert _infused(result, 1) == 28 * DAY


# --- longer than 7 days: a new cycle -------------------------------------------------------


def test_replan_interruption_over_7_days_starts_the_next_cycle(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    plan = _plan(mrd_positive, cycles=3)
    restart = _at(5 + 7, 1)
    events = [Interruption(_at(5), AR.INFECTION, 2), Restart(restart)]

    result = _replan(plan, events, rules)

    first, second, third = result.plan.cycles
    assert _infused(result, 1) == 5 * DAY
    assert first.end == date(2027, 3, 12)
    assert (second.number, second.start, second.infusion_start) == (2, date(2027, 3, 13), restart)
    assert _infused(result, 2) == 28 * DAY
    assert third.start == second.end + DAY
    new_cycle = _decision(result, DecisionKind.NEW_CYCLE)
    assert "7 days 1 h (more than 7 days)" in new_cycle.reasons[0]
    assert new_cycle.source == "label-1.5-interruption-length"
    assert [s.cycle for s in result.plan.spans if s.first <= date(2027, 3, 14)][-1] == 2


def test_replan_new_cycle_premedication_given_once(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    restart = _at(18)
    result = _replan(
        _plan(relapsed_refractory), [Interruption(_at(3), AR.OTHER, 2), Restart(restart)], rules
    )

    at_restart = [p for p in result.plan.premedication if p.before == restart]
    assert len(at_restart) == 1
    assert "a new cycle after an interruption of 15 days" in at_restart[0].reason


def test_replan_over_7_days_in_the_last_cycle_ends_the_course(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    events = [
        Interruption(_at(3), AR.INFECTION, 2),
        Restart(_at(12)),
        Interruption(_at(13), AR.OTHER, 2),
    ]

    result = _replan(_plan(mrd_positive, cycles=1), events, rules)

    assert result.status is CourseStatus.COMPLETED
    end = _decision(result, DecisionKind.END_COURSE)
    assert end.level is DecisionLevel.SOFT
    assert _decision(result, DecisionKind.REFUSE).level is DecisionLevel.HARD
    assert result.plan.bags[-1].end == _at(3)


# --- discontinuation -----------------------------------------------------------------------


def test_replan_crs_grade_4_discontinues_and_refuses_a_later_restart(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    events = [Interruption(_at(2, 5), AR.CRS, 4), Restart(_at(6))]

    result = _replan(_plan(relapsed_refractory), events, rules)

    assert result.status is CourseStatus.DISCONTINUED
    assert result.discontinued_at == _at(2, 5)
    assert max(b.end for b in result.plan.bags) == _at(2, 5)
    stop = _decision(result, DecisionKind.DISCONTINUE)
    assert stop.source == "label-5.1-crs"
    assert any("dexamethasone 8 mg" in r for r in stop.reasons)
    refuse = _decision(result, DecisionKind.REFUSE)
    assert refuse.level is DecisionLevel.HARD
    assert result.plan.last_day == date(2027, 3, 3)
    assert [c.number for c in result.plan.cycles] == [1]


def test_replan_other_grade_3_taking_over_14_days_discontinues(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    events = [Interruption(_at(4), AR.OTHER, 3), Restart(_at(4 + 18), resolved_at=_at(4 + 15))]

    result = _replan(_plan(mrd_positive), events, rules)

    assert result.status is CourseStatus.DISCONTINUED
    assert result.discontinued_at == _at(4 + 14)
    stop = _decision(result, DecisionKind.DISCONTINUE)
    assert stop.level is DecisionLevel.SOFT
    assert "15 days to resolve, more than the 14 days" in stop.reasons[0]
    assert any("older label" in r for r in stop.reasons)
    assert _infused(result, 1) == 4 * DAY
    assert result.plan.last_day == date(2027, 3, 19)


def test_replan_resolution_without_time_is_taken_as_restart_minus_recovery(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    within = _replan(
        _plan(mrd_positive), [Interruption(_at(4), AR.OTHER, 3), Restart(_at(4 + 17))], rules
    )
    beyond = _replan(
        _plan(mrd_positive), [Interruption(_at(4), AR.OTHER, 3), Restart(_at(4 + 17, 1))], rules
    )

    assert within.status is CourseStatus.COMPLETED
    assert beyond.status is CourseStatus.DISCONTINUED
    assert any(
        "No resolution time was logged" in r
        for r in _decision(beyond, DecisionKind.DISCONTINUE).reasons
    )


def test_replan_open_interruption_past_its_limit_discontinues(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    plan = _plan(mrd_positive)
    events = [Interruption(_at(4), AR.OTHER, 3)]

    waiting = _replan(plan, events, rules, now=_at(4 + 14))
    too_long = _replan(plan, events, rules, now=_at(4 + 14, 1))

    assert waiting.status is CourseStatus.ACTIVE
    assert waiting.plan.last_day == date(2027, 3, 5)
    assert too_long.status is CourseStatus.DISCONTINUED
    assert too_long.discontinued_at == _at(4 + 14)


def test_replan_open_interruption_without_limit_stays_active(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    result = _replan(_plan(mrd_positive), [Interruption(_at(4), AR.CRS, 3)], rules)

    assert result.status is CourseStatus.ACTIVE
    assert "Restart when CRS has resolved." in _decision(result, DecisionKind.INTERRUPT).reasons


def test_replan_second_seizure_discontinues(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    events = [
        Interruption(_at(3), AR.SEIZURE, 3),
        Restart(_at(7)),
        Interruption(_at(9), AR.SEIZURE, 3),
    ]

    result = _replan(_plan(relapsed_refractory), events, rules)

    assert result.status is CourseStatus.DISCONTINUED
    assert _decision(result, DecisionKind.DISCONTINUE).source == "label-5.1-neuro"


def test_replan_explicit_discontinuation_stops_infusion(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    result = _replan(_plan(mrd_positive), [Discontinuation(_at(6, 3), "relapse")], rules)

    assert result.status is CourseStatus.DISCONTINUED
    assert max(b.end for b in result.plan.bags) == _at(6, 3)
    assert _decision(result, DecisionKind.DISCONTINUE).reasons == (
        "Discontinued by the event log: relapse.",
    )
    assert result.plan.precautions[0].until == _at(6, 3) + 48 * HOUR


def test_replan_discontinuation_while_interrupted(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    events = [Interruption(_at(6), AR.CRS, 3), Discontinuation(_at(9))]

    result = _replan(_plan(mrd_positive), events, rules)

    assert result.discontinued_at == _at(9)
    assert result.plan.last_day == date(2027, 3, 10)


def test_replan_discontinuation_between_cycles_cuts_the_interval(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    result = _replan(_plan(mrd_positive), [Discontinuation(_at(31))], rules)

    assert [c.number for c in result.plan.cycles] == [1]
    assert result.plan.last_day == date(2027, 4, 1)
    assert _infused(result, 1) == 28 * DAY


def test_replan_discontinuation_after_the_course_keeps_its_end(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    result = _replan(_plan(mrd_positive, cycles=1), [Discontinuation(_at(80))], rules)

    assert result.plan.last_day == date(2027, 4, 11)
    assert result.status is CourseStatus.DISCONTINUED


# --- a reduced restart and its step-up -----------------------------------------------------


def test_replan_crs_3_adult_restarts_at_9_and_steps_up_to_28_after_7_days(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    restart = _at(6, 12)
    result = _replan(
        _plan(mrd_positive), [Interruption(_at(4), AR.CRS, 3), Restart(restart)], rules
    )

    doses = {(b.start, b.dose) for b in result.plan.bags if b.cycle == 1}
    assert (restart, _mcg("9")) in doses
    assert (restart + 7 * DAY, _mcg("28")) in doses
    assert all(
        b.dose == _mcg("9") for b in result.plan.bags if restart <= b.start < restart + 7 * DAY
    )
    assert restart + 7 * DAY in result.plan.step_ups
    step = _decision(result, DecisionKind.STEP_UP)
    assert step.at == restart + 7 * DAY
    assert step.reasons == ("7 days at 9 mcg/day without recurrence: step up to 28 mcg/day.",)
    assert step.source == "label-5.1-crs"
    assert _infused(result, 1) == 28 * DAY


def test_replan_crs_3_child_restarts_per_m2_then_steps_up(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    child = make_child()
    restart = _at(12)
    result = _replan(
        _plan(relapsed_refractory, child),
        [Interruption(_at(10), AR.CRS, 3), Restart(restart)],
        rules,
    )

    bags = [b for b in result.plan.bags if b.cycle == 1 and b.start >= restart]
    assert bags[0].dose == _mcg("3.90")
    assert next(b for b in bags if b.start == restart + 7 * DAY).dose == _mcg("11.70")
    assert result.plan.day(date(2027, 3, 13)).dose == _mcg("3.90")


def test_replan_restart_above_the_step_is_a_hard_stop_planned_at_the_step(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    restart = _at(6)
    events = [Interruption(_at(4), AR.CRS, 3), Restart(restart, _mcg("28"))]

    result = _replan(_plan(mrd_positive), events, rules)

    decision = next(
        d
        for d in result.decisions
        if d.action is DecisionKind.RESTART and d.level is DecisionLevel.HARD
    )
    assert "above the label's step for the situation, 9 mcg/day" in decision.reasons[0]
    assert [b.dose for b in result.plan.bags if b.start == restart] == [_mcg("9")]
    assert result.hard_stops == (decision,)


def test_replan_restart_below_step_without_rule_holds_to_the_next_regimen_step(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    events = [Interruption(_at(2), AR.INFECTION, 2), Restart(_at(2, 2), _mcg("5"))]

    result = _replan(_plan(relapsed_refractory), events, rules)

    cycle_1 = [b for b in result.plan.bags if b.cycle == 1]
    step = FIRST + 7 * DAY + 2 * HOUR
    assert all(b.dose == _mcg("5") for b in cycle_1 if _at(2, 2) <= b.start < step)
    assert next(b for b in cycle_1 if b.start == step).dose == _mcg("28")
    assert step in result.plan.step_ups


def test_replan_restart_below_step_without_regimen_step_holds_to_cycle_end(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    events = [Interruption(_at(2), AR.INFECTION, 2), Restart(_at(2, 2), _mcg("20"))]

    result = _replan(_plan(mrd_positive), events, rules)

    assert {b.dose for b in result.plan.bags if b.cycle == 1 and b.start >= _at(2, 2)} == {
        _mcg("20")
    }
    assert {b.dose for b in result.plan.bags if b.cycle == 2} == {_mcg("28")}


def test_replan_second_interruption_during_reduced_dose_keeps_the_cap(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    first_restart = _at(6)
    events = [
        Interruption(_at(4), AR.CRS, 3),
        Restart(first_restart),
        Interruption(_at(8), AR.INFECTION, 2),
        Restart(_at(8, 3), _mcg("28")),
    ]

    result = _replan(_plan(mrd_positive), events, rules)

    step_up = first_restart + 7 * DAY + 3 * HOUR
    assert all(b.dose == _mcg("9") for b in result.plan.bags if first_restart <= b.start < step_up)
    assert step_up in result.plan.step_ups
    hard = [d for d in result.decisions if d.level is DecisionLevel.HARD]
    assert "the earlier restart's 9 mcg/day still holds" in hard[0].reasons[0]


def test_replan_cap_ending_with_the_cycle_does_not_carry_over(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    events = [Interruption(_at(25), AR.CRS, 3), Restart(_at(26))]

    result = _replan(_plan(mrd_positive), events, rules)

    assert {b.dose for b in result.plan.bags if b.cycle == 2} == {_mcg("28")}
    assert not any(d.action is DecisionKind.STEP_UP for d in result.decisions)


def test_replan_restart_at_a_lower_dose_than_the_rule(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    restart = _at(6)
    events = [Interruption(_at(4), AR.CRS, 3), Restart(restart, _mcg("5"))]

    result = _replan(_plan(mrd_positive), events, rules)

    assert next(b for b in result.plan.bags if b.start == restart).dose == _mcg("5")
    assert next(b for b in result.plan.bags if b.start == restart + 7 * DAY).dose == _mcg("28")


# --- 4 hours or more: premedication and supervision ----------------------------------------


@pytest.mark.parametrize(
    ("pause", "premedicated"),
    [(timedelta(hours=3, minutes=59), False), (timedelta(hours=4), True)],
    ids=["3h59-under-4h", "4h-exactly"],
)
def test_replan_restart_after_4_hours_gets_premedication_and_supervision(
    relapsed_refractory: Regimen, rules: ModificationRules, pause: timedelta, premedicated: bool
) -> None:
    restart = _at(14) + pause
    result = _replan(
        _plan(relapsed_refractory),
        [Interruption(_at(14), AR.INFECTION, 2), Restart(restart)],
        rules,
    )

    given = [p for p in result.plan.premedication if p.before == restart]
    assert bool(given) is premedicated
    assert (DecisionKind.SUPERVISE in [d.action for d in result.decisions]) is premedicated
    if premedicated:
        dose = given[0]
        assert (dose.drug, dose.dose.value, dose.due) == ("dexamethasone", 20, restart - HOUR)
        assert result.plan.day(restart.date()).premedication == (dose,)
        assert _decision(result, DecisionKind.SUPERVISE).source == "label-1.5-restart-care"
    else:
        assert "under 4 h" in result.decisions[-1].reasons[0]


def test_replan_child_restart_in_cycle_1_gets_pediatric_premedication(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    restart = _at(3)
    result = _replan(
        _plan(relapsed_refractory, make_child()),
        [Interruption(_at(2), AR.INFECTION, 2), Restart(restart)],
        rules,
    )

    dose = next(p for p in result.plan.premedication if p.before == restart)
    assert dose.dose.value == Decimal("3.90")


def test_replan_no_restart_rule_shows_the_older_label_beside(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    result = _replan(
        _plan(mrd_positive), [Interruption(_at(2), AR.INFECTION, 2), Restart(_at(3))], rules
    )

    decision = _decision(result, DecisionKind.PREMEDICATE)
    assert decision.level is DecisionLevel.SOFT
    assert decision.source == "us-2014-5.2-premed"
    assert "applies on restart to an adult patient in cycle 1" in decision.reasons[0]


def test_replan_child_restart_never_shows_the_older_adult_premedication(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    """In cycle 2 the label's child premedication no longer covers a restart."""
    events = [Interruption(_at(44), AR.INFECTION, 2), Restart(_at(45))]

    result = _replan(_plan(mrd_positive, make_child(), cycles=2), events, rules)

    decision = _decision(result, DecisionKind.PREMEDICATE)
    assert "20 mg" not in " ".join(decision.reasons)
    assert "to a child in cycle 2; the prescriber decides" in decision.reasons[0]
    assert decision.source == "label-1.5-restart-care"


# --- the label's timing rules ----------------------------------------------------------------


def test_replan_overdose_restart_before_12_hours_is_moved(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    events = [Interruption(_at(2), AR.OVERDOSE, 2), Restart(_at(2, 5))]

    result = _replan(_plan(mrd_positive), events, rules)

    refuse = _decision(result, DecisionKind.REFUSE)
    assert refuse.level is DecisionLevel.HARD
    assert "12 h after the interruption" in refuse.reasons[0]
    assert any(b.start == _at(2, 12) for b in result.plan.bags)


def test_replan_moved_restart_after_a_later_event_is_invalid(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    events = [
        Interruption(_at(2), AR.OVERDOSE, 2),
        Restart(_at(2, 5)),
        Interruption(_at(2, 8), AR.CRS, 3),
    ]

    with pytest.raises(InvalidInput) as raised:
        _replan(_plan(mrd_positive), events, rules)

    assert raised.value.field == "events[2].at"


def test_replan_neuro_restart_before_3_days_of_recovery_is_moved(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    events = [Interruption(_at(10), AR.NEUROLOGICAL, 3), Restart(_at(13), resolved_at=_at(11))]

    result = _replan(_plan(relapsed_refractory), events, rules)

    assert "3 days after the reaction resolved" in _decision(result, DecisionKind.REFUSE).reasons[0]
    assert any(b.start == _at(14) for b in result.plan.bags)


def test_replan_adult_neuro_3_over_7_days_discontinues_by_the_stricter_older_rule(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    """The current text is partial: the 2014 label's 7-day limit decides, as a hard
    decision that names both sources."""
    events = [Interruption(_at(10), AR.NEUROLOGICAL, 3), Restart(_at(21))]

    result = _replan(_plan(relapsed_refractory), events, rules)

    stop = _decision(result, DecisionKind.DISCONTINUE)
    assert stop.level is DecisionLevel.HARD
    assert stop.source == "label-5.1-neuro"
    assert "more than the 7 days the rule allows" in stop.reasons[0]
    assert result.status is CourseStatus.DISCONTINUED
    assert _decision(result, DecisionKind.REFUSE).level is DecisionLevel.HARD
    interrupt = _decision(result, DecisionKind.INTERRUPT)
    assert any("us-2014-5.2-neuro" in r and "stricter rule decides" in r for r in interrupt.reasons)


def test_replan_adult_neuro_3_at_9_mcg_discontinues(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    """Day 5 of cycle 1 runs at 9 mcg/day, the restart step: no restart can lower it."""
    events = [Interruption(_at(5), AR.NEUROLOGICAL, 3), Restart(_at(9))]

    result = _replan(_plan(relapsed_refractory), events, rules)

    assert result.status is CourseStatus.DISCONTINUED
    stop = _decision(result, DecisionKind.DISCONTINUE)
    assert stop.level is DecisionLevel.HARD
    assert "already at the rule's restart step" in stop.reasons[0]
    assert _kinds(result)[-1] == "refuse"


def test_replan_adult_neuro_3_recurring_after_a_restart_discontinues(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    events = [
        Interruption(_at(10), AR.NEUROLOGICAL, 3),
        Restart(_at(14)),
        Interruption(_at(24), AR.NEUROLOGICAL, 3),
    ]

    result = _replan(_plan(relapsed_refractory), events, rules)

    assert result.status is CourseStatus.DISCONTINUED
    assert _decision(result, DecisionKind.DISCONTINUE).level is DecisionLevel.HARD


def test_replan_child_neuro_3_restarts_at_the_childs_step_then_steps_up(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    events = [Interruption(_at(10), AR.NEUROLOGICAL, 3), Restart(_at(14))]

    result = _replan(_plan(relapsed_refractory, make_child()), events, rules)

    restart = next(b for b in result.plan.bags if b.start == _at(14))
    assert restart.dose.value < 9
    later = [b.dose for b in result.plan.bags if b.start >= _at(14 + 7) and b.cycle == 1]
    assert later
    assert all(d.value > restart.dose.value for d in later)
    assert result.status is CourseStatus.COMPLETED


def test_replan_other_4_is_a_hard_decision_and_restarts_on_the_grade_3_path(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    events = [Interruption(_at(10), AR.OTHER, 4), Restart(_at(12))]

    result = _replan(_plan(relapsed_refractory), events, rules)

    considered = _decision(result, DecisionKind.CONSIDER_DISCONTINUATION)
    assert considered.level is DecisionLevel.HARD
    assert considered.reasons[0].startswith("Discontinue permanently unless the physician")
    # Never sooner than grade 3 (3 days at grade 1 or less) nor above 9 mcg/day.
    restart = next(b for b in result.plan.bags if b.start >= _at(12))
    assert restart.dose == _mcg("9")


def test_replan_child_neuro_3_over_7_days_discontinues_by_the_older_rule(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    events = [Interruption(_at(5), AR.NEUROLOGICAL, 3), Restart(_at(16))]

    result = _replan(_plan(relapsed_refractory, make_child()), events, rules)

    assert result.status is CourseStatus.DISCONTINUED


def test_replan_log_in_another_zone_is_read_in_elapsed_time(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    paris = ZoneInfo("Europe/Paris")
    plan = _plan(mrd_positive, zone=paris)
    # 2027-03-28 is the spring-forward day in Paris: 7 days of wall clock are 167 hours.
    stop = datetime(2027, 3, 21, 12, 0, tzinfo=paris)
    events = [
        Interruption(stop, AR.INFECTION, 2),
        Restart(datetime(2027, 3, 28, 12, 30, tzinfo=paris)),
    ]

    result = _replan(plan, events, rules)

    assert (
        _decision(result, DecisionKind.CONTINUE_CYCLE)
        .reasons[0]
        .startswith("Interruption of 6 days 23 h 30 min")
    )


# --- bad event logs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "field", "allowed"),
    [
        ([Restart(_at(3))], "events[0].kind", "after an interrupt"),
        (
            [Interruption(_at(3), AR.CRS, 3), Interruption(_at(4), AR.CRS, 3)],
            "events[1].kind",
            "already interrupted",
        ),
        ([Interruption(_at(3), AR.CRS, 3), Restart(_at(2))], "events[1].at", "after events[0].at"),
        ([Interruption(_at(3), AR.CRS, 3), Restart(_at(3))], "events[1].at", "after events[0].at"),
        ([Interruption(_at(-1), AR.CRS, 3)], "events[0].at", "on or after the first infusion"),
        ([Interruption(_at(3), AR.CRS, 5)], "events[0].grade", ">= 1 and <= 4"),
        (
            [Interruption(_at(3), AR.CRS, 3), Restart(_at(4), _mcg("0"))],
            "events[1].dose_mcg_per_day",
            "> 0",
        ),
        ([Interruption(_at(3).replace(tzinfo=None), AR.CRS, 3)], "events[0].at", "UTC offset"),
        (
            [
                Interruption(_at(3), AR.CRS, 3),
                Restart(_at(4), resolved_at=_at(4).replace(tzinfo=None)),
            ],
            "events[1].resolved_at",
            "UTC offset",
        ),
        (
            [Interruption(_at(3), AR.CRS, 3), Restart(_at(5), resolved_at=_at(2))],
            "events[1].resolved_at",
            "between the interruption",
        ),
        ([Interruption(_at(35), AR.CRS, 3)], "events[0].at", "while an infusion runs"),
        ([Restart(_at(90))], "events[0].at", "while an infusion runs"),
        (
            [Discontinuation(_at(5)), Discontinuation(_at(6))],
            "events[1].kind",
            "no event after the discontinuation",
        ),
    ],
    ids=[
        "restart-without-interruption",
        "interrupt-twice",
        "out-of-order",
        "same-instant",
        "before-first-infusion",
        "grade-5",
        "zero-dose",
        "naive-time",
        "naive-resolved",
        "resolved-before-interruption",
        "between-cycles",
        "after-the-course",
        "after-discontinuation",
    ],
)
def test_replan_bad_event_log_names_the_field(
    mrd_positive: Regimen, rules: ModificationRules, events: list[Event], field: str, allowed: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        _replan(_plan(mrd_positive), events, rules)

    assert raised.value.field == field
    assert allowed in raised.value.allowed


def test_replan_naive_now_is_invalid(mrd_positive: Regimen, rules: ModificationRules) -> None:
    with pytest.raises(InvalidInput, match="now"):
        _replan(_plan(mrd_positive), [], rules, now=datetime(2027, 1, 1))  # noqa: DTZ001


def test_replan_leaves_the_old_plan_unchanged(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    plan = _plan(mrd_positive)
    days = plan.days

    _replan(plan, [Interruption(_at(4), AR.CRS, 4)], rules)

    assert plan.days == days
    assert plan.cycles[0].infusion_end == _at(28)


def test_replan_synthetic_regimen_with_decreasing_step(rules: ModificationRules) -> None:
    regimen = make_regimen(
        cycles=[
            make_cycle(
                1,
                steps=[
                    make_step(1, 10, fixed=Decimal("20")),
                    make_step(11, 28, fixed=Decimal("10")),
                ],
            )
        ]
    )
    plan = _plan(regimen, cycles=1)
    events = [Interruption(_at(5), AR.INFECTION, 2), Restart(_at(5, 1), _mcg("15"))]

    result = _replan(plan, events, rules)

    assert [b.dose for b in result.plan.bags if b.start >= _at(10, 1)] == [_mcg("10")] * 18
    assert _replan(plan, [], rules).plan.days == plan.days


def test_replan_interruption_at_the_instant_a_cycle_starts(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    second = _plan(mrd_positive).cycles[1].infusion_start
    result = _replan(_plan(mrd_positive), [Interruption(second, AR.CRS, 4)], rules)

    assert [c.number for c in result.plan.cycles] == [1, 2]
    assert not any(b.cycle == 2 for b in result.plan.bags)
    assert result.plan.cycles[1].last_infusion_day == result.plan.cycles[1].start


# --- synthetic rules and regimens: branches no label row reaches -----------------------------


def _synthetic_rules(rules: ModificationRules, **rule: object) -> ModificationRules:
    values: dict[str, object] = {
        "edition": "synthetic",
        "kind": ActionKind.INTERRUPT,
        "text": "t",
        "source": "synthetic",
    }
    values.update(rule)
    row = ModificationRow(
        "synthetic",
        AR.OTHER,
        frozenset({3}),
        WeightBand.ANY,
        Rule(**values),  # type: ignore[arg-type]
        None,
        None,
    )
    return ModificationRules(rows=(row,), interruptions=rules.interruptions)


def test_replan_current_rule_resolution_limit_is_not_flagged_as_older(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    table = _synthetic_rules(rules, max_resolution_days=5)
    events = [Interruption(_at(4), AR.OTHER, 3), Restart(_at(11), resolved_at=_at(10))]

    result = _replan(_plan(mrd_positive), events, table)

    stop = _decision(result, DecisionKind.DISCONTINUE)
    assert stop.level is DecisionLevel.INFO
    assert not any("older" in r for r in stop.reasons)


def test_replan_rule_step_up_below_the_regimen_dose_stays_capped(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    table = _synthetic_rules(
        rules,
        restart=DoseRule(_mcg("9"), None, None),
        step_up_after_days=7,
        step_up=DoseRule(_mcg("20"), None, None),
    )
    restart = _at(5)
    result = _replan(
        _plan(mrd_positive), [Interruption(_at(4), AR.OTHER, 3), Restart(restart)], table
    )

    later = {b.dose for b in result.plan.bags if b.cycle == 1 and b.start >= restart + 7 * DAY}
    assert later == {_mcg("20")}


def test_replan_regimen_step_down_under_a_rule_cap_changes_the_bag(
    rules: ModificationRules,
) -> None:
    regimen = make_regimen(
        cycles=[
            make_cycle(
                1,
                steps=[
                    make_step(1, 10, fixed=Decimal("20")),
                    make_step(11, 28, fixed=Decimal("10")),
                ],
            )
        ]
    )
    table = _synthetic_rules(
        rules,
        restart=DoseRule(_mcg("15"), None, None),
        step_up_after_days=7,
        step_up=DoseRule(_mcg("28"), None, None),
    )
    result = _replan(
        _plan(regimen, cycles=1), [Interruption(_at(5), AR.OTHER, 3), Restart(_at(5, 1))], table
    )

    boundary = _at(10, 1)
    assert next(b for b in result.plan.bags if b.start == boundary).dose == _mcg("10")
    assert boundary not in result.plan.step_ups


def test_replan_premedication_per_m2_without_maximum(rules: ModificationRules) -> None:
    regimen = make_regimen(
        premedication=[
            make_premedication(
                age_group=AgeGroup.PEDIATRIC,
                dose_per_m2=Decimal("10"),
                triggers=[PremedTrigger.RESTART],
            )
        ]
    )
    restart = _at(3)
    result = _replan(
        _plan(regimen, make_child(), cycles=1),
        [Interruption(_at(2), AR.INFECTION, 2), Restart(restart)],
        rules,
    )

    assert [p.dose.value for p in result.plan.premedication] == [Decimal("7.80")]


def test_replan_keeps_the_planned_gap_before_a_later_cycle(
    consolidation: Regimen, rules: ModificationRules
) -> None:
    plan = _plan(consolidation, cycle_starts={2: date(2027, 5, 1)})
    events = [Interruption(_at(10), AR.INFECTION, 2), Restart(_at(13))]

    result = _replan(plan, events, rules)

    assert result.plan.cycles[1].start == date(2027, 5, 4)
    gap = [s for s in result.plan.spans if s.cycle is None]
    assert (gap[0].first, gap[0].last) == (date(2027, 4, 15), date(2027, 5, 3))


def test_replan_complete_current_rule_shows_a_stricter_older_limit_beside(
    mrd_positive: Regimen, rules: ModificationRules
) -> None:
    """Where the current text is complete it acts; the older, stricter limit is shown as a
    decision to confirm, not applied."""
    current = Rule(edition="current", kind=ActionKind.INTERRUPT, text="t", source="synthetic")
    older = replace(current, edition="older", max_resolution_days=3, source="older-source")
    row = ModificationRow(
        "synthetic", AR.OTHER, frozenset({3}), WeightBand.ANY, current, None, older
    )
    table = ModificationRules(rows=(row,), interruptions=rules.interruptions)
    events = [Interruption(_at(4), AR.OTHER, 3), Restart(_at(10), resolved_at=_at(9))]

    result = _replan(_plan(mrd_positive), events, table)

    shown = _decision(result, DecisionKind.CONSIDER_DISCONTINUATION)
    assert shown.level is DecisionLevel.SOFT
    assert shown.source == "older-source"
    assert result.status is not CourseStatus.DISCONTINUED
    quick = [Interruption(_at(4), AR.OTHER, 3), Restart(_at(6), resolved_at=_at(5))]
    assert "consider-discontinuation" not in _kinds(_replan(_plan(mrd_positive), quick, table))


def test_replan_new_cycle_before_the_step_up_warns_and_offers_it_again(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    """Stopped on day 4 of cycle 1 (9 mcg/day) for more than 7 days: cycle 2 starts at
    28 mcg/day as the label says, and the plan says the patient never reached it."""
    events = [Interruption(_at(3), AR.INFECTION, 2), Restart(_at(12))]

    result = _replan(_plan(relapsed_refractory), events, rules)

    offer = _decision(result, DecisionKind.STEP_UP)
    assert offer.level is DecisionLevel.SOFT
    assert "never reached the full dose" in offer.reasons[0]
    assert "record the restart at 9 mcg/day" in offer.reasons[0]
    assert next(b for b in result.plan.bags if b.start == _at(12)).dose == _mcg("28")


def test_an_open_interruption_past_the_same_cycle_limit_offers_the_step_up_before_the_restart(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    """Stopped on day 4 at 9 mcg/day and still stopped 8 days later: the restart will start
    cycle 2, so the step-up offer is in the plan now, while the physician can take it; at
    7 days, or once the full dose was reached, or with no cycle left, there is none."""
    plan = _plan(relapsed_refractory)
    stopped = [Interruption(_at(3), AR.INFECTION, 2)]

    offer = _decision(_replan(plan, stopped, rules, now=_at(11)), DecisionKind.STEP_UP)

    assert offer.at == _at(10)
    assert "record the restart at 9 mcg/day" in offer.reasons[0]
    assert "step-up" not in _kinds(_replan(plan, stopped, rules, now=_at(10)))
    after_full = [Interruption(_at(10), AR.INFECTION, 2)]
    assert "step-up" not in _kinds(_replan(plan, after_full, rules, now=_at(20)))
    last_cycle = _plan(relapsed_refractory, cycles=1)
    assert "step-up" not in _kinds(_replan(last_cycle, stopped, rules, now=_at(11)))


def test_replan_new_cycle_repeats_the_step_up_when_the_physician_records_it(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    events = [Interruption(_at(3), AR.INFECTION, 2), Restart(_at(12), dose=_mcg("9"))]

    result = _replan(_plan(relapsed_refractory), events, rules)

    doses = [(b.start, b.dose) for b in result.plan.bags if b.cycle == 2]
    assert doses[0] == (_at(12), _mcg("9"))
    assert {d for start, d in doses if start < _at(19)} == {_mcg("9")}
    assert {d for start, d in doses if start >= _at(19)} == {_mcg("28")}
    restart = next(d for d in result.decisions if d.action is DecisionKind.RESTART)
    assert "repeats cycle 1's step-up" in restart.reasons[0]


def test_a_childs_repeated_step_up_is_premedicated_as_the_first_cycle(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    """The label premedicates a child in the first cycle only. A child who never reached
    the full dose repeats cycle 1's step-up in cycle 2: the restart and the step-up are
    premedicated as in cycle 1 (the safer reading), once each, and the plan says why."""
    child = make_child()
    plan = _plan(relapsed_refractory, child)
    first = plan.bags[0].dose
    events = [Interruption(_at(3), AR.INFECTION, 2), Restart(_at(12), dose=first)]

    result = _replan(plan, events, rules)

    doses = [(d.due, d.drug, d.reason) for d in result.plan.premedication if d.due >= _at(12)]
    step_up = result.plan.step_ups[-1]
    assert step_up == _at(19)
    assert [(due, drug) for due, drug, _ in doses] == [
        (_at(12), "dexamethasone"),
        (step_up, "dexamethasone"),
    ]
    assert "which repeats cycle 1's step-up (premedicated as cycle 1)" in doses[0][2]
    assert (
        "no premedication rule"
        not in " ".join(r for d in result.decisions for r in d.reasons).lower()
    )
    # Without the repeat, cycle 2 starts at the full dose and the child's premedication,
    # given in the first cycle only, is left to the prescriber.
    plain = _replan(plan, [Interruption(_at(3), AR.INFECTION, 2), Restart(_at(12))], rules)
    assert [d for d in plain.plan.premedication if d.due >= _at(12)] == []


def test_replan_new_cycle_after_the_full_dose_offers_no_step_up(
    relapsed_refractory: Regimen, rules: ModificationRules
) -> None:
    events = [Interruption(_at(10), AR.INFECTION, 2), Restart(_at(19))]

    result = _replan(_plan(relapsed_refractory), events, rules)

    assert "new-cycle" in _kinds(result)
    assert "step-up" not in _kinds(result)
