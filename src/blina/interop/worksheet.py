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

The sheet is written in the reader's language through ``Words``: its headings, labels and
units through the pages' catalog, numbers with the reader's decimal sign, the knowledge
files' words (water and saline kinds, warnings, steps) through the clinical catalog. The
web pages make one from the reader's language; without one (the command line, the JSON's
companions) the sheet is the English it always was, every figure as the recipe has it.
A check's reason (the domain's sentence, stored as English in the recipe) goes through
``Words.said``: the web pages read it back in the reader's language
(``blina.web.sentences``); by default, and where it cannot be, it is the English marked
``lang="en"``. The expiry's wording the domain writes stays English.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from blina.domain.pharmacy.recipe import Recipe
from blina.interop.json.recipe import recipe_to_dict

__all__ = [
    "DYNAMIC_MESSAGES",
    "ENGLISH",
    "FilledIn",
    "Signature",
    "Words",
    "install_filters",
    "limit_text",
    "render_worksheet",
    "render_worksheet_sections",
]

_ENV = Environment(
    loader=PackageLoader("blina.interop", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _same(text: str) -> str:
    return text


def _english(text: str) -> Markup:
    """A sentence the domain writes, declared English to the reader's browser."""
    return Markup('<span lang="en">%s</span>') % text


def _printed(at: datetime) -> str:
    return at.isoformat(timespec="minutes")


def _step_as_written(_code: str, text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class Words:
    """How the sheet is written for its reader (English, figures as stored, by default).

    ``gettext`` and ``unit`` are the pages' catalog, ``clinical`` the knowledge files'
    catalog, ``number`` writes a figure, ``moment`` the printing time, ``step`` a
    preparation step (its code and its English text as stored) in the reader's words,
    ``said`` a check's reason (markup: the English marked ``lang="en"`` by default).
    """

    language: str = "en"
    gettext: Callable[[str], str] = _same
    clinical: Callable[[str], str] = _same
    number: Callable[[Any], str] = str
    unit: Callable[[str], str] = _same
    moment: Callable[[datetime], str] = _printed
    step: Callable[[str, str], str] = _step_as_written
    said: Callable[[str], Markup] = _english


ENGLISH = Words()


@pass_context
def _number(context: Context, value: Any) -> str:
    words: Words = context["words"]
    return words.number(value)


@pass_context
def _unit(context: Context, unit: str) -> str:
    words: Words = context["words"]
    return words.unit(unit)


def install_filters(env: Environment) -> None:
    """The ``number`` and ``unit`` filters, reading the ``words`` a template is given."""
    env.filters["number"] = _number
    env.filters["unit"] = _unit


install_filters(_ENV)


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


def render_worksheet(recipe: Recipe, *, printed_at: datetime, words: Words = ENGLISH) -> str:
    """The worksheet for ``recipe`` as an HTML document; ``printed_at`` is shown as given."""
    return _render("worksheet.html", recipe_to_dict(recipe), printed_at, FilledIn(), words)


def render_worksheet_sections(
    data: dict[str, Any], *, printed_at: datetime, filled: FilledIn, words: Words = ENGLISH
) -> str:
    """The worksheet's sections without the document around them (no ``<html>``, no
    styles), for a page that has its own; ``data`` as ``read_recipe_dict`` gives it."""
    return _render("_worksheet_sections.html", data, printed_at, filled, words)


def _render(
    template: str, data: dict[str, Any], printed_at: datetime, filled: FilledIn, words: Words
) -> str:
    return _ENV.get_template(template).render(
        _=words.gettext,
        clinical=words.clinical,
        words=words,
        r=data,
        rx=data["prescription"],
        lib=data["library"],
        volumes=_quantities(data, words),
        printed_at=words.moment(printed_at),
        filled=filled,
        dose_text=_dose_text(data["prescription"], words),
        limit_text=lambda limit: limit_text(limit, words),
    )


def _dose_text(rx: Mapping[str, Any], words: Words) -> str:
    """The prescription as ``Prescription.describe`` writes it, in the reader's words."""
    _, n, unit = words.gettext, words.number, words.unit
    dose = f"{n(rx['dose_mcg_per_day'])} {unit('mcg/day')}"
    per_m2, bsa = rx.get("dose_mcg_per_m2_per_day"), rx.get("bsa_m2")
    if per_m2 is None or bsa is None:
        return dose
    text = _("%(per_m2)s x %(bsa)s = %(dose)s") % {
        "per_m2": f"{n(per_m2)} {unit('mcg/m2/day')}",
        "bsa": f"{n(bsa)} {unit('m2')}",
        "dose": dose,
    }
    return _("%(dose)s, capped") % {"dose": text} if rx.get("capped") else text


def limit_text(limit: Mapping[str, Any], words: Words) -> str:
    """A beyond-use limit as ``Expiry.describe`` writes it, in the reader's words; the
    stored text when the recipe is of an older shape."""
    if "hours" not in limit or "temperature" not in limit:
        return str(limit["text"])
    _, n = words.gettext, words.number
    text = _("%(hours)s h at %(temperature)s") % {
        "hours": n(limit["hours"]),
        "temperature": words.clinical(str(limit["temperature"])),
    }
    if limit.get("includes_infusion"):
        text = _("%(limit)s including infusion time") % {"limit": text}
    if limit.get("start_within_hours") is not None:
        text = _("%(limit)s: hang within %(hours)s h of preparation") % {
            "limit": text,
            "hours": n(limit["start_within_hours"]),
        }
    return text


# Messages the sheet looks up by a value (a check's level, an expiry's item and storage,
# the demo stamp); the catalog test checks them with the pages' own.
DYNAMIC_MESSAGES = (
    "OK",
    "SOFT",
    "HARD",
    "prepared-bag",
    "reconstituted-vial",
    "room-temperature",
    "refrigerated",
    "demo library: not for clinical use",
    "label-row",
    "derived",
)


def _quantities(data: dict[str, Any], words: Words) -> list[dict[str, Any]]:
    """Rows of the quantities table: key (as in the JSON), label, value, unit, source."""
    _, n = words.gettext, words.number
    vial = data["vial"]
    site = _("site library %(name)s") % {"name": data["library"]["name"]}
    balance = _("mass balance")
    water = words.clinical(data["reconstitution_water_kind"])
    stabilizer_vials = {"vials": n(data["stabilizer_vials"])}
    deviation = f"{'+' if data['deviation_percent'] >= 0 else '-'}"
    deviation += n(abs(data["deviation_percent"]))
    rows = [
        ("vials", _("Vials"), data["vials"], f"x {n(vial['content_mcg'])} mcg", vial["source"]),
        (
            "reconstitution_water_ml",
            _("Water for reconstitution (%(kind)s)") % {"kind": water},
            data["reconstitution_water_ml"],
            "mL",
            data["concentration_source"],
        ),
        (
            "concentration_mcg_per_ml",
            _("Concentration after reconstitution"),
            data["concentration_mcg_per_ml"],
            "mcg/mL",
            data["concentration_source"],
        ),
        ("saline_ml", _("Base saline"), data["saline_ml"], "mL", data["saline_source"]),
        (
            "stabilizer_ml",
            _("IV Solution Stabilizer (%(vials)s vial(s))") % stabilizer_vials,
            data["stabilizer_ml"],
            "mL",
            data["stabilizer_source"],
        ),
        ("drug_ml", _("Reconstituted blinatumomab"), data["drug_ml"], "mL", balance),
        ("drug_mcg", _("Drug in the bag"), data["drug_mcg"], "mcg", balance),
        ("total_ml", _("Total bag volume"), data["total_ml"], "mL", _("sum of the above")),
        ("infuse_ml", _("Volume to be infused"), data["infuse_ml"], "mL", data["rate_source"]),
        ("overfill_ml", _("Overfill left for priming"), data["overfill_ml"], "mL", site),
        ("priming_ml", _("Priming volume needed"), data["priming_ml"], "mL", site),
        ("rate_ml_per_h", _("Pump rate"), data["rate_ml_per_h"], "mL/h", data["rate_source"]),
        ("duration_h", _("Duration"), data["duration_h"], "h", data["rate_source"]),
        (
            "delivered_mcg_per_day",
            _("Delivered dose (independent check)"),
            data["delivered_mcg_per_day"],
            "mcg/day",
            _("%(deviation)s %% of the prescription; tolerance %(tolerance)s %% (%(site)s)")
            % {"deviation": deviation, "tolerance": n(data["tolerance_percent"]), "site": site},
        ),
    ]
    load = data.get("benzyl_alcohol_mg_per_kg_per_day")
    if load is not None:
        rows.append(
            (
                "benzyl_alcohol_mg_per_kg_per_day",
                _("Benzyl alcohol to the patient (preserved saline)"),
                load,
                "mg/kg/day",
                site,
            )
        )
    return [
        {"key": key, "label": label, "value": value, "unit": words.unit(unit), "source": source}
        for key, label, value, unit, source in rows
    ]
