"""Course planning: patient + regimen + start -> an immutable day-by-day plan.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from blina.domain.body import BodySize
from blina.domain.errors import InvalidInput
from blina.domain.regimens import (
    BagOption,
    CycleSpec,
    DoseStep,
    Evidence,
    MonitoringWhen,
    PremedicationRule,
    PremedTrigger,
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
    "plan_course",
    "premedication_dose",
    "zone_named",
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
    """One infusion bag, hung at ``start`` and replaced or stopped at ``end`` (both UTC)."""

    cycle: int
    start: datetime
    end: datetime
    dose: McgPerDay

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


def zone_named(name: str) -> ZoneInfo:
    """The clinic's time zone from its IANA name; anything else is bad input.

    >>> zone_named("Europe/Paris").key
    'Europe/Paris'
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("zone", name, "an IANA time zone name such as Europe/Paris") from None


def plan_course(
    *,
    regimen: Regimen,
    body: BodySize,
    start: date,
    bag_hours: int,
    zone: ZoneInfo,
    start_time: time = time(9, 0),
    cycles: int | None = None,
    cycle_starts: Mapping[int, date] | None = None,
) -> CoursePlan:
    """Plan the course day by day, from the first infusion to the end of the last cycle.

    Parameters
    ----------
    regimen : the labelled regimen (``blina.knowledge``).
    body : the measured patient; ``bsa`` is needed below the weight threshold and for
        premedication dosed per m2.
    start : the first infusion day; ``start_time`` the clock time the first bag is hung.
    bag_hours : the chosen bag duration; must be one the regimen allows for this weight.
    zone : the clinic's time zone.
    cycles : how many cycles to plan (default: the full labelled course).
    cycle_starts : explicit start dates for later cycles (cycle number -> date); never
        earlier than the end of the previous cycle's treatment-free interval.

    Raises ``InvalidInput`` for a cycle count, bag or date the label does not allow.
    """
    count = regimen.max_cycles if cycles is None else cycles
    if not 1 <= count <= regimen.max_cycles:
        raise InvalidInput("cycles", count, f">= 1 and <= {regimen.max_cycles} ({regimen.name})")
    bag = _check_bag(regimen, body, bag_hours)
    basis = _dose_basis(regimen, body)
    _check_premedication_inputs(regimen, body)
    specs = regimen.cycles[:count]
    starts = _cycle_start_dates(specs, start, cycle_starts or {})

    planned: list[PlannedCycle] = []
    spans: list[Span] = []
    bags: list[Bag] = []
    premedication: list[PremedicationDose] = []
    step_ups: list[datetime] = []
    for spec, cycle_start in zip(specs, starts, strict=True):
        cycle = _plan_cycle(spec, cycle_start, start_time, zone)
        if planned and cycle.start > planned[-1].end + _DAY:
            spans.append(gap_span(planned[-1].end + _DAY, cycle.start - _DAY))
        planned.append(cycle)
        doses = [_dose(step, body, basis) for step in spec.steps]
        pieces: list[Piece] = []
        for index, (step, dose) in enumerate(zip(spec.steps, doses, strict=True)):
            step_start = cycle.infusion_start + (step.first_day - 1) * _DAY
            trigger = PremedTrigger.CYCLE_START if index == 0 else PremedTrigger.STEP_UP
            if index > 0:
                step_ups.append(step_start)
            premedication.extend(
                _premedication(rule, body, step_start, trigger, spec.number)
                for rule in regimen.premedication
                if rule.applies(trigger=trigger, cycle=spec.number, age_group=body.age_group)
            )
            pieces.append((step_start, cycle.infusion_start + step.last_day * _DAY, dose))
        bags.extend(lay_bags(spec.number, pieces, bag_hours))
        spans.extend(cycle_spans(cycle, pieces))

    return CoursePlan(
        regimen=regimen,
        body=body,
        dose_basis=basis,
        bag=bag,
        zone=zone,
        cycles=tuple(planned),
        spans=tuple(spans),
        bags=tuple(bags),
        premedication=tuple(premedication),
        step_ups=tuple(step_ups),
        precautions=_precautions(regimen, planned[-1].infusion_end, zone),
        warnings=_warnings(regimen, body, bag),
    )


def _check_bag(regimen: Regimen, body: BodySize, bag_hours: int) -> BagOption:
    option = regimen.bag_option(bag_hours)
    allowed = ", ".join(str(b.hours) for b in regimen.bag_options)
    if option is None:
        raise InvalidInput("bag_hours", bag_hours, f"one of {allowed}")
    if option.min_weight is not None and body.weight.value < option.min_weight.value:
        fits = ", ".join(
            str(b.hours)
            for b in regimen.bag_options
            if b.min_weight is None or body.weight.value >= b.min_weight.value
        )
        raise InvalidInput(
            "bag_hours",
            bag_hours,
            f"one of {fits} at {body.weight}: bags with preservative are not recommended "
            f"below {option.min_weight} ({option.min_weight_source})",
        )
    return option


