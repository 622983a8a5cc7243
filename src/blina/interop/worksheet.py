"""A bag recipe as a printable pharmacy worksheet (HTML; print it, or print it to PDF).

The worksheet shows what the pharmacist needs at the bench and what the checker signs:
the patient (name and identifier left blank to write in), the prescription, every
quantity with its source, the steps in order with a box to tick, the beyond-use times
(a missing one is shown as missing), the warnings and checks, the library and who
validated it, and boxes for "prepared by" and "checked by". Values come from
``recipe_to_dict``, so the worksheet and the JSON never disagree. Jinja2 autoescapes
every value.

A stored bag's worksheet is the same sheet rebuilt from its stored recipe
(``read_recipe_dict``), with what the store knows filled in (``FilledIn``): the patient,
who prepared and who checked the bag and when, the override reasons. A page with its own
head and styles takes ``render_worksheet_sections``.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from blina.domain.pharmacy.recipe import Recipe
from blina.interop.json.recipe import recipe_to_dict

__all__ = ["FilledIn", "Signature", "render_worksheet", "render_worksheet_sections"]

_ENV = Environment(
    loader=PackageLoader("blina.interop", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class Signature:
    """A box already signed: who, and when (as it is to be printed)."""

    name: str
    at: str


@dataclass(frozen=True, slots=True)
class FilledIn:
    """What the worksheet shows filled in; empty or None is left blank to write in."""

    patient_name: str = ""
    patient_identifier: str = ""
    prepared_by: Signature | None = None
    checked_by: Signature | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)  # soft check code -> reason


def render_worksheet(recipe: Recipe, *, printed_at: datetime) -> str:
    """The worksheet for ``recipe`` as an HTML document; ``printed_at`` is shown as given."""
    return _render("worksheet.html", recipe_to_dict(recipe), printed_at, FilledIn())


def render_worksheet_sections(
    data: dict[str, Any], *, printed_at: datetime, filled: FilledIn
) -> str:
    """The worksheet's sections without the document around them (no ``<html>``, no
    styles), for a page that has its own; ``data`` as ``read_recipe_dict`` gives it."""
    return _render("_worksheet_sections.html", data, printed_at, filled)


def _render(template: str, data: dict[str, Any], printed_at: datetime, filled: FilledIn) -> str:
    return _ENV.get_template(template).render(
        r=data,
        rx=data["prescription"],
        lib=data["library"],
        volumes=_quantities(data),
        printed_at=printed_at.isoformat(timespec="minutes"),
        filled=filled,
    )


def _quantities(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the quantities table: key (as in the JSON), label, value, unit, source."""
    vial = data["vial"]
    site = f"site library {data['library']['name']}"
    rows = [
        ("vials", "Vials", data["vials"], f"x {vial['content_mcg']} mcg", vial["source"]),
        (
            "reconstitution_water_ml",
            f"Water for reconstitution ({data['reconstitution_water_kind']})",
            data["reconstitution_water_ml"],
            "mL",
            data["concentration_source"],
        ),
        (
            "concentration_mcg_per_ml",
            "Concentration after reconstitution",
            data["concentration_mcg_per_ml"],
            "mcg/mL",
            data["concentration_source"],
        ),
        ("saline_ml", "Base saline", data["saline_ml"], "mL", data["saline_source"]),
        (
            "stabilizer_ml",
            f"IV Solution Stabilizer ({data['stabilizer_vials']} vial(s))",
            data["stabilizer_ml"],
            "mL",
            data["stabilizer_source"],
        ),
        ("drug_ml", "Reconstituted blinatumomab", data["drug_ml"], "mL", "mass balance"),
        ("drug_mcg", "Drug in the bag", data["drug_mcg"], "mcg", "mass balance"),
        ("total_ml", "Total bag volume", data["total_ml"], "mL", "sum of the above"),
        ("infuse_ml", "Volume to be infused", data["infuse_ml"], "mL", data["rate_source"]),
        ("overfill_ml", "Overfill left for priming", data["overfill_ml"], "mL", site),
        ("priming_ml", "Priming volume needed", data["priming_ml"], "mL", site),
        ("rate_ml_per_h", "Pump rate", data["rate_ml_per_h"], "mL/h", data["rate_source"]),
        ("duration_h", "Duration", data["duration_h"], "h", data["rate_source"]),
        (
            "delivered_mcg_per_day",
            "Delivered dose (independent check)",
            data["delivered_mcg_per_day"],
            "mcg/day",
            f"{data['deviation_percent']:+} % of the prescription; tolerance"
            f" {data['tolerance_percent']} % ({site})",
        ),
    ]
    load = data.get("benzyl_alcohol_mg_per_kg_per_day")
    if load is not None:
        rows.append(
            (
                "benzyl_alcohol_mg_per_kg_per_day",
                "Benzyl alcohol to the patient (preserved saline)",
                load,
                "mg/kg/day",
                site,
            )
        )
    return [
        {"key": key, "label": label, "value": value, "unit": unit, "source": source}
        for key, label, value, unit, source in rows
    ]
