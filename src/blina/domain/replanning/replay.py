"""The replay: a course's event log driving a small state machine, one event at a time.

Between two events the course is in one ``Phase``:

- ``Infusing``: the current cycle infuses; time passing completes cycles and starts the
  next ones, and may leave the course ``TreatmentFree``;
- ``Interrupted``: stopped by an interruption, with the action the label gave for it;
  a restart or a discontinuation is awaited;
- ``TreatmentFree``: a cycle's infusion is complete and the next has not started (or no
  cycle is left: ``all_given``); only a discontinuation may come;
- ``Ended``: discontinued (by the log or by a rule) or ended by the label's new-cycle
  rule with no cycle left; nothing is infused any more.

While infusing, the bags' hangs (``Hang``) are read too: a bag hung after its time means
no bag ran in between, so the cycle goes on that much longer (its labelled infusion time
is what is counted, as after an interruption of the same cycle) and every later bag of
the segment moves with it, keeping its key (``Bag.key``); after 4 hours or more the
label's restart premedication and supervision apply. A pause longer than the same-cycle
limit is not counted: only a recorded interruption starts the label's new cycle.

The transitions (``Replay.apply``) are the event log's: infusing -> interrupted (or
ended, when the rule discontinues) on an interruption; interrupted -> infusing (the same
cycle, or a new one) or ended (too long to resolve; no cycle left) on a restart; any
phase -> ended on a discontinuation. Any other pair is refused naming the event. What
each transition decides comes from ``interruption_rules`` and ``restart_rules`` (pure
functions); the infusion itself is kept by the ``InfusionLedger``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from blina.domain.course_plan import CoursePlan, PremedicationDose
from blina.domain.errors import InvalidInput
from blina.domain.modifications import Action, ActionKind, ModificationRules, decide
from blina.domain.replanning import interruption_rules, restart_rules
from blina.domain.replanning.decisions import CourseStatus, Decision, DecisionKind, Replan
from blina.domain.replanning.events import (
    Discontinuation,
    Event,
    Hang,
    Interruption,
    Restart,
    check_aware,
    check_events,
    check_hangs,
    in_utc,
)
from blina.domain.replanning.ledger import DAY, Cap, CycleRun, InfusionLedger
from blina.domain.units import McgPerDay

__all__ = ["Ended", "Infusing", "Interrupted", "Phase", "Replay", "TreatmentFree", "replan"]

_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Infusing:
    """The current cycle infuses from the replay's clock."""


@dataclass(frozen=True, slots=True)
class Interrupted:
    """Stopped by ``interruption``; ``action`` is the label's answer, which the restart
    follows."""

    interruption: Interruption
    action: Action


@dataclass(frozen=True, slots=True)
class TreatmentFree:
    """Between cycles; ``all_given`` when no cycle is left to start."""

    all_given: bool


@dataclass(frozen=True, slots=True)
class Ended:
    """The course stopped at ``at``: ``discontinued`` (else completed, the label's new
    cycle having none left), ``by_log`` when the log's own discontinuation ended it."""

    at: datetime
    discontinued: bool
    by_log: bool = False


Phase = Infusing | Interrupted | TreatmentFree | Ended


