"""`blina plan` and `blina replan`: the course planner and re-planner on the command line.

``plan`` prints a course day by day (a table, the planner's JSON or iCalendar);
``replan`` reads a COURSE.json (patient, indication, start, events) and prints the
planner's JSON plus ``decisions`` and ``status``. Bad input ends with exit 2 and one
line naming the field; a re-plan with a hard-stop decision prints its answer and exits 3.
"""

import sys
from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from blina.cli._course import course_events, course_plan, read_course
from blina.cli._parse import parse_date, parse_decimal, parse_integer, parse_time
from blina.cli.app import EXIT_HARD_STOP, app, user_errors
from blina.cli.tables import render_plan
from blina.cli.therapy import (
    BLINATUMOMAB,
    TherapyOptions,
    refuse_therapy_options,
    run_therapy_plan,
)
from blina.domain.body import measure_body
from blina.domain.course_plan import CoursePlan
from blina.domain.errors import InvalidInput, UnknownId
from blina.domain.planning import plan_course, zone_named
from blina.domain.regimens import Regimen
from blina.domain.replanning.decisions import Replan
from blina.domain.replanning.replay import replan
from blina.interop.ical import plan_to_ical
from blina.interop.json.plan import plan_to_dict
from blina.interop.json.replanning import replan_to_dict
from blina.interop.json.values import dumps, json_instant
from blina.knowledge import load_knowledge
from blina.services.clock import SystemClock


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    ICS = "ics"


class ReplanFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