def _dose_basis(regimen: Regimen, body: BodySize) -> DoseBasis:
    if body.weight.value >= regimen.weight_threshold.value:
        return DoseBasis.FIXED
    if body.bsa is None:
        raise InvalidInput(
            "height_cm",
            "(missing)",
            f"given for a patient under {regimen.weight_threshold}: the dose is per m2 of body "
            f"surface area ({regimen.weight_threshold_source})",
        )
    return DoseBasis.BSA


def _check_premedication_inputs(regimen: Regimen, body: BodySize) -> None:
    per_m2 = any(
        r.dose_per_m2 is not None and r.age_group is body.age_group for r in regimen.premedication
    )
    if per_m2 and body.bsa is None:
        raise InvalidInput(
            "height_cm",
            "(missing)",
            f"given for a {body.age_group} patient: premedication is dosed per m2 of body "
            "surface area",
        )


def _cycle_start_dates(
    specs: tuple[CycleSpec, ...], start: date, explicit: Mapping[int, date]
) -> list[date]:
    for number in explicit:
        if not 2 <= number <= len(specs):
            raise InvalidInput(
                "cycle_start",
                f"{number}={explicit[number]}",
                f"a cycle number from 2 to {len(specs)} (cycle 1 starts on the start date)",
            )
    starts = [start]
    for previous, spec in itertools.pairwise(specs):
        earliest = starts[-1] + previous.length_days * _DAY
        chosen = explicit.get(spec.number, earliest)
        if chosen < earliest:
            raise InvalidInput(
                "cycle_start",
                f"{spec.number}={chosen}",
                f"on or after {earliest}: cycle {previous.number} has {previous.infusion_days} "
                f"infusion days and {previous.treatment_free_days} treatment-free days",
            )
        starts.append(chosen)
    return starts


def _dose(step: DoseStep, body: BodySize, basis: DoseBasis) -> McgPerDay:
    if basis is DoseBasis.FIXED or body.bsa is None:
        return step.fixed
    return (step.per_m2 * body.bsa).capped_at(step.cap)


def _premedication(
    rule: PremedicationRule,
    body: BodySize,
    dose_start: datetime,
    trigger: PremedTrigger,
    cycle: int,
) -> PremedicationDose:
    reason = (
        f"before the first dose of cycle {cycle}"
        if trigger is PremedTrigger.CYCLE_START
        else f"before the step-up dose in cycle {cycle}"
    )
    return premedication_dose(rule, body, dose_start, reason)


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


# --- the day-by-day builder (planning and re-planning lay out a course with it) ---------

Piece = tuple[datetime, datetime, McgPerDay]
"""An uninterrupted stretch of infusion at one dose: start, end (UTC) and the dose."""


def lay_bags(cycle: int, pieces: Iterable[Piece], bag_hours: int) -> list[Bag]:
    """Bags of ``bag_hours`` from the start of each piece; the last bag of a piece stops at
    its end (a dose change, an interruption or the end of the cycle's infusion) and may
    be shorter."""
    length = timedelta(hours=bag_hours)
    bags = []
    for start, end, dose in pieces:
        hung = start
        while hung < end:
            removed = min(hung + length, end)
            bags.append(Bag(cycle, hung, removed, dose))
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


def _plan_cycle(spec: CycleSpec, start: date, start_time: time, zone: ZoneInfo) -> PlannedCycle:
    infusion_start = datetime.combine(start, start_time, tzinfo=zone).astimezone(UTC)
    return PlannedCycle(
        number=spec.number,
        phase=spec.phase,
        start=start,
        infusion_start=infusion_start,
        infusion_end=infusion_start + spec.infusion_days * _DAY,
        last_infusion_day=start + (spec.infusion_days - 1) * _DAY,
        end=start + (spec.length_days - 1) * _DAY,
        inpatient_days=spec.inpatient_days,
    )


def _precautions(
    regimen: Regimen, last_infusion_end: datetime, zone: ZoneInfo
) -> tuple[Precaution, ...]:
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


def _warnings(regimen: Regimen, body: BodySize, bag: BagOption) -> tuple[str, ...]:
    warnings = []
    if regimen.evidence is Evidence.TRIAL:
        warnings.append(
            f"{regimen.name}: the dosing rests on trial data, not on the label's table "
            f"({regimen.source})."
        )
    by_age = {rule.age_group for rule in regimen.premedication}
    if body.age_group_note is not None and len(by_age) > 1:
        warnings.append(
            f"Premedication differs for adults and children; this patient is taken as "
            f"{body.age_group}. {body.age_group_note}"
        )
    if bag.older_min_weight is not None and body.weight.value < bag.older_min_weight.value:
        warnings.append(
            f"{bag.hours}-h bag below {bag.older_min_weight}: an older source advises against it "
            f"({bag.older_min_weight_source}); the newer rule allows it ({bag.min_weight_source})."
        )
    return tuple(warnings)


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
