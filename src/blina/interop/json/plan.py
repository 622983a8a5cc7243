"""A course plan as plain JSON-ready data (the CLI's ``--format json``, the API's plans).

Quantities keep their unit in the key (``dose_mcg_per_day``); instants are ISO 8601 in
the clinic's zone; decimals stay exact until ``values.dumps`` writes them as JSON numbers.
"""

from typing import Any
from zoneinfo import ZoneInfo

from blina.domain.course_plan import Bag, CoursePlan, PlanDay, PremedicationDose

__all__ = ["plan_to_dict"]


def plan_to_dict(plan: CoursePlan) -> dict[str, Any]:
    regimen = plan.regimen
    body = plan.body
    zone = plan.zone
    return {
        "label": {"region": regimen.label.region, "revision": regimen.label.revision},
        "regimen": {
            "id": regimen.id,
            "name": regimen.name,
            "indication": regimen.indication,
            "evidence": str(regimen.evidence),
            "source": regimen.source,
        },
        "patient": {
            "weight_kg": body.weight.value,
            "height_cm": None if body.height is None else body.height.value,
            "age_years": body.age.value,
            "age_group": str(body.age_group),
        },
        "bsa_m2": None if body.bsa is None else body.bsa.value,
        "dose_basis": str(plan.dose_basis),
        "bag_hours": plan.bag.hours,
        "bag_preservative": plan.bag.preservative,
        "zone": zone.key,
        "first_day": plan.first_day,
        "last_day": plan.last_day,
        "infusion_days": plan.infusion_days,
        "cycles": [
            {
                "number": c.number,
                "phase": c.phase,
                "start": c.start,
                "infusion_start": c.infusion_start.astimezone(zone),
                "infusion_end": c.infusion_end.astimezone(zone),
                "end": c.end,
                "inpatient_days": c.inpatient_days,
            }
            for c in plan.cycles
        ],
        "days": [_day(d, zone) for d in plan.days],
        "bags": [_bag(b, plan) for b in plan.bags],
        "precautions": [
            {
                "kind": p.kind,
                "description": p.description,
                "until": p.until,
                "note": p.note,
                "source": p.source,
            }
            for p in plan.precautions
        ],
        "warnings": list(plan.warnings),
        "notes": [{"text": n.text, "source": n.source} for n in plan.notes],
    }


def _day(day: PlanDay, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "date": day.date,
        "cycle": day.cycle,
        "phase": day.phase,
        "cycle_day": day.cycle_day,
        "dose_mcg_per_day": day.dose.value,
        "infusing": day.infusing,
        "inpatient": day.inpatient,
        "step_up": day.step_up,
        "premedication": [_premedication(p, zone) for p in day.premedication],
        "bag_changes": list(day.bag_changes),
        "monitoring": list(day.monitoring),
    }


def _premedication(dose: PremedicationDose, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "drug": dose.drug,
        "dose": dose.dose.value,
        "unit": dose.dose.UNIT,
        "route": dose.route,
        "due": dose.due.astimezone(zone),
        "timing": dose.timing,
        "reason": dose.reason,
        "alternative": dose.alternative,
        "source": dose.source,
    }


def _bag(bag: Bag, plan: CoursePlan) -> dict[str, Any]:
    return {
        "cycle": bag.cycle,
        "start": bag.start.astimezone(plan.zone),
        "end": bag.end.astimezone(plan.zone),
        "hours": bag.hours,
        "dose_mcg_per_day": bag.dose.value,
    }
