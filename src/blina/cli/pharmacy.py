"""`blina bag`, `blina pump-check`, `blina flush-check` and `blina pharmacy load-library`.

Every option is read as text and parsed here, so bad input always ends with one line
naming the field, the value and what is allowed (exit 2). A hard stop is an answer, not
an error: its reasons go to stderr, one line each, and the command exits 3 (with
``--format json`` the refusal is also printed as JSON).
"""

import json
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from blina.cli._parse import parse_decimal, parse_integer
from blina.cli.app import EXIT_HARD_STOP, app, user_errors
from blina.domain.checks import Check, CheckLevel, CheckReport
from blina.domain.errors import InvalidInput, KnowledgeError
from blina.domain.pharmacy.prescription import prescribe
from blina.domain.pharmacy.pump import Infusion, check_flush, check_pump_program
from blina.domain.pharmacy.recipe import Recipe, Refusal, prepare_bag
from blina.domain.pharmacy.reference import LabelDoseRules, label_dose_rules
from blina.domain.pharmacy.resolution import ResolvedLibrary
from blina.domain.rounding import round_factor, round_reported
from blina.domain.units import Ml, MlPerHour
from blina.interop.json.recipe import (
    infusion_from_dict,
    library_to_dict,
    recipe_to_dict,
    refusal_to_dict,
)
from blina.interop.json.values import dumps
from blina.interop.worksheet import render_worksheet
from blina.knowledge import Knowledge, load_knowledge
from blina.knowledge._pharmacy import DEMO_LIBRARY, load_site_library
from blina.services.clock import SystemClock

pharmacy_app = typer.Typer(
    help="The site drug library: load and validate it.", no_args_is_help=True
)
app.add_typer(pharmacy_app, name="pharmacy")


class BagFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    HTML = "html"


@app.command()
def bag(
    hours: Annotated[
        str | None, typer.Option(help="Bag duration: 24, 48, 72, 96 or 168 (7 days)")
    ] = None,
    weight_kg: Annotated[str | None, typer.Option(help="Body weight in kg")] = None,
    dose_mcg_per_day: Annotated[str | None, typer.Option(help="Daily dose in mcg/day")] = None,
    dose_mcg_per_m2_per_day: Annotated[
        str | None, typer.Option(help="Daily dose per m2 of BSA (give --bsa-m2 too)")
    ] = None,
    bsa_m2: Annotated[str | None, typer.Option(help="BSA in m2, with a dose per m2")] = None,
    library: Annotated[
        str | None, typer.Option(help="Site drug library TOML file (default: the demo library)")
    ] = None,
    output: Annotated[str, typer.Option("--format", help="table, json or html")] = "table",
) -> None:
    """Prepare one infusion bag: vials, volumes, steps, pump settings, expiry, checks."""
    with user_errors():
        knowledge = load_knowledge()
        rules = label_dose_rules(knowledge.regimens_by_id.values())
        shown = _format(output)
        prescription = prescribe(
            bag_hours=_hours(hours, knowledge),
            weight_kg=_weight(weight_kg, knowledge),
            rules=rules,
            bsa_max=knowledge.pharmacy.bsa_max.value,
            dose_mcg_per_day=_optional("dose_mcg_per_day", dose_mcg_per_day),
            dose_mcg_per_m2_per_day=_optional("dose_mcg_per_m2_per_day", dose_mcg_per_m2_per_day),
            bsa_m2=_optional("bsa_m2", bsa_m2),
        )
        resolved = _library(library, knowledge, rules)
        result = prepare_bag(prescription=prescription, library=resolved)
    if isinstance(result, Refusal):
        if shown is BagFormat.JSON:
            typer.echo(dumps(refusal_to_dict(result)))
        _hard_stop(result.checks)
    if shown is BagFormat.JSON:
        typer.echo(dumps(recipe_to_dict(result)))
    elif shown is BagFormat.HTML:
        typer.echo(render_worksheet(result, printed_at=SystemClock().now()))
    else:
        _print_recipe(result, Console(width=120, soft_wrap=True))


