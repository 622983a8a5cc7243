"""A course as the exposure model's input: infusion segments, flush boluses, and the
events worth marking on a concentration curve.

Three sources, one shape (``CourseInputs``): the plan (or the plan re-planned through
its event log: its bags already stop at an interruption and resume at the restart's
dose), or the delivered-dose record (each hung bag from its hang to its removal time,
less the time the log says the infusion was stopped; ``course_state.delivered_pieces``).
A flush is a bolus of the line's volume times the bag's concentration (pkpd.md §4.5).
Bag changes with no flush and no gap are invisible to the model (pkpd.md §4.1) but are
marked on the picture.

Times become hours from an origin: the first infusion's start unless the caller gives one.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from blina.domain.course_plan import CoursePlan, DoseBasis
from blina.domain.course_state import BagRecord, delivered_pieces
from blina.domain.errors import InvalidInput
from blina.domain.pk import Bolus, Infusion, PkInputs
from blina.domain.replanning.events import Event, Interruption, Restart
from blina.domain.units import McgPerDay

__all__ = [
    "CourseInputs",
    "Flush",
    "Mark",
    "MarkKind",
    "bag_concentration",
    "inputs_from_delivery",
    "inputs_from_plan",
    "with_flushes",
]

_HOURS_PER_DAY = Decimal(24)


class MarkKind(StrEnum):
    CYCLE_START = "cycle-start"
    STEP_UP = "step-up"
    BAG_CHANGE = "bag-change"
    INTERRUPTION = "interruption"
    RESTART = "restart"
    DISCONTINUATION = "discontinuation"
    FLUSH = "flush"


@dataclass(frozen=True, slots=True)
class Mark:
    """An event of the course at ``at_h`` hours from the origin, to show on the curve."""

    at_h: float
    kind: MarkKind
    text: str


@dataclass(frozen=True, slots=True)
class Flush:
    """The line flushed at ``at``: ``line_volume_ml`` of the bag's solution pushed in at
    once. ``concentration_mcg_per_ml`` is the bag's (``bag_concentration``)."""

    at: datetime
    line_volume_ml: Decimal
    concentration_mcg_per_ml: Decimal

    @property
    def dose_mcg(self) -> Decimal:
        return self.line_volume_ml * self.concentration_mcg_per_ml


def bag_concentration(*, dose: McgPerDay, pump_rate_ml_per_h: Decimal) -> Decimal:
    """A bag's drug concentration from its daily dose and the pump's rate: the pump
    delivers dose/24 mcg each hour in ``pump_rate_ml_per_h`` mL (pkpd.md §4.5: 28 mcg/day
    at 10 mL/h is 0.117 mcg/mL).

    >>> bag_concentration(dose=McgPerDay(Decimal(28)), pump_rate_ml_per_h=Decimal(10))
    Decimal('0.1166666666666666666666666667')
    """
    if not pump_rate_ml_per_h.is_finite() or pump_rate_ml_per_h <= 0:
        raise InvalidInput("pump_rate_ml_per_h", pump_rate_ml_per_h, "> 0 mL/h")
    return dose.value / _HOURS_PER_DAY / pump_rate_ml_per_h


@dataclass(frozen=True, slots=True)
class CourseInputs:
    """The model's input for a course, its origin (hour 0) and the marks to draw."""

    origin: datetime
    inputs: PkInputs
    marks: tuple[Mark, ...]

    def hours(self, when: datetime) -> float:
        return (when - self.origin).total_seconds() / 3600.0

    @property
    def interruptions_h(self) -> tuple[float, ...]:
        """When the log says the infusion was interrupted (``exposure``'s stops)."""
        return tuple(m.at_h for m in self.marks if m.kind is MarkKind.INTERRUPTION)


Piece = tuple[datetime, datetime, McgPerDay]


def inputs_from_plan(
    plan: CoursePlan,
    *,
    events: Sequence[Event] = (),
    flushes: Sequence[Flush] = (),
    origin: datetime | None = None,
) -> CourseInputs:
    """The planned (or re-planned) course: one segment per run of bags that follow one
    another at one dose (a bag change is invisible to the model; it stays a mark).

    Pass the re-plan's plan with the ``events`` it was re-planned through; they are
    marked. A dose per m2 keeps its per-m2 rate and cap so that a virtual population
    scales it with each patient's BSA (``Infusion.per_m2_ug_per_h``).
    """
    _check_flushes(flushes)
    pieces = [(bag.start, bag.end, bag.dose) for bag in plan.bags]
    zero = _origin(origin, pieces, flushes)
    scale = _per_m2_scale(plan)
    runs: list[tuple[datetime, datetime, McgPerDay, McgPerDay | None]] = []
    for start, end, dose in pieces:
        cap = None if scale is None else _cap(plan, start)
        if runs and runs[-1][1] == start and runs[-1][2] == dose and runs[-1][3] == cap:
            runs[-1] = (runs[-1][0], end, dose, cap)
        else:
            runs.append((start, end, dose, cap))
    infusions = tuple(
        _infusion(zero, start, end, dose, scale, cap) for start, end, dose, cap in runs
    )
    starts = {cycle.infusion_start for cycle in plan.cycles}
    marks = [*_bag_marks(zero, pieces, starts), *_event_marks(zero, events)]
    marks += [Mark(_hours(zero, moment), MarkKind.STEP_UP, "step-up") for moment in plan.step_ups]
    return with_flushes(_assemble(zero, infusions, marks), flushes)


