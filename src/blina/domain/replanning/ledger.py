"""The infusion as the replay gives it, piece by piece, and the plan it makes.

The ledger knows how a course infuses, not why it stops: each cycle as given (its pieces
of infusion, at which dose, and how much of its labelled infusion time is done), the
regimen's steps within a cycle, and the ceiling a reduced restart holds the dose under
(``Cap``) until its step-up. It adds the premedication the regimen gives at a cycle's
first dose and at each step-up, and at the end lays the pieces out as a ``CoursePlan``
with the planner's builders. The replay (``replay.Replay``) moves it from event to event.
"""

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from blina.domain.course_plan import (
    Bag,
    CoursePlan,
    PlannedCycle,
    PremedicationDose,
    Span,
    cycle_spans,
    gap_span,
    lay_bags,
    precautions,
    premedication_dose,
    step_dose,
)
from blina.domain.modifications import Action
from blina.domain.regimens import CycleSpec, DoseStep, PremedTrigger
from blina.domain.replanning.decisions import duration_text
from blina.domain.units import McgPerDay

__all__ = ["DAY", "Cap", "CycleRun", "InfusionLedger", "StepUp"]

DAY = timedelta(days=1)
_ZERO = McgPerDay(Decimal(0))


@dataclass(slots=True)
class Cap:
    """A ceiling below the regimen's dose, until ``until`` of total infusion time (None: to
    the end of the cycle). ``action`` is the rule that set it and that steps it up."""

    dose: McgPerDay
    until: timedelta | None
    action: Action | None


