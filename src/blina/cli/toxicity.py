"""`blina grade crs|icans|ctcae|tls` and `blina replan`: toxicity on the command line.

Every grading prints ``{"scale", "grade", "criteria", "notes", "source"}`` with
``--format json`` (grade 0: none). A lab value takes its unit: ``--unit`` for a CTCAE
term; ``8.5mg/dL`` or ``"8.5 mg/dL"`` for a TLS value (a bare number is in the SI unit,
as before units were asked for); ``replan`` prints the planner's JSON plus
``decisions`` and ``status``. Bad input ends with exit 2 and one line naming the field;
a re-plan with a hard-stop decision prints its answer and exits 3.
"""

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from blina.cli._course import course_events, course_plan, read_course
from blina.cli._parse import parse_decimal, parse_integer
from blina.cli.app import EXIT_HARD_STOP, app, user_errors
from blina.cli.tables import render_plan
from blina.domain.errors import InvalidInput
from blina.domain.replanning import (
    Replan,
    replan,
)
from blina.domain.toxicity import Grading
from blina.domain.toxicity.crs import CrsFindings, Hypotension, OxygenSupport, grade_crs
from blina.domain.toxicity.ctcae import CtcaeFindings, grade_ctcae
from blina.domain.toxicity.icans import (
    CapdAnswer,
    CerebralEdema,
    Consciousness,
    IcansFindings,
    IcpSign,
    Seizure,
    grade_icans,
)
from blina.domain.toxicity.tls import (
    Analyte,
    Arrhythmia,
    LabSample,
    TlsFindings,
    TlsSeizure,
    assess_tls,
)
from blina.interop.plan_json import dumps
from blina.interop.toxicity_json import (
    grading_to_dict,
    json_choice,
    json_instant,
    replan_to_dict,
)
from blina.knowledge import load_knowledge
from blina.services.clock import SystemClock

__all__ = ["grade_app"]

_Enum = TypeVar("_Enum", bound=StrEnum)

grade_app = typer.Typer(
    help="Grade a toxicity: CRS and ICANS (ASTCT), CTCAE v5.0 terms, tumor lysis syndrome.",
    no_args_is_help=True,
)
app.add_typer(grade_app, name="grade")


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


Format = Annotated[OutputFormat, typer.Option("--format", help="table or json")]


@grade_app.command("crs")
def grade_crs_command(
    temp_c: Annotated[str | None, typer.Option(help="Temperature in C (30-45)")] = None,
    fever_masked: Annotated[
        bool, typer.Option(help="Antipyretic or anti-cytokine treatment already given")
    ] = False,
    crs_diagnosed: Annotated[
        bool, typer.Option(help="CRS already diagnosed in this episode (masking counts only then)")
    ] = False,
    hypotension: Annotated[
        str, typer.Option(help="none, fluids, one-vasopressor or multiple-vasopressors")
    ] = "none",
    oxygen: Annotated[
        str, typer.Option(help="none, low-flow, high-flow or positive-pressure")
    ] = "none",
    oxygen_flow_l_min: Annotated[
        str | None, typer.Option(help="Nasal-cannula flow in L/min, checked against --oxygen")
    ] = None,
    output: Format = OutputFormat.TABLE,
) -> None:
    """Grade cytokine release syndrome by the ASTCT consensus (grade 0: no CRS)."""
    with user_errors():
        findings = CrsFindings(
            temperature_c=_required_decimal("temperature_c", temp_c),
            hypotension=json_choice("hypotension", hypotension, Hypotension),
            oxygen=json_choice("oxygen", oxygen, OxygenSupport),
            fever_masked=fever_masked,
            crs_diagnosed=crs_diagnosed,
            oxygen_flow_l_per_min=_decimal("oxygen_flow_l_per_min", oxygen_flow_l_min),
        )
        _print_grading(grade_crs(findings, load_knowledge().toxicity.crs), output)