def inputs_from_delivery(
    bags: Sequence[BagRecord],
    *,
    events: Sequence[Event],
    now: datetime,
    flushes: Sequence[Flush] = (),
    origin: datetime | None = None,
) -> CourseInputs:
    """What the hung bags delivered up to ``now``: each from its hang to its removal time
    (or ``now``), less the stops the log records; hang times are marked as bag changes."""
    _check_flushes(flushes)
    pieces = delivered_pieces(bags, events, now)
    zero = _origin(origin, pieces, flushes)
    infusions = tuple(
        _infusion(zero, start, end, dose, None, None) for start, end, dose in sorted(pieces)
    )
    hung = sorted(bag.hung_at for bag in bags if bag.hung_at is not None and bag.hung_at < now)
    marks = [Mark(_hours(zero, at), MarkKind.BAG_CHANGE, "bag hung") for at in hung]
    return with_flushes(_assemble(zero, infusions, [*marks, *_event_marks(zero, events)]), flushes)


def _origin(origin: datetime | None, pieces: Sequence[Piece], flushes: Sequence[Flush]) -> datetime:
    if origin is not None:
        _aware("origin", origin)
        return origin
    starts = [piece[0] for piece in pieces] + [flush.at for flush in flushes]
    if not starts:
        raise InvalidInput("course", "(no infusion)", "a course with at least one infusion")
    return min(starts)


def _aware(field: str, when: datetime) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise InvalidInput(field, when.isoformat(), "a date-time with a UTC offset")


def _hours(origin: datetime, when: datetime) -> float:
    return (when - origin).total_seconds() / 3600.0


def _per_m2_scale(plan: CoursePlan) -> Decimal | None:
    """1/BSA for a plan dosed per m2 (the planned dose is per m2 x BSA), else None."""
    if plan.dose_basis is not DoseBasis.BSA or plan.body.bsa is None:
        return None
    return 1 / plan.body.bsa.value


def _cap(plan: CoursePlan, start: datetime) -> McgPerDay | None:
    """The regimen's cap for the dose step of the cycle running at ``start``: the step of
    the cycle day (the last step once a re-planned cycle runs past its labelled days)."""
    cycle = next(c for c in reversed(plan.cycles) if c.infusion_start <= start)
    steps = plan.regimen.cycles[cycle.number - 1].steps
    day = int((start - cycle.infusion_start).total_seconds() // 86400) + 1
    step = next((s for s in steps if s.first_day <= day <= s.last_day), steps[-1])
    return step.cap


def _infusion(
    origin: datetime,
    start: datetime,
    end: datetime,
    dose: McgPerDay,
    per_m2_scale: Decimal | None,
    cap: McgPerDay | None,
) -> Infusion:
    rate = dose.value / _HOURS_PER_DAY
    return Infusion(
        start_h=_hours(origin, start),
        end_h=_hours(origin, end),
        rate_ug_per_h=float(rate),
        per_m2_ug_per_h=None if per_m2_scale is None else float(rate * per_m2_scale),
        cap_ug_per_h=None if cap is None else float(cap.value / _HOURS_PER_DAY),
    )


def _bag_marks(
    origin: datetime, pieces: Sequence[Piece], cycle_starts: set[datetime]
) -> list[Mark]:
    """A cycle's first bag marks its start; every other bag is a bag change (the one
    hung at a restart too: the restart has its own mark)."""
    return [
        Mark(_hours(origin, start), MarkKind.CYCLE_START, "cycle start")
        if start in cycle_starts
        else Mark(_hours(origin, start), MarkKind.BAG_CHANGE, "bag change")
        for start, _, _ in pieces
    ]


def _event_marks(origin: datetime, events: Iterable[Event]) -> list[Mark]:
    marks = []
    for event in events:
        if isinstance(event, Interruption):
            text = f"interruption ({event.cause} grade {event.grade})"
            marks.append(Mark(_hours(origin, event.at), MarkKind.INTERRUPTION, text))
        elif isinstance(event, Restart):
            marks.append(Mark(_hours(origin, event.at), MarkKind.RESTART, "restart"))
        else:
            marks.append(Mark(_hours(origin, event.at), MarkKind.DISCONTINUATION, "stopped"))
    return marks


def _check_flushes(flushes: Sequence[Flush]) -> None:
    for index, flush in enumerate(flushes):
        _aware(f"flushes[{index}].at", flush.at)
        if not flush.line_volume_ml.is_finite() or flush.line_volume_ml < 0:
            raise InvalidInput(f"flushes[{index}].line_volume_ml", flush.line_volume_ml, ">= 0 mL")
        concentration = flush.concentration_mcg_per_ml
        if not concentration.is_finite() or concentration < 0:
            raise InvalidInput(
                f"flushes[{index}].concentration_mcg_per_ml", concentration, ">= 0 mcg/mL"
            )


def _assemble(origin: datetime, infusions: tuple[Infusion, ...], marks: list[Mark]) -> CourseInputs:
    return CourseInputs(origin, PkInputs(infusions), tuple(_ordered(marks)))


def _ordered(marks: Iterable[Mark]) -> list[Mark]:
    return sorted(marks, key=lambda mark: (mark.at_h, mark.kind))


def with_flushes(course: CourseInputs, flushes: Sequence[Flush]) -> CourseInputs:
    """``course`` with each flush as a bolus (line volume x bag concentration) and a mark.
    A caller that needs the running rate to find the bag's concentration builds the
    course first, reads ``course.inputs.rate_at``, then adds the flushes."""
    _check_flushes(flushes)
    boluses = [Bolus(course.hours(f.at), float(f.dose_mcg)) for f in flushes]
    marks = [
        Mark(course.hours(f.at), MarkKind.FLUSH, f"flush {f.line_volume_ml} mL") for f in flushes
    ]
    return CourseInputs(
        course.origin,
        PkInputs(course.inputs.infusions, (*course.inputs.boluses, *boluses)),
        tuple(_ordered([*course.marks, *marks])),
    )
