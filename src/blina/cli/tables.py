"""The course plan as a calendar a person reads at a glance (rich tables in a terminal).

One row per run of days with the same cycle, dose and hospital status; premedication
and bag changes are marked on the row where they fall.
"""

from collections.abc import Mapping
from datetime import date

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from blina.domain.course_plan import CoursePlan, Span
from blina.knowledge import SourceEntry

__all__ = ["render_plan"]


def render_plan(plan: CoursePlan, sources: Mapping[str, SourceEntry], console: Console) -> None:
    console.print(_header(plan))
    for warning in plan.warnings:
        console.print(Panel(warning, title="Warning", border_style="yellow"))
    console.print(_calendar(plan))
    console.print(_monitoring(plan))
    console.print(_precautions(plan))
    for note in plan.notes:
        console.print(f"[bold]Note:[/bold] {note.text} [dim]({note.source})[/dim]")
    used = sorted(
        {
            plan.regimen.source,
            *(p.source for p in plan.precautions),
            *(n.source for n in plan.notes),
        }
        | {d.source for d in plan.premedication}
    )
    console.print(
        "[dim]Sources: " + "; ".join(f"{key}: {sources[key].reference}" for key in used) + "[/dim]"
    )


def _header(plan: CoursePlan) -> Panel:
    body = plan.body
    regimen = plan.regimen
    bsa = "not computed (no height)" if body.bsa is None else str(body.bsa)
    basis = (
        f"fixed dose (>= {regimen.weight_threshold})"
        if plan.dose_basis == "fixed"
        else f"per m2 of BSA, capped (< {regimen.weight_threshold})"
    )
    lines = [
        f"[bold]{regimen.name}[/bold] ({regimen.label.region} label, "
        f"revision {regimen.label.revision}; evidence: {regimen.evidence})",
        regimen.indication,
        f"Patient: {body.weight}, height {body.height or 'not given'}, "
        f"{body.age} ({body.age_group}); BSA {bsa}",
        f"Dose: {basis}. Bags: {plan.bag.hours} h "
        f"({'with preservative' if plan.bag.preservative else 'preservative-free'}).",
        f"Course: {len(plan.cycles)} cycle(s), {plan.first_day} to {plan.last_day}, "
        f"{plan.infusion_days} infusion days. Times in {plan.zone.key}.",
    ]
    return Panel("\n".join(lines), title="blina course plan", border_style="blue")


def _calendar(plan: CoursePlan) -> Table:
    table = Table(title="Calendar", show_lines=False, header_style="bold")
    for column in (
        "Dates",
        "Cycle / days",
        "Phase",
        "Dose",
        "Where",
        "Premedication",
        "Bag changes",
    ):
        table.add_column(column)
    for span in plan.spans:
        table.add_row(
            _dates(span.first, span.last),
            _cycle_days(span),
            span.phase or "between cycles",
            str(span.dose) if span.infusing else "no infusion",
            "[bold red]hospital[/bold red]"
            if span.inpatient
            else ("home" if span.infusing else "-"),
            _premedication(plan, span),
            _bag_changes(plan, span),
        )
    return table


def _dates(first: date, last: date) -> str:
    if first == last:
        return f"{first:%d %b %Y}"
    return f"{first:%d %b} - {last:%d %b %Y}"


def _cycle_days(span: Span) -> str:
    if span.cycle is None or span.first_cycle_day is None:
        return "-"
    last = span.first_cycle_day + span.length_days - 1
    days = (
        f"D{span.first_cycle_day}"
        if last == span.first_cycle_day
        else f"D{span.first_cycle_day}-{last}"
    )
    return f"C{span.cycle} {days}"


def _premedication(plan: CoursePlan, span: Span) -> str:
    lines = []
    for dose in plan.premedication:
        due = dose.due.astimezone(plan.zone)
        if span.first <= due.date() <= span.last:
            lines.append(f"{due:%d %b %H:%M} {dose.drug} {dose.dose} ({dose.timing})")
    return "\n".join(lines)


def _bag_changes(plan: CoursePlan, span: Span) -> str:
    hung = [b.start.astimezone(plan.zone) for b in plan.bags]
    inside = [moment for moment in hung if span.first <= moment.date() <= span.last]
    if not inside:
        return ""
    if len(inside) <= 3:
        return "\n".join(f"{moment:%d %b %H:%M}" for moment in inside)
    return f"{len(inside)} changes from {inside[0]:%d %b %H:%M}, every {plan.bag.hours} h"


def _monitoring(plan: CoursePlan) -> Table:
    table = Table(title="Monitoring", header_style="bold")
    table.add_column("When")
    table.add_column("What")
    for rule in plan.regimen.monitoring:
        if rule.age_group is not None and rule.age_group is not plan.body.age_group:
            continue
        if rule.when == "preservative-bag-day" and not plan.bag.preservative:
            continue
        table.add_row(str(rule.when).replace("-", " "), f"{rule.what} [dim]({rule.source})[/dim]")
    supervision = plan.regimen.supervision
    unsupervised = [str(c.number) for c in plan.cycles if c.inpatient_days == 0]
    if unsupervised:
        table.add_row(
            f"start of cycle {', '.join(unsupervised)}",
            f"{supervision.text} [dim]({supervision.source})[/dim]",
        )
    return table


def _precautions(plan: CoursePlan) -> Table:
    table = Table(title="Precautions", header_style="bold")
    for column in ("Precaution", "Until", "Source"):
        table.add_column(column)
    for precaution in plan.precautions:
        until = (
            "no end date given"
            if precaution.until is None
            else f"{precaution.until:%a %d %b %Y %H:%M}"
        )
        text = (
            precaution.description
            if precaution.note is None
            else f"{precaution.description}\n[dim]{precaution.note}[/dim]"
        )
        table.add_row(text, until, precaution.source)
    return table
