"""Any therapy's plan (``TherapyPlan``) as plain JSON-ready data, whatever its kind.

Doses keep their unit beside them (``dose`` with ``unit``) because one plan mixes mg of
the drug, mg of a premedication and, for a cell therapy, cells; decimals stay exact until
``values.dumps`` writes them. Every entry, warning and gap names its source; ``sources``
maps each source used to its reference text when the caller passes them.
"""

from collections.abc import Mapping
from typing import Any

from blina.domain.therapies.model import Entry, Gap, PlanWarning, TherapyDay, TherapyPlan

__all__ = ["sources_used", "therapy_plan_to_dict"]


def therapy_plan_to_dict(
    plan: TherapyPlan, references: Mapping[str, str] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "therapy": plan.therapy,
        "kind": str(plan.kind),
        "first_day": plan.days[0].on if plan.days else None,
        "last_day": plan.days[-1].on if plan.days else None,
        "days": [_day(d) for d in plan.days],
        "warnings": [_warning(w) for w in plan.warnings],
        "gaps": [_gap(g) for g in plan.gaps],
    }
    if references is not None:
        data["sources"] = {key: references[key] for key in sorted(sources_used(plan))}
    return data


def sources_used(plan: TherapyPlan) -> set[str]:
    """Every source id the plan cites: its entries', warnings' and gaps'."""
    return (
        {e.source for d in plan.days for e in d.entries}
        | {w.source for w in plan.warnings}
        | {g.source for g in plan.gaps}
    )


def _day(day: TherapyDay) -> dict[str, Any]:
    return {"date": day.on, "label": day.label, "entries": [_entry(e) for e in day.entries]}


def _entry(entry: Entry) -> dict[str, Any]:
    return {
        "kind": str(entry.kind),
        "what": entry.what,
        "text": entry.text,
        "dose": entry.dose,
        "unit": entry.unit,
        "basis": entry.basis,
        "source": entry.source,
    }


def _warning(warning: PlanWarning) -> dict[str, Any]:
    return {"what": warning.what, "text": warning.text, "source": warning.source}


def _gap(gap: Gap) -> dict[str, Any]:
    return {"fact": gap.fact, "instead": gap.instead, "source": gap.source}
