"""A bag recipe (or a refusal) as plain JSON-ready data, and the infusion read back from it.

``blina bag --format json`` writes ``recipe_to_dict``; ``blina pump-check`` and
``blina flush-check`` read that file back with ``infusion_from_dict``, which recomputes
the bag's total volume and drug mass from the recipe's own parts rather than trusting a
stored figure. ``read_recipe_dict`` reads a whole recipe back (a stored bag's, for its
worksheet): every key checked, the same mass balance, numbers exact again. Quantities
keep their unit in the key; decimals stay exact until ``blina.interop.json.values.dumps``
writes them as JSON numbers. Figures for reading only
(delivered dose, bag concentration) are rounded by ``blina.domain.rounding``.
"""

from decimal import Decimal
from typing import Any

from blina.domain.checks import CheckReport
from blina.domain.errors import InvalidInput
from blina.domain.pharmacy.expiry import Expiry
from blina.domain.pharmacy.prescription import Prescription
from blina.domain.pharmacy.pump import Infusion
from blina.domain.pharmacy.recipe import Recipe, Refusal
from blina.domain.pharmacy.site_library import SiteLibrary
from blina.domain.rounding import round_reported
from blina.domain.units import Mcg, Ml, MlPerHour

__all__ = [
    "RECIPE_OPTIONAL",
    "RECIPE_SHAPE",
    "infusion_from_dict",
    "read_recipe_dict",
    "recipe_to_dict",
    "refusal_to_dict",
]

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
        # A preserved bag's benzyl alcohol, mg/kg/day (None: not preserved, or not known).
        "benzyl_alcohol_mg_per_kg_per_day": None
        if recipe.benzyl_alcohol is None
        else round_reported(recipe.benzyl_alcohol),
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


# Top-level keys ``recipe_to_dict`` writes that a stored recipe written before them lacks:
# read when present, never required.
RECIPE_OPTIONAL = ("benzyl_alcohol_mg_per_kg_per_day",)

# The keys ``recipe_to_dict`` writes, level by level ("" is the top, "steps[]" each step).
RECIPE_SHAPE: dict[str, tuple[str, ...]] = {
    "": (
        "hard_stop",
        "stamp",
        "prescription",
        "origin",
        "label_row",
        "vials",
        "vial",
        "reconstitution_water_ml",
        "reconstitution_water_kind",
        "concentration_mcg_per_ml",
        "concentration_source",
        "stabilizer_ml",
        "stabilizer_vials",
        "stabilizer_source",
        "saline_ml",
        "saline_kind",
        "saline_source",
        "preservative",
        "drug_ml",
        "drug_mcg",
        "total_ml",
        "infuse_ml",
        "overfill_ml",
        "priming_ml",
        "rate_ml_per_h",
        "rate_source",
        "duration_h",
        "bag_concentration_mcg_per_ml",
        "delivered_mcg_per_day",
        "deviation_percent",
        "tolerance_percent",
        "expiry",
        "steps",
        "warnings",
        "checks",
        "library",
    ),
    "prescription": (
        "description",
        "dose_mcg_per_day",
        "dose_mcg_per_m2_per_day",
        "bsa_m2",
        "capped",
        "bag_hours",
        "weight_kg",
    ),
    "vial": ("region", "content_mcg", "usable_ml", "source"),
    "library": (
        "name",
        "version",
        "region",
        "demo",
        "stamp",
        "validated_by",
        "validated_on",
        "validated",
        "source",
    ),
    "steps[]": ("number", "code", "text", "source"),
    "warnings[]": ("code", "text", "source"),
    "checks[]": ("level", "code", "reason", "source"),
    "expiry[][]": (
        "hours",
        "temperature",
        "includes_infusion",
        "start_within_hours",
        "text",
        "source",
        "replaces",
    ),
}


def read_recipe_dict(data: Any) -> dict[str, Any]:
    """A recipe as ``recipe_to_dict`` wrote it, read back from JSON: every key there,
    the total volume the sum of its parts (as ``infusion_from_dict`` checks it), and
    every number an exact ``Decimal`` again (a JSON float's shortest text is the
    decimal that was written). Keys beyond the recipe's are kept as they are.

    Raises ``InvalidInput`` (field ``recipe_json``) naming the first key missing or of
    the wrong kind.
    """
    if not isinstance(data, dict):
        raise InvalidInput(_FIELD, type(data).__name__, "a JSON object from blina bag")
    if data.get("hard_stop") is not False:
        raise InvalidInput(_FIELD, "a hard stop", "a recipe, not a refused bag")
    exact: dict[str, Any] = _exact(data)
    _require(exact, "", "recipe")
    for key in ("prescription", "vial", "library"):
        _require(exact[key], key, key)
    for key in ("steps", "warnings", "checks"):
        items = exact[key]
        if not isinstance(items, list):
            raise InvalidInput(_FIELD, f"{key} {items!r}", f"{key} as a list")
        for index, item in enumerate(items):
            _require(item, f"{key}[]", f"{key}[{index}]")
    expiry = exact["expiry"]
    if not isinstance(expiry, dict):
        raise InvalidInput(_FIELD, f"expiry {expiry!r}", "expiry by item and storage")
    for item, conditions in expiry.items():
        if not isinstance(conditions, dict):
            raise InvalidInput(_FIELD, f"expiry.{item} {conditions!r}", "limits by storage")
        for storage, limit in conditions.items():
            if limit is not None:
                _require(limit, "expiry[][]", f"expiry.{item}.{storage}")
    infusion_from_dict(exact)
    return exact


def _require(value: Any, level: str, where: str) -> None:
    if not isinstance(value, dict):
        raise InvalidInput(_FIELD, f"{where} {value!r}", f"{where} as an object")
    for key in RECIPE_SHAPE[level]:
        if key not in value:
            name = key if level == "" else f"{where}.{key}"
            raise InvalidInput(_FIELD, f"{name} (missing)", f"{name}, as blina bag writes it")


def _exact(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _exact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_exact(item) for item in value]
    if isinstance(value, float):
        return Decimal(repr(value))
    return value