@grade_app.command("icans")
def grade_icans_command(
    age_years: Annotated[str | None, typer.Option(help="Age in years")] = None,
    ice_score: Annotated[str | None, typer.Option(help="ICE score, 0-10 (12 and older)")] = None,
    ice_items: Annotated[
        str | None,
        typer.Option(
            help="ICE points per task: orientation=4,naming=3,commands=1,writing=1,attention=1"
        ),
    ] = None,
    capd_score: Annotated[str | None, typer.Option(help="CAPD total, 0-32 (under 12)")] = None,
    capd_answers: Annotated[
        str | None,
        typer.Option(help="The 8 CAPD answers in order: never,rarely,sometimes,often,always"),
    ] = None,
    developmental_delay: Annotated[
        bool, typer.Option(help="Use the CAPD at any age (developmental delay)")
    ] = False,
    consciousness: Annotated[
        str,
        typer.Option(
            help="awake, awakens-spontaneously, awakens-to-voice, awakens-to-touch or unarousable"
        ),
    ] = "awake",
    seizure: Annotated[
        str,
        typer.Option(
            help="none, focal-resolved, generalized-resolved, eeg-resolved, prolonged or repetitive"
        ),
    ] = "none",
    motor_weakness: Annotated[bool, typer.Option(help="Deep focal motor weakness")] = False,
    cerebral_edema: Annotated[str, typer.Option(help="none, focal or diffuse")] = "none",
    icp_sign: Annotated[
        list[str] | None,
        typer.Option(
            help="posturing, cranial-nerve-vi-palsy, papilledema or cushings-triad (repeatable)"
        ),
    ] = None,
    output: Format = OutputFormat.TABLE,
) -> None:
    """Grade ICANS by the ASTCT consensus: ICE from 12 years, CAPD under 12."""
    with user_errors():
        findings = IcansFindings(
            age_years=_required_decimal("age_years", age_years),
            consciousness=json_choice("consciousness", consciousness, Consciousness),
            ice_score=None if ice_score is None else parse_integer("ice_score", ice_score),
            ice_items=None if ice_items is None else _ice_items(ice_items),
            capd_score=None if capd_score is None else parse_integer("capd_score", capd_score),
            capd_answers=None
            if capd_answers is None
            else tuple(json_choice("capd_answers", a, CapdAnswer) for a in _split(capd_answers)),
            developmental_delay=developmental_delay,
            seizure=json_choice("seizure", seizure, Seizure),
            motor_weakness=motor_weakness,
            cerebral_edema=json_choice("cerebral_edema", cerebral_edema, CerebralEdema),
            icp_signs=frozenset(json_choice("icp_sign", s, IcpSign) for s in icp_sign or ()),
        )
        _print_grading(grade_icans(findings, load_knowledge().toxicity.icans), output)


@grade_app.command("ctcae")
def grade_ctcae_command(
    term: Annotated[str, typer.Argument(help="The term, e.g. neutrophils, alt, seizure")],
    value: Annotated[str | None, typer.Option(help="The lab value, in --unit")] = None,
    unit: Annotated[
        str | None,
        typer.Option(
            help="The unit of --value, --lln, --uln and --baseline, one of the term's units "
            "(g/dL or g/L for hemoglobin, cells/mm3 or 10^9/L for counts...); default: the "
            "term's own unit"
        ),
    ] = None,
    uln: Annotated[str | None, typer.Option(help="The lab's upper limit of normal")] = None,
    lln: Annotated[str | None, typer.Option(help="The lab's lower limit of normal")] = None,
    baseline: Annotated[str | None, typer.Option(help="The patient's baseline value")] = None,
    symptomatic: Annotated[
        bool | None,
        typer.Option("--symptomatic/--asymptomatic", help="Symptoms present (default: unknown)"),
    ] = None,
    finding: Annotated[
        str | None, typer.Option(help="The clinical finding, for clinical terms")
    ] = None,
    temp_c: Annotated[
        str | None, typer.Option(help="Temperature in C (febrile neutropenia)")
    ] = None,
    fever_hours: Annotated[
        str | None, typer.Option(help="Hours the temperature was sustained (febrile neutropenia)")
    ] = None,
    output: Format = OutputFormat.TABLE,
) -> None:
    """Grade one CTCAE v5.0 term from a lab value (with ULN/LLN/baseline) or a finding."""
    with user_errors():
        findings = CtcaeFindings(
            value=_decimal("value", value),
            unit=unit,
            uln=_decimal("uln", uln),
            lln=_decimal("lln", lln),
            baseline=_decimal("baseline", baseline),
            symptomatic=symptomatic,
            finding=finding,
            temperature_c=_decimal("temperature_c", temp_c),
            fever_hours=_decimal("fever_hours", fever_hours),
        )
        _print_grading(grade_ctcae(term, findings, load_knowledge().toxicity.ctcae), output)


