"""A course plan: its types, and the builders that lay one out day by day.

The planner (``planning.plan_course``) and the re-planner (``blina.domain.replanning``)
both produce a ``CoursePlan``, from the same pieces of infusion (``Piece``: start, end,
dose) with the same builders (``lay_bags``, ``cycle_spans``, ``premedication_dose``,
``precautions``), so a re-planned course reads exactly like a planned one.

Calendar days are ``date`` in the clinic's zone; instants (infusion start, bag changes,
premedication) are aware datetimes. Elapsed durations (a 24-h bag, 7 days of step-up
dosing) are added in UTC and only then shown in the clinic's zone, so a daylight-saving
change never makes a bag 23 or 25 hours long.

A plan is held as *spans* (runs of consecutive days with the same cycle, dose, infusion
and hospital status) plus its events (bags, premedication, step-ups). ``CoursePlan.days``
expands them into one ``PlanDay`` per calendar day the first time it is read. Planning a
whole course is then a few dozen objects, not hundreds (see benches/bench_plan.py).
"""

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import NamedTuple
from zoneinfo import ZoneInfo

from blina.domain.body import BodySize
from blina.domain.errors import InvalidInput
from blina.domain.regimens import (
    BagOption,
    DoseStep,
    MonitoringWhen,
    PremedicationRule,
    Regimen,
    SourcedNote,
)
from blina.domain.units import McgPerDay, Mg

__all__ = [
    "Bag",
    "CoursePlan",
    "DoseBasis",
    "Piece",
    "PlanDay",
    "PlannedCycle",
    "Precaution",
    "PremedicationDose",
    "Span",
    "cycle_spans",
    "gap_span",
    "lay_bags",
    "precautions",
    "premedication_dose",
    "step_dose",
]

_DAY = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)
_MICROSECONDS_PER_HOUR = Decimal(3_600_000_000)
_ZERO_DOSE = McgPerDay(Decimal(0))


class DoseBasis(StrEnum):
    """How the daily dose is found: a fixed dose at or above the weight threshold, else per m2."""

    FIXED = "fixed"
    BSA = "bsa"


@dataclass(frozen=True, slots=True)
class PremedicationDose:
    """A premedication ``due`` at an instant, before the blinatumomab dose starting at ``before``.

    A plan lists it on the day of ``before``: a dose due late the evening before still
    belongs to the next day's start.
    """

    drug: str
    dose: Mg
    route: str
    due: datetime
    before: datetime
    timing: str
    reason: str
    alternative: str | None
    source: str


class Bag(NamedTuple):
    """One infusion bag, hung at ``start`` and replaced or stopped at ``end`` (both UTC).

    ``shift`` is how much later than first laid out the bag now starts because bags
    before it were hung late (since the last restart or cycle start); ``key``, its start
    less that shift, is the bag's identity: a bag prepared before a late hang still
    belongs to the slot that moved."""

    cycle: int
    start: datetime
    end: datetime
    dose: McgPerDay
    shift: timedelta = timedelta(0)

    @property
    def key(self) -> datetime:
        return self.start - self.shift

    @property
    def hours(self) -> Decimal:
        return Decimal((self.end - self.start) // _MICROSECOND) / _MICROSECONDS_PER_HOUR


class PlanDay(NamedTuple):
    """One calendar day of the plan (a NamedTuple: a course has hundreds of them)."""

    date: date
    cycle: int | None
    phase: str | None
    cycle_day: int | None
    dose: McgPerDay
    infusing: bool
    inpatient: bool
    step_up: bool
    premedication: tuple[PremedicationDose, ...]
    bag_changes: tuple[datetime, ...]
    monitoring: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Span:
    """Consecutive days ``first``..``last`` that share cycle, dose, infusion and hospital status.

    ``cycle`` is None for days between cycles (a later cycle started after its earliest date).
    """

    first: date
    last: date
    cycle: int | None
    phase: str | None
    first_cycle_day: int | None
    dose: McgPerDay
    infusing: bool
    inpatient: bool

    @property
    def length_days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True, slots=True)
class PlannedCycle:
    number: int
    phase: str
    start: date
    infusion_start: datetime
    infusion_end: datetime
    last_infusion_day: date
    end: date
    inpatient_days: int


