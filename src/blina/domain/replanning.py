"""Re-planning a course from its event log: interruptions, restarts, discontinuation.

A course is its plan (``plan_course``) plus what happened since. ``replan`` replays the
infusion from the first bag, in elapsed (UTC) time, and applies the label's rules:

- an interruption is judged by ``modifications.decide`` (interrupt, restart dose and
  step-up, corticosteroid, or permanent discontinuation);
- after an interruption of at most ``same_cycle_max_days`` (7) the same cycle continues
  until its labelled infusion time (28 days) is given in total; a longer one starts the
  next cycle of the plan (the interrupted cycle counts as given); later cycles keep the
  days the plan put between them (a chemotherapy block moves with the course);
- a reaction that takes longer to resolve than the acting rule allows means permanent
  discontinuation (when no resolution time is logged, it is taken as the restart minus
  the recovery days the rule asks for: the latest the log allows);
- a restart after ``restart_care_min_hours`` (4) or more gets the regimen's RESTART
  premedication and supervision or hospitalization;
- a restart is never above the label's step for the situation: the regimen's dose for
  that point of the cycle, lowered to the rule's restart dose, which steps up again
  after the rule's days (7) of infusion without recurrence. A dose above that is
  planned at the label's step with a hard-stop decision;
- nothing is infused after a discontinuation.

The result is a new ``CoursePlan`` in the planner's format plus the decisions, each
with its reasons and source (a source id, or ``event-log`` for the prescriber's own
discontinuation). The old plan is left as it was.
"""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from blina.domain.body import AgeGroup
from blina.domain.course_plan import (
    Bag,
    CoursePlan,
    DoseBasis,
    PlannedCycle,
    Precaution,
    PremedicationDose,
    Span,
    cycle_spans,
    gap_span,
    lay_bags,
    premedication_dose,
)
from blina.domain.errors import InvalidInput
from blina.domain.modifications import (
    Action,
    ActionKind,
    AdverseReaction,
    CourseState,
    ModificationRules,
    decide,
)
from blina.domain.regimens import CycleSpec, DoseStep, PremedTrigger
from blina.domain.units import McgPerDay

__all__ = [
    "CourseStatus",
    "Decision",
    "DecisionKind",
    "DecisionLevel",
    "Discontinuation",
    "Event",
    "Interruption",
    "Replan",
    "Restart",
    "replan",
]

_DAY = timedelta(days=1)
_ZERO = McgPerDay(Decimal(0))


@dataclass(frozen=True, slots=True)
class Interruption:
    """The infusion stopped at ``at`` because of ``cause`` at ``grade`` (1-4)."""

    at: datetime
    cause: AdverseReaction
    grade: int


@dataclass(frozen=True, slots=True)
class Restart:
    """The infusion restarted at ``at``; ``dose`` None means the label's step.

    ``resolved_at`` is when the reaction resolved to the level the rule asks for, if
    known.
    """

    at: datetime
    dose: McgPerDay | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Discontinuation:
    at: datetime
    reason: str = "the prescriber's decision"


Event = Interruption | Restart | Discontinuation


class DecisionLevel(StrEnum):
    """``info``: the label's answer; ``soft``: confirm it (a gap, or a stricter older
    rule); ``hard``: the log asked for something the label does not allow."""

    INFO = "info"
    SOFT = "soft"
    HARD = "hard"


class DecisionKind(StrEnum):
    CONTINUE = "continue"
    INTERRUPT = "interrupt"
    CONSIDER_DISCONTINUATION = "consider-discontinuation"
    DISCONTINUE = "discontinue"
    RESTART = "restart"
    CONTINUE_CYCLE = "continue-cycle"
    NEW_CYCLE = "new-cycle"
    PREMEDICATE = "premedicate"
    SUPERVISE = "supervise"
    STEP_UP = "step-up"
    REFUSE = "refuse"
    END_COURSE = "end-course"


class CourseStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"


@dataclass(frozen=True, slots=True)
class Decision:
    at: datetime
    action: DecisionKind
    reasons: tuple[str, ...]
    source: str
    level: DecisionLevel = DecisionLevel.INFO


@dataclass(frozen=True, slots=True)
class Replan:
    plan: CoursePlan
    decisions: tuple[Decision, ...]
    status: CourseStatus
    discontinued_at: datetime | None

    @property
    def hard_stops(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.level is DecisionLevel.HARD)


_KIND_OF_ACTION = {
    ActionKind.CONTINUE: DecisionKind.CONTINUE,
    ActionKind.INTERRUPT: DecisionKind.INTERRUPT,
    ActionKind.CONSIDER_DISCONTINUATION: DecisionKind.CONSIDER_DISCONTINUATION,
    ActionKind.DISCONTINUE: DecisionKind.DISCONTINUE,
}


_STOPPED_WITHOUT_A_RULE = (
    "The infusion was stopped as recorded; the label does not ask for an interruption at"
    " this grade, so the restart (at the dose before the interruption) is the care team's"
    " decision."
)


