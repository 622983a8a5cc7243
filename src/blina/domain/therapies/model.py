"""The shape every therapy's plan shares, whatever its kind of dosing.

Blinatumomab's continuous infusion keeps its own richer `CoursePlan`; the other
therapies of the seeds (doses on cycle days, a CAR-T journey around day 0, doses inside
another regimen's days) are planned into this one shape, so the CLI, the API, the pages,
the calendar and the task list read one type. Every entry carries its knowledge source;
a fact the reference marks NOT RETRIEVED is a `Gap`, shown, never filled in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class TherapyKind(StrEnum):
    """How a therapy is given; the planner for each kind lives beside this module."""

    CONTINUOUS_INFUSION = "continuous-infusion"  # blinatumomab (its own planner)
    CYCLE_DOSES = "cycle-doses"  # inotuzumab: doses on days of a cycle
    CELL_JOURNEY = "cell-journey"  # CAR-T: a journey around day 0
    HOSTED_DOSES = "hosted-doses"  # rituximab, gemtuzumab: days inside another regimen


class EntryKind(StrEnum):
    """What happens on a day: one word the pages translate and the task list uses."""

    DOSE = "dose"
    PREMEDICATION = "premedication"
    MONITORING = "monitoring"
    STEP = "step"  # a journey step: leukapheresis, manufacturing, bridging, lymphodepletion
    STAY_NEAR = "stay-near"  # stay near the treatment centre
    NO_DRIVING = "no-driving"
    VISIT = "visit"


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing planned on one day, with the knowledge entry it comes from."""

    kind: EntryKind
    what: str  # a stable key, e.g. "inotuzumab", "fludarabine", "bilirubin"
    text: str  # one plain English sentence for staff (pages may translate by `what`)
    source: str  # a key of a knowledge sources table
    dose: Decimal | None = None  # the computed dose for this patient, after caps
    unit: str | None = None  # "mg", "mg/m2", "cells", ...
    basis: str | None = None  # how the dose was computed, e.g. "0.8 mg/m2 x 1.72 m2"


@dataclass(frozen=True, slots=True)
class TherapyDay:
    """A calendar day of the plan and everything on it."""

    on: date
    label: str  # the day as the label counts it: "C1 D8", "day -5", "day 0"
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class Gap:
    """A fact the sources do not give (NOT RETRIEVED) and what blina does instead."""

    fact: str
    instead: str
    source: str


@dataclass(frozen=True, slots=True)
class PlanWarning:
    """A boxed warning or precaution of the plan, shown with the plan."""

    what: str
    text: str
    source: str


@dataclass(frozen=True, slots=True)
class TherapyPlan:
    """A patient's plan for one non-continuous therapy."""

    therapy: str  # knowledge key: "inotuzumab", "tisagenlecleucel", ...
    kind: TherapyKind
    days: tuple[TherapyDay, ...]
    warnings: tuple[PlanWarning, ...]
    gaps: tuple[Gap, ...]