@app.command()
def plan(
    indication: Annotated[
        str | None,
        typer.Option(help="Blinatumomab: relapsed-refractory, mrd-positive or consolidation"),
    ] = None,
    weight_kg: Annotated[str | None, typer.Option(help="Body weight in kg")] = None,
    age_years: Annotated[
        str | None, typer.Option(help="Age in years (decimals allowed, e.g. 0.5)")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            help="First infusion day (inotuzumab: cycle 1 day 1; CAR-T: day 0, the first "
            "cell infusion), YYYY-MM-DD"
        ),
    ] = None,
    height_cm: Annotated[
        str | None, typer.Option(help="Height in cm (needed under 45 kg and for children)")
    ] = None,
    bag_hours: Annotated[
        str, typer.Option(help="Bag duration: 24, 48, 72, 96 or 168 (7 days)")
    ] = "24",
    cycles: Annotated[
        str | None, typer.Option(help="Cycles to plan (default: the full labelled course)")
    ] = None,
    cycle_start: Annotated[
        list[str] | None,
        typer.Option(help="Start date of a later cycle, N=YYYY-MM-DD (repeatable)"),
    ] = None,
    start_time: Annotated[
        str, typer.Option(help="Clock time the first bag is hung, HH:MM")
    ] = "09:00",
    zone: Annotated[str, typer.Option(help="Clinic time zone (IANA name)")] = "UTC",
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or ics")
    ] = OutputFormat.TABLE,
    therapy: Annotated[
        str,
        typer.Option(
            help="blinatumomab (default), inotuzumab, rituximab, gemtuzumab, or a CAR-T "
            "product: tisagenlecleucel, brexucabtagene or obecabtagene"
        ),
    ] = BLINATUMOMAB,
    bsa_m2: Annotated[
        str | None,
        typer.Option(
            help="Other therapies: BSA in m2 (or height and weight; CAR-T: where "
            "lymphodepletion is per m2)"
        ),
    ] = None,
    transplant: Annotated[
        str | None, typer.Option(help="Inotuzumab: planned or not-planned (stem-cell transplant)")
    ] = None,
    response: Annotated[
        list[str] | None,
        typer.Option(help="Inotuzumab: response after each cycle in order, cr, cri or none"),
    ] = None,
    mrd: Annotated[
        str | None, typer.Option(help="Inotuzumab: MRD after cycle 2, negative or positive")
    ] = None,
    first_cycle_days: Annotated[
        str | None, typer.Option(help="Inotuzumab: cycle 1 length, 21 (label) or 28")
    ] = None,
    dose_date: Annotated[
        list[str] | None,
        typer.Option(help="Inotuzumab: a dose's actual date, CnDm=YYYY-MM-DD (repeatable)"),
    ] = None,
    blasts_per_mm3: Annotated[
        str | None, typer.Option(help="Inotuzumab: peripheral blasts before the first dose")
    ] = None,
    host_day1: Annotated[
        list[str] | None,
        typer.Option(help="Rituximab, gemtuzumab: a host course's day 1, COURSE=YYYY-MM-DD"),
    ] = None,
    leukapheresis_on: Annotated[
        str | None, typer.Option(help="CAR-T: leukapheresis date, YYYY-MM-DD")
    ] = None,
    product_ready_on: Annotated[
        str | None, typer.Option(help="CAR-T: date the product is ready (recorded)")
    ] = None,
    bridging: Annotated[
        str | None, typer.Option(help="CAR-T: bridging therapy as the physician records it")
    ] = None,
    bridging_start: Annotated[
        str | None, typer.Option(help="CAR-T: bridging start date (with --bridging)")
    ] = None,
    lymphodepletion_start: Annotated[
        str | None,
        typer.Option(help="CAR-T: lymphodepletion start date (default: the label's last start)"),
    ] = None,
    marrow_blasts_percent: Annotated[
        str | None,
        typer.Option(help="Obecabtagene: marrow blasts in % (decides the dose split; required)"),
    ] = None,
    second_dose_on: Annotated[
        str | None,
        typer.Option(help="Obecabtagene: second infusion date (default Day 10), YYYY-MM-DD"),
    ] = None,
    first_dose_crs_grade: Annotated[
        str | None,
        typer.Option(help="Obecabtagene: worst CRS grade after Day 1, 0-4 (re-plan)"),
    ] = None,
    first_dose_icans_grade: Annotated[
        str | None,
        typer.Option(help="Obecabtagene: worst ICANS grade after Day 1, 0-4 (re-plan)"),
    ] = None,
    second_dose_withheld: Annotated[
        bool, typer.Option(help="Obecabtagene: the physician withholds the second infusion")
    ] = False,
    stay_near_days: Annotated[
        str | None,
        typer.Option(help="CAR-T: days to stay near the centre (where the label's is missing)"),
    ] = None,
    no_driving_days: Annotated[
        str | None,
        typer.Option(help="CAR-T: days not to drive (where the label's is missing, or longer)"),
    ] = None,
) -> None:
    """Plan a course day by day: doses, hospital days, premedication, bag changes, precautions.

    Blinatumomab by default; --therapy plans inotuzumab, rituximab, gemtuzumab, or the
    journey around a CAR-T infusion (tisagenlecleucel, brexucabtagene, obecabtagene)."""
    options = TherapyOptions(
        therapy=therapy,
        bsa_m2=bsa_m2,
        weight_kg=weight_kg,
        height_cm=height_cm,
        age_years=age_years,
        start=start,
        transplant=transplant,
        response=tuple(response or ()),
        mrd=mrd,
        first_cycle_days=first_cycle_days,
        dose_date=tuple(dose_date or ()),
        blasts_per_mm3=blasts_per_mm3,
        host_day1=tuple(host_day1 or ()),
        leukapheresis_on=leukapheresis_on,
        product_ready_on=product_ready_on,
        bridging=bridging,
        bridging_start=bridging_start,
        lymphodepletion_start=lymphodepletion_start,
        marrow_blasts_percent=marrow_blasts_percent,
        second_dose_on=second_dose_on,
        first_dose_crs_grade=first_dose_crs_grade,
        first_dose_icans_grade=first_dose_icans_grade,
        second_dose_withheld=second_dose_withheld,
        stay_near_days=stay_near_days,
        no_driving_days=no_driving_days,
    )
    with user_errors():
        if therapy.strip() != BLINATUMOMAB:
            _refuse_blinatumomab_options(indication, cycles, cycle_start)
            run_therapy_plan(options, output=str(output))
            return
        refuse_therapy_options(options)
        knowledge = load_knowledge()
        regimen = _regimen(_given("indication", indication))
        body = measure_body(
            weight_kg=parse_decimal("weight_kg", _given("weight_kg", weight_kg)),
            height_cm=None if height_cm is None else parse_decimal("height_cm", height_cm),
            age_years=parse_decimal("age_years", _given("age_years", age_years)),
            rules=knowledge.body_rules,
        )
        course = plan_course(
            regimen=regimen,
            body=body,
            start=parse_date("start", _given("start", start)),
            bag_hours=parse_integer("bag_hours", bag_hours),
            zone=zone_named(zone),
            start_time=parse_time("start_time", start_time),
            cycles=None if cycles is None else parse_integer("cycles", cycles),
            cycle_starts=_cycle_starts(cycle_start or []),
        )
        _print_plan(course, output)


