"""Doses placed inside another regimen's days (rituximab in the pediatric LMB chemotherapy
courses, gemtuzumab ozogamicin in AML induction and consolidation).

The host regimen is not blina's to plan: the physician gives each host course's day 1,
and the planner puts this therapy's doses on that course's days, in mg/m2 of BSA, never
above the per-dose cap, never more doses than the therapy's total. A course without a
day 1 yet is named in a plan warning so nobody mistakes the plan for complete.

Day counting: a host day ``d`` falls ``d - 1`` days after day 1 when ``d`` is positive;
a negative day falls ``-d`` days before day 1 when the host counts no day 0 (the usual
chemotherapy count), ``-d + 1`` days before when it does. Which one a host uses is data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from blina.domain.errors import InvalidInput
from blina.domain.sentences import Sentence, Template
from blina.domain.therapies.facts import MonitoringFact, PremedicationFact, When, dose_entry
from blina.domain.therapies.model import (
    Entry,
    Gap,
    PlanWarning,
    TherapyDay,
    TherapyKind,
    TherapyPlan,
)

__all__ = ["HostCourse", "HostedDoseFacts", "HostedDoseRequest", "host_date", "plan_hosted_doses"]

# The sentences of a hosted-dose plan (``blina.domain.sentences``).
HOSTED_DOSE = Template("{name} {per_m2} mg/m2, {dose_text} ({course})")
HOSTED_DOSE_CAPPED = Template(
    "{name} {per_m2} mg/m2, at most {cap} mg per dose, {dose_text} ({course})"
)
COURSE_DAYS = Template("{course} ({days})")
COMMA = Template("{first}, {rest}")
UNDATED = Template("Not on this plan until their day 1 is given: {courses}")
DAYS = Template("days {days}")
DAY = Template("day {day}")


@dataclass(frozen=True, slots=True)
class HostCourse:
    """One course of the host regimen and this therapy's dose days in it."""

    key: str  # "copdam1"
    name: str  # "COPDAM1"
    days: tuple[int, ...]  # host days, e.g. (-2, 1)
    source: str


@dataclass(frozen=True, slots=True)
class HostedDoseFacts:
    therapy: str
    name: str
    host: str  # the host regimen, in words
    dose_text: str  # how it is given, e.g. "IV infusion over 2 hours"
    mg_per_m2: Decimal
    cap_mg: Decimal | None
    max_doses: int | None  # the total the reference states, when it states one
    dose_source: str
    courses: tuple[HostCourse, ...]
    host_counts_day_zero: bool
    day_count_source: str
    premedication: tuple[PremedicationFact, ...]
    monitoring: tuple[MonitoringFact, ...]
    warnings: tuple[PlanWarning, ...]
    gaps: tuple[Gap, ...]
    label: str  # the label revision the facts encode, e.g. "US PI 8/2021"
    label_source: str

    @property
    def kind(self) -> TherapyKind:
        return TherapyKind.HOSTED_DOSES


@dataclass(frozen=True, slots=True)
class HostedDoseRequest:
    """``host_day1`` maps a host course key to the date of that course's day 1."""

    bsa_m2: Decimal
    host_day1: Mapping[str, date]
    weight_kg: Decimal | None = None


def host_date(day1: date, day: int, *, counts_day_zero: bool) -> date:
    """The calendar date of host day ``day``.

    >>> host_date(date(2027, 1, 10), -2, counts_day_zero=False)
    datetime.date(2027, 1, 8)
    >>> host_date(date(2027, 1, 10), -2, counts_day_zero=True)
    datetime.date(2027, 1, 7)
    >>> host_date(date(2027, 1, 10), 7, counts_day_zero=False)
    datetime.date(2027, 1, 16)
    """
    if day == 0 and not counts_day_zero:
        raise InvalidInput("day", day, "a day other than 0 (this host counts no day 0)")
    if day > 0:
        return day1 + timedelta(days=day - 1)
    return day1 + timedelta(days=day - (1 if counts_day_zero else 0))


def plan_hosted_doses(facts: HostedDoseFacts, request: HostedDoseRequest) -> TherapyPlan:
    """This therapy's doses on the dated host courses, in date order."""
    _check_request(facts, request)
    days: list[TherapyDay] = []
    first_dose = True
    for course in facts.courses:
        day1 = request.host_day1.get(course.key)
        if day1 is None:
            continue
        for host_day in course.days:
            on = host_date(day1, host_day, counts_day_zero=facts.host_counts_day_zero)
            entries = _entries(facts, request, course, first_dose=first_dose)
            days.append(TherapyDay(on, f"{course.name} day {host_day}", entries))
            first_dose = False
    _check_order(days)
    warnings = (*facts.warnings, *_undated(facts, request))
    return TherapyPlan(facts.therapy, facts.kind, tuple(days), warnings, facts.gaps)


def _check_request(facts: HostedDoseFacts, request: HostedDoseRequest) -> None:
    if request.bsa_m2 <= 0:
        raise InvalidInput("bsa_m2", request.bsa_m2, "> 0")
    known = [course.key for course in facts.courses]
    for key in request.host_day1:
        if key not in known:
            raise InvalidInput("host_day1", key, f"one of {', '.join(known)}")


def _check_order(days: list[TherapyDay]) -> None:
    for before, after in pairwise(days):
        if after.on <= before.on:
            raise InvalidInput(
                "host_day1",
                f"{after.label} on {after.on}",
                f"a date after {before.label} ({before.on}): courses follow one another",
            )


def _entries(
    facts: HostedDoseFacts, request: HostedDoseRequest, course: HostCourse, *, first_dose: bool
) -> tuple[Entry, ...]:
    wanted = {When.EACH_DOSE} | ({When.FIRST_DOSE} if first_dose else set())
    checks = [m.entry() for m in facts.monitoring if m.when in wanted]
    premeds = [p.entry(request.weight_kg) for p in facts.premedication]
    if facts.cap_mg is None:
        text = HOSTED_DOSE(
            name=facts.name, per_m2=facts.mg_per_m2, dose_text=facts.dose_text, course=course.name
        )
    else:
        text = HOSTED_DOSE_CAPPED(
            name=facts.name,
            per_m2=facts.mg_per_m2,
            cap=facts.cap_mg,
            dose_text=facts.dose_text,
            course=course.name,
        )
    dose = dose_entry(
        what=facts.therapy,
        text=text,
        source=course.source,
        mg_per_m2=facts.mg_per_m2,
        bsa_m2=request.bsa_m2,
        cap_mg=facts.cap_mg,
    )
    return (*checks, *premeds, dose)


def _undated(facts: HostedDoseFacts, request: HostedDoseRequest) -> list[PlanWarning]:
    missing = [c for c in facts.courses if c.key not in request.host_day1]
    if not missing:
        return []
    named = [COURSE_DAYS(course=c.name, days=_days(c.days)) for c in missing]
    listed = named[-1]
    for name in reversed(named[:-1]):
        listed = COMMA(first=name, rest=listed)
    text = UNDATED(courses=listed)
    return [PlanWarning("undated-host-courses", text, facts.dose_source)]


def _days(days: tuple[int, ...]) -> Sentence:
    listed = ", ".join(map(str, days))
    return DAYS(days=listed) if len(days) > 1 else DAY(day=listed)
