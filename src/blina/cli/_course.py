"""COURSE.json, read once for every command that takes one (``blina replan``,
``blina pk simulate``): the patient, the indication, the start and the event log."""

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from blina.cli._parse import parse_date, parse_integer, parse_time
from blina.domain.body import measure_body
from blina.domain.course_plan import CoursePlan
from blina.domain.errors import InvalidInput, UnknownId
from blina.domain.planning import plan_course, zone_named
from blina.domain.replanning.events import Event
from blina.interop.json.replanning import event_from_dict
from blina.interop.json.values import json_field, json_number, json_text
from blina.knowledge import load_knowledge

__all__ = ["course_events", "course_plan", "read_json_file"]


def read_json_file(path: str, field: str = "course") -> Any:
    """The JSON in ``path``; unreadable or malformed is bad input named ``field``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise InvalidInput(field, path, f"a readable {field.upper()}.json file") from None
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise InvalidInput(field, path, f"valid JSON ({error.msg}, line {error.lineno})") from None


def read_course(path: str) -> Mapping[str, Any]:
    data = read_json_file(path)
    if not isinstance(data, dict):
        raise InvalidInput("course", path, "a JSON object")
    return data


def course_plan(data: Mapping[str, Any]) -> CoursePlan:
    """The plan of the course COURSE.json prescribes (before its events)."""
    knowledge = load_knowledge()
    patient = json_field(data, "patient")
    if not isinstance(patient, dict):
        raise InvalidInput("patient", json.dumps(patient, default=str), "an object")
    height = patient.get("height_cm")
    body = measure_body(
        weight_kg=json_number(json_field(patient, "weight_kg", "patient"), "patient.weight_kg"),
        height_cm=None if height is None else json_number(height, "patient.height_cm"),
        age_years=json_number(json_field(patient, "age_years", "patient"), "patient.age_years"),
        rules=knowledge.body_rules,
    )
    indication = json_text(json_field(data, "indication"), "indication")
    try:
        regimen = knowledge.regimen(indication)
    except UnknownId as error:
        raise InvalidInput("indication", indication, f"one of {', '.join(error.known)}") from None
    start = parse_date("start", json_text(json_field(data, "start"), "start"))
    bag_hours = json_number(data.get("bag_hours", 24), "bag_hours")
    cycles = data.get("cycles")
    return plan_course(
        regimen=regimen,
        body=body,
        start=start,
        bag_hours=parse_integer("bag_hours", str(bag_hours)),
        zone=zone_named(json_text(data.get("zone", "UTC"), "zone")),
        start_time=parse_time(
            "start_time", json_text(data.get("start_time", "09:00"), "start_time")
        ),
        cycles=None
        if cycles is None
        else parse_integer("cycles", str(json_number(cycles, "cycles"))),
    )


def course_events(data: Mapping[str, Any], field: str = "events") -> list[Event]:
    """The event log under ``data[field]`` (none when absent)."""
    events_data = data.get(field, [])
    if not isinstance(events_data, list):
        raise InvalidInput(field, json.dumps(events_data, default=str), "a list")
    return [event_from_dict(item, f"{field}[{i}]") for i, item in enumerate(events_data)]