def _level(action: Action, *, discontinues: bool) -> DecisionLevel:
    """A discontinuation is ``hard`` where the row's text is partial and stricter rules
    took part (a gap never makes the decision less careful); otherwise ``soft`` where a
    gap asks for confirmation, else ``info``."""
    if discontinues and action.stricter:
        return DecisionLevel.HARD
    return DecisionLevel.SOFT if action.needs_confirmation else DecisionLevel.INFO


def replan(
    plan: CoursePlan, events: Sequence[Event], *, rules: ModificationRules, now: datetime
) -> Replan:
    """Replay ``plan`` with ``events`` and return the new plan and the decisions.

    Parameters
    ----------
    plan : the course as planned (``plan_course``).
    events : interruptions, restarts and a discontinuation, in time order; instants
        are aware datetimes.
    rules : the label's modification table (``blina.knowledge``).
    now : the current instant; sets ``status`` (completed once the last infusion has
        ended) and whether an open interruption has outlasted its rule.

    Raises ``InvalidInput`` naming the event field for a naive or out-of-order time, an
    event before the first infusion, an interruption while none runs, a restart with
    no open interruption, or an event after a discontinuation.
    """
    _check_aware("now", now)
    _check_events(plan, events)
    course = _Course(plan, rules)
    course.run([_in_utc(event) for event in events])
    return course.result(now.astimezone(UTC))


def _in_utc(event: Event) -> Event:
    """Elapsed durations are added in UTC, whatever zone the log was written in."""
    if isinstance(event, Restart) and event.resolved_at is not None:
        event = replace(event, resolved_at=event.resolved_at.astimezone(UTC))
    return replace(event, at=event.at.astimezone(UTC))


