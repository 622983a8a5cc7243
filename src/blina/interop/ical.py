"""A course plan as an iCalendar file (RFC 5545) that calendar apps import.

Events: each cycle's infusion period and treatment-free weeks (all-day), the recommended
hospital stay (admission and discharge days), every bag change and premedication (timed),
and the end of each precaution. UIDs are stable for the same plan, so importing a
re-planned course updates events instead of duplicating them.
"""

import hashlib
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event

from blina.domain.course_plan import CoursePlan

__all__ = ["plan_to_ical"]

_DAY = timedelta(days=1)


def plan_to_ical(plan: CoursePlan, *, generated_at: datetime) -> bytes:
    """Render ``plan``; ``generated_at`` (aware) is each event's DTSTAMP."""
    calendar = Calendar()
    calendar.add("prodid", "-//blina//course plan//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"Blinatumomab: {plan.regimen.name}")
    calendar.add("x-wr-timezone", plan.zone.key)
    key = _plan_key(plan)
    counter = 0

    def add(
        summary: str, start: date | datetime, end: date | None = None, description: str = ""
    ) -> None:
        nonlocal counter
        counter += 1
        event = Event()
        event.add("uid", f"{key}-{counter}@blina")
        event.add("dtstamp", generated_at)
        event.add("summary", summary)
        event.add("dtstart", start)
        if end is not None:
            event.add("dtend", end)
        if description:
            event.add("description", description)
        calendar.add_component(event)

    zone = plan.zone
    for cycle in plan.cycles:
        last_infusion_day = cycle.last_infusion_day
        add(
            f"Cycle {cycle.number} ({cycle.phase}): blinatumomab infusion",
            cycle.start,
            last_infusion_day + _DAY,
            f"Continuous infusion from {cycle.infusion_start.astimezone(zone):%Y-%m-%d %H:%M} "
            f"to {cycle.infusion_end.astimezone(zone):%Y-%m-%d %H:%M}.",
        )
        if cycle.end > last_infusion_day:
            add(f"Cycle {cycle.number}: treatment-free", last_infusion_day + _DAY, cycle.end + _DAY)
        if cycle.inpatient_days:
            add(
                f"Cycle {cycle.number}: hospital admission",
                cycle.start,
                description=f"Hospital stay recommended for the first {cycle.inpatient_days} days.",
            )
            add(
                f"Cycle {cycle.number}: last recommended hospital day",
                cycle.start + (cycle.inpatient_days - 1) * _DAY,
            )
    for bag in plan.bags:
        add(
            f"Bag change: {bag.dose} (cycle {bag.cycle})",
            bag.start.astimezone(zone),
            description=f"New bag for {bag.hours.normalize()} h. Do not flush the line.",
        )
    for dose in plan.premedication:
        add(
            f"Premedication: {dose.drug} {dose.dose}",
            dose.due.astimezone(zone),
            description=(
                f"{dose.timing.capitalize()}, {dose.reason}; route: {dose.route}. "
                f"Source: {dose.source}."
            ),
        )
    for precaution in plan.precautions:
        if precaution.until is not None:
            add(
                f"Until today: {precaution.description}",
                precaution.until.date(),
                description=f"Ends {precaution.until:%Y-%m-%d %H:%M}. Source: {precaution.source}.",
            )
    text: bytes = calendar.to_ical()
    return text


def _plan_key(plan: CoursePlan) -> str:
    first = plan.cycles[0].infusion_start.isoformat()
    text = f"{plan.regimen.id}|{first}|{plan.body.weight}|{plan.bag.hours}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]
