"""`blina pk simulate`: a course's estimated blinatumomab exposure, for the patient and
for virtual patients like them, as a table, JSON or a picture.

The course comes from COURSE.json (as ``blina replan`` reads it) or from the planner's
options; EVENTS.json adds the event log, flushes of the line, and the bags' hang and
removal times (then the exposure is of what was delivered, not of the plan). Every
output says it is a model-based estimate, never a measured level.
"""

import csv
import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from blina.cli._course import course_events, course_plan, read_course, read_json_file
from blina.cli._parse import parse_date, parse_decimal, parse_integer, parse_time
from blina.cli.app import app, user_errors
from blina.domain.body import measure_body
from blina.domain.course_plan import CoursePlan
from blina.domain.errors import InvalidInput, UnknownId
from blina.domain.pk import Exposure, PkModel, exposure, half_life_h, individual_clearance
from blina.domain.pk_course import (
    CourseInputs,
    inputs_from_delivery,
    inputs_from_plan,
    with_flushes,
)
from blina.domain.pk_population import (
    MAX_PATIENTS,
    Bands,
    BsaDistribution,
    bands,
    patient_rates,
)
from blina.domain.planning import plan_course, zone_named
from blina.domain.replanning.events import Event
from blina.domain.replanning.replay import replan
from blina.interop.json.values import dumps, json_instant
from blina.interop.pk_json import ESTIMATE_LABEL, bag_from_dict, exposure_to_dict, flush_from_dict
from blina.interop.pk_plot import PictureFormat, plot_exposure
from blina.knowledge import Knowledge, load_knowledge
from blina.services.clock import SystemClock

__all__ = ["pk_app"]

pk_app = typer.Typer(
    help="Exposure: estimated blinatumomab concentration (model-based estimates).",
    no_args_is_help=True,
)
app.add_typer(pk_app, name="pk")

# An output grid longer than this is refused: a whole 9-cycle course hourly is ~13,000.
MAX_POINTS = 200_000
WASHOUT_H = 24.0


