"""A bag recipe (or a refusal) as plain JSON-ready data, and the infusion read back from it.

``blina bag --format json`` writes ``recipe_to_dict``; ``blina pump-check`` and
``blina flush-check`` read that file back with ``infusion_from_dict``, which recomputes
the bag's total volume and drug mass from the recipe's own parts rather than trusting a
stored figure. Quantities keep their unit in the key; decimals stay exact until
``blina.interop.plan_json.dumps`` writes them as JSON numbers. Figures for reading only
(delivered dose, bag concentration) are rounded by ``blina.domain.rounding``.
"""

from decimal import Decimal
from typing import Any

from blina.domain.checks import CheckReport
from blina.domain.druglib import Infusion, Prescription, SiteLibrary
from blina.domain.errors import InvalidInput
from blina.domain.pharmacy_units import Mcg, Ml, MlPerHour
from blina.domain.preparation import Expiry, Recipe, Refusal
from blina.domain.rounding import round_reported

__all__ = ["infusion_from_dict", "recipe_to_dict", "refusal_to_dict"]

_FIELD = "recipe_json"


def recipe_to_dict(recipe: Recipe) -> dict[str, Any]:
    reconstitution = recipe.library.reference.reconstitution
    vial = recipe.vial
    return {
        "hard_stop": False,
        "stamp": recipe.stamp,
        "prescription": _prescription(recipe.prescription),
        "origin": str(recipe.origin),
        "label_row": recipe.label_row,
        "vials": recipe.vials,
        "vial": {
            "region": vial.region,
            "content_mcg": vial.content.value,
            "usable_ml": recipe.library.usable_per_vial.value
            if recipe.library.usable_per_vial
            else None,
            "source": vial.source,
        },
        "reconstitution_water_ml": recipe.reconstitution_water.value,
        "reconstitution_water_kind": reconstitution.water_kind,
        "concentration_mcg_per_ml": recipe.concentration.value,
        "concentration_source": reconstitution.source,
        "stabilizer_ml": recipe.stabilizer.value.value,
        "stabilizer_vials": recipe.stabilizer_vials,
        "stabilizer_source": recipe.stabilizer.source,
        "saline_ml": recipe.saline.value.value,
        "saline_kind": recipe.saline_kind,
        "saline_source": recipe.saline.source,
        "preservative": recipe.bag.reference.preservative,
        "drug_ml": recipe.drug.value,
        "drug_mcg": recipe.drug_mass.value,
        "total_ml": recipe.total.value,
        "infuse_ml": recipe.infuse.value,
        "overfill_ml": recipe.overfill.value,
        "priming_ml": recipe.site.priming.value,
        "rate_ml_per_h": recipe.rate.value.value,
        "rate_source": recipe.rate.source,
        "duration_h": recipe.bag.hours,
        "bag_concentration_mcg_per_ml": round_reported(recipe.bag_concentration.value),
        "delivered_mcg_per_day": round_reported(recipe.delivered.value),
        "deviation_percent": round_reported(recipe.deviation_percent),
        "tolerance_percent": recipe.site.tolerance_percent,
        "expiry": _expiry(recipe.expiry),
        "steps": [
            {"number": s.number, "code": s.code, "text": s.text, "source": s.source}
            for s in recipe.steps
        ],
        "warnings": [
            {"code": a.code, "text": a.text, "source": a.source} for a in recipe.advisories
        ],
        "checks": _checks(recipe.checks),
        "library": library_to_dict(recipe.site),
    }


def refusal_to_dict(refusal: Refusal) -> dict[str, Any]:
    return {
        "hard_stop": True,
        "stamp": refusal.library.site.stamp,
        "prescription": _prescription(refusal.prescription),
        "reasons": [c.reason for c in refusal.checks.hard],
        "checks": _checks(refusal.checks),
        "library": library_to_dict(refusal.library.site),
    }


def library_to_dict(site: SiteLibrary) -> dict[str, Any]:
    return {
        "name": site.name,
        "version": site.version,
        "region": site.region,
        "demo": site.demo,
        "stamp": site.stamp,
        "validated_by": list(site.validation.pharmacists),
        "validated_on": site.validation.validated_on,
        "validated": site.validation.problem is None,
        "source": site.source,
    }


def _prescription(rx: Prescription) -> dict[str, Any]:
    return {
        "description": rx.describe(),
        "dose_mcg_per_day": rx.dose.value,
        "dose_mcg_per_m2_per_day": None if rx.per_m2 is None else rx.per_m2.value,
        "bsa_m2": None if rx.bsa is None else rx.bsa.value,
        "capped": rx.capped,
        "bag_hours": rx.bag_hours,
        "weight_kg": rx.weight.value,
    }


def _checks(report: CheckReport) -> list[dict[str, Any]]:
    return [
        {"level": str(c.level), "code": c.code, "reason": c.reason, "source": c.source}
        for c in report
    ]


def _expiry(expiry: tuple[Expiry, ...]) -> dict[str, dict[str, Any]]:
    """Per item and storage condition; a condition with no sourced limit is null."""
    table: dict[str, dict[str, Any]] = {
        item: {"room-temperature": None, "refrigerated": None}
        for item in ("prepared-bag", "reconstituted-vial")
    }
    for e in expiry:
        table[e.item.value][e.storage.value] = {
            "hours": e.hours,
            "temperature": e.temperature,
            "includes_infusion": e.includes_infusion,
            "start_within_hours": e.start_within_hours,
            "text": e.describe(),
            "source": e.source,
            "replaces": None
            if e.replaces is None
            else {"hours": e.replaces.hours, "source": e.replaces.source},
        }
    return table


def infusion_from_dict(data: Any) -> Infusion:
    """The infusion a recipe JSON describes; its total and drug mass recomputed from parts.

    Raises ``InvalidInput`` (field ``recipe_json``) for anything that is not a complete
    recipe written by ``blina bag --format json``, a refusal, or a recipe whose total
    volume is not the sum of its parts.
    """
    if not isinstance(data, dict):
        raise InvalidInput(_FIELD, type(data).__name__, "a JSON object from blina bag")
    if data.get("hard_stop") is not False:
        raise InvalidInput(_FIELD, "a hard stop", "a recipe, not a refused bag")
    saline, stabilizer, drug, total = (
        _number(data, key) for key in ("saline_ml", "stabilizer_ml", "drug_ml", "total_ml")
    )
    if saline + stabilizer + drug != total:
        raise InvalidInput(
            _FIELD,
            f"total_ml {total}",
            f"the sum of saline, stabilizer and drug ({saline + stabilizer + drug} mL)",
        )
    hours = _number(data, "duration_h")
    if hours != hours.to_integral_value():
        raise InvalidInput(_FIELD, f"duration_h {hours}", "a whole number of hours")
    source = data.get("rate_source")
    if not isinstance(source, str) or not source:
        raise InvalidInput(_FIELD, "rate_source (missing)", "the source of the bag's rate")
    return Infusion(
        hours=int(hours),
        rate=MlPerHour(_number(data, "rate_ml_per_h")),
        infuse=Ml(_number(data, "infuse_ml")),
        drug=Mcg(drug * _number(data, "concentration_mcg_per_ml")),
        total=Ml(total),
        rate_source=source,
    )


def _number(data: dict[str, Any], key: str) -> Decimal:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
        raise InvalidInput(_FIELD, f"{key} {value!r}", f"{key} as a number")
    number = Decimal(str(value))
    if not number.is_finite() or number <= 0:
        raise InvalidInput(_FIELD, f"{key} {value}", f"{key} > 0")
    return number
