"""Any therapy's plan (``TherapyPlan``) as tables a person reads in a terminal.

One row per planned day: what is given (dose with its arithmetic), the premedication and
the checks due; then the plan's warnings, the facts the sources lack (gaps) and the
sources cited. Generic over the plan's kind, so the CAR-T journeys render here too: a
dose of another drug than the therapy (lymphodepletion) is named, cells are written as
the label writes them (3.8 x 10^7, in superscript), and a dose band with no single
dose shows its band.
"""

from collections.abc import Mapping

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from blina.domain.therapies.car_t import format_cells
from blina.domain.therapies.model import Entry, EntryKind, TherapyDay, TherapyPlan
from blina.interop.json.therapy_plan import sources_used
from blina.knowledge import SourceEntry

__all__ = ["render_therapy_plan"]

_COLUMNS = {
    EntryKind.DOSE: "Dose",
    EntryKind.PREMEDICATION: "Premedication",
    EntryKind.MONITORING: "Checks",
}


def render_therapy_plan(
    plan: TherapyPlan, name: str, sources: Mapping[str, SourceEntry], console: Console
) -> None:
    first = f"{plan.days[0].on:%d %b %Y}" if plan.days else "-"
    last = f"{plan.days[-1].on:%d %b %Y}" if plan.days else "-"
    header = (
        f"[bold]{escape(name)}[/bold] ({plan.kind}): {len(plan.days)} day(s), {first} to {last}"
    )
    console.print(Panel(header, title="blina therapy plan", border_style="blue"))
    console.print(_calendar(plan))
    console.print(_legend(plan))
    console.print(_warnings(plan))
    console.print(_gaps(plan))
    used = sorted(sources_used(plan))
    console.print(
        "[dim]Sources: " + "; ".join(f"{key}: {sources[key].reference}" for key in used) + "[/dim]"
    )


def _calendar(plan: TherapyPlan) -> Table:
    table = Table(title="Calendar", header_style="bold")
    other = any(e.kind not in _COLUMNS for d in plan.days for e in d.entries)
    columns = (*_COLUMNS.values(), *(("Other",) if other else ()))
    for column in ("Date", "Day", *columns):
        table.add_column(column)
    for day in plan.days:
        cells = _cells(day, plan.therapy)
        table.add_row(f"{day.on:%a %d %b %Y}", day.label, *(cells[c] for c in columns))
    return table


def _cells(day: TherapyDay, therapy: str) -> dict[str, str]:
    by_kind: dict[str, list[str]] = {column: [] for column in (*_COLUMNS.values(), "Other")}
    for entry in day.entries:
        by_kind[_COLUMNS.get(entry.kind, "Other")].append(_short(entry, therapy))
    return {column: ", ".join(items) for column, items in by_kind.items()}


def _short(entry: Entry, therapy: str) -> str:
    if entry.kind is EntryKind.DOSE and entry.dose is None and entry.basis:
        return f"{entry.what} ({escape(entry.basis)})"  # a band: no single dose
    if entry.dose is None:
        return entry.what
    amount = format_cells(entry.dose) if entry.unit == "cells" else str(entry.dose)
    if entry.kind is EntryKind.DOSE:
        named = "" if entry.what == therapy else f"{entry.what} "
        return f"{named}[bold]{amount} {entry.unit}[/bold] ({escape(entry.basis or '')})"
    return f"{entry.what} {amount} {entry.unit}"


def _legend(plan: TherapyPlan) -> Table:
    """Each item of the calendar once, in words, with its source."""
    table = Table(title="What each item means", header_style="bold")
    for column in ("Item", "Meaning", "Source"):
        table.add_column(column)
    seen: set[tuple[str, str]] = set()
    for entry in (e for d in plan.days for e in d.entries):
        key = (entry.what, entry.text)
        if key not in seen:
            seen.add(key)
            table.add_row(entry.what, escape(entry.text), entry.source)
    return table


def _warnings(plan: TherapyPlan) -> Table:
    table = Table(title="Warnings and decisions", header_style="bold")
    for column in ("What", "Warning", "Source"):
        table.add_column(column)
    for warning in plan.warnings:
        table.add_row(warning.what, escape(warning.text), warning.source)
    return table


def _gaps(plan: TherapyPlan) -> Table:
    table = Table(
        title="Not in the sources (NOT RETRIEVED) and what blina does", header_style="bold"
    )
    for column in ("Fact", "Instead", "Source"):
        table.add_column(column)
    for gap in plan.gaps:
        table.add_row(escape(gap.fact), escape(gap.instead), gap.source)
    return table
