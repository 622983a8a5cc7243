"""JSON values: written with exact decimals, read back checked field by field.

Quantities keep their unit in the key (``dose_mcg_per_day``); decimals stay exact until
``dumps`` writes them as JSON numbers. Reading a value that is not what the field allows
raises ``InvalidInput`` naming the field (``events[2].grade``).
"""

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from blina.domain import bounds
from blina.domain.errors import InvalidInput

__all__ = [
    "dumps",
    "json_choice",
    "json_field",
    "json_instant",
    "json_number",
    "json_positive",
    "json_text",
    "to_json_ready",
]

_Enum = TypeVar("_Enum", bound=Enum)


# --- writing ---------------------------------------------------------------------------------


def dumps(data: Any) -> str:
    """JSON text; decimals become JSON numbers with their exact digits, dates ISO 8601."""
    return json.dumps(to_json_ready(data), indent=2, ensure_ascii=False)


def to_json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: to_json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_ready(item) for item in value]
    if isinstance(value, Decimal):
        # A float prints the shortest text that reads back as itself, so the digits of
        # a clinical decimal (at most a few places) come out unchanged.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# --- reading ---------------------------------------------------------------------------------


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


def json_positive(value: Any, field: str) -> Decimal:
    number = json_number(value, field)
    if number <= 0:
        raise InvalidInput(field, number, "> 0")
    return number