@pk_app.command("simulate")
def simulate(
    course: Annotated[
        str | None, typer.Option(help="COURSE.json: patient, indication, start, events")
    ] = None,
    indication: Annotated[str | None, typer.Option(help="Without --course: the regimen")] = None,
    weight_kg: Annotated[str | None, typer.Option(help="Without --course: weight in kg")] = None,
    height_cm: Annotated[str | None, typer.Option(help="Without --course: height in cm")] = None,
    age_years: Annotated[str | None, typer.Option(help="Without --course: age in years")] = None,
    start: Annotated[str | None, typer.Option(help="Without --course: YYYY-MM-DD")] = None,
    bag_hours: Annotated[str, typer.Option(help="Without --course: bag duration")] = "24",
    cycles: Annotated[str | None, typer.Option(help="Without --course: cycles to plan")] = None,
    start_time: Annotated[str, typer.Option(help="Without --course: HH:MM")] = "09:00",
    zone: Annotated[str, typer.Option(help="Without --course: IANA time zone")] = "UTC",
    events: Annotated[
        str | None,
        typer.Option(help="EVENTS.json: {events, flushes, bags} (a list: events only)"),
    ] = None,
    population: Annotated[str | None, typer.Option(help="Virtual patients (1-10,000,000)")] = None,
    seed: Annotated[str, typer.Option(help="Seed of the virtual population")] = "0",
    bsa_median: Annotated[
        str | None, typer.Option(help="Population BSA median, m2 (default: the patient's)")
    ] = None,
    bsa_log_sd: Annotated[str, typer.Option(help="Population BSA log-SD (0-1)")] = "0",
    bsa_low: Annotated[str | None, typer.Option(help="Population BSA lowest, m2")] = None,
    bsa_high: Annotated[str | None, typer.Option(help="Population BSA highest, m2")] = None,
    bodies: Annotated[
        str | None,
        typer.Option(help="CSV of weight_kg,height_cm rows: population BSAs drawn from them"),
    ] = None,
    step_hours: Annotated[str, typer.Option(help="Output every N hours (0.01-24)")] = "1",
    below_fraction: Annotated[
        str, typer.Option(help="Interruptions: time below this share of steady state")
    ] = "0.5",
    now: Annotated[
        str | None, typer.Option(help="With bags: the current instant (default: the clock)")
    ] = None,
    plot: Annotated[str | None, typer.Option(help="Picture file: .png or .svg")] = None,
    output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Estimate a course's blinatumomab concentration over time (model-based estimate)."""
    with user_errors():
        if output not in ("table", "json"):
            raise InvalidInput("format", output, "table or json")
        knowledge = load_knowledge()
        if course is not None:
            data = read_course(course)
            plan, logged = course_plan(data), course_events(data)
        else:
            plan = _plan_from_options(
                knowledge,
                indication=indication,
                weight_kg=weight_kg,
                height_cm=height_cm,
                age_years=age_years,
                start=start,
                bag_hours=bag_hours,
                cycles=cycles,
                start_time=start_time,
                zone=zone,
            )
            logged = []
        extra = _read_events(events)
        log = course_events(extra) if "events" in extra else logged
        moment = SystemClock().now() if now is None else json_instant("now", now)
        inputs = _inputs(knowledge, plan, log, extra, moment)
        bsa = _patient_bsa(plan)
        clearance = float(individual_clearance(knowledge.pk, bsa_m2=bsa))
        times = _grid(inputs, parse_decimal("step_hours", step_hours))
        fraction = float(parse_decimal("below_fraction", below_fraction))
        found = exposure(
            knowledge.pk,
            inputs.inputs,
            times,
            clearance=clearance,
            below_fraction=fraction,
            interruptions_h=inputs.interruptions_h,
        )
        crowd = None
        if population is not None:
            count = parse_integer("population", population)
            if not 1 <= count <= MAX_PATIENTS:
                raise InvalidInput("population", count, f">= 1 and <= {MAX_PATIENTS:,}")
            distribution = _distribution(
                bsa, bsa_median, bsa_log_sd, bsa_low, bsa_high, bodies, knowledge
            )
            # a bar only where it takes a while: doses per m2 step every patient in time
            stepped = patient_rates(inputs.inputs, np.array([bsa])) is not None
            with _progress(len(times), shown=stepped) as advance:
                crowd = bands(
                    knowledge.pk,
                    inputs.inputs,
                    times,
                    count=count,
                    seed=parse_integer("seed", seed),
                    bsa=distribution,
                    progress=advance,
                )
        picture = None if plot is None else _picture_format(plot)
    if plot is not None and picture is not None:
        Path(plot).write_bytes(
            plot_exposure(
                model=knowledge.pk,
                exposure=found,
                bands=crowd,
                marks=inputs.marks,
                picture=picture,
            )
        )
    if output == "json":
        typer.echo(
            dumps(
                exposure_to_dict(
                    model=knowledge.pk, course=inputs, exposure=found, bands=crowd, zone=plan.zone
                )
            )
        )
    else:
        _print(knowledge.pk, bsa, found, crowd, plot)


def _plan_from_options(knowledge: Knowledge, **options: str | None) -> CoursePlan:
    for name in ("indication", "weight_kg", "age_years", "start"):
        if options[name] is None:
            raise InvalidInput(name, "(missing)", "given, or a course with --course COURSE.json")
    indication = str(options["indication"])
    try:
        regimen = knowledge.regimen(indication)
    except UnknownId as error:
        raise InvalidInput("indication", indication, f"one of {', '.join(error.known)}") from None
    height = options["height_cm"]
    body = measure_body(
        weight_kg=parse_decimal("weight_kg", str(options["weight_kg"])),
        height_cm=None if height is None else parse_decimal("height_cm", height),
        age_years=parse_decimal("age_years", str(options["age_years"])),
        rules=knowledge.body_rules,
    )
    cycles = options["cycles"]
    return plan_course(
        regimen=regimen,
        body=body,
        start=parse_date("start", str(options["start"])),
        bag_hours=parse_integer("bag_hours", str(options["bag_hours"])),
        zone=zone_named(str(options["zone"])),
        start_time=parse_time("start_time", str(options["start_time"])),
        cycles=None if cycles is None else parse_integer("cycles", cycles),
    )


def _read_events(path: str | None) -> Mapping[str, Any]:
    if path is None:
        return {}
    data = read_json_file(path, "events")
    if isinstance(data, list):
        return {"events": data}
    if not isinstance(data, dict):
        raise InvalidInput("events", path, "a JSON object {events, flushes, bags} or a list")
    unknown = sorted(set(data) - {"events", "flushes", "bags"})
    if unknown:
        raise InvalidInput(f"events.{unknown[0]}", "(given)", "one of events, flushes, bags")
    return data


def _inputs(
    knowledge: Knowledge,
    plan: CoursePlan,
    log: Sequence[Event],
    extra: Mapping[str, Any],
    now: datetime,
) -> CourseInputs:
    """The plan re-planned through the log, or what the bags delivered; then the flushes."""
    if "bags" in extra:
        records = _listed(extra, "bags")
        bags = [bag_from_dict(item, f"bags[{i}]", i + 1) for i, item in enumerate(records)]
        course = inputs_from_delivery(bags, events=log, now=now, origin=plan.bags[0].start)
    else:
        current = (
            replan(plan, log, rules=knowledge.toxicity.modifications, now=now).plan if log else plan
        )
        course = inputs_from_plan(current, events=log)
    running = _bag_concentration(knowledge, plan, course)
    flushes = [
        flush_from_dict(item, f"flushes[{i}]", concentration_at=running(f"flushes[{i}]"))
        for i, item in enumerate(_listed(extra, "flushes"))
    ]
    return with_flushes(course, flushes)


def _listed(extra: Mapping[str, Any], key: str) -> list[Any]:
    items = extra.get(key, [])
    if not isinstance(items, list):
        raise InvalidInput(key, str(items)[:60], "a list")
    return items


def _bag_concentration(
    knowledge: Knowledge, plan: CoursePlan, course: CourseInputs
) -> Callable[[str], Callable[[datetime], Decimal]]:
    """A flush's bag concentration when none is given: the running dose over the pump
    rate the label gives for the course's bag (pkpd.md §4.5)."""

    def for_field(field: str) -> Callable[[datetime], Decimal]:
        def at(moment: datetime) -> Decimal:
            rate = course.inputs.rate_at(course.hours(moment))
            bag = knowledge.pharmacy.bags.get(plan.bag.hours)
            pump = None if bag is None else bag.rate
            if rate <= 0 or pump is None:
                raise InvalidInput(
                    f"{field}.concentration_mcg_per_ml",
                    "(missing)",
                    "given: no bag runs then"
                    if rate <= 0
                    else f"given: no label pump rate for a {plan.bag.hours}-h bag",
                )
            return Decimal(repr(rate)) / pump.value

        return at

    return for_field


def _patient_bsa(plan: CoursePlan) -> float:
    if plan.body.bsa is None:
        raise InvalidInput(
            "height_cm", "(missing)", "given: the model's clearance depends on body surface area"
        )
    return float(plan.body.bsa.value)


def _grid(course: CourseInputs, step: Decimal) -> np.ndarray:
    if not Decimal("0.01") <= step <= 24:
        raise InvalidInput("step_hours", step, ">= 0.01 and <= 24")
    end = course.inputs.end_h + WASHOUT_H
    count = math.floor(end / float(step)) + 1
    if count > MAX_POINTS:
        raise InvalidInput("step_hours", step, f"large enough for at most {MAX_POINTS:,} points")
    return np.arange(count, dtype=np.float64) * float(step)


def _distribution(
    bsa: float,
    median: str | None,
    log_sd: str,
    low: str | None,
    high: str | None,
    bodies: str | None,
    knowledge: Knowledge,
) -> BsaDistribution:
    if bodies is not None:
        return BsaDistribution.of_sample(_bodies(bodies, knowledge))
    middle = bsa if median is None else float(parse_decimal("bsa_median", median))
    distribution = BsaDistribution(
        median_m2=middle,
        log_sd=float(parse_decimal("bsa_log_sd", log_sd)),
        low_m2=middle / 2 if low is None else float(parse_decimal("bsa_low", low)),
        high_m2=min(5.0, middle * 2) if high is None else float(parse_decimal("bsa_high", high)),
    )
    distribution.check()
    return distribution


def _bodies(path: str, knowledge: Knowledge) -> tuple[float, ...]:
    """BSAs (Mosteller, as the planner) of the weight_kg,height_cm rows of a CSV file."""
    try:
        rows = list(csv.reader(Path(path).read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError):
        raise InvalidInput("bodies", path, "a readable CSV file of weight_kg,height_cm") from None
    found = []
    for number, row in enumerate(rows, start=1):
        if not row or row[0].strip().lower() in ("", "weight_kg"):
            continue
        if len(row) != 2:
            raise InvalidInput(f"bodies line {number}", ",".join(row), "weight_kg,height_cm")
        body = measure_body(
            weight_kg=parse_decimal("weight_kg", row[0].strip()),
            height_cm=parse_decimal("height_cm", row[1].strip()),
            age_years=Decimal(30),  # the age picks no clearance: any allowed age
            rules=knowledge.body_rules,
        )
        assert body.bsa is not None
        found.append(float(body.bsa.value))
    if not found:
        raise InvalidInput("bodies", path, "at least one weight_kg,height_cm row")
    return tuple(found)


def _picture_format(path: str) -> PictureFormat:
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        return "png"
    if suffix == ".svg":
        return "svg"
    raise InvalidInput("plot", path, "a file name ending in .png or .svg")


@contextmanager
def _progress(total: int, *, shown: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A Rich progress bar on stderr while a population is stepped through time."""
    if not shown:
        yield None
        return
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("virtual patients", total=total)

        def advance(done: int, _total: int) -> None:
            progress.update(task, completed=done)

        yield advance


def _print(
    model: PkModel, bsa: float, found: Exposure, crowd: Bands | None, plot: str | None
) -> None:
    console = Console(width=120)
    console.print(f"[bold]Estimated exposure[/bold] ({ESTIMATE_LABEL})")
    half_life = half_life_h(model, found.clearance_l_per_h)
    console.print(
        f"{model.name}: {model.structure}. This patient: BSA {bsa:.2f} m2, typical clearance "
        f"{found.clearance_l_per_h:.2f} L/h, half-life {half_life:.2f} h. "
        f"Sources: {', '.join(sorted(set(model.sources.values())))}."
    )
    table = Table(title="Steady state by infusion rate", header_style="bold")
    table.add_column("mcg/day", justify="right")
    table.add_column("pg/mL (estimated)", justify="right")
    for steady in found.steady_states:
        table.add_row(f"{steady.rate_ug_per_h * 24:g}", f"{steady.concentration_pg_per_ml:.0f}")
    console.print(table)
    days = Table(title="AUC per day (h x ug/L, estimated)", header_style="bold")
    days.add_column("days")
    days.add_column("AUC per day", justify="right")
    for value, run in _runs(found.auc_by_day):
        first, last = run[0] + 1, run[-1] + 1
        days.add_row(f"{first}" if first == last else f"{first}-{last}", f"{value:.2f}")
    console.print(days)
    console.print(f"AUC in total: {found.auc_by_day.sum():.1f} h x ug/L")
    for peak in found.flush_peaks:
        ratio = (
            ""
            if peak.times_steady_state is None
            else f" ({peak.times_steady_state:.1f} x steady state)"
        )
        console.print(
            f"Flush at hour {peak.at_h:.1f}: {peak.dose_ug:.2f} mcg at once, "
            f"{peak.before_pg_per_ml:.0f} -> {peak.peak_pg_per_ml:.0f} pg/mL{ratio}"
        )
    for stop in found.interruptions:
        back = "not back" if stop.recovered_h is None else f"back at hour {stop.recovered_h:.1f}"
        console.print(
            f"Interruption at hour {stop.start_h:.1f}: {stop.hours_below:.1f} h below "
            f"{stop.fraction:.0%} of steady state ({stop.threshold_pg_per_ml:.0f} pg/mL), {back}"
        )
    if crowd is not None:
        _print_bands(console, crowd)
    if plot is not None:
        console.print(f"Picture written to {plot}")


def _runs(values: np.ndarray) -> Iterator[tuple[float, list[int]]]:
    for value, group in itertools.groupby(
        range(len(values)), key=lambda i: round(float(values[i]), 2)
    ):
        yield value, list(group)


def _print_bands(console: Console, crowd: Bands) -> None:
    table = Table(
        title=f"{crowd.count:,} virtual patients (seed {crowd.seed}): pg/mL, estimated",
        header_style="bold",
    )
    table.add_column("day")
    for p in crowd.percentiles:
        table.add_column(f"p{p:g}", justify="right")
    last = float(crowd.times_h[-1])
    for day in range(1, int(last // 24) + 1, 7):
        column = int(np.searchsorted(crowd.times_h, day * 24.0 - 1.0))
        table.add_row(str(day), *(f"{v:.0f}" for v in crowd.values[:, column]))
    console.print(table)
    console.print(f"[dim]{crowd.method}[/dim]")
