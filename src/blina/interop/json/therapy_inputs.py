"""A therapy's planning inputs (``TherapyInputs``) as JSON-ready data and back: the form
a stored therapy course keeps, and re-plans from on every read.

Only the fields given are written (a field at its default is left out), in the
dataclass's order. Decimals are written as strings with their exact digits (a JSON
column hands numbers back as binary floats), dates as ISO 8601, the dose dates by their
day (``"C1D8"``) and the responses by their codes. Reading is strict: an unknown key, a
value of the wrong type or out of ``blina.domain.bounds`` raises ``InvalidInput`` naming
the field (``inputs.dose_dates.C1D8``); whether the values make a plan is the planner's
question, asked afterwards.
"""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import date
from decimal import Decimal
from typing import Any

from blina.domain import bounds
from blina.domain.errors import InvalidInput
from blina.domain.therapies.cycle_doses import Response, Transplant
from blina.domain.therapies.inputs import TherapyInputs
from blina.interop.json.values import json_choice, json_text

__all__ = ["dose_day_key", "therapy_inputs_from_dict", "therapy_inputs_to_dict"]

_UNGIVEN = TherapyInputs(therapy="")
_DOSE_DAY = re.compile(r"C(\d{1,2})D(\d{1,2})")
_KEY = re.compile(r"[a-z0-9-]{1,40}")
# More than any cycle limit the knowledge holds (the API's bound too).
_MAX_CYCLES = 12
_MAX_TEXT = 200
_MAX_HOST_COURSES = 20


def dose_day_key(cycle: int, day: int) -> str:
    """A dose's day as the stored inputs and the API name it: ``C1D8``."""
    return f"C{cycle}D{day}"


def therapy_inputs_to_dict(inputs: TherapyInputs) -> dict[str, Any]:
    """The given fields of ``inputs``, ready for ``json.dumps`` (``therapy`` always)."""
    data: dict[str, Any] = {}
    for item in fields(TherapyInputs):
        value = getattr(inputs, item.name)
        if item.name != "therapy" and value == getattr(_UNGIVEN, item.name):
            continue
        data[item.name] = _written(item.name, value)
    return data


def _written(name: str, value: Any) -> Any:
    if name == "dose_dates":
        return {dose_day_key(*day): when.isoformat() for day, when in sorted(value.items())}
    if name == "host_day1":
        return {key: when.isoformat() for key, when in sorted(value.items())}
    if name == "responses":
        return [str(r) for r in value]
    if isinstance(value, Decimal):
        return format(value, "f")  # its digits, never an exponent (0E-12)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Transplant):
        return str(value)
    return value


def therapy_inputs_from_dict(data: Any, where: str = "inputs") -> TherapyInputs:
    """The inverse of ``therapy_inputs_to_dict``, every value checked."""
    if not isinstance(data, Mapping):
        raise InvalidInput(where, _shown(data), "an object")
    unknown = sorted(set(data) - _READERS.keys())
    if unknown:
        raise InvalidInput(f"{where}.{unknown[0]}", "given", "one of " + ", ".join(_READERS))
    if "therapy" not in data:
        raise InvalidInput(f"{where}.therapy", "(missing)", "given")
    return TherapyInputs(
        **{name: _READERS[name](value, f"{where}.{name}") for name, value in data.items()}
    )


def _shown(value: Any) -> str:
    return json.dumps(value, default=str)[:40]


def _key(value: Any, field: str) -> str:
    text = json_text(value, field)
    if not _KEY.fullmatch(text):
        raise InvalidInput(field, text[:40], "a key of 1 to 40 characters a-z, 0-9 and -")
    return text


def _decimal(value: Any, field: str) -> Decimal:
    return bounds.parse_decimal(field, json_text(value, field))


def _date(value: Any, field: str) -> date:
    return bounds.parse_date(field, json_text(value, field))


def _integer(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, _shown(value), "a whole number")
    return bounds.check_integer(field, value)


def _flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field, _shown(value), "true or false")
    return value


def _text(value: Any, field: str) -> str:
    text = bounds.check_text(field, json_text(value, field))
    if not 1 <= len(text) <= _MAX_TEXT:
        raise InvalidInput(field, f"{len(text)} characters", f"1 to {_MAX_TEXT} characters")
    return text


def _transplant(value: Any, field: str) -> Transplant:
    return json_choice(field, json_text(value, field), Transplant)


def _responses(value: Any, field: str) -> tuple[Response, ...]:
    if not isinstance(value, list) or len(value) > _MAX_CYCLES:
        raise InvalidInput(field, _shown(value), f"a list of at most {_MAX_CYCLES} responses")
    return tuple(
        json_choice(f"{field}[{i}]", json_text(item, f"{field}[{i}]"), Response)
        for i, item in enumerate(value)
    )


def _dose_dates(value: Any, field: str) -> dict[tuple[int, int], date]:
    dates: dict[tuple[int, int], date] = {}
    for key, when in _dates_by_key(value, field, 3 * _MAX_CYCLES).items():
        found = _DOSE_DAY.fullmatch(key)
        if found is None:
            raise InvalidInput(f"{field}.{key[:40]}", "given", "a dose day such as C1D8")
        dates[int(found[1]), int(found[2])] = when
    return dates


def _host_days(value: Any, field: str) -> dict[str, date]:
    days = _dates_by_key(value, field, _MAX_HOST_COURSES)
    for key in days:
        _key(key, f"{field}.{key[:40]}")
    return days


def _dates_by_key(value: Any, field: str, most: int) -> dict[str, date]:
    if not isinstance(value, Mapping) or len(value) > most:
        raise InvalidInput(field, _shown(value), f"an object of at most {most} dates by key")
    return {key: _date(when, f"{field}.{key[:40]}") for key, when in value.items()}


def _optional(read: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    """A field written only when given may also read back as null (not given)."""
    return lambda value, field: None if value is None else read(value, field)


_READERS: dict[str, Callable[[Any, str], Any]] = {
    "therapy": _key,
    "bsa_m2": _optional(_decimal),
    "weight_kg": _optional(_decimal),
    "height_cm": _optional(_decimal),
    "age_years": _optional(_decimal),
    "start": _optional(_date),
    "transplant": _optional(_transplant),
    "responses": _responses,
    "mrd_negative": _optional(_flag),
    "first_cycle_days": _optional(_integer),
    "dose_dates": _dose_dates,
    "blasts_per_mm3": _optional(_decimal),
    "host_day1": _host_days,
    "leukapheresis_on": _optional(_date),
    "product_ready_on": _optional(_date),
    "bridging": _optional(_text),
    "bridging_start": _optional(_date),
    "lymphodepletion_start": _optional(_date),
    "marrow_blasts_percent": _optional(_decimal),
    "second_dose_on": _optional(_date),
    "first_dose_crs_grade": _optional(_integer),
    "first_dose_icans_grade": _optional(_integer),
    "second_dose_withheld": _flag,
    "stay_near_days": _optional(_integer),
    "no_driving_days": _optional(_integer),
}