@app.command("replan")
def replan_command(
    course: Annotated[str, typer.Argument(help="COURSE.json: patient, indication, start, events")],
    now: Annotated[
        str | None, typer.Option(help="The current instant, ISO with offset (default: the clock)")
    ] = None,
    output: Annotated[
        ReplanFormat, typer.Option("--format", help="table or json")
    ] = ReplanFormat.TABLE,
) -> None:
    """Re-plan a course from its event log: interruptions, restarts, discontinuation."""
    with user_errors():
        data = read_course(course)
        result = _replan(data, SystemClock().now() if now is None else json_instant("now", now))
    if output is ReplanFormat.JSON:
        typer.echo(dumps(replan_to_dict(result)))
    else:
        _print_replan(result)
    if result.hard_stops:
        raise typer.Exit(EXIT_HARD_STOP)


def _print_plan(course: CoursePlan, output: OutputFormat) -> None:
    if output is OutputFormat.JSON:
        typer.echo(dumps(plan_to_dict(course)))
    elif output is OutputFormat.ICS:
        sys.stdout.buffer.write(plan_to_ical(course, generated_at=SystemClock().now()))
    else:
        render_plan(course, load_knowledge().sources, Console(width=140))


def _given(field: str, text: str | None) -> str:
    if text is None:
        raise InvalidInput(field, "(missing)", "given for blinatumomab")
    return text


def _refuse_blinatumomab_options(
    indication: str | None,
    cycles: str | None,
    cycle_start: list[str] | None,
) -> None:
    given = {
        "indication": indication,
        "cycles": cycles,
        "cycle_start": ", ".join(cycle_start or ()),
    }
    for name, value in given.items():
        if value:
            raise InvalidInput(name, value, "used only for blinatumomab")


def _regimen(indication: str) -> Regimen:
    try:
        return load_knowledge().regimen(indication)
    except UnknownId as error:
        raise InvalidInput("indication", indication, f"one of {', '.join(error.known)}") from None


def _cycle_starts(items: list[str]) -> dict[int, date]:
    starts: dict[int, date] = {}
    for item in items:
        number, sep, when = item.partition("=")
        if not sep:
            raise InvalidInput("cycle_start", item, "N=YYYY-MM-DD, for example 3=2027-03-01")
        cycle = parse_integer("cycle_start", number)
        if cycle in starts:
            raise InvalidInput("cycle_start", item, "one date per cycle")
        starts[cycle] = parse_date("cycle_start", when)
    return starts


# --- re-planning: reading COURSE.json and printing the answer ---------------------------


def _replan(data: Mapping[str, Any], now: datetime) -> Replan:
    rules = load_knowledge().toxicity.modifications
    return replan(course_plan(data), course_events(data), rules=rules, now=now)


def _print_replan(result: Replan) -> None:
    console = Console(width=140)
    render_plan(result.plan, load_knowledge().sources, console)
    zone = result.plan.zone
    table = Table(title="Decisions", header_style="bold")
    for column in ("When", "Action", "Level", "Reasons", "Source"):
        table.add_column(column)
    for d in result.decisions:
        table.add_row(
            d.at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            str(d.action),
            str(d.level),
            "\n".join(d.reasons),
            d.source,
        )
    console.print(table)
    console.print(f"[bold]Status:[/bold] {result.status}")
