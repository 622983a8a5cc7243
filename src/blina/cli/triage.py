"""`blina triage`: triage a home symptom check-in, or list the symptoms it knows.

``--format json`` prints the triage's JSON-ready form: ``level``, ``alert`` (whether the
care team is alerted), ``rules`` (most urgent first, each ``id``, ``level``, ``reason``,
``source``, ``also_source``, ``triggers``), ``instructions`` (``do_now``, ``tell_team``,
``do_not``, each ``text`` and ``source``), ``symptoms``, ``temperature``, ``context``,
``observed_at``, ``notes`` and ``free_text``. Every level exits 0: an emergency is an
answer, not an error. Bad input exits 2 with one line naming the field.
"""

from datetime import datetime
from typing import Annotated, Any

import typer

from blina.cli._parse import parse_decimal, parse_integer
from blina.cli.app import app, user_errors
from blina.domain import bounds
from blina.domain.body import AgeGroup
from blina.domain.errors import InvalidInput
from blina.domain.triage.check_in import (
    CheckIn,
    Context,
    SymptomAnswer,
    Temperature,
    TemperatureUnit,
)
from blina.domain.triage.engine import triage
from blina.domain.triage.result import Finding, Triage
from blina.domain.triage.rulebook import TriageRules
from blina.domain.triage.rules import Guidance
from blina.interop.json.values import dumps
from blina.knowledge import Knowledge, load_knowledge
from blina.services.clock import SystemClock

__all__ = ["triage_command"]

_LIST_HINT = "one of the ids listed by blina triage --list-symptoms"
_MAX_DAYS = bounds.MAX_INTEGER
"""Days since a cell infusion: any whole day an INTEGER column holds (follow-up after
CAR-T cells is life-long, so no clinical upper bound applies)."""
_FORMATS = ("table", "json")


@app.command("triage")
def triage_command(
    temp_c: Annotated[str | None, typer.Option(help="Temperature in C (30-45)")] = None,
    temp_f: Annotated[str | None, typer.Option(help="Temperature in F (86-113)")] = None,
    symptom: Annotated[
        list[str] | None,
        typer.Option(
            help="A symptom, NAME or NAME:SEVERITY (0 none, 1 mild, 2 moderate, 3 severe, "
            "4 very severe; left out: not sure, counted as moderate). Repeatable."
        ),
    ] = None,
    previous: Annotated[
        list[str] | None,
        typer.Option(
            help="An answer at the last check-in, NAME or NAME:SEVERITY (repeatable). "
            "Without any, every symptom counts as new."
        ),
    ] = None,
    age_years: Annotated[str | None, typer.Option(help="Age in years")] = None,
    cycle_day: Annotated[str | None, typer.Option(help="Day of the cycle (1 = first)")] = None,
    days_since_start: Annotated[
        str | None, typer.Option(help="Days since the cycle started or the dose last stepped up")
    ] = None,
    therapy: Annotated[
        str | None,
        typer.Option(
            help="The therapy the patient is on (blina triage --list-therapies); "
            "default: blinatumomab, or not known"
        ),
    ] = None,
    days_since_infusion: Annotated[
        str | None,
        typer.Option(
            help="For a CAR-T product: whole days since the (last) cell infusion, 0 on its day "
            "(default: not known, counted as inside the window after it)"
        ),
    ] = None,
    infusing: Annotated[
        bool | None,
        typer.Option(
            "--infusing/--not-infusing", help="Whether the infusion runs (default: not known)"
        ),
    ] = None,
    observed_at: Annotated[
        str | None,
        typer.Option(help="When this was observed, ISO date-time with a UTC offset (default: now)"),
    ] = None,
    note: Annotated[str, typer.Option(help="Free text for the care team")] = "",
    list_symptoms: Annotated[
        bool, typer.Option("--list-symptoms", help="List the symptom ids and names, then stop")
    ] = False,
    list_therapies: Annotated[
        bool,
        typer.Option("--list-therapies", help="List the therapies triage knows, then stop"),
    ] = False,
    output: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Triage a symptom check-in: emergency, call-now, same-day or routine, with reasons."""
    with user_errors():
        if output not in _FORMATS:
            raise InvalidInput("format", output, " or ".join(_FORMATS))
        knowledge = load_knowledge()
        rules = knowledge.triage
        if list_symptoms:
            _print_symptoms(rules, output)
            return
        if list_therapies:
            _print_therapies(rules, output)
            return
        now = SystemClock().now()
        at = now if observed_at is None else _instant("observed_at", observed_at)
        check_in = CheckIn(
            observed_at=at,
            answers=_answers("symptom", symptom or [], rules),
            temperature=_temperature(temp_c, temp_f),
            free_text=note,
        )
        recent = () if not previous else (CheckIn(at, _answers("previous", previous, rules)),)
        context = Context(
            cycle_day=None if cycle_day is None else parse_integer("cycle_day", cycle_day),
            infusing=infusing,
            days_since_start_or_step_up=None
            if days_since_start is None
            else parse_integer("days_since_start", days_since_start),
            age_group=None if age_years is None else _age_group(age_years, knowledge),
            recent=recent,
            therapy=None if therapy is None else therapy.strip(),
            days_since_cell_infusion=None
            if days_since_infusion is None
            else parse_integer(
                "days_since_cell_infusion", days_since_infusion, low=0, high=_MAX_DAYS
            ),
        )
        result = triage(check_in, context, rules, now=now)
        if output == "json":
            typer.echo(dumps(result.to_dict()))
        else:
            _print_triage(result, rules)


def _answers(field: str, items: list[str], rules: TriageRules) -> tuple[SymptomAnswer, ...]:
    answers = []
    for item in items:
        name, sep, severity = item.partition(":")
        name = name.strip()
        if name not in rules.symptoms:
            raise InvalidInput(field, name or item, _LIST_HINT)
        answers.append(
            SymptomAnswer(name, parse_integer(f"{name} severity", severity) if sep else None)
        )
    return tuple(answers)


def _temperature(temp_c: str | None, temp_f: str | None) -> Temperature | None:
    if temp_c is not None and temp_f is not None:
        raise InvalidInput("temperature_f", temp_f, "left out when temperature_c is given")
    if temp_c is not None:
        return Temperature(parse_decimal("temperature_c", temp_c), TemperatureUnit.C)
    if temp_f is not None:
        return Temperature(parse_decimal("temperature_f", temp_f), TemperatureUnit.F)
    return None


def _instant(field: str, text: str) -> datetime:
    """A check-in's time: of this century (``bounds.EARLIEST_OBSERVATION``), as the API's."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            field, text, "an ISO date-time with a UTC offset, e.g. 2026-12-01T02:30:00+01:00"
        ) from None
    return bounds.check_moment(field, moment, earliest=bounds.EARLIEST_OBSERVATION)


