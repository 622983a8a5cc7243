"""Course planning: patient + regimen + start -> an immutable day-by-day plan.

The planner checks what the label allows (cycle count, bag duration for the weight, later
cycle starts, the inputs per-m2 dosing needs), then lays each cycle out as pieces of
infusion at the regimen's steps, with its premedication and step-ups, in a
``CoursePlan`` (``blina.domain.course_plan``, which holds the plan's types and the
builders the re-planner shares).
"""

import itertools
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from blina.domain.body import BodySize
from blina.domain.course_plan import (
    Bag,
    CoursePlan,
    DoseBasis,
    Piece,
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
from blina.domain.errors import InvalidInput
from blina.domain.regimens import (
    BagOption,
    CycleSpec,
    Evidence,
    PremedicationRule,
    PremedTrigger,
    Regimen,
)

__all__ = ["plan_course", "zone_named"]

_DAY = timedelta(days=1)


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
        doses = [step_dose(step, body, basis) for step in spec.steps]
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
        precautions=precautions(regimen, planned[-1].infusion_end, zone),
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