@app.command("pump-check")
def pump_check(
    recipe_json: Annotated[
        str | None, typer.Option(help="Recipe file written by blina bag --format json")
    ] = None,
    rate_ml_per_h: Annotated[str | None, typer.Option(help="Rate programmed, mL/h")] = None,
    volume_ml: Annotated[str | None, typer.Option(help="Volume to be infused, mL")] = None,
) -> None:
    """Check a pump program (rate, volume to be infused) against the bag it is for."""
    with user_errors():
        infusion = _infusion(recipe_json)
        rate = _positive("rate_ml_per_h", rate_ml_per_h)
        volume = _positive("volume_ml", volume_ml)
        result = check_pump_program(infusion, rate=MlPerHour(rate), volume=Ml(volume))
    data = {
        **_verdict(result.report),
        "dose_factor": round_factor(result.dose_factor),
        "programmed_dose_mcg_per_day": round_reported(result.programmed_dose.value),
        "bag_dose_mcg_per_day": round_reported(infusion.daily_dose_at(infusion.rate).value),
        "programmed_hours": round_factor(result.programmed_hours),
        "bag": _bag(infusion),
        "program": {"rate_ml_per_h": rate, "volume_ml": volume},
    }
    _answer(data, result.report)


@app.command("flush-check")
def flush_check(
    recipe_json: Annotated[
        str | None, typer.Option(help="Recipe file written by blina bag --format json")
    ] = None,
    line_volume_ml: Annotated[
        str | None, typer.Option(help="Volume of the line that would be flushed, mL")
    ] = None,
) -> None:
    """What flushing the line would push into the patient (the label says: never flush)."""
    with user_errors():
        infusion = _infusion(recipe_json)
        line = _positive("line_volume_ml", line_volume_ml)
        rule = load_knowledge().pharmacy.advisory("do-not-flush")
        result = check_flush(infusion, line_volume=Ml(line), rule=rule)
    data = {
        **_verdict(result.report),
        "line_volume_ml": line,
        "bolus_mcg": round_reported(result.bolus.value),
        "equivalent_hours": round_factor(result.equivalent_hours),
        "bag": _bag(infusion),
    }
    _answer(data, result.report)


@pharmacy_app.command("load-library")
def load_library(
    file: Annotated[str, typer.Argument(help="Site drug library TOML file", show_default=False)],
) -> None:
    """Validate a site drug library and print what it holds."""
    with user_errors():
        knowledge = load_knowledge()
        resolved = _library(file, knowledge, label_dose_rules(knowledge.regimens_by_id.values()))
    for line in _summary(resolved):
        typer.echo(line)


# --- parsing -----------------------------------------------------------------------------


def _format(text: str) -> BagFormat:
    try:
        return BagFormat(text.strip().lower())
    except ValueError:
        raise InvalidInput("format", text, "one of table, json, html") from None


def _required(field: str, text: str | None, allowed: str) -> str:
    if text is None:
        raise InvalidInput(field, "(missing)", allowed)
    return text


def _optional(field: str, text: str | None) -> Decimal | None:
    return None if text is None else parse_decimal(field, text)


def _positive(field: str, text: str | None) -> Decimal:
    value = parse_decimal(field, _required(field, text, "a number > 0"))
    if value <= 0:
        raise InvalidInput(field, text, "a number > 0")
    return value


def _hours(text: str | None, knowledge: Knowledge) -> int:
    allowed = f"one of {', '.join(str(h) for h in knowledge.pharmacy.bags)}"
    hours = parse_integer("hours", _required("hours", text, allowed))
    if hours not in knowledge.pharmacy.bags:
        raise InvalidInput("hours", text, allowed)
    return hours