def _age_group(text: str, knowledge: Knowledge) -> AgeGroup:
    age = parse_decimal("age_years", text)
    rules = knowledge.body_rules
    if age not in rules.age_years:
        raise InvalidInput("age_years", age, rules.age_years.describe())
    return AgeGroup.ADULT if age >= rules.adult_from_age_years else AgeGroup.PEDIATRIC


# --- output ----------------------------------------------------------------------------------


def _print_triage(result: Triage, rules: TriageRules) -> None:
    guide = rules.levels[result.level]
    lines = [
        f"Level: {result.level} - {guide.name}",
        f"Care team alerted: {'yes' if result.alert_care_team else 'no'}",
        "",
        *_instruction_lines(result.instructions),
        "Why (every rule that fired, most urgent first):",
    ]
    for rule in result.rules:
        triggers = f" [{', '.join(rule.triggers)}]" if rule.triggers else ""
        also = f"; also {rule.also_source}" if rule.also_source else ""
        lines.append(f"  {rule.level:<9} {rule.id}{triggers}: {rule.reason} ({rule.source}{also})")
    lines += ["", "What was reported:"]
    lines += [f"  - {_describe(finding, rules)}" for finding in result.findings]
    if result.temperature is not None:
        lines.append(f"  - Temperature: {result.temperature.describe()}")
    if not result.findings and result.temperature is None:
        lines.append("  - nothing")
    if result.free_text:
        lines.append(f"  - Note: {result.free_text}")
    if result.notes:
        lines += ["", "Notes:", *(f"  - {note}" for note in result.notes)]
    typer.echo("\n".join(lines))


def _instruction_lines(guidance: Guidance) -> list[str]:
    lines: list[str] = []
    for title, items in (
        ("Do now:", guidance.do_now),
        ("Tell the care team:", guidance.tell_team),
        ("Never:", guidance.do_not),
    ):
        lines += [title, *(f"  - {item.text}" for item in items), ""]
    return lines


def _describe(finding: Finding, rules: TriageRules) -> str:
    if not finding.has_severity:
        return f"{finding.name} ({finding.history})"
    if finding.severity is None:
        counted = rules.severity_words[rules.unknown_severity]
        severity = f"severity not given (not sure), counted as {counted}"
    else:
        severity = f"severity {finding.severity} of {rules.max_severity}, "
        severity += rules.severity_words[finding.severity]
    return f"{finding.name}: {severity} ({finding.history})"


def _print_symptoms(rules: TriageRules, output: str) -> None:
    rows: list[dict[str, Any]] = [
        {
            "id": symptom.id,
            "name": symptom.name,
            "group": symptom.group,
            "severity_applies": symptom.has_severity,
            "red_flag": symptom.red_flag,
            "source": symptom.source,
        }
        for symptom in rules.symptoms.values()
    ]
    if output == "json":
        typer.echo(dumps(rows))
        return
    width = max(len(row["id"]) for row in rows)
    lines = [
        f"Severity: 0-{rules.max_severity} ({', '.join(rules.severity_words)}); "
        "yes/no signs take none. * = always at least call-now."
    ]
    for group in rules.groups.values():
        members = [row for row in rows if row["group"] == group.id]
        lines += ["", f"{group.name}:"]
        for row in members:
            scale = f"0-{rules.max_severity}" if row["severity_applies"] else "yes/no"
            flag = "*" if row["red_flag"] else " "
            lines.append(f"  {row['id']:<{width}}  {scale:<6} {flag} {row['name']}")
    typer.echo("\n".join(lines))


def _print_therapies(rules: TriageRules, output: str) -> None:
    rows: list[dict[str, Any]] = [
        {
            "id": therapy.id,
            "name": therapy.name,
            "default": therapy.id == rules.default_therapy,
            "cell_therapy": therapy.cell_therapy,
            "window_days": therapy.window_days,
            "window_source": therapy.window_source,
            "source": therapy.source,
        }
        for therapy in rules.therapies.values()
    ]
    if output == "json":
        typer.echo(dumps(rows))
        return
    width = max(len(row["id"]) for row in rows)
    lines = ["Therapies (--therapy); * = the default when none is given:"]
    for row in rows:
        flag = "*" if row["default"] else " "
        window = (
            f"; CAR-T signs escalated on days 0-{row['window_days']} after the cell infusion "
            f"({row['window_source']})"
            if row["window_days"] is not None
            else ""
        )
        lines.append(f"  {row['id']:<{width}} {flag} {row['name']}{window}")
    typer.echo("\n".join(lines))