@dataclass(frozen=True, slots=True)
class Precaution:
    kind: str
    description: str
    until: datetime | None
    note: str | None
    source: str


@dataclass(frozen=True)
class CoursePlan:
    """A planned course. Frozen; ``days`` is derived from the spans and events once."""

    regimen: Regimen
    body: BodySize
    dose_basis: DoseBasis
    bag: BagOption
    zone: ZoneInfo
    cycles: tuple[PlannedCycle, ...]
    spans: tuple[Span, ...]
    bags: tuple[Bag, ...]
    premedication: tuple[PremedicationDose, ...]
    step_ups: tuple[datetime, ...]
    precautions: tuple[Precaution, ...]
    warnings: tuple[str, ...]

    @property
    def notes(self) -> tuple[SourcedNote, ...]:
        return self.regimen.notes

    @property
    def first_day(self) -> date:
        return self.spans[0].first

    @property
    def last_day(self) -> date:
        return self.spans[-1].last

    @property
    def infusion_days(self) -> int:
        return sum(span.length_days for span in self.spans if span.infusing)

    @cached_property
    def days(self) -> tuple[PlanDay, ...]:
        return _expand_days(self)

    def day(self, when: date) -> PlanDay:
        """The plan for one calendar day."""
        index = (when - self.first_day).days
        if not 0 <= index < len(self.days):
            raise InvalidInput(
                "date", when, f"within the plan, {self.first_day} to {self.last_day}"
            )
        return self.days[index]


# --- the builders (planning and re-planning lay out a course with them) -----------------

Piece = tuple[datetime, datetime, McgPerDay]
"""An uninterrupted stretch of infusion at one dose: start, end (UTC) and the dose."""


def step_dose(step: DoseStep, body: BodySize, basis: DoseBasis) -> McgPerDay:
    """The daily dose a regimen step gives this patient: fixed, or per m2 of BSA capped."""
    if basis is DoseBasis.FIXED or body.bsa is None:
        return step.fixed
    return (step.per_m2 * body.bsa).capped_at(step.cap)


def premedication_dose(
    rule: PremedicationRule, body: BodySize, dose_start: datetime, reason: str
) -> PremedicationDose:
    """The premedication ``rule`` gives before ``dose_start``: a fixed dose, or per m2 of
    BSA never above the rule's maximum."""
    if rule.dose is not None:
        dose = rule.dose
    else:
        assert rule.dose_per_m2 is not None
        assert body.bsa is not None
        dose = rule.dose_per_m2 * body.bsa
        if rule.max_dose is not None:
            dose = dose.capped_at(rule.max_dose)
    return PremedicationDose(
        drug=rule.drug,
        dose=dose,
        route=rule.route,
        due=dose_start - timedelta(minutes=rule.minutes_before),
        before=dose_start,
        timing=rule.timing,
        reason=reason,
        alternative=rule.alternative,
        source=rule.source,
    )


def lay_bags(
    cycle: int, pieces: Iterable[Piece], bag_hours: int, shift: timedelta = timedelta(0)
) -> list[Bag]:
    """Bags of ``bag_hours`` from the start of each piece; the last bag of a piece stops at
    its end (a dose change, an interruption or the end of the cycle's infusion) and may
    be shorter. ``shift``: see ``Bag``."""
    length = timedelta(hours=bag_hours)
    bags = []
    for start, end, dose in pieces:
        hung = start
        while hung < end:
            removed = min(hung + length, end)
            bags.append(Bag(cycle, hung, removed, dose, shift))
            hung = removed
    return bags


