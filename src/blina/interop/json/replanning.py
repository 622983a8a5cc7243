"""The course's event log and a re-planned course (``blina.domain.replanning``) as
JSON-ready data.

``event_from_dict`` reads an event as the CLI's COURSE.json, the API and the course log
store it, and ``event_to_dict`` writes it back; ``replan_to_dict`` is the planner's JSON
plus the re-plan's ``status``, ``discontinued_at`` and ``decisions`` (``blina replan``,
the API). Reading a value that is not what the field allows raises ``InvalidInput``
naming the field (``events[2].grade``).
"""

import json
from typing import Any

from blina.domain.errors import InvalidInput
from blina.domain.modifications import AdverseReaction
from blina.domain.replanning.decisions import Replan
from blina.domain.replanning.events import Discontinuation, Event, Interruption, Restart
from blina.domain.units import McgPerDay
from blina.interop.json.plan import plan_to_dict
from blina.interop.json.values import (
    json_choice,
    json_field,
    json_instant,
    json_number,
    json_positive,
    json_text,
)

__all__ = ["event_from_dict", "event_to_dict", "replan_to_dict"]


def event_from_dict(item: Any, where: str) -> Event:
    if not isinstance(item, dict):
        raise InvalidInput(where, json.dumps(item, default=str), "an object")
    at = json_instant(f"{where}.at", json_text(json_field(item, "at", where), f"{where}.at"))
    kind = json_text(json_field(item, "kind", where), f"{where}.kind")
    if kind == "interrupt":
        cause = json_choice(
            f"{where}.cause",
            json_text(json_field(item, "cause", where), f"{where}.cause"),
            AdverseReaction,
        )
        grade = json_number(json_field(item, "grade", where), f"{where}.grade")
        if grade != grade.to_integral_value():
            raise InvalidInput(f"{where}.grade", grade, "a whole number")
        return Interruption(at, cause, int(grade))
    if kind == "restart":
        dose = item.get("dose_mcg_per_day")
        resolved = item.get("resolved_at")
        return Restart(
            at,
            None if dose is None else McgPerDay(json_positive(dose, f"{where}.dose_mcg_per_day")),
            None
            if resolved is None
            else json_instant(f"{where}.resolved_at", json_text(resolved, f"{where}.resolved_at")),
        )
    if kind == "discontinue":
        reason = item.get("reason")
        return (
            Discontinuation(at)
            if reason is None
            else Discontinuation(at, json_text(reason, f"{where}.reason"))
        )
    raise InvalidInput(f"{where}.kind", kind, "one of interrupt, restart, discontinue")


def event_to_dict(event: Event) -> dict[str, Any]:
    """The inverse of ``event_from_dict``."""
    if isinstance(event, Interruption):
        return {
            "at": event.at.isoformat(),
            "kind": "interrupt",
            "cause": str(event.cause),
            "grade": event.grade,
        }
    if isinstance(event, Restart):
        data: dict[str, Any] = {"at": event.at.isoformat(), "kind": "restart"}
        if event.dose is not None:
            data["dose_mcg_per_day"] = str(event.dose.value)
        if event.resolved_at is not None:
            data["resolved_at"] = event.resolved_at.isoformat()
        return data
    return {"at": event.at.isoformat(), "kind": "discontinue", "reason": event.reason}


def replan_to_dict(result: Replan) -> dict[str, Any]:
    zone = result.plan.zone
    return {
        **plan_to_dict(result.plan),
        "status": str(result.status),
        "discontinued_at": None
        if result.discontinued_at is None
        else result.discontinued_at.astimezone(zone),
        "decisions": [
            {
                "at": d.at.astimezone(zone),
                "action": str(d.action),
                "level": str(d.level),
                "reasons": list(d.reasons),
                "source": d.source,
            }
            for d in result.decisions
        ],
    }