def _weight(text: str | None, knowledge: Knowledge) -> Decimal:
    allowed = knowledge.body_rules.weight_kg
    weight = parse_decimal("weight_kg", _required("weight_kg", text, allowed.describe()))
    if weight not in allowed:
        raise InvalidInput("weight_kg", text, allowed.describe())
    return weight


def _library(file: str | None, knowledge: Knowledge, rules: LabelDoseRules) -> ResolvedLibrary:
    """The site library at ``file`` (the demo one when None), valid and validated."""
    path = DEMO_LIBRARY if file is None else Path(file)
    try:
        resolved = load_site_library(
            path, reference=knowledge.pharmacy, dose_rules=rules, sources=knowledge.sources
        )
    except KnowledgeError as error:
        raise InvalidInput("library", path, f"a valid site drug library ({error})") from None
    problem = resolved.site.validation.problem
    if problem is not None:
        raise InvalidInput(
            "library",
            path,
            f"a library validated by two distinct pharmacists, with a date ({problem})",
        )
    return resolved


def _infusion(file: str | None) -> Infusion:
    allowed = "a recipe JSON file written by blina bag --format json"
    path = Path(_required("recipe_json", file, allowed))
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidInput("recipe_json", path, allowed) from None
    return infusion_from_dict(data)


# --- output ------------------------------------------------------------------------------


def _hard_stop(report: CheckReport) -> NoReturn:
    for check in report.hard:
        typer.echo(f"blina: hard stop: {check.reason} ({check.source})", err=True)
    raise typer.Exit(EXIT_HARD_STOP)


def _verdict(report: CheckReport) -> dict[str, Any]:
    level = report.level
    worst = [c for c in report if c.level is level]
    return {
        "level": str(level),
        "reason": "; ".join(c.reason for c in worst),
        "source": "; ".join(dict.fromkeys(c.source for c in worst)),
        "checks": [
            {"level": str(c.level), "code": c.code, "reason": c.reason, "source": c.source}
            for c in report
        ],
    }


def _answer(data: dict[str, Any], report: CheckReport) -> None:
    typer.echo(dumps(data))
    if report.blocked:
        _hard_stop(report)


def _bag(infusion: Infusion) -> dict[str, Any]:
    return {
        "duration_h": infusion.hours,
        "rate_ml_per_h": infusion.rate.value,
        "infuse_ml": infusion.infuse.value,
        "total_ml": infusion.total.value,
        "drug_mcg": infusion.drug.value,
        "concentration_mcg_per_ml": round_reported(infusion.concentration.value),
        "rate_source": infusion.rate_source,
    }


def _print_recipe(recipe: Recipe, console: Console) -> None:
    data = recipe_to_dict(recipe)
    if recipe.stamp:
        console.print(f"[bold red]{recipe.stamp.upper()}[/bold red]")
    console.print(
        f"[bold]Blinatumomab bag:[/bold] {data['prescription']['description']},"
        f" {recipe.bag.hours}-h bag, patient {recipe.prescription.weight.value} kg"
        f" ({data['origin']}{', row ' + recipe.label_row if recipe.label_row else ''})"
    )
    quantities = Table("quantity", "amount", "source", title="Quantities")
    for label, amount, source in _quantity_rows(data):
        quantities.add_row(label, amount, source)
    console.print(quantities)
    console.print("[bold]Steps, in this order[/bold]")
    for step in recipe.steps:
        console.print(f"  {step.number}. {step.text} [dim]({step.source})[/dim]")
    console.print("[bold]Beyond-use times[/bold]")
    for item, conditions in data["expiry"].items():
        for storage, limit in conditions.items():
            text = "NOT GIVEN: take it from the current label" if limit is None else limit["text"]
            source = "" if limit is None else f" [dim]({limit['source']})[/dim]"
            console.print(f"  {item}, {storage}: {text}{source}")
    console.print("[bold]Warnings[/bold]")
    for warning in recipe.advisories:
        console.print(f"  - {warning.text} [dim]({warning.source})[/dim]")
    console.print("[bold]Checks[/bold]")
    for check in recipe.checks:
        console.print(f"  {_level(check)} {check.reason} [dim]({check.source})[/dim]")
    lib = library_to_dict(recipe.site)
    console.print(
        f"[bold]Library:[/bold] {lib['name']} ({lib['version']}), validated by"
        f" {' and '.join(lib['validated_by'])} on {lib['validated_on']}"
    )


