"""``blina plan --therapy NAME``: the therapies planned beside blinatumomab (the drugs
and the CAR-T journeys).

``plan`` (cli/plan.py) keeps blinatumomab as its default and hands any other therapy
here. This module turns the command-line text into typed inputs (one line naming the
field on bad input, exit 2), asks the service for the plan and prints it as tables or
JSON or iCalendar. Options that belong to the other kind of therapy are refused, never
ignored: blinatumomab's here, the drugs' and CAR-T's by the service.
"""

import re
import sys
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

import typer
from rich.console import Console

from blina.cli._parse import parse_date, parse_decimal, parse_integer
from blina.cli.therapy_tables import render_therapy_plan
from blina.domain.errors import InvalidInput
from blina.domain.therapies.cycle_doses import Response, Transplant
from blina.interop.json.therapy_plan import therapy_plan_to_dict
from blina.interop.json.values import dumps
from blina.interop.therapy_ical import therapy_plan_to_ical
from blina.knowledge import load_knowledge
from blina.services.clock import SystemClock
from blina.services.therapy_catalog import warnings_boxed_first
from blina.services.therapy_planning import (
    BLINATUMOMAB,
    CELL_FIELDS,
    TherapyInputs,
    plan_therapy,
    therapy_name,
)

__all__ = ["BLINATUMOMAB", "TherapyOptions", "refuse_therapy_options", "run_therapy_plan"]

_DOSE_DAY = re.compile(r"^C(\d{1,2})D(\d{1,2})$")


@dataclass(frozen=True, slots=True)
class TherapyOptions:
    """The command-line text of every option a therapy other than blinatumomab uses."""

    therapy: str
    bsa_m2: str | None = None
    weight_kg: str | None = None
    height_cm: str | None = None
    age_years: str | None = None
    start: str | None = None
    transplant: str | None = None
    response: tuple[str, ...] = ()
    mrd: str | None = None
    first_cycle_days: str | None = None
    dose_date: tuple[str, ...] = ()
    blasts_per_mm3: str | None = None
    host_day1: tuple[str, ...] = ()
    leukapheresis_on: str | None = None
    product_ready_on: str | None = None
    bridging: str | None = None
    bridging_start: str | None = None
    lymphodepletion_start: str | None = None
    marrow_blasts_percent: str | None = None
    second_dose_on: str | None = None
    first_dose_crs_grade: str | None = None
    first_dose_icans_grade: str | None = None
    second_dose_withheld: bool = False
    stay_near_days: str | None = None
    no_driving_days: str | None = None


_INOTUZUMAB = "inotuzumab"
_DRUG_ONLY = {
    "transplant": _INOTUZUMAB,
    "response": _INOTUZUMAB,
    "mrd": _INOTUZUMAB,
    "first_cycle_days": _INOTUZUMAB,
    "dose_date": _INOTUZUMAB,
    "blasts_per_mm3": _INOTUZUMAB,
    "host_day1": "rituximab or gemtuzumab",
}
_ONLY_OTHER = ("bsa_m2", *_DRUG_ONLY, *CELL_FIELDS)


def refuse_therapy_options(options: TherapyOptions) -> None:
    """Blinatumomab's plan takes none of the other therapies' options."""
    _refuse(options, _ONLY_OTHER, "used only with --therapy other than blinatumomab")


def run_therapy_plan(options: TherapyOptions, *, output: str) -> None:
    """Print the plan as ``output`` says: ``table``, ``json`` or ``ics``."""
    knowledge = load_knowledge()
    cars = knowledge.car_t.products
    if options.therapy.strip() in cars:
        for name, owner in _DRUG_ONLY.items():
            _refuse(options, (name,), f"used only for {owner}")
    elif options.therapy.strip() in knowledge.therapies:
        _refuse(options, CELL_FIELDS, f"used only for CAR-T: {', '.join(cars)}")
    plan = plan_therapy(knowledge, _inputs(options))
    if output == "json":
        references = {key: entry.reference for key, entry in knowledge.sources.items()}
        typer.echo(dumps(therapy_plan_to_dict(plan, references)))
        return
    name = therapy_name(knowledge, plan.therapy)
    if output == "ics":
        ordered = replace(plan, warnings=warnings_boxed_first(plan))
        calendar = therapy_plan_to_ical(ordered, name, generated_at=SystemClock().now())
        sys.stdout.buffer.write(calendar)
        return
    render_therapy_plan(plan, name, knowledge.sources, Console(width=160))