def _check_aware(field_name: str, moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(field_name, moment.isoformat(), "a date-time with a UTC offset")


def _check_events(plan: CoursePlan, events: Sequence[Event]) -> None:
    first = plan.cycles[0].infusion_start
    previous: datetime | None = None
    for index, event in enumerate(events):
        where = f"events[{index}]"
        _check_aware(f"{where}.at", event.at)
        if previous is None and event.at < first:
            raise InvalidInput(
                f"{where}.at",
                event.at.isoformat(),
                f"on or after the first infusion, {first.isoformat()}",
            )
        if previous is not None and event.at <= previous:
            raise InvalidInput(
                f"{where}.at",
                event.at.isoformat(),
                f"after events[{index - 1}].at ({previous.isoformat()})",
            )
        previous = event.at
        if isinstance(event, Interruption) and event.grade not in range(1, 5):
            raise InvalidInput(f"{where}.grade", event.grade, ">= 1 and <= 4 (grade 5 is death)")
        if isinstance(event, Restart):
            if event.dose is not None and event.dose.value <= 0:
                raise InvalidInput(f"{where}.dose_mcg_per_day", event.dose.value, "> 0")
            if event.resolved_at is not None:
                _check_aware(f"{where}.resolved_at", event.resolved_at)


@dataclass(slots=True)
class _Cap:
    """A ceiling below the regimen's dose, until ``until`` of total infusion time (None: to
    the end of the cycle). ``action`` is the rule that set it and that steps it up."""

    dose: McgPerDay
    until: timedelta | None
    action: Action | None


@dataclass(slots=True)
class _CycleRun:
    """One cycle as given: its infusion pieces (start, end, dose) in elapsed time.

    ``premedicated_as`` is the cycle whose premedication rules apply: its own, or the
    earlier cycle whose step-up it repeats (a child's premedication covers the first
    cycle only; the repeated step-up is the first cycle's again)."""

    spec: CycleSpec
    start: date
    infusion_start: datetime
    doses: tuple[McgPerDay, ...]
    segments: list[tuple[datetime, datetime, McgPerDay]] = field(default_factory=list)
    infused: timedelta = timedelta(0)
    end: date | None = None
    repeats: int | None = None

    @property
    def premedicated_as(self) -> int:
        return self.spec.number if self.repeats is None else self.repeats

    @property
    def remaining(self) -> timedelta:
        return self.spec.infusion_days * _DAY - self.infused

    @property
    def infusion_end(self) -> datetime:
        return self.segments[-1][1] if self.segments else self.infusion_start

    @property
    def last_infusion_day(self) -> date:
        windows = -(-(self.infusion_end - self.infusion_start) // _DAY)
        return self.start + max(windows - 1, 0) * _DAY

    @property
    def natural_end(self) -> date:
        return self.last_infusion_day + self.spec.treatment_free_days * _DAY

    def dose_at(self, infused: timedelta) -> McgPerDay:
        """The regimen's dose after ``infused`` of this cycle's infusion."""
        for step, dose in zip(self.spec.steps[:-1], self.doses[:-1], strict=True):
            if infused < step.last_day * _DAY:
                return dose
        return self.doses[-1]

    def next_boundary(self, infused: timedelta) -> timedelta | None:
        for step in self.spec.steps[1:]:
            boundary = (step.first_day - 1) * _DAY
            if boundary > infused:
                return boundary
        return None


class _Course:
    """The replay: one pass over the events, infusing between them.

    ``over`` is set once nothing more can be infused: the course was discontinued, or no
    cycle is left. ``between`` holds the instant the next cycle starts while the replay
    sits in a treatment-free interval (or after the last cycle, with None).
    """

    def __init__(self, plan: CoursePlan, rules: ModificationRules) -> None:
        self.plan = plan
        self.rules = rules
        self.body = plan.body
        self.zone = plan.zone
        self.specs = plan.regimen.cycles[: len(plan.cycles)]
        # Days the plan put between a cycle's end and the next start (chemotherapy blocks,
        # later starts): kept when an interruption shifts the course.
        self.gaps = [timedelta(0)] + [
            later.start - earlier.end - _DAY for earlier, later in itertools.pairwise(plan.cycles)
        ]
        self.start_time = plan.cycles[0].infusion_start.astimezone(plan.zone).time()
        self.runs: list[_CycleRun] = []
        self.premedication: list[PremedicationDose] = []
        self.step_ups: list[datetime] = []
        self.decisions: list[Decision] = []
        self.total = timedelta(0)
        self.cap: _Cap | None = None
        self.split = True
        self.dose = _ZERO
        self.open: tuple[Interruption, Action] | None = None
        self.history: list[Interruption] = []
        self.between = False
        self.finished = False
        self.over: datetime | None = None
        self.over_by_log = False
        self.status = CourseStatus.ACTIVE
        self.discontinued_at: datetime | None = None

    def run(self, events: Sequence[Event]) -> None:
        first = self.plan.cycles[0]
        self._start_cycle(0, first.infusion_start, first.start, None)
        clock = first.infusion_start
        for index, event in enumerate(events):
            if event.at < clock:
                raise InvalidInput(
                    f"events[{index}].at",
                    event.at.isoformat(),
                    f"on or after {clock.isoformat()}, the earliest restart the label allows",
                )
            if self.over is not None:
                self._after_end(index, event)
                continue
            if self.open is None and not self.between:
                clock = self._infuse_until(clock, event.at)
            clock = self._apply(index, event, clock)
        if self.over is None and self.open is None and not self.between:
            self._infuse_until(clock, None)

    def _infuse_until(self, clock: datetime, until: datetime | None) -> datetime:
        """Infuse from ``clock`` to ``until``, completing and starting cycles on the way."""
        while True:
            run = self.runs[-1]
            done_at = clock + run.remaining
            if until is not None and until < done_at:
                self._infuse(clock, until)
                return until
            self._infuse(clock, done_at)
            self.cap = None
            run.end = run.natural_end
            position = len(self.runs)
            if position == len(self.specs):
                self.between = True
                self.finished = True
                return done_at if until is None else until
            start = run.natural_end + _DAY + self.gaps[position]
            begins = datetime.combine(start, self.start_time, tzinfo=self.zone).astimezone(UTC)
            if until is not None and until < begins:
                self.between = True
                return until
            self._start_cycle(position, begins, start, None)
            clock = begins

    def _apply(self, index: int, event: Event, clock: datetime) -> datetime:
        where = f"events[{index}]"
        if isinstance(event, Discontinuation):
            run = self.runs[-1]
            if self.between:
                assert run.end is not None
                when = event.at.astimezone(self.zone).date()
                run.end = max(run.last_infusion_day, min(run.end, when))
            self._discontinue(
                event.at,
                (f"Discontinued by the event log: {event.reason}.",),
                "event-log",
                DecisionLevel.INFO,
            )
            self.over_by_log = True
            return event.at
        if self.between:
            run = self.runs[-1]
            raise InvalidInput(
                f"{where}.at",
                event.at.isoformat(),
                f"while an infusion runs: cycle {run.spec.number}'s infusion ended "
                f"{run.infusion_end.isoformat()} and no later cycle has started (record a "
                "discontinue event to stop the course)",
            )
        if isinstance(event, Interruption):
            if self.open is not None:
                raise InvalidInput(
                    f"{where}.kind",
                    "interrupt",
                    "restart or discontinue: the infusion is already interrupted",
                )
            self._interrupt(event)
            return event.at
        if self.open is None:
            raise InvalidInput(
                f"{where}.kind", "restart", "after an interrupt: no interruption is open"
            )
        return self._restart(index, event)

    def _after_end(self, index: int, event: Event) -> None:
        assert self.over is not None
        if self.over_by_log:
            raise InvalidInput(
                f"events[{index}].kind",
                type(event).__name__.lower(),
                f"no event after the discontinuation at {self.over.isoformat()}",
            )
        self.decisions.append(
            Decision(
                event.at,
                DecisionKind.REFUSE,
                (f"Not applied: the course ended at {self.over.isoformat()}.",),
                self.rules.interruptions.same_cycle_source,
                DecisionLevel.HARD,
            )
        )

    # --- interruptions and restarts ---------------------------------------------------------

    def _interrupt(self, event: Interruption) -> None:
        self._stop()
        earlier = sum(1 for e in self.history if e.cause is event.cause and e.grade >= 3)
        seizures = sum(1 for e in self.history if e.cause is AdverseReaction.SEIZURE)
        self.history.append(event)
        state = CourseState(
            weight=self.body.weight,
            bsa=self.body.bsa,
            weight_threshold=self.plan.regimen.weight_threshold,
            seizures=seizures + (event.cause is AdverseReaction.SEIZURE),
            earlier_episodes=earlier,
            dose_at_onset=self.dose,
        )
        action = decide(reaction=event.cause, grade=event.grade, state=state, rules=self.rules)
        rule = action.rule
        reasons = list(action.reasons)
        if action.corticosteroid_dose is not None:
            assert rule is not None
            assert rule.corticosteroid is not None
            steroid = rule.corticosteroid
            reasons.append(
                f"Give {steroid.drug} {action.corticosteroid_dose} per dose: {steroid.text}."
            )
        if action.kind is not ActionKind.DISCONTINUE and rule is not None and rule.resume_when:
            reasons.append(f"Restart when {rule.resume_when}.")
        reasons.extend(action.warnings)
        level = _level(action, discontinues=action.kind is ActionKind.DISCONTINUE)
        if action.kind is ActionKind.CONSIDER_DISCONTINUATION:
            # Discontinue, unless the physician decides to restart (on the grade-3 path).
            level = DecisionLevel.HARD
            reasons.insert(
                0,
                "Discontinue permanently unless the physician decides to restart and records "
                "why; a restart follows the grade-3 rule, never sooner or at a higher dose.",
            )
        if action.kind is ActionKind.DISCONTINUE:
            self._discontinue(event.at, tuple(reasons), action.source, level)
            return
        kind = _KIND_OF_ACTION[action.kind]
        if kind is DecisionKind.CONTINUE:
            # The log says the infusion was stopped: the first word says so, even where
            # the label would have let it run.
            kind = DecisionKind.INTERRUPT
            reasons.insert(0, _STOPPED_WITHOUT_A_RULE)
        self.decisions.append(Decision(event.at, kind, tuple(reasons), action.source, level))
        self.open = (event, action)

    def _restart(self, index: int, event: Restart) -> datetime:
        assert self.open is not None
        interruption, action = self.open
        resolved = event.resolved_at
        if resolved is not None and not interruption.at <= resolved <= event.at:
            raise InvalidInput(
                f"events[{index}].resolved_at",
                resolved.isoformat(),
                f"between the interruption ({interruption.at.isoformat()}) and the restart "
                f"({event.at.isoformat()})",
            )
        assumed = (
            resolved if resolved is not None else event.at - (action.min_recovery or timedelta(0))
        )
        took = max(assumed - interruption.at, timedelta(0))
        if action.max_resolution is not None and took > action.max_resolution:
            self._too_long(interruption, action, took, event.at, resolved is None)
            return event.at
        self._older_limit(interruption, action, took, event.at)
        at = self._earliest_restart(event, interruption, action, resolved)
        self.open = None
        pause = at - interruption.at
        rules = self.rules.interruptions
        run = self.runs[-1]
        if pause <= rules.same_cycle_max_days * _DAY:
            self.decisions.append(
                Decision(
                    at,
                    DecisionKind.CONTINUE_CYCLE,
                    (
                        f"Interruption of {_span(pause)} (at most {rules.same_cycle_max_days} "
                        f"days): cycle {run.spec.number} continues to {run.spec.infusion_days} "
                        f"infusion days in total ({_span(run.infused)} given, "
                        f"{_span(run.remaining)} to go).",
                    ),
                    rules.same_cycle_source,
                )
            )
            base = run.dose_at(run.infused)
            prior = None if self._cap_expired() else self.cap
            cycle_premed: list[PremedicationDose] | None = None
        else:
            repeat = _step_up_not_reached(run)
            run.end = max(run.last_infusion_day, at.astimezone(self.zone).date() - _DAY)
            position = len(self.runs)
            if position == len(self.specs):
                self._end_course(at, pause, run)
                return at
            self.cap = None
            cycle_premed = self._start_cycle(position, at, at.astimezone(self.zone).date(), pause)
            run = self.runs[-1]
            self.decisions.append(
                Decision(
                    at,
                    DecisionKind.NEW_CYCLE,
                    (
                        f"Interruption of {_span(pause)} (more than {rules.same_cycle_max_days} "
                        f"days): a new cycle starts, cycle {run.spec.number} ({run.spec.phase}); "
                        "the interrupted cycle counts as given.",
                    ),
                    rules.same_cycle_source,
                )
            )
            base = run.doses[0]
            prior = None
            if repeat is not None:
                self._offer_step_up(repeat, base, at)
                chosen = event.dose is not None and event.dose == repeat[0] != base
                if chosen and action.restart_dose is None:  # no rule of its own applies
                    self._repeat_step_up(repeat, base, at)
                    run.repeats = repeat[2]
                    cycle_premed = [*cycle_premed, *self._repeated_cycle_premed(run, at)]
                    self._restart_care(pause, at, run, cycle_premed)
                    self.split = True
                    return at
        self._restart_dose(event, action, base, prior, at)
        self._restart_care(pause, at, run, cycle_premed)
        self.split = True
        return at

    def _offer_step_up(
        self, repeat: tuple[McgPerDay, timedelta, int], full: McgPerDay, at: datetime
    ) -> None:
        """The new cycle starts at its full dose, as the label says; the patient never
        reached it in the interrupted cycle: say so, and offer the step-up again."""
        first, length, cycle = repeat
        self.decisions.append(
            Decision(
                at,
                DecisionKind.STEP_UP,
                (
                    f"Cycle {cycle} was interrupted before its step-up: the patient never "
                    f"reached the full dose. The new cycle starts at {full}, as the label "
                    "says; the physician may repeat the step-up instead (record the restart "
                    f"at {first}): blina then steps up to {full} after {_span(length)}, as "
                    f"in cycle {cycle}.",
                ),
                self.plan.regimen.source,
                DecisionLevel.SOFT,
            )
        )

    def _repeat_step_up(
        self, repeat: tuple[McgPerDay, timedelta, int], full: McgPerDay, at: datetime
    ) -> None:
        """The physician's choice, recorded as the restart dose: the first step again."""
        first, length, cycle = repeat
        self.cap = _Cap(first, self.total + length, None)
        self.decisions.append(
            Decision(
                at,
                DecisionKind.RESTART,
                (
                    f"Restart at {first}: the physician repeats cycle {cycle}'s step-up; step "
                    f"up to {full} after {_span(length)} of infusion.",
                ),
                self.plan.regimen.source,
                DecisionLevel.SOFT,
            )
        )

    def _repeated_cycle_premed(self, run: _CycleRun, at: datetime) -> list[PremedicationDose]:
        """The repeated cycle's first-dose premedication that the new cycle's own rules
        leave out (a child's, which the label gives in the first cycle only). The label
        says nothing of a step-up repeated in a later cycle: blina premedicates it as the
        cycle it repeats, the safer reading."""
        group = self.body.age_group
        reason = (
            f"before the first dose of cycle {run.spec.number}, which repeats cycle "
            f"{run.premedicated_as}'s step-up (premedicated as cycle {run.premedicated_as})"
        )
        doses = [
            premedication_dose(rule, self.body, at, reason)
            for rule in self.plan.regimen.premedication
            if rule.applies(
                trigger=PremedTrigger.CYCLE_START, cycle=run.premedicated_as, age_group=group
            )
            and not rule.applies(
                trigger=PremedTrigger.CYCLE_START, cycle=run.spec.number, age_group=group
            )
        ]
        self.premedication.extend(doses)
        return doses

    def _end_course(self, at: datetime, pause: timedelta, run: _CycleRun) -> None:
        rules = self.rules.interruptions
        self.over = at
        self.status = CourseStatus.COMPLETED
        self.decisions.append(
            Decision(
                at,
                DecisionKind.END_COURSE,
                (
                    f"Interruption of {_span(pause)} (more than {rules.same_cycle_max_days} days): "
                    f"the label starts a new cycle, but the plan has no cycle after cycle "
                    f"{run.spec.number}. The course ends here; the prescriber decides what "
                    "follows.",
                ),
                rules.same_cycle_source,
                DecisionLevel.SOFT,
            )
        )

    def _too_long(
        self,
        interruption: Interruption,
        action: Action,
        took: timedelta,
        at: datetime,
        assumed: bool,
    ) -> None:
        assert action.max_resolution is not None
        limit_at = interruption.at + action.max_resolution
        reasons = [
            f"{interruption.cause} grade {interruption.grade} took {_span(took)} to resolve, more "
            f"than the {action.max_resolution.days} days the rule allows: discontinue permanently.",
        ]
        if assumed:
            reasons.append(
                "No resolution time was logged: it is taken as the restart minus the recovery days "
                "the rule asks for (the latest the log allows)."
            )
        if action.from_older:
            reasons.append("This limit is the older label's: confirm against the current label.")
        self._discontinue(
            limit_at, tuple(reasons), action.source, _level(action, discontinues=True)
        )
        self.decisions.append(
            Decision(
                at,
                DecisionKind.REFUSE,
                (f"Restart refused: the course was discontinued at {limit_at.isoformat()}.",),
                action.source,
                DecisionLevel.HARD,
            )
        )

    def _older_limit(
        self, interruption: Interruption, action: Action, took: timedelta, at: datetime
    ) -> None:
        """The older label's stricter resolution limit, shown beside as a soft decision."""
        older = action.older
        if older is None or older.max_resolution_days is None or action.max_resolution is not None:
            return
        if took > older.max_resolution_days * _DAY:
            self.decisions.append(
                Decision(
                    at,
                    DecisionKind.CONSIDER_DISCONTINUATION,
                    (
                        f"{interruption.cause} grade {interruption.grade} took {_span(took)} to "
                        f"resolve. The older label ({older.edition}) discontinues permanently "
                        f"after {older.max_resolution_days} days; the current label's wording for "
                        "this was NOT RETRIEVED. Confirm before restarting and record why.",
                    ),
                    older.source,
                    DecisionLevel.SOFT,
                )
            )

    def _earliest_restart(
        self, event: Restart, interruption: Interruption, action: Action, resolved: datetime | None
    ) -> datetime:
        """The logged restart, or the earliest the rule allows if the log is earlier."""
        earliest = event.at
        why = []
        recovery, minimum = action.min_recovery, action.min_restart_after
        if recovery is not None and resolved is not None and resolved + recovery > earliest:
            earliest = resolved + recovery
            why.append(f"{_span(recovery)} after the reaction resolved")
        if minimum is not None and interruption.at + minimum > earliest:
            earliest = interruption.at + minimum
            why.append(f"{_span(minimum)} after the interruption")
        if earliest != event.at:
            self.decisions.append(
                Decision(
                    event.at,
                    DecisionKind.REFUSE,
                    (
                        f"A restart at {event.at.isoformat()} is earlier than the label allows "
                        f"({' and '.join(why)}): planned at {earliest.isoformat()}.",
                    ),
                    action.source,
                    DecisionLevel.HARD,
                )
            )
        return earliest

    def _restart_dose(
        self, event: Restart, action: Action, base: McgPerDay, prior: _Cap | None, at: datetime
    ) -> None:
        """The label's step for the situation; a logged dose above it is a hard stop."""
        allowed = base
        why = [f"the regimen's dose at this point of the cycle is {base}"]
        if action.restart_dose is not None and action.restart_dose.value < allowed.value:
            allowed = action.restart_dose
            why.append(f"the rule restarts at {action.restart_dose}")
        if prior is not None and prior.dose.value < allowed.value:
            allowed = prior.dose
            why.append(f"the earlier restart's {prior.dose} still holds")
        dose = allowed if event.dose is None else event.dose
        level = DecisionLevel.INFO
        reasons = [f"Restart at {dose}: {'; '.join(why)}."]
        if dose.value > allowed.value:
            reasons = [
                f"The logged restart dose {dose} is above the label's step for the situation, "
                f"{allowed} ({'; '.join(why)}): {allowed} is planned."
            ]
            dose = allowed
            level = DecisionLevel.HARD
        run = self.runs[-1]
        if action.step_up_after is not None and action.restart_dose is not None:
            self.cap = _Cap(dose, self.total + action.step_up_after, action)
            reasons.append(
                f"Step up to {action.step_up_dose} after {_span(action.step_up_after)} of infusion "
                "without recurrence."
            )
        elif prior is not None:
            self.cap = _Cap(dose, prior.until, prior.action)
        elif dose.value < base.value:
            boundary = run.next_boundary(run.infused)
            until = None if boundary is None else self.total + (boundary - run.infused)
            self.cap = _Cap(dose, until, None)
            reasons.append(
                "Below the regimen's dose and no step-up rule: held until the regimen's next step "
                "or the end of the cycle."
            )
        else:
            self.cap = None
        self.decisions.append(
            Decision(at, DecisionKind.RESTART, tuple(reasons), action.source, level)
        )

    def _restart_care(
        self,
        pause: timedelta,
        at: datetime,
        run: _CycleRun,
        cycle_premed: list[PremedicationDose] | None,
    ) -> None:
        """Premedication and supervision after an interruption of 4 hours or more."""
        rules = self.rules.interruptions
        if pause < timedelta(hours=rules.restart_care_min_hours):
            self.decisions.append(
                Decision(
                    at,
                    DecisionKind.RESTART,
                    (
                        f"Interruption of {_span(pause)} (under {rules.restart_care_min_hours} h): "
                        "the label asks for no restart premedication or supervision.",
                    ),
                    rules.restart_care_source,
                )
            )
            return
        number = run.premedicated_as
        group = self.body.age_group
        reason = f"before restarting after an interruption of {_span(pause)}"
        new_cycle = cycle_premed is not None
        restart = [
            premedication_dose(rule, self.body, at, reason)
            for rule in self.plan.regimen.premedication
            if rule.applies(trigger=PremedTrigger.RESTART, cycle=number, age_group=group)
            and not (
                new_cycle
                and rule.applies(trigger=PremedTrigger.CYCLE_START, cycle=number, age_group=group)
            )
        ]
        self.premedication.extend(restart)
        doses = [*(cycle_premed or ()), *restart]
        if doses:
            self.decisions.append(
                Decision(
                    at,
                    DecisionKind.PREMEDICATE,
                    tuple(f"{d.drug} {d.dose} {d.route}, {d.timing}: {d.reason}." for d in doses),
                    doses[0].source,
                )
            )
        elif group is AgeGroup.ADULT:
            self.decisions.append(
                Decision(
                    at,
                    DecisionKind.PREMEDICATE,
                    (
                        f"No premedication rule of {self.plan.regimen.name} applies on restart "
                        f"to an adult patient in cycle {number}.",
                        f"Shown beside: {rules.older_restart_premedication}",
                    ),
                    rules.older_restart_premedication_source,
                    DecisionLevel.SOFT,
                )
            )
        else:
            # The older label's restart premedication is an adult dose: never shown for a child.
            self.decisions.append(
                Decision(
                    at,
                    DecisionKind.PREMEDICATE,
                    (
                        f"No premedication rule of {self.plan.regimen.name} applies on restart "
                        f"to a child in cycle {number}; the prescriber decides.",
                    ),
                    rules.restart_care_source,
                    DecisionLevel.SOFT,
                )
            )
        self.decisions.append(
            Decision(
                at,
                DecisionKind.SUPERVISE,
                (
                    f"Restart after an interruption of {_span(pause)} (at least "
                    f"{rules.restart_care_min_hours} h): under healthcare-professional supervision "
                    "or in hospital.",
                ),
                rules.restart_care_source,
            )
        )

    def _discontinue(
        self, at: datetime, reasons: tuple[str, ...], source: str, level: DecisionLevel
    ) -> None:
        self.over = at
        self.open = None
        self.status = CourseStatus.DISCONTINUED
        self.discontinued_at = at
        self.decisions.append(Decision(at, DecisionKind.DISCONTINUE, reasons, source, level))

    # --- infusing ---------------------------------------------------------------------------

    def _start_cycle(
        self, position: int, begins: datetime, start: date, after_pause: timedelta | None
    ) -> list[PremedicationDose]:
        spec = self.specs[position]
        run = _CycleRun(spec, start, begins, tuple(self._step_dose(s) for s in spec.steps))
        self.runs.append(run)
        self.between = False
        self.split = True
        reason = f"before the first dose of cycle {spec.number}"
        if after_pause is not None:
            reason += f" (a new cycle after an interruption of {_span(after_pause)})"
        doses = [
            premedication_dose(rule, self.body, begins, reason)
            for rule in self.plan.regimen.premedication
            if rule.applies(
                trigger=PremedTrigger.CYCLE_START, cycle=spec.number, age_group=self.body.age_group
            )
        ]
        self.premedication.extend(doses)
        return doses

    def _step_dose(self, step: DoseStep) -> McgPerDay:
        bsa = self.body.bsa
        if self.plan.dose_basis is DoseBasis.FIXED or bsa is None:
            return step.fixed
        return (step.per_m2 * bsa).capped_at(step.cap)

    def _cap_expired(self) -> bool:
        cap = self.cap
        return cap is None or (cap.until is not None and self.total >= cap.until)

    def _effective(self, run: _CycleRun) -> McgPerDay:
        dose = run.dose_at(run.infused)
        cap = self.cap
        if cap is None or self._cap_expired() or dose.value <= cap.dose.value:
            return dose
        return cap.dose

    def _infuse(self, start: datetime, end: datetime) -> None:
        run = self.runs[-1]
        clock = start
        while clock < end:
            boundary = run.next_boundary(run.infused)
            piece_end = end
            if boundary is not None:
                piece_end = min(piece_end, clock + (boundary - run.infused))
            cap = self.cap
            if cap is not None and cap.until is not None and cap.until > self.total:
                piece_end = min(piece_end, clock + (cap.until - self.total))
            dose = self._effective(run)
            self._extend(run, clock, piece_end, dose)
            run.infused += piece_end - clock
            self.total += piece_end - clock
            clock = piece_end
            self._cross(run, clock, dose, boundary)

    def _cross(
        self, run: _CycleRun, clock: datetime, before: McgPerDay, boundary: timedelta | None
    ) -> None:
        """After a piece: a regimen step or the end of a cap may change the dose."""
        crossed_step = run.infused == boundary
        cap = self.cap
        stepped_by: Action | None = None
        if cap is not None and cap.until is not None and self.total >= cap.until:
            stepped_by = cap.action
            self.cap = None
        if not run.remaining:
            return
        after = self._effective(run)
        ceiling = None if stepped_by is None else stepped_by.step_up_dose
        if ceiling is not None and ceiling.value < after.value:
            self.cap = _Cap(ceiling, None, None)
            after = ceiling
        if (crossed_step and self.cap is None) or after.value > before.value:
            self._step_up(run, clock)
        elif after != before:
            self.split = True
        if stepped_by is not None and after.value > before.value:
            self.decisions.append(
                Decision(
                    clock,
                    DecisionKind.STEP_UP,
                    (
                        f"{_span(stepped_by.step_up_after or timedelta(0))} at {before} without "
                        f"recurrence: step up to {after}.",
                    ),
                    stepped_by.source,
                )
            )

    def _step_up(self, run: _CycleRun, clock: datetime) -> None:
        self.step_ups.append(clock)
        self.split = True
        self.premedication.extend(
            premedication_dose(
                rule, self.body, clock, f"before the step-up dose in cycle {run.spec.number}"
            )
            for rule in self.plan.regimen.premedication
            if rule.applies(
                trigger=PremedTrigger.STEP_UP,
                cycle=run.premedicated_as,
                age_group=self.body.age_group,
            )
        )

    def _extend(self, run: _CycleRun, start: datetime, end: datetime, dose: McgPerDay) -> None:
        segments = run.segments
        if not self.split and segments and segments[-1][1] == start and segments[-1][2] == dose:
            segments[-1] = (segments[-1][0], end, dose)
        else:
            segments.append((start, end, dose))
        self.split = False
        self.dose = dose

    def _stop(self) -> None:
        self.split = True

    def _window_date(self, run: _CycleRun, at: datetime) -> date:
        """The plan date of the infusion day (window from the cycle's start) holding ``at``."""
        return run.start + max((at - run.infusion_start) // _DAY, 0) * _DAY

    # --- the result ---------------------------------------------------------------------------

    def result(self, now: datetime) -> Replan:
        if self.open is not None and self.over is None:
            self._open_too_long(now)
        if self.open is not None and self.over is None:
            self._offer_while_open(now)
        last = self.runs[-1]
        if last.end is None:
            stop = self.discontinued_at or (self.open[0].at if self.open else last.infusion_end)
            last.end = max(last.last_infusion_day, self._window_date(last, stop))
        if self.status is CourseStatus.ACTIVE and self.finished and now >= last.infusion_end:
            self.status = CourseStatus.COMPLETED
        plan = self.plan
        spans = self._spans()
        infusion_end = max(run.infusion_end for run in self.runs)
        new_plan = CoursePlan(
            regimen=plan.regimen,
            body=plan.body,
            dose_basis=plan.dose_basis,
            bag=plan.bag,
            zone=plan.zone,
            cycles=tuple(self._planned(run) for run in self.runs),
            spans=tuple(spans),
            bags=tuple(self._bags()),
            premedication=tuple(self.premedication),
            step_ups=tuple(self.step_ups),
            precautions=tuple(
                Precaution(
                    kind=p.kind,
                    description=p.description,
                    until=None
                    if p.hours_after_last_infusion is None
                    else (infusion_end + timedelta(hours=p.hours_after_last_infusion)).astimezone(
                        plan.zone
                    ),
                    note=p.note,
                    source=p.source,
                )
                for p in plan.regimen.precautions
            ),
            warnings=plan.warnings,
        )
        decisions = sorted(self.decisions, key=lambda d: d.at)
        return Replan(new_plan, tuple(decisions), self.status, self.discontinued_at)

    def _open_too_long(self, now: datetime) -> None:
        assert self.open is not None
        interruption, action = self.open
        limit = action.max_resolution
        if limit is not None and now - interruption.at > limit:
            self._discontinue(
                interruption.at + limit,
                (
                    f"{interruption.cause} grade {interruption.grade}: no restart logged within "
                    f"the {limit.days} days the rule allows for it to resolve: discontinue "
                    "permanently.",
                ),
                action.source,
                DecisionLevel.SOFT if action.needs_confirmation else DecisionLevel.INFO,
            )

    def _offer_while_open(self, now: datetime) -> None:
        """An interruption still open past the same-cycle limit: its restart will start a
        new cycle. When the patient never reached the full dose, the step-up is offered
        now, while the physician can still take it when recording the restart."""
        assert self.open is not None
        interruption = self.open[0]
        limit = self.rules.interruptions.same_cycle_max_days * _DAY
        repeat = _step_up_not_reached(self.runs[-1])
        position = len(self.runs)
        if now - interruption.at <= limit or repeat is None or position == len(self.specs):
            return
        full = self._step_dose(self.specs[position].steps[0])
        self._offer_step_up(repeat, full, interruption.at + limit)

    def _planned(self, run: _CycleRun) -> PlannedCycle:
        assert run.end is not None
        return PlannedCycle(
            number=run.spec.number,
            phase=run.spec.phase,
            start=run.start,
            infusion_start=run.infusion_start,
            infusion_end=run.infusion_end,
            last_infusion_day=run.last_infusion_day,
            end=run.end,
            inpatient_days=run.spec.inpatient_days,
        )

    def _bags(self) -> list[Bag]:
        hours = self.plan.bag.hours
        return [bag for run in self.runs for bag in lay_bags(run.spec.number, run.segments, hours)]

    def _spans(self) -> list[Span]:
        spans: list[Span] = []
        for run in self.runs:
            if spans and run.start > spans[-1].last + _DAY:
                spans.append(gap_span(spans[-1].last + _DAY, run.start - _DAY))
            spans.extend(cycle_spans(self._planned(run), run.segments))
        return spans


def _step_up_not_reached(run: _CycleRun) -> tuple[McgPerDay, timedelta, int] | None:
    """For a cycle with a step-up that was stopped before it: its first dose, how long
    that step lasts, and the cycle's number (None once the full dose was reached)."""
    steps = run.spec.steps
    if len(steps) < 2 or run.infused >= (steps[-1].first_day - 1) * _DAY:
        return None
    return run.doses[0], steps[0].last_day * _DAY, run.spec.number


def _span(duration: timedelta) -> str:
    """A duration for people: "5 h", "2 days 6 h", "30 min"."""
    minutes = int(duration.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if mins or not parts:
        parts.append(f"{mins} min")
    return " ".join(parts)