@grade_app.command("tls")
def grade_tls_command(
    age_years: Annotated[str | None, typer.Option(help="Age in years")] = None,
    therapy_start: Annotated[
        str | None, typer.Option(help="Start of cytoreductive therapy, ISO date-time with offset")
    ] = None,
    sample: Annotated[
        list[str] | None,
        typer.Option(
            help="at=ISO,uric-acid=..,potassium=..,phosphate=..,calcium=.. (total calcium), "
            "each value with its unit (uric-acid=8.5mg/dL; a bare number is SI: umol/L, "
            "mmol/L); repeatable; any subset of analytes"
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(help="Baseline values with their units: uric-acid=..,potassium=..,..."),
    ] = None,
    creatinine: Annotated[
        str | None, typer.Option(help="Creatinine with its unit (umol/L or mg/dL; bare: umol/L)")
    ] = None,
    creatinine_uln: Annotated[
        str | None, typer.Option(help="Creatinine ULN with its unit (bare: umol/L)")
    ] = None,
    arrhythmia: Annotated[
        str,
        typer.Option(
            help="none, no-intervention, non-urgent-intervention, incompletely-controlled, "
            "life-threatening or death"
        ),
    ] = "none",
    seizure: Annotated[
        str,
        typer.Option(help="none, brief-generalized, poorly-controlled, status or death"),
    ] = "none",
    output: Format = OutputFormat.TABLE,
) -> None:
    """Assess tumor lysis syndrome by Cairo-Bishop: laboratory, then clinical TLS and grade."""
    with user_errors():
        knowledge = load_knowledge()
        age = _required_decimal("age_years", age_years)
        allowed = knowledge.body_rules.age_years
        if not age.is_finite() or age not in allowed:
            raise InvalidInput("age_years", age, allowed.describe())
        baseline_values, baseline_units = (
            ({}, {}) if baseline is None else _analytes("baseline", _pairs("baseline", baseline))
        )
        creatinine_value, creatinine_unit = _optional_lab_value("creatinine", creatinine)
        uln_value, uln_unit = _optional_lab_value("creatinine_uln", creatinine_uln)
        findings = TlsFindings(
            therapy_start=json_instant("therapy_start", _required("therapy_start", therapy_start)),
            samples=tuple(_sample(f"samples[{i}]", text) for i, text in enumerate(sample or ())),
            child=age < knowledge.body_rules.adult_from_age_years,
            baseline=baseline_values,
            baseline_units=baseline_units,
            creatinine=creatinine_value,
            creatinine_unit=creatinine_unit,
            creatinine_uln=uln_value,
            creatinine_uln_unit=uln_unit,
            arrhythmia=json_choice("arrhythmia", arrhythmia, Arrhythmia),
            seizure=json_choice("seizure", seizure, TlsSeizure),
        )
        assessment = assess_tls(findings, knowledge.toxicity.tls)
        _print_grading(
            assessment.grading,
            output,
            {"laboratory_tls": assessment.laboratory, "clinical_tls": assessment.clinical},
        )


@app.command("replan")
def replan_command(
    course: Annotated[str, typer.Argument(help="COURSE.json: patient, indication, start, events")],
    now: Annotated[
        str | None, typer.Option(help="The current instant, ISO with offset (default: the clock)")
    ] = None,
    output: Format = OutputFormat.TABLE,
) -> None:
    """Re-plan a course from its event log: interruptions, restarts, discontinuation."""
    with user_errors():
        data = read_course(course)
        result = _replan(data, SystemClock().now() if now is None else json_instant("now", now))
    if output is OutputFormat.JSON:
        typer.echo(dumps(replan_to_dict(result)))
    else:
        _print_replan(result)
    if result.hard_stops:
        raise typer.Exit(EXIT_HARD_STOP)


# --- reading input -------------------------------------------------------------------------


def _required(field: str, text: str | None) -> str:
    if text is None:
        raise InvalidInput(field, "(missing)", "given")
    return text


def _required_decimal(field: str, text: str | None) -> Decimal:
    return parse_decimal(field, _required(field, text))


def _decimal(field: str, text: str | None) -> Decimal | None:
    return None if text is None else parse_decimal(field, text)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _pairs(field: str, text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for part in _split(text):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(field, part, "name=value pairs separated by commas")
        if key.strip() in pairs:
            raise InvalidInput(field, part, "each name once")
        pairs[key.strip()] = value.strip()
    return pairs


def _ice_items(text: str) -> dict[str, int]:
    return {
        name: parse_integer(f"ice_items.{name}", value)
        for name, value in _pairs("ice_items", text).items()
    }


# A number and the unit after it: "8.5mg/dL", "8.5 mg/dL", "0.8 10^9/L"; a bare number.
_LAB_VALUE = re.compile(r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(.*?)\s*")
# What people call ionised calcium; Cairo-Bishop's calcium criterion is total calcium.
_IONISED = frozenset({"calcium-ionized", "calcium-ionised", "ionized-calcium", "ionised-calcium"})


def _lab_value(field: str, text: str) -> tuple[Decimal, str | None]:
    """A lab value and its unit (None: none given, the SI unit)."""
    match = _LAB_VALUE.fullmatch(text)
    if match is None:
        return parse_decimal(field, text), None
    number, unit = match.groups()
    return parse_decimal(field, number), unit or None


def _optional_lab_value(field: str, text: str | None) -> tuple[Decimal | None, str | None]:
    return (None, None) if text is None else _lab_value(field, text)


def _analytes(
    field: str, pairs: Mapping[str, str]
) -> tuple[dict[Analyte, Decimal], dict[Analyte, str]]:
    """The values of ``name=value`` pairs by analyte, and the units given with them."""
    values: dict[Analyte, Decimal] = {}
    units: dict[Analyte, str] = {}
    for name, text in pairs.items():
        if name in _IONISED:
            raise InvalidInput(
                f"{field}.{name}",
                text,
                "a total calcium, as calcium=..: Cairo-Bishop 2004 has no ionised-calcium "
                "criterion",
            )
        analyte = json_choice(field, name, Analyte)
        values[analyte], unit = _lab_value(f"{field}.{name}", text)
        if unit is not None:
            units[analyte] = unit
    return values, units


def _sample(field: str, text: str) -> LabSample:
    pairs = _pairs(field, text)
    at = pairs.pop("at", None)
    if at is None:
        raise InvalidInput(f"{field}.at", "(missing)", "given: at=ISO date-time with offset")
    values, units = _analytes(field, pairs)
    return LabSample(json_instant(f"{field}.at", at), values, units)


def _replan(data: Mapping[str, Any], now: datetime) -> Replan:
    rules = load_knowledge().toxicity.modifications
    return replan(course_plan(data), course_events(data), rules=rules, now=now)


# --- printing ------------------------------------------------------------------------------


def _print_grading(
    grading: Grading, output: OutputFormat, extra: Mapping[str, Any] | None = None
) -> None:
    data = {**grading_to_dict(grading), **(extra or {})}
    if output is OutputFormat.JSON:
        typer.echo(dumps(data))
        return
    console = Console(width=120)
    table = Table(title=f"{grading.scale}: grade {grading.grade}", header_style="bold")
    for column in ("Domain", "Finding", "Grade"):
        table.add_column(column)
    decisive = set(grading.decisive)
    for criterion in grading.criteria:
        mark = " *" if criterion in decisive else ""
        table.add_row(criterion.domain, criterion.finding, f"{criterion.grade}{mark}")
    console.print(table)
    for key, value in (extra or {}).items():
        console.print(f"{key.replace('_', ' ')}: {'yes' if value else 'no'}")
    for note in grading.notes:
        console.print(f"[bold]Note:[/bold] {note}")
    console.print(f"[dim]* decisive. Source: {grading.source}[/dim]")


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
