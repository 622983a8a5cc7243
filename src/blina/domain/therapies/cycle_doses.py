"""Doses on days of a cycle (inotuzumab ozogamicin): the plan, cycle by cycle.

Rules the planner encodes, each number from the therapy's facts (knowledge TOML):

- cycle 1 doses on its days (D1, D8, D15), its length the label's 21 days or, the
  physician's choice, the lengthened 28; later cycles take the "in response" scheme when
  a CR or CRi has been recorded after any earlier cycle, else the "no response" scheme;
- a cycle after the first is planned only once the response after the cycle before it is
  recorded; the plan ends where the cycle limits say (transplant planned: the HSCT number,
  one more if CR/CRi and MRD negativity are not both reached; no transplant: the maximum;
  no CR/CRi within the response window: discontinue), and says why as a plan warning;
- a dose date given (it happened, or the physician moved it) re-anchors the doses after
  it: a planned dose is on its nominal day or later, never fewer than the minimum spacing
  after the previous dose; a given date outside the window, or too close to the dose
  before it, is a plan warning, not an error (the dose was given);
- the peripheral blast count, when given, is checked against the cytoreduction limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from blina.domain.errors import InvalidInput
from blina.domain.sentences import Template
from blina.domain.therapies.cycle_dose_changes import ChangeRules
from blina.domain.therapies.facts import MonitoringFact, PremedicationFact, When, dose_entry
from blina.domain.therapies.model import (
    Entry,
    EntryKind,
    Gap,
    PlanWarning,
    TherapyDay,
    TherapyKind,
    TherapyPlan,
)

__all__ = [
    "CycleDoseFacts",
    "CycleDoseRequest",
    "CycleLimits",
    "CycleScheme",
    "Cytoreduction",
    "Response",
    "Scheduling",
    "Transplant",
    "plan_cycle_doses",
]


class Response(StrEnum):
    """The response after a cycle, recorded by the physician."""

    CR = "cr"
    CRI = "cri"
    NONE = "none"  # neither CR nor CRi


class Transplant(StrEnum):
    """Whether the patient is to go on to a stem-cell transplant (HSCT)."""

    PLANNED = "planned"
    NOT_PLANNED = "not-planned"


# The sentences of a cycle-dose plan (``blina.domain.sentences``).
CYCLE_DOSE = Template("{dose_text}: {per_m2} mg/m2 (cycle total {total} mg/m2)")
BLASTS_NOT_GIVEN = Template("peripheral blast count not given: check it is <= {limit}/mm3")
BLASTS_MET = Template("peripheral blasts {blasts}/mm3: met (<= {limit}/mm3)")
BLASTS_NOT_MET = Template("peripheral blasts {blasts}/mm3: NOT met (> {limit}/mm3)")
WITH_STATUS = Template("{rule} ({status})")
CYTOREDUCE_FIRST = Template(
    "Peripheral blasts {blasts}/mm3 are above {limit}/mm3: cytoreduce before the first dose. {rule}"
)
MAXIMUM_WITHOUT_TRANSPLANT = Template("{cycles} cycles: the maximum without a transplant")
MOST_BEFORE_TRANSPLANT = Template("{cycles} cycles: the most before a transplant")
NEEDS_RESPONSE = Template(
    "Cycle {next} is planned once the response after cycle {cycle} (CR, CRi or none) is recorded"
)
NO_RESPONSE = Template("No CR/CRi within {cycles} cycles: discontinue the therapy")
NEEDS_MRD = Template(
    "{cycles} cycles are recommended before a transplant; a further cycle may be considered "
    "only if MRD negativity is not reached: record the MRD result"
)
GO_TO_TRANSPLANT = Template("{cycles} cycles with CR/CRi and MRD negativity: go to transplant")
EXTRA_CYCLE = Template(
    "Cycle {cycle} before a transplant: considered because CR/CRi and MRD negativity were not "
    "both reached after {cycles} cycles"
)


@dataclass(frozen=True, slots=True)
class CycleScheme:
    """The doses of one kind of cycle: (cycle day, mg/m2) pairs, and the cycle length."""

    doses: tuple[tuple[int, Decimal], ...]
    total_mg_per_m2: Decimal
    length_days: int
    source: str


@dataclass(frozen=True, slots=True)
class Scheduling:
    """How far a dose day may move, and the fewest days between two doses."""

    window_days: int
    window_applies_to: frozenset[int]  # cycle days that may move
    min_spacing_days: int
    source: str


@dataclass(frozen=True, slots=True)
class CycleLimits:
    hsct_cycles: int  # recommended when HSCT is planned
    hsct_max_cycles: int  # one more when CR/CRi and MRD negativity are not both reached
    max_cycles: int  # no HSCT planned
    response_within_cycles: int  # no CR/CRi within this many cycles: discontinue
    source: str


@dataclass(frozen=True, slots=True)
class Cytoreduction:
    max_blasts_per_mm3: Decimal
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class CycleDoseFacts:
    """Everything the planner needs about one cycle-dose therapy, each fact sourced."""

    therapy: str
    name: str
    dose_text: str  # "inotuzumab ozogamicin IV over 1 hour at 50 mL/h"
    first_cycle: CycleScheme
    first_cycle_lengths: frozenset[int]  # the label's length and the lengthened one
    in_response: CycleScheme
    no_response: CycleScheme
    scheduling: Scheduling
    limits: CycleLimits
    cytoreduction: Cytoreduction
    premedication: tuple[PremedicationFact, ...]
    monitoring: tuple[MonitoringFact, ...]
    warnings: tuple[PlanWarning, ...]
    gaps: tuple[Gap, ...]
    changes: ChangeRules
    label: str  # the label revision the facts encode, e.g. "US PI 3/2024"
    label_source: str

    @property
    def kind(self) -> TherapyKind:
        return TherapyKind.CYCLE_DOSES


@dataclass(frozen=True, slots=True)
class CycleDoseRequest:
    """One patient's inputs. ``responses[i]`` is the response after cycle i + 1;
    ``given`` maps (cycle, cycle day) to the date that dose was (or is to be) given."""

    bsa_m2: Decimal
    start: date
    transplant: Transplant
    responses: tuple[Response, ...] = ()
    mrd_negative: bool | None = None
    first_cycle_days: int | None = None  # None: the label's length
    given: Mapping[tuple[int, int], date] = field(default_factory=dict)
    blasts_per_mm3: Decimal | None = None
    weight_kg: Decimal | None = None


@dataclass(frozen=True, slots=True)
class _Cursor:
    """Where planning stands: the cycle's day 1 and the previous dose's date."""

    cycle: int
    day1: date
    previous: date | None


def plan_cycle_doses(facts: CycleDoseFacts, request: CycleDoseRequest) -> TherapyPlan:
    """The plan from cycle 1 day 1 to where the recorded responses and limits stop it."""
    _check_request(facts, request)
    days: list[TherapyDay] = []
    warnings: list[PlanWarning] = [*facts.warnings, *_cytoreduction(facts, request)]
    cursor = _Cursor(1, request.start, None)
    while True:
        scheme = _scheme(facts, request, cursor.cycle)
        cycle_days, cursor, notes = _plan_cycle(facts, request, scheme, cursor)
        days.extend(cycle_days)
        warnings.extend(notes)
        stop = _next_cycle(facts, request, cursor.cycle)
        if stop is not None:
            warnings.append(stop)
            break
        length = _cycle_length(facts, request, cursor.cycle)
        cursor = _Cursor(cursor.cycle + 1, cursor.day1 + timedelta(days=length), cursor.previous)
        warnings.extend(_extra_cycle_note(facts, request, cursor.cycle))
    _check_given_used(request, days)
    return TherapyPlan(facts.therapy, facts.kind, tuple(days), tuple(warnings), facts.gaps)


def _check_request(facts: CycleDoseFacts, request: CycleDoseRequest) -> None:
    if request.bsa_m2 <= 0:
        raise InvalidInput("bsa_m2", request.bsa_m2, "> 0")
    lengths = facts.first_cycle_lengths
    if request.first_cycle_days is not None and request.first_cycle_days not in lengths:
        raise InvalidInput(
            "first_cycle_days",
            request.first_cycle_days,
            f"one of {', '.join(str(n) for n in sorted(lengths))}",
        )
    if (1, 1) in request.given and request.given[1, 1] != request.start:
        raise InvalidInput("dose_date", "C1D1", "the start date (cycle 1 day 1 is the start)")


def _scheme(facts: CycleDoseFacts, request: CycleDoseRequest, cycle: int) -> CycleScheme:
    if cycle == 1:
        return facts.first_cycle
    return facts.in_response if _responded(request.responses[: cycle - 1]) else facts.no_response


def _responded(responses: tuple[Response, ...]) -> bool:
    return any(r in (Response.CR, Response.CRI) for r in responses)


def _cycle_length(facts: CycleDoseFacts, request: CycleDoseRequest, cycle: int) -> int:
    if cycle == 1:
        return request.first_cycle_days or facts.first_cycle.length_days
    return _scheme(facts, request, cycle).length_days


def _plan_cycle(
    facts: CycleDoseFacts, request: CycleDoseRequest, scheme: CycleScheme, cursor: _Cursor
) -> tuple[list[TherapyDay], _Cursor, list[PlanWarning]]:
    days: list[TherapyDay] = []
    notes: list[PlanWarning] = []
    previous = cursor.previous
    day1 = cursor.day1
    for cycle_day, mg_per_m2 in scheme.doses:
        nominal = day1 + timedelta(days=cycle_day - 1)
        on, day_notes = _dose_date(facts, request, (cursor.cycle, cycle_day), nominal, previous)
        notes.extend(day_notes)
        if cycle_day == 1:
            day1 = on
        entries = _entries(facts, request, scheme, cursor.cycle, cycle_day, mg_per_m2)
        days.append(TherapyDay(on, f"C{cursor.cycle} D{cycle_day}", entries))
        previous = on
    return days, _Cursor(cursor.cycle, day1, previous), notes


def _dose_date(
    facts: CycleDoseFacts,
    request: CycleDoseRequest,
    key: tuple[int, int],
    nominal: date,
    previous: date | None,
) -> tuple[date, list[PlanWarning]]:
    rules = facts.scheduling
    spacing = timedelta(days=rules.min_spacing_days)
    window = timedelta(days=rules.window_days) if key[1] in rules.window_applies_to else None
    label = f"C{key[0]} D{key[1]}"
    given = request.given.get(key)
    if given is None:
        on = nominal if previous is None else max(nominal, previous + spacing)
        if window is not None and on > nominal + window:
            return on, [
                _warning(
                    rules,
                    "window",
                    f"{label}: no day within the window keeps the "
                    f"spacing after the previous dose; planned {on}, check it",
                )
            ]
        return on, []
    if previous is not None and given <= previous:
        raise InvalidInput(
            "dose_date", f"{label}={given}", f"a date after the dose before ({previous})"
        )
    notes = []
    if window is not None and abs(given - nominal) > window:
        notes.append(
            _warning(
                rules,
                "window",
                f"{label} given {given}: outside {nominal} +/- {rules.window_days} days",
            )
        )
    if previous is not None and given - previous < spacing:
        notes.append(
            _warning(
                rules,
                "spacing",
                f"{label} given {given}: "
                f"{(given - previous).days} days after the dose before, fewer than "
                f"{rules.min_spacing_days}",
            )
        )
    if window is None and given < nominal:
        notes.append(
            _warning(
                rules,
                "early-cycle",
                f"{label} given {given}: before the previous cycle's end ({nominal})",
            )
        )
    return given, notes


def _warning(rules: Scheduling, what: str, text: str) -> PlanWarning:
    return PlanWarning(f"dose-date-{what}", text, rules.source)


def _entries(
    facts: CycleDoseFacts,
    request: CycleDoseRequest,
    scheme: CycleScheme,
    cycle: int,
    cycle_day: int,
    mg_per_m2: Decimal,
) -> tuple[Entry, ...]:
    first = cycle == 1 and cycle_day == 1
    wanted = {When.EACH_DOSE} | ({When.FIRST_DOSE} if first else set())
    if cycle > 1 and cycle_day == 1:
        wanted.add(When.CYCLE_START)
    checks = [m.entry() for m in facts.monitoring if m.when in wanted]
    if first:
        checks.append(_cytoreduction_entry(facts, request))
    premeds = [p.entry(request.weight_kg) for p in facts.premedication]
    dose = dose_entry(
        what=facts.therapy,
        text=CYCLE_DOSE(dose_text=facts.dose_text, per_m2=mg_per_m2, total=scheme.total_mg_per_m2),
        source=scheme.source,
        mg_per_m2=mg_per_m2,
        bsa_m2=request.bsa_m2,
        cap_mg=None,
    )
    return (*checks, *premeds, dose)


def _cytoreduction_entry(facts: CycleDoseFacts, request: CycleDoseRequest) -> Entry:
    rule = facts.cytoreduction
    limit = rule.max_blasts_per_mm3
    if request.blasts_per_mm3 is None:
        status = BLASTS_NOT_GIVEN(limit=limit)
    elif request.blasts_per_mm3 <= limit:
        status = BLASTS_MET(blasts=request.blasts_per_mm3, limit=limit)
    else:
        status = BLASTS_NOT_MET(blasts=request.blasts_per_mm3, limit=limit)
    return Entry(
        EntryKind.MONITORING,
        "cytoreduction",
        WITH_STATUS(rule=rule.text, status=status),
        rule.source,
    )


def _cytoreduction(facts: CycleDoseFacts, request: CycleDoseRequest) -> list[PlanWarning]:
    rule = facts.cytoreduction
    blasts = request.blasts_per_mm3
    if blasts is None or blasts <= rule.max_blasts_per_mm3:
        return []
    text = CYTOREDUCE_FIRST(blasts=blasts, limit=rule.max_blasts_per_mm3, rule=rule.text)
    return [PlanWarning("cytoreduction-needed", text, rule.source)]


def _next_cycle(facts: CycleDoseFacts, request: CycleDoseRequest, cycle: int) -> PlanWarning | None:
    """None when another cycle follows ``cycle``; else why the plan ends there."""
    limits = facts.limits
    recorded = request.responses[:cycle]
    if request.transplant is Transplant.NOT_PLANNED and cycle >= limits.max_cycles:
        return _stop(limits, "cycle-limit", MAXIMUM_WITHOUT_TRANSPLANT(cycles=cycle))
    if request.transplant is Transplant.PLANNED and cycle >= limits.hsct_max_cycles:
        return _stop(limits, "cycle-limit", MOST_BEFORE_TRANSPLANT(cycles=cycle))
    if len(recorded) < cycle:
        return _stop(
            limits,
            "needs-response",
            NEEDS_RESPONSE(next=cycle + 1, cycle=cycle),
        )
    responded = _responded(recorded)
    if not responded and cycle >= limits.response_within_cycles:
        return _stop(limits, "discontinue", NO_RESPONSE(cycles=cycle))
    if request.transplant is Transplant.PLANNED and cycle >= limits.hsct_cycles:
        return _after_hsct_cycles(limits, request, responded, cycle)
    return None


def _after_hsct_cycles(
    limits: CycleLimits, request: CycleDoseRequest, responded: bool, cycle: int
) -> PlanWarning | None:
    if responded and request.mrd_negative is None:
        return _stop(
            limits,
            "needs-mrd",
            NEEDS_MRD(cycles=cycle),
        )
    if responded and request.mrd_negative:
        return _stop(
            limits,
            "cycle-limit",
            GO_TO_TRANSPLANT(cycles=cycle),
        )
    return None


def _extra_cycle_note(
    facts: CycleDoseFacts, request: CycleDoseRequest, cycle: int
) -> list[PlanWarning]:
    limits = facts.limits
    if request.transplant is Transplant.NOT_PLANNED or cycle <= limits.hsct_cycles:
        return []
    text = EXTRA_CYCLE(cycle=cycle, cycles=limits.hsct_cycles)
    return [PlanWarning("extra-cycle-before-transplant", text, limits.source)]


def _stop(limits: CycleLimits, what: str, text: str) -> PlanWarning:
    return PlanWarning(f"plan-ends-{what}", text, limits.source)


def _check_given_used(request: CycleDoseRequest, days: list[TherapyDay]) -> None:
    planned = {day.label for day in days}
    for cycle, cycle_day in sorted(request.given):
        label = f"C{cycle} D{cycle_day}"
        if label not in planned:
            raise InvalidInput(
                "dose_date", f"C{cycle}D{cycle_day}", "a dose day of a planned cycle"
            )
    if len(request.responses) > len({day.label.split()[0] for day in days}):
        raise InvalidInput(
            "responses", len(request.responses), "no more responses than planned cycles"
        )