def cycle_spans(cycle: PlannedCycle, pieces: Sequence[Piece]) -> list[Span]:
    """The cycle's calendar days grouped into spans. Day ``i`` of the cycle is the 24-h
    window from the cycle's infusion start plus ``i`` days: it infuses if any piece
    overlaps it, at the highest dose among them; the first ``inpatient_days`` are in
    hospital."""
    count = (cycle.end - cycle.start).days + 1
    doses: list[McgPerDay | None] = [None] * count
    origin = cycle.infusion_start
    for start, end, dose in pieces:
        first = (start - origin) // _DAY
        last = -(-(end - origin) // _DAY) - 1
        for index in range(first, min(last, count - 1) + 1):
            current = doses[index]
            if current is None or dose.value > current.value:
                doses[index] = dose
    spans: list[Span] = []
    for key, group in itertools.groupby(
        range(count), key=lambda i: (doses[i], i < cycle.inpatient_days)
    ):
        days = list(group)
        dose, inpatient = key
        spans.append(
            Span(
                first=cycle.start + days[0] * _DAY,
                last=cycle.start + days[-1] * _DAY,
                cycle=cycle.number,
                phase=cycle.phase,
                first_cycle_day=days[0] + 1,
                dose=_ZERO_DOSE if dose is None else dose,
                infusing=dose is not None,
                inpatient=inpatient,
            )
        )
    return spans


def gap_span(first: date, last: date) -> Span:
    """Days between cycles when a later cycle starts after its earliest date."""
    return Span(first, last, None, None, None, _ZERO_DOSE, False, False)


def precautions(
    regimen: Regimen, last_infusion_end: datetime, zone: ZoneInfo
) -> tuple[Precaution, ...]:
    """The regimen's precautions, those that last beyond the infusion dated from its end."""
    return tuple(
        Precaution(
            kind=rule.kind,
            description=rule.description,
            until=None
            if rule.hours_after_last_infusion is None
            else (last_infusion_end + timedelta(hours=rule.hours_after_last_infusion)).astimezone(
                zone
            ),
            note=rule.note,
            source=rule.source,
        )
        for rule in regimen.precautions
    )


def _expand_days(plan: CoursePlan) -> tuple[PlanDay, ...]:
    zone = plan.zone
    changes: defaultdict[date, list[datetime]] = defaultdict(list)
    for bag in plan.bags:
        local = bag.start.astimezone(zone)
        changes[local.date()].append(local)
    premeds: defaultdict[date, list[PremedicationDose]] = defaultdict(list)
    for dose in plan.premedication:
        premeds[dose.before.astimezone(zone).date()].append(dose)
    step_up_days = {moment.astimezone(zone).date() for moment in plan.step_ups}
    on_infusion, cycle_start = _monitoring(plan)
    days: list[PlanDay] = []
    for span in plan.spans:
        for offset in range(span.length_days):
            when = span.first + offset * _DAY
            cycle_day = None if span.first_cycle_day is None else span.first_cycle_day + offset
            todo = on_infusion if span.infusing else ()
            if cycle_day == 1 and span.cycle is not None:
                todo = cycle_start[span.cycle]
            given = premeds.get(when)
            hung = changes.get(when)
            days.append(
                PlanDay(
                    when,
                    span.cycle,
                    span.phase,
                    cycle_day,
                    span.dose,
                    span.infusing,
                    span.inpatient,
                    when in step_up_days,
                    () if given is None else tuple(given),
                    () if hung is None else tuple(hung),
                    todo,
                )
            )
    return tuple(days)


def _monitoring(plan: CoursePlan) -> tuple[tuple[str, ...], dict[int, tuple[str, ...]]]:
    """Monitoring due on any infusing day, and on day 1 of each cycle (by cycle number)."""
    regimen = plan.regimen
    found: dict[MonitoringWhen, list[str]] = {when: [] for when in MonitoringWhen}
    for rule in regimen.monitoring:
        if rule.age_group not in (None, plan.body.age_group):
            continue
        if rule.when is MonitoringWhen.PRESERVATIVE_BAG_DAY and not plan.bag.preservative:
            continue
        found[rule.when].append(f"{rule.what} ({rule.source})")
    on_infusion = (*found[MonitoringWhen.INFUSING_DAY], *found[MonitoringWhen.PRESERVATIVE_BAG_DAY])
    supervision = f"{regimen.supervision.text} ({regimen.supervision.source})"
    cycle_start = {
        cycle.number: (
            *(found[MonitoringWhen.COURSE_START] if cycle.number == plan.cycles[0].number else ()),
            *found[MonitoringWhen.CYCLE_START],
            *((supervision,) if cycle.inpatient_days == 0 else ()),
            *on_infusion,
        )
        for cycle in plan.cycles
    }
    return on_infusion, cycle_start