def _quantity_rows(data: dict[str, Any]) -> Iterable[tuple[str, str, str]]:
    yield "vials", f"{data['vials']} x {data['vial']['content_mcg']} mcg", data["vial"]["source"]
    yield (
        "water for reconstitution",
        f"{data['reconstitution_water_ml']} mL",
        data["concentration_source"],
    )
    yield (
        "concentration",
        f"{data['concentration_mcg_per_ml']} mcg/mL",
        data["concentration_source"],
    )
    yield "base saline", f"{data['saline_ml']} mL {data['saline_kind']}", data["saline_source"]
    yield "IV Solution Stabilizer", f"{data['stabilizer_ml']} mL", data["stabilizer_source"]
    yield "reconstituted drug", f"{data['drug_ml']} mL ({data['drug_mcg']} mcg)", data["origin"]
    yield "total bag volume", f"{data['total_ml']} mL", "sum of the above"
    yield "volume to infuse", f"{data['infuse_ml']} mL", data["rate_source"]
    yield "rate", f"{data['rate_ml_per_h']} mL/h for {data['duration_h']} h", data["rate_source"]
    yield (
        "delivered (checked)",
        f"{data['delivered_mcg_per_day']} mcg/day ({data['deviation_percent']:+} %)",
        f"tolerance {data['tolerance_percent']} %",
    )


def _level(check: Check) -> str:
    colour = {CheckLevel.OK: "green", CheckLevel.SOFT: "yellow", CheckLevel.HARD: "red"}
    return f"[{colour[check.level]}]{check.level.value.upper()}[/{colour[check.level]}]"


def _summary(resolved: ResolvedLibrary) -> Iterable[str]:
    site = resolved.site
    yield f"Site drug library: {site.name} ({site.version}), region {site.region}"
    if site.stamp:
        yield site.stamp.upper()
    validation = site.validation.describe()
    yield validation[:1].upper() + validation[1:]
    steps = "; ".join(f"up to {m.up_to_ml} mL in {m.step_ml} mL" for m in site.measurable)
    yield (
        f"Site parameters ({site.source}): priming {site.priming.value} mL; tolerance"
        f" {site.tolerance_percent} %; rounding {site.rounding.value}; measurable: {steps}"
    )
    for hours, bag in resolved.bags.items():
        parts = [
            "rate "
            + (
                "MISSING"
                if bag.rate is None
                else f"{bag.rate.value.value} mL/h ({bag.rate.source})"
            ),
            "stabilizer "
            + (
                "MISSING"
                if bag.stabilizer is None
                else f"{bag.stabilizer.value.value} mL ({bag.stabilizer.source})"
            ),
        ]
        if bag.reference_saline is not None:
            ref = bag.reference_saline
            parts.append(
                f"base saline {ref.volume.value} mL from {ref.min_weight.value} kg ({ref.source})"
            )
        parts.append(
            "base saline "
            + (
                "MISSING"
                if bag.site_saline is None
                else f"{bag.site_saline.value.value} mL ({bag.site_saline.source})"
            )
        )
        yield f"  {hours}-h bag: " + "; ".join(parts)
        for check in bag.checks:
            if check.level is not CheckLevel.OK and check.code != "library-problem":
                yield f"    {check.level.value.upper()}: {check.reason}"
    yield f"Label rows: {len(site.label_rows)} (each checked by mass balance)"
    for area in site.care_areas:
        allowed = ", ".join(str(h) for h in area.bag_hours)
        yield f"Care area {area.id} ({area.name}): bags {allowed} h"
    yield "The library is valid and validated."
