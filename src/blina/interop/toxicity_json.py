"""Toxicity gradings, course events and re-planned courses as JSON-ready data.

Shared by the CLI (``blina grade``, ``blina replan``) and the API, so both read and
write the same shapes. Reading a value that is not what the field allows raises
``InvalidInput`` naming the field (``events[2].grade``).
"""

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from blina.domain import bounds
from blina.domain.errors import InvalidInput
from blina.domain.modifications import AdverseReaction
from blina.domain.replanning.decisions import Replan
from blina.domain.replanning.events import Discontinuation, Event, Interruption, Restart
from blina.domain.toxicity import Grading
from blina.domain.units import McgPerDay
from blina.interop.plan_json import plan_to_dict

__all__ = [
    "event_from_dict",
    "event_to_dict",
    "grading_to_dict",
    "json_choice",
    "json_field",
    "json_instant",
    "json_number",
    "json_positive",
    "json_text",
    "replan_to_dict",
]

_Enum = TypeVar("_Enum", bound=Enum)


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


def json_positive(value: Any, field: str) -> Decimal:
    number = json_number(value, field)
    if number <= 0:
        raise InvalidInput(field, number, "> 0")
    return number


def grading_to_dict(grading: Grading) -> dict[str, Any]:
    decisive = set(grading.decisive)
    return {
        "scale": grading.scale,
        "grade": grading.grade,
        "criteria": [
            {
                "domain": c.domain,
                "finding": c.finding,
                "grade": c.grade,
                "decisive": c in decisive,
            }
            for c in grading.criteria
        ],
        "notes": list(grading.notes),
        "source": grading.source,
    }


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


def json_choice(field: str, text: str, enum: type[_Enum]) -> _Enum:
    try:
        return enum(text.strip())
    except ValueError:
        raise InvalidInput(field, text, f"one of {', '.join(m.value for m in enum)}") from None


def json_instant(field: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(field, text, "an ISO date-time with a UTC offset") from None
    if moment.tzinfo is None:
        raise InvalidInput(field, text, "an ISO date-time with a UTC offset")
    return bounds.check_moment(field, moment)


def json_field(data: Mapping[str, Any], key: str, where: str = "") -> Any:
    name = f"{where}.{key}" if where else key
    if key not in data:
        raise InvalidInput(name, "(missing)", "given")
    return data[key]


def json_number(value: Any, field: str) -> Decimal:
    """A JSON number (read with ``parse_float=Decimal``) within ``blina.domain.bounds``."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidInput(field, json.dumps(value, default=str), "a number")
    return bounds.check_decimal(field, Decimal(value))


def json_text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, json.dumps(value, default=str), "a string")
    return value


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
