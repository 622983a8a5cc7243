"""What the family's Today page and calendar show of a course of another therapy
(inotuzumab, rituximab, gemtuzumab, a CAR-T product), arranged from its plan read on one
day (``services.therapy_courses.therapy_now``) or from the plan itself: nothing here
computes a date.

A plan entry's own text is a sentence for staff, in English. The family reads what
happens in plain words instead: each entry gets a *word key* (``cell-infusion``,
``lymphodepletion``, ``daily-check``, ...) that ``_therapy_words.html`` writes through the
pages' catalog, in the reader's language. Entries of one key on one day are said once.
"""

import re
from dataclasses import dataclass
from datetime import date

from blina.domain.therapies.model import Entry, EntryKind, TherapyDay, TherapyKind, TherapyPlan
from blina.domain.therapies.today import TherapyToday

__all__ = [
    "RESTRICTION_KINDS",
    "TherapyCalendarRow",
    "TherapyTodayView",
    "day_label_parts",
    "therapy_calendar_rows",
    "therapy_today_view",
    "word_keys",
]

# The family's restrictions: shown as "until" lines, never as what happens on a day.
RESTRICTION_KINDS = frozenset({EntryKind.STAY_NEAR, EntryKind.NO_DRIVING})

# A journey step's word key by the step's ``what`` (``domain.therapies.cell_journey``).
_STEPS = {
    "leukapheresis": "leukapheresis",
    "manufacturing": "manufacturing",
    "product-ready": "product-ready",
    "bridging": "bridging",
    "lymphodepletion": "lymphodepletion-start",
    "marrow-sample": "marrow-sample",
}
_MONITORING = {"daily-check": "daily-check", "monitoring-period": "monitoring-period"}
_DAY = re.compile(r"day (-?\d+)")


@dataclass(frozen=True, slots=True)
class TherapyTodayView:
    """The Today page's part for a therapy course: its name; today's planned day (its
    label) and what happens (word keys); the next dose day; the restrictions' last days."""

    therapy: str
    name: str
    kind: str
    phase: str
    first_day: TherapyDay | None
    today: TherapyDay | None
    happens: tuple[str, ...]
    next_dose: TherapyDay | None
    stay_near_until: date | None
    no_driving_until: date | None


@dataclass(frozen=True, slots=True)
class TherapyCalendarRow:
    """A row of the family's calendar: one planned day, or a run of consecutive days
    with the same words and restrictions (``first`` to ``last``)."""

    first: TherapyDay
    last: TherapyDay
    happens: tuple[str, ...]
    stay_near: bool
    no_driving: bool
    dose: bool


def therapy_today_view(name: str, plan: TherapyPlan, today: TherapyToday) -> TherapyTodayView:
    """The plan of the therapy called ``name`` as ``therapy_today`` read it."""
    return TherapyTodayView(
        therapy=plan.therapy,
        name=name,
        kind=plan.kind.value,
        phase=today.phase.value,
        first_day=plan.days[0] if plan.days else None,
        today=today.day,
        happens=() if today.day is None else word_keys(plan, today.day),
        next_dose=today.next_dose,
        stay_near_until=today.stay_near_until,
        no_driving_until=today.no_driving_until,
    )


def word_keys(plan: TherapyPlan, day: TherapyDay) -> tuple[str, ...]:
    """What happens on ``day``, as word keys in the plan's order, each once; the
    restrictions are not among them."""
    keys = (_word_key(plan, entry) for entry in day.entries if entry.kind not in RESTRICTION_KINDS)
    return tuple(dict.fromkeys(keys))


def therapy_calendar_rows(plan: TherapyPlan) -> list[TherapyCalendarRow]:
    """The plan's days for the family: a dose day alone, consecutive days that read the
    same merged into one row."""
    rows: list[TherapyCalendarRow] = []
    for day in plan.days:
        row = TherapyCalendarRow(
            first=day,
            last=day,
            happens=word_keys(plan, day),
            stay_near=_has(day, EntryKind.STAY_NEAR),
            no_driving=_has(day, EntryKind.NO_DRIVING),
            dose=_has(day, EntryKind.DOSE),
        )
        if rows and _continues(rows[-1], row):
            rows[-1] = TherapyCalendarRow(
                rows[-1].first,
                day,
                row.happens,
                row.stay_near,
                row.no_driving,
                row.dose,
            )
        else:
            rows.append(row)
    return rows


def day_label_parts(label: str) -> tuple[str, str]:
    """A plan's day label split for translation: ("day", "-5") for "day -5", ("", label)
    for a label without words to translate ("C1 D8")."""
    found = _DAY.fullmatch(label)
    return ("day", found.group(1)) if found else ("", label)


def _continues(previous: TherapyCalendarRow, row: TherapyCalendarRow) -> bool:
    return (
        not row.dose
        and not previous.dose
        and (row.first.on - previous.last.on).days == 1
        and (previous.happens, previous.stay_near, previous.no_driving)
        == (row.happens, row.stay_near, row.no_driving)
    )


def _has(day: TherapyDay, kind: EntryKind) -> bool:
    return any(entry.kind is kind for entry in day.entries)


def _word_key(plan: TherapyPlan, entry: Entry) -> str:
    cells = plan.kind is TherapyKind.CELL_JOURNEY
    if entry.kind is EntryKind.DOSE:
        if entry.what == plan.therapy:
            return "cell-infusion" if cells else "dose"
        # A cell journey's other doses are its lymphodepletion chemotherapy.
        return "lymphodepletion" if cells else "dose"
    if entry.kind is EntryKind.PREMEDICATION:
        return "premedication"
    if entry.kind is EntryKind.MONITORING:
        return _MONITORING.get(entry.what, "checks")
    if entry.kind is EntryKind.STEP:
        return _STEPS.get(entry.what, "step")
    return "visit"
