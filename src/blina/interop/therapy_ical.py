"""Any therapy's plan (``TherapyPlan``) as an iCalendar file (RFC 5545), whatever its kind.

One all-day event per planned day: the summary names the therapy, the day as the label
counts it and what happens (the dose first); the description lists every entry with its
dose, how the dose was computed and its source. The plan's warnings and gaps go into the
calendar's own description (RFC 7986), where a calendar app shows them once. UIDs come
from the therapy, the plan's first day and the day's date, so importing the same plan
again updates its events instead of duplicating them.
"""

import hashlib
from datetime import datetime, timedelta

from icalendar import Calendar, Event

from blina.domain.therapies.model import Entry, EntryKind, TherapyDay, TherapyPlan

__all__ = ["therapy_plan_to_ical"]

_DAY = timedelta(days=1)


def therapy_plan_to_ical(plan: TherapyPlan, name: str, *, generated_at: datetime) -> bytes:
    """Render ``plan`` of the therapy called ``name``; ``generated_at`` (aware) is each
    event's DTSTAMP. The caller orders ``plan.warnings`` as they are to be read."""
    calendar = Calendar()
    calendar.add("prodid", "-//blina//therapy plan//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{name}: plan")
    calendar.add("description", _plan_notes(plan))  # RFC 7986
    key = _plan_key(plan)
    for day in plan.days:
        event = Event()
        event.add("uid", f"{key}-{day.on:%Y%m%d}@blina")
        event.add("dtstamp", generated_at)
        event.add("summary", _summary(name, day))
        event.add("dtstart", day.on)
        event.add("dtend", day.on + _DAY)
        event.add("transp", "TRANSPARENT")
        event.add("description", "\n".join(_line(entry) for entry in day.entries))
        calendar.add_component(event)
    text: bytes = calendar.to_ical()
    return text


def _summary(name: str, day: TherapyDay) -> str:
    doses = [e for e in day.entries if e.kind is EntryKind.DOSE]
    shown = doses or list(day.entries)
    what = ", ".join(dict.fromkeys(_short(e) for e in shown))
    return f"{name} {day.label}: {what}" if what else f"{name} {day.label}"


def _short(entry: Entry) -> str:
    if entry.dose is None:
        return entry.what
    return f"{entry.what} {entry.dose} {entry.unit}"


def _line(entry: Entry) -> str:
    dose = "" if entry.dose is None else f" {entry.dose} {entry.unit}"
    basis = "" if entry.basis is None else f" ({entry.basis})"
    return f"{entry.kind}: {entry.what}{dose}{basis}. {entry.text} [source: {entry.source}]"


def _plan_notes(plan: TherapyPlan) -> str:
    warnings = [f"Warning: {w.text} [source: {w.source}]" for w in plan.warnings]
    gaps = [
        f"Not in the sources: {g.fact} Instead: {g.instead} [source: {g.source}]" for g in plan.gaps
    ]
    return "\n".join([*warnings, *gaps])


def _plan_key(plan: TherapyPlan) -> str:
    first = plan.days[0].on.isoformat() if plan.days else "-"
    text = f"{plan.therapy}|{plan.kind}|{first}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]