def _refuse(options: TherapyOptions, names: tuple[str, ...], allowed: str) -> None:
    """An option of another therapy is one line naming it, never ignored."""
    for name in names:
        value = getattr(options, name)
        if value is not None and value is not False and value != ():
            raise InvalidInput(name, _shown(value), allowed)


def _shown(value: str | bool | tuple[str, ...]) -> str:
    if isinstance(value, tuple):
        return ", ".join(value)
    return "given" if value is True else str(value)


def _inputs(options: TherapyOptions) -> TherapyInputs:
    return TherapyInputs(
        therapy=options.therapy.strip(),
        bsa_m2=_decimal("bsa_m2", options.bsa_m2),
        weight_kg=_decimal("weight_kg", options.weight_kg),
        height_cm=_decimal("height_cm", options.height_cm),
        age_years=_decimal("age_years", options.age_years),
        start=None if options.start is None else parse_date("start", options.start),
        transplant=_choice("transplant", options.transplant, Transplant),
        responses=tuple(_response(text) for text in options.response),
        mrd_negative=_mrd(options.mrd),
        first_cycle_days=None
        if options.first_cycle_days is None
        else parse_integer("first_cycle_days", options.first_cycle_days),
        dose_dates=_dose_dates(options.dose_date),
        blasts_per_mm3=_decimal("blasts_per_mm3", options.blasts_per_mm3),
        host_day1=_host_days(options.host_day1),
        leukapheresis_on=_date("leukapheresis_on", options.leukapheresis_on),
        product_ready_on=_date("product_ready_on", options.product_ready_on),
        bridging=options.bridging,
        bridging_start=_date("bridging_start", options.bridging_start),
        lymphodepletion_start=_date("lymphodepletion_start", options.lymphodepletion_start),
        marrow_blasts_percent=_decimal("marrow_blasts_percent", options.marrow_blasts_percent),
        second_dose_on=_date("second_dose_on", options.second_dose_on),
        first_dose_crs_grade=_integer("first_dose_crs_grade", options.first_dose_crs_grade),
        first_dose_icans_grade=_integer("first_dose_icans_grade", options.first_dose_icans_grade),
        second_dose_withheld=options.second_dose_withheld,
        stay_near_days=_integer("stay_near_days", options.stay_near_days),
        no_driving_days=_integer("no_driving_days", options.no_driving_days),
    )


def _decimal(field: str, text: str | None) -> Decimal | None:
    return None if text is None else parse_decimal(field, text)


def _date(field: str, text: str | None) -> date | None:
    return None if text is None else parse_date(field, text)


def _integer(field: str, text: str | None) -> int | None:
    return None if text is None else parse_integer(field, text)


def _choice(field: str, text: str | None, enum: type[Transplant]) -> Transplant | None:
    if text is None:
        return None
    try:
        return enum(text.strip())
    except ValueError:
        raise InvalidInput(field, text, f"one of {', '.join(m.value for m in enum)}") from None


def _response(text: str) -> Response:
    try:
        return Response(text.strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Response)
        raise InvalidInput("response", text, f"one of {allowed}, in cycle order") from None


def _mrd(text: str | None) -> bool | None:
    if text is None:
        return None
    value = text.strip().lower()
    if value not in ("negative", "positive"):
        raise InvalidInput("mrd", text, "negative or positive")
    return value == "negative"


def _dose_dates(items: tuple[str, ...]) -> dict[tuple[int, int], date]:
    dates: dict[tuple[int, int], date] = {}
    for item in items:
        key, sep, when = item.partition("=")
        match = _DOSE_DAY.match(key.strip().upper())
        if not sep or match is None:
            raise InvalidInput("dose_date", item, "CnDm=YYYY-MM-DD, for example C1D8=2027-01-12")
        day = (int(match.group(1)), int(match.group(2)))
        if day in dates:
            raise InvalidInput("dose_date", item, "one date per dose day")
        dates[day] = parse_date("dose_date", when)
    return dates


def _host_days(items: tuple[str, ...]) -> dict[str, date]:
    days: dict[str, date] = {}
    for item in items:
        course, sep, when = item.partition("=")
        if not sep or not course.strip():
            raise InvalidInput(
                "host_day1", item, "COURSE=YYYY-MM-DD, for example copdam1=2027-01-10"
            )
        key = course.strip().lower()
        if key in days:
            raise InvalidInput("host_day1", item, "one day 1 per course")
        days[key] = parse_date("host_day1", when)
    return days
