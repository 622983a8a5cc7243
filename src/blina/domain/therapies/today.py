"""A therapy plan read on one day: what the family's Today page and the clinic's task list
need of a stored course of a therapy other than blinatumomab.

``therapy_today(plan, today)`` says where the plan stands (not begun, under way, over),
what is planned today, the next dose day, and the restrictions that hold today (stay near
the treatment centre, do not drive) with the last day of each. ``clinic_entries(day)`` is
what the care team acts on that day: doses, premedication, monitoring, journey steps and
visits; the family's restrictions are not tasks. ``days_since_cell_infusion(plan, today)``
is what triage reads of a CAR-T journey: whole days since its latest cell infusion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from blina.domain.therapies.model import Entry, EntryKind, TherapyDay, TherapyKind, TherapyPlan

__all__ = [
    "CLINIC_KINDS",
    "PlanPhase",
    "TherapyToday",
    "clinic_entries",
    "days_since_cell_infusion",
    "therapy_today",
]

# The entries of a day the care team acts on (the task list's rows).
CLINIC_KINDS = frozenset(
    {
        EntryKind.DOSE,
        EntryKind.PREMEDICATION,
        EntryKind.MONITORING,
        EntryKind.STEP,
        EntryKind.VISIT,
    }
)
_ONE_DAY = timedelta(days=1)


class PlanPhase(StrEnum):
    BEFORE = "before"  # today is before the plan's first day
    UNDER_WAY = "under-way"
    OVER = "over"  # today is after the plan's last day


@dataclass(frozen=True, slots=True)
class TherapyToday:
    """The plan on ``on``: ``day`` is today's planned day (None when nothing is planned
    today); ``next_dose`` the first day after today with a dose; ``stay_near_until`` and
    ``no_driving_until`` the last day of the restriction holding today (None when none
    holds)."""

    on: date
    phase: PlanPhase
    day: TherapyDay | None
    next_dose: TherapyDay | None
    stay_near_until: date | None
    no_driving_until: date | None


def therapy_today(plan: TherapyPlan, today: date) -> TherapyToday:
    days = {day.on: day for day in plan.days}
    if not plan.days or today < plan.days[0].on:
        phase = PlanPhase.BEFORE
    elif today > plan.days[-1].on:
        phase = PlanPhase.OVER
    else:
        phase = PlanPhase.UNDER_WAY
    next_dose = next(
        (d for d in plan.days if d.on > today and any(e.kind is EntryKind.DOSE for e in d.entries)),
        None,
    )
    return TherapyToday(
        on=today,
        phase=phase,
        day=days.get(today),
        next_dose=next_dose,
        stay_near_until=_holds_until(days, today, EntryKind.STAY_NEAR),
        no_driving_until=_holds_until(days, today, EntryKind.NO_DRIVING),
    )


def clinic_entries(day: TherapyDay) -> tuple[Entry, ...]:
    """The entries of ``day`` the care team acts on, in the plan's order."""
    return tuple(entry for entry in day.entries if entry.kind in CLINIC_KINDS)


def days_since_cell_infusion(plan: TherapyPlan, today: date) -> int | None:
    """Whole days from the latest planned cell infusion on or before ``today`` (0 on its
    day), for a CAR-T journey (the days with a dose of the product itself, not its
    lymphodepletion); None for another kind of plan, and before the first infusion (not
    known: triage counts it as inside every window after the infusion, never lower)."""
    if plan.kind is not TherapyKind.CELL_JOURNEY:
        return None
    infused = [
        day.on
        for day in plan.days
        if day.on <= today
        and any(e.kind is EntryKind.DOSE and e.what == plan.therapy for e in day.entries)
    ]
    return (today - infused[-1]).days if infused else None


def _holds_until(days: dict[date, TherapyDay], today: date, kind: EntryKind) -> date | None:
    """The last day of the unbroken run of ``kind`` days through ``today``."""
    if not _has(days.get(today), kind):
        return None
    last = today
    while _has(days.get(last + _ONE_DAY), kind):
        last += _ONE_DAY
    return last


def _has(day: TherapyDay | None, kind: EntryKind) -> bool:
    return day is not None and any(entry.kind is kind for entry in day.entries)