@dataclass(slots=True)
class CycleRun:
    """One cycle as given: its infusion pieces (start, end, dose) in elapsed time, and
    for each piece the shift its bags carry (``Bag.shift``: late hangs since the cycle's
    start or the last restart).

    ``premedicated_as`` is the cycle whose premedication rules apply: its own, or the
    earlier cycle whose step-up it repeats (a child's premedication covers the first
    cycle only; the repeated step-up is the first cycle's again)."""

    spec: CycleSpec
    start: date
    infusion_start: datetime
    doses: tuple[McgPerDay, ...]
    segments: list[tuple[datetime, datetime, McgPerDay]] = field(default_factory=list)
    shifts: list[timedelta] = field(default_factory=list)
    infused: timedelta = timedelta(0)
    end: date | None = None
    repeats: int | None = None

    @property
    def premedicated_as(self) -> int:
        return self.spec.number if self.repeats is None else self.repeats

    @property
    def remaining(self) -> timedelta:
        return self.spec.infusion_days * DAY - self.infused

    @property
    def infusion_end(self) -> datetime:
        return self.segments[-1][1] if self.segments else self.infusion_start

    @property
    def last_infusion_day(self) -> date:
        windows = -(-(self.infusion_end - self.infusion_start) // DAY)
        return self.start + max(windows - 1, 0) * DAY

    @property
    def natural_end(self) -> date:
        return self.last_infusion_day + self.spec.treatment_free_days * DAY

    def dose_at(self, infused: timedelta) -> McgPerDay:
        """The regimen's dose after ``infused`` of this cycle's infusion."""
        for step, dose in zip(self.spec.steps[:-1], self.doses[:-1], strict=True):
            if infused < step.last_day * DAY:
                return dose
        return self.doses[-1]

    def next_boundary(self, infused: timedelta) -> timedelta | None:
        for step in self.spec.steps[1:]:
            boundary = (step.first_day - 1) * DAY
            if boundary > infused:
                return boundary
        return None

    def window_date(self, at: datetime) -> date:
        """The plan date of the infusion day (window from the cycle's start) holding ``at``."""
        return self.start + max((at - self.infusion_start) // DAY, 0) * DAY


class StepUp(NamedTuple):
    """A restart's cap ran out at ``at`` and the dose rose from ``before`` to ``after``
    under the rule (``action``) that set it."""

    at: datetime
    action: Action
    before: McgPerDay
    after: McgPerDay


class InfusionLedger:
    """Every piece infused so far, cycle by cycle.

    ``total`` is the infusion time given over the whole course (a cap's end is counted
    in it); ``dose`` the dose of the last piece (the dose at onset of a reaction);
    ``split`` says the next piece starts a new bag segment (after a stop, a new cycle, a
    restart or a dose change) rather than lengthening the last one; ``shift`` is the time
    the infusion stood still between bags (late hangs) since the current cycle's start or
    the last restart, which the bags laid from now on carry.
    """

    def __init__(self, plan: CoursePlan) -> None:
        self.plan = plan
        self.body = plan.body
        self.zone = plan.zone
        self.specs = plan.regimen.cycles[: len(plan.cycles)]
        # Days the plan put between a cycle's end and the next start (chemotherapy blocks,
        # later starts): kept when an interruption shifts the course.
        self.gaps = [timedelta(0)] + [
            later.start - earlier.end - DAY for earlier, later in itertools.pairwise(plan.cycles)
        ]
        self.start_time = plan.cycles[0].infusion_start.astimezone(plan.zone).time()
        self.runs: list[CycleRun] = []
        self.premedication: list[PremedicationDose] = []
        self.step_ups: list[datetime] = []
        self.total = timedelta(0)
        self.cap: Cap | None = None
        self.split = True
        self.shift = timedelta(0)
        self.dose = _ZERO

    @property
    def current(self) -> CycleRun:
        return self.runs[-1]

    @property
    def cycles_left(self) -> bool:
        return len(self.runs) < len(self.specs)

    def step_dose(self, step: DoseStep) -> McgPerDay:
        return step_dose(step, self.body, self.plan.dose_basis)

    def next_first_dose(self) -> McgPerDay | None:
        """The first dose of the cycle after the current one (None: no cycle is left)."""
        if not self.cycles_left:
            return None
        return self.step_dose(self.specs[len(self.runs)].steps[0])

    # --- cycles -------------------------------------------------------------------------------

    def start_cycle(
        self, begins: datetime, start: date, after_pause: timedelta | None
    ) -> list[PremedicationDose]:
        """Start the next cycle at ``begins``; returns its first-dose premedication."""
        spec = self.specs[len(self.runs)]
        run = CycleRun(spec, start, begins, tuple(self.step_dose(s) for s in spec.steps))
        self.runs.append(run)
        self.split = True
        self.shift = timedelta(0)
        reason = f"before the first dose of cycle {spec.number}"
        if after_pause is not None:
            reason += f" (a new cycle after an interruption of {duration_text(after_pause)})"
        doses = [
            premedication_dose(rule, self.body, begins, reason)
            for rule in self.plan.regimen.premedication
            if rule.applies(
                trigger=PremedTrigger.CYCLE_START, cycle=spec.number, age_group=self.body.age_group
            )
        ]
        self.premedication.extend(doses)
        return doses

    def next_cycle_start(self) -> tuple[date, datetime]:
        """When the next cycle starts after the current one's treatment-free days: its
        date and, at the course's clock time, its first infusion (UTC)."""
        start = self.current.natural_end + DAY + self.gaps[len(self.runs)]
        begins = datetime.combine(start, self.start_time, tzinfo=self.zone).astimezone(UTC)
        return start, begins

    def complete_cycle(self) -> None:
        """The current cycle's labelled infusion time is given: it ends after its
        treatment-free days, and no cap carries into the next cycle."""
        self.cap = None
        self.current.end = self.current.natural_end

    def end_cycle_before(self, at: datetime) -> None:
        """A new cycle starts at ``at``: the interrupted one ends the day before."""
        run = self.current
        run.end = max(run.last_infusion_day, at.astimezone(self.zone).date() - DAY)

    def end_treatment_free_at(self, at: datetime) -> None:
        """The course stops at ``at`` in a treatment-free interval: it ends there."""
        run = self.current
        assert run.end is not None
        run.end = max(run.last_infusion_day, min(run.end, at.astimezone(self.zone).date()))

    # --- infusing -----------------------------------------------------------------------------

    def new_segment(self) -> None:
        """The next piece starts a new bag segment: the infusion stopped or restarted."""
        self.split = True

    def restart(self) -> None:
        """The infusion restarts: a new bag segment, laid out afresh from the restart."""
        self.split = True
        self.shift = timedelta(0)

    def pause(self, delay: timedelta) -> None:
        """The infusion stood still ``delay`` before the next bag was hung: the next piece
        starts a new bag segment, and every bag from there is ``delay`` later."""
        self.split = True
        self.shift += delay

    def at_bag_change(self) -> bool:
        """Whether a bag is due to start at the replay's clock: the next piece starts a new
        segment, or the last segment has run a whole number of bags."""
        segments = self.current.segments
        if self.split or not segments:
            return True
        start, end, _ = segments[-1]
        return (end - start) % timedelta(hours=self.plan.bag.hours) == timedelta(0)

    def cap_expired(self) -> bool:
        cap = self.cap
        return cap is None or (cap.until is not None and self.total >= cap.until)

    def effective(self, run: CycleRun) -> McgPerDay:
        dose = run.dose_at(run.infused)
        cap = self.cap
        if cap is None or self.cap_expired() or dose.value <= cap.dose.value:
            return dose
        return cap.dose

    def infuse(self, start: datetime, end: datetime) -> list[StepUp]:
        """Infuse the current cycle from ``start`` to ``end``, in pieces cut at the
        regimen's steps and at a cap's end; returns the step-ups a cap's end made."""
        run = self.current
        clock = start
        stepped: list[StepUp] = []
        while clock < end:
            boundary = run.next_boundary(run.infused)
            piece_end = end
            if boundary is not None:
                piece_end = min(piece_end, clock + (boundary - run.infused))
            cap = self.cap
            if cap is not None and cap.until is not None and cap.until > self.total:
                piece_end = min(piece_end, clock + (cap.until - self.total))
            dose = self.effective(run)
            self._extend(run, clock, piece_end, dose)
            run.infused += piece_end - clock
            self.total += piece_end - clock
            clock = piece_end
            step = self._cross(run, clock, dose, boundary)
            if step is not None:
                stepped.append(step)
        return stepped

    def _cross(
        self, run: CycleRun, clock: datetime, before: McgPerDay, boundary: timedelta | None
    ) -> StepUp | None:
        """After a piece: a regimen step or the end of a cap may change the dose."""
        crossed_step = run.infused == boundary
        cap = self.cap
        stepped_by: Action | None = None
        if cap is not None and cap.until is not None and self.total >= cap.until:
            stepped_by = cap.action
            self.cap = None
        if not run.remaining:
            return None
        after = self.effective(run)
        ceiling = None if stepped_by is None else stepped_by.step_up_dose
        if ceiling is not None and ceiling.value < after.value:
            self.cap = Cap(ceiling, None, None)
            after = ceiling
        if (crossed_step and self.cap is None) or after.value > before.value:
            self._step_up(run, clock)
        elif after != before:
            self.split = True
        if stepped_by is not None and after.value > before.value:
            return StepUp(clock, stepped_by, before, after)
        return None

    def _step_up(self, run: CycleRun, clock: datetime) -> None:
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

    def _extend(self, run: CycleRun, start: datetime, end: datetime, dose: McgPerDay) -> None:
        segments = run.segments
        if not self.split and segments and segments[-1][1] == start and segments[-1][2] == dose:
            segments[-1] = (segments[-1][0], end, dose)
        else:
            segments.append((start, end, dose))
            run.shifts.append(self.shift)
        self.split = False
        self.dose = dose

    # --- the plan -----------------------------------------------------------------------------

    def close(self, stop: datetime) -> None:
        """The course stopped at ``stop`` in the current cycle's infusion: the cycle ends on
        the infusion day holding it (unless it already has its end)."""
        last = self.current
        if last.end is None:
            last.end = max(last.last_infusion_day, last.window_date(stop))

    def as_plan(self) -> CoursePlan:
        """The course as given, in the planner's format (``close`` first)."""
        plan = self.plan
        return CoursePlan(
            regimen=plan.regimen,
            body=plan.body,
            dose_basis=plan.dose_basis,
            bag=plan.bag,
            zone=plan.zone,
            cycles=tuple(self._planned(run) for run in self.runs),
            spans=tuple(self._spans()),
            bags=tuple(self._bags()),
            premedication=tuple(self.premedication),
            step_ups=tuple(self.step_ups),
            precautions=precautions(
                plan.regimen, max(run.infusion_end for run in self.runs), plan.zone
            ),
            warnings=plan.warnings,
        )

    def _planned(self, run: CycleRun) -> PlannedCycle:
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
        return [
            bag
            for run in self.runs
            for segment, shift in zip(run.segments, run.shifts, strict=True)
            for bag in lay_bags(run.spec.number, [segment], hours, shift)
        ]

    def _spans(self) -> list[Span]:
        spans: list[Span] = []
        for run in self.runs:
            if spans and run.start > spans[-1].last + DAY:
                spans.append(gap_span(spans[-1].last + DAY, run.start - DAY))
            spans.extend(cycle_spans(self._planned(run), run.segments))
        return spans