def replan(
    plan: CoursePlan,
    events: Sequence[Event],
    *,
    rules: ModificationRules,
    now: datetime,
    hangs: Sequence[Hang] = (),
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
    hangs : when the course's bags were hung (any order); a late one moves the rest.

    Raises ``InvalidInput`` naming the event field for a naive or out-of-order time, an
    event before the first infusion, an interruption while none runs, a restart with
    no open interruption, or an event after a discontinuation.
    """
    check_aware("now", now)
    check_events(plan, events)
    check_hangs(hangs)
    replay = Replay(plan, rules, hangs)
    replay.run([in_utc(event) for event in events])
    return replay.result(now.astimezone(UTC))


class Replay:
    """One pass over the events. ``clock`` is the instant the replay has reached: an event
    before it is refused (a restart the label moved later sets it past the logged one)."""

    def __init__(
        self, plan: CoursePlan, rules: ModificationRules, hangs: Sequence[Hang] = ()
    ) -> None:
        self.plan = plan
        self.rules = rules
        self.hangs = sorted(
            (Hang(h.slot.astimezone(UTC), h.dose, h.at.astimezone(UTC)) for h in hangs),
            key=lambda h: (h.slot, h.at),
        )
        self.next_hang = 0
        self.ledger = InfusionLedger(plan)
        first = plan.cycles[0]
        self.ledger.start_cycle(first.infusion_start, first.start, None)
        self.clock = first.infusion_start
        self.phase: Phase = Infusing()
        self.history: list[Interruption] = []
        self.decisions: list[Decision] = []

    def run(self, events: Sequence[Event]) -> None:
        for index, event in enumerate(events):
            if event.at < self.clock:
                raise InvalidInput(
                    f"events[{index}].at",
                    event.at.isoformat(),
                    f"on or after {self.clock.isoformat()}, the earliest restart the label allows",
                )
            self.apply(index, event)
        if isinstance(self.phase, Infusing):
            self._infuse_until(None)

    def apply(self, index: int, event: Event) -> None:
        """The transition ``event`` drives from the current phase."""
        where = f"events[{index}]"
        if isinstance(self.phase, Ended):
            self._after_end(where, event, self.phase)
            return
        if isinstance(self.phase, Infusing):
            self._infuse_until(event.at)
        phase = self.phase
        if isinstance(event, Discontinuation):
            if isinstance(phase, TreatmentFree):
                self.ledger.end_treatment_free_at(event.at)
            self._end(interruption_rules.discontinued_by_log(event), by_log=True)
            self.clock = event.at
        elif isinstance(phase, TreatmentFree):
            run = self.ledger.current
            raise InvalidInput(
                f"{where}.at",
                event.at.isoformat(),
                f"while an infusion runs: cycle {run.spec.number}'s infusion ended "
                f"{run.infusion_end.isoformat()} and no later cycle has started (record a "
                "discontinue event to stop the course)",
            )
        elif isinstance(event, Interruption):
            if isinstance(phase, Interrupted):
                raise InvalidInput(
                    f"{where}.kind",
                    "interrupt",
                    "restart or discontinue: the infusion is already interrupted",
                )
            self._interrupt(event)
            self.clock = event.at
        elif isinstance(phase, Interrupted):
            self.clock = self._restart(where, event, phase)
        else:
            raise InvalidInput(
                f"{where}.kind", "restart", "after an interrupt: no interruption is open"
            )

    # --- the transitions ----------------------------------------------------------------------

    def _infuse_until(self, until: datetime | None) -> None:
        """Infusing -> (time passes) -> infusing, or treatment-free once a cycle's infusion
        is complete and the next has not begun by ``until`` (None: to the end)."""
        ledger = self.ledger
        while True:
            done_at = self.clock + ledger.current.remaining
            late = self._late_hang(done_at if until is None else min(until, done_at))
            if late is not None:
                if self._stand_still(*late, until):
                    return
                continue
            if until is not None and until < done_at:
                self._infuse(until)
                return
            self._infuse(done_at)
            ledger.complete_cycle()
            if not ledger.cycles_left:
                self.phase = TreatmentFree(all_given=True)
                self.clock = done_at if until is None else until
                return
            start, begins = ledger.next_cycle_start()
            if until is not None and until < begins:
                self.phase = TreatmentFree(all_given=False)
                self.clock = until
                return
            ledger.start_cycle(begins, start, None)
            self.clock = begins

    def _late_hang(self, stop: datetime) -> tuple[datetime, Hang] | None:
        """The next bag due before ``stop`` that was hung after its time (at least a
        minute: times are written to the minute), with the instant it was due."""
        while self.next_hang < len(self.hangs):
            hang = self.hangs[self.next_hang]
            due = hang.slot + self.ledger.shift
            if due >= stop:
                return None
            self.next_hang += 1
            if due >= self.clock and hang.at - due >= _MINUTE:
                return due, hang
        return None

    def _stand_still(self, due: datetime, hang: Hang, until: datetime | None) -> bool:
        """Infusing -> (no bag from ``due`` until the hang, or until the next event) ->
        infusing. Returns True when the next event came first."""
        self._infuse(due)
        ledger = self.ledger
        run = ledger.current
        if not ledger.at_bag_change() or ledger.effective(run) != hang.dose:
            return False  # not a bag of the current layout: it says nothing of a pause
        resume = hang.at if until is None else min(hang.at, until)
        delay = resume - due
        interruptions = self.rules.interruptions
        if delay > interruptions.same_cycle_max_days * DAY:
            self.decisions.append(restart_rules.long_pause(delay, due, interruptions))
            return False
        ledger.pause(delay)
        self.clock = resume
        self.decisions.append(restart_rules.stood_still(delay, due, run, interruptions))
        if delay >= timedelta(hours=interruptions.restart_care_min_hours):
            self._restart_care(delay, resume, run, None)
        return resume != hang.at

    def _infuse(self, until: datetime) -> None:
        steps = self.ledger.infuse(self.clock, until)
        self.decisions.extend(restart_rules.stepped_up(step) for step in steps)
        self.clock = until

    def _interrupt(self, event: Interruption) -> None:
        """Infusing -> interrupted, or ended when the label discontinues."""
        self.ledger.new_segment()
        plan = self.plan
        state = interruption_rules.onset_state(
            event, self.history, plan.body, plan.regimen, self.ledger.dose
        )
        self.history.append(event)
        action = decide(reaction=event.cause, grade=event.grade, state=state, rules=self.rules)
        decision = interruption_rules.interruption_decision(event, action)
        if action.kind is ActionKind.DISCONTINUE:
            self._end(decision)
            return
        self.decisions.append(decision)
        self.phase = Interrupted(event, action)

    def _restart(self, where: str, event: Restart, phase: Interrupted) -> datetime:
        """Interrupted -> infusing (the same cycle or a new one), or ended; returns the
        instant the replay reaches."""
        interruption, action = phase.interruption, phase.action
        resolved = event.resolved_at
        if resolved is not None and not interruption.at <= resolved <= event.at:
            raise InvalidInput(
                f"{where}.resolved_at",
                resolved.isoformat(),
                f"between the interruption ({interruption.at.isoformat()}) and the restart "
                f"({event.at.isoformat()})",
            )
        took, assumed = interruption_rules.resolution_time(interruption, action, event)
        refused = interruption_rules.too_long(interruption, action, took, event.at, assumed)
        if refused is not None:
            discontinue, refuse = refused
            self._end(discontinue)
            self.decisions.append(refuse)
            return event.at
        self._note(interruption_rules.older_limit(interruption, action, took, event.at))
        at, moved = restart_rules.earliest_restart(event, interruption, action)
        self._note(moved)
        self.phase = Infusing()
        pause = at - interruption.at
        if pause <= self.rules.interruptions.same_cycle_max_days * DAY:
            self._restart_same_cycle(event, action, pause, at)
        else:
            self._restart_new_cycle(event, action, pause, at)
        self.ledger.restart()
        return at

    def _restart_same_cycle(
        self, event: Restart, action: Action, pause: timedelta, at: datetime
    ) -> None:
        ledger = self.ledger
        run = ledger.current
        self.decisions.append(restart_rules.same_cycle(pause, at, run, self.rules.interruptions))
        prior = None if ledger.cap_expired() else ledger.cap
        self._restart_at_dose(event, action, run.dose_at(run.infused), prior, at)
        self._restart_care(pause, at, run, None)

    def _restart_new_cycle(
        self, event: Restart, action: Action, pause: timedelta, at: datetime
    ) -> None:
        """A new cycle starts at the restart (or, with none left, the course ends)."""
        ledger = self.ledger
        interruptions = self.rules.interruptions
        repeat = restart_rules.step_up_not_reached(ledger.current)
        ledger.end_cycle_before(at)
        if not ledger.cycles_left:
            self._end(restart_rules.course_ends(pause, at, ledger.current, interruptions))
            return
        ledger.cap = None
        cycle_premedication = ledger.start_cycle(at, at.astimezone(self.plan.zone).date(), pause)
        run = ledger.current
        self.decisions.append(restart_rules.new_cycle(pause, at, run, interruptions))
        base = run.doses[0]
        if repeat is not None:
            source = self.plan.regimen.source
            self.decisions.append(restart_rules.step_up_offer(repeat, base, at, source))
            chosen = event.dose is not None and event.dose == repeat.first != base
            if chosen and action.restart_dose is None:  # no rule of its own applies
                ledger.cap, decision = restart_rules.repeated_step_up(
                    repeat, base, at, ledger.total, source
                )
                self.decisions.append(decision)
                run.repeats = repeat.cycle
                again = restart_rules.repeated_cycle_premedication(
                    run, at, self.plan.regimen, self.plan.body
                )
                ledger.premedication.extend(again)
                self._restart_care(pause, at, run, [*cycle_premedication, *again])
                return
        self._restart_at_dose(event, action, base, None, at)
        self._restart_care(pause, at, run, cycle_premedication)

    def _restart_at_dose(
        self,
        event: Restart,
        action: Action,
        base: McgPerDay,
        prior: Cap | None,
        at: datetime,
    ) -> None:
        ledger = self.ledger
        run = ledger.current
        boundary = run.next_boundary(run.infused)
        ledger.cap, decision = restart_rules.restart_dose(
            event.dose,
            action,
            base,
            prior,
            at=at,
            total=ledger.total,
            next_step=None if boundary is None else ledger.total + (boundary - run.infused),
        )
        self.decisions.append(decision)

    def _restart_care(
        self,
        pause: timedelta,
        at: datetime,
        run: CycleRun,
        cycle_premedication: list[PremedicationDose] | None,
    ) -> None:
        doses, decisions = restart_rules.restart_care(
            pause,
            at,
            run.premedicated_as,
            cycle_premedication,
            regimen=self.plan.regimen,
            body=self.plan.body,
            rules=self.rules.interruptions,
        )
        self.ledger.premedication.extend(doses)
        self.decisions.extend(decisions)

    def _end(self, decision: Decision, *, by_log: bool = False) -> None:
        """Any phase -> ended, at the decision's instant."""
        self.phase = Ended(decision.at, decision.action is not DecisionKind.END_COURSE, by_log)
        self.decisions.append(decision)

    def _after_end(self, where: str, event: Event, phase: Ended) -> None:
        if phase.by_log:
            raise InvalidInput(
                f"{where}.kind",
                type(event).__name__.lower(),
                f"no event after the discontinuation at {phase.at.isoformat()}",
            )
        self.decisions.append(
            interruption_rules.not_applied(event, phase.at, self.rules.interruptions)
        )

    def _note(self, decision: Decision | None) -> None:
        if decision is not None:
            self.decisions.append(decision)

    # --- the result ---------------------------------------------------------------------------

    def result(self, now: datetime) -> Replan:
        """The course at ``now``: an interruption still open may have outlasted its rule
        (ended) or be past the same-cycle limit (the step-up offered)."""
        phase = self.phase
        if isinstance(phase, Interrupted):
            self._still_open(phase, now)
        phase = self.phase
        if isinstance(phase, Interrupted):
            self.ledger.close(phase.interruption.at)
        elif isinstance(phase, Ended):
            self.ledger.close(phase.at)
        decisions = sorted(self.decisions, key=lambda d: d.at)
        discontinued_at = phase.at if isinstance(phase, Ended) and phase.discontinued else None
        return Replan(self.ledger.as_plan(), tuple(decisions), self._status(now), discontinued_at)

    def _status(self, now: datetime) -> CourseStatus:
        """Ended as its phase says; completed once every cycle is given and ``now`` is past
        the last infusion; else active."""
        phase = self.phase
        if isinstance(phase, Ended):
            return CourseStatus.DISCONTINUED if phase.discontinued else CourseStatus.COMPLETED
        given = isinstance(phase, TreatmentFree) and phase.all_given
        if given and now >= self.ledger.current.infusion_end:
            return CourseStatus.COMPLETED
        return CourseStatus.ACTIVE

    def _still_open(self, phase: Interrupted, now: datetime) -> None:
        interruption, action = phase.interruption, phase.action
        ended = interruption_rules.open_too_long(interruption, action, now)
        if ended is not None:
            self._end(ended)
            return
        self._note(
            restart_rules.offer_while_open(
                interruption,
                now,
                self.rules.interruptions,
                restart_rules.step_up_not_reached(self.ledger.current),
                self.ledger.next_first_dose(),
                self.plan.regimen.source,
            )
        )
