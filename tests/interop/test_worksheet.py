"""The printable pharmacy worksheet, parsed into elements (stdlib html.parser), not grepped."""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from tests.pharmacy_strategies import make_rx, make_site, resolve

from blina.domain.pharmacy.recipe import Recipe, prepare_bag
from blina.interop.json.recipe import read_recipe_dict, recipe_to_dict
from blina.interop.json.values import to_json_ready
from blina.interop.worksheet import (
    FilledIn,
    Signature,
    render_worksheet,
    render_worksheet_sections,
)

VOID = {"meta", "br", "hr", "img", "input", "link"}
PRINTED = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


@dataclass
class Element:
    """One parsed HTML element: its tag, attributes, children and text."""

    tag: str
    attrs: dict[str, str]
    children: list["Element"] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Every bit of text inside, joined and with runs of white space collapsed."""
        pieces = [*self.parts, *(child.text for child in self.children)]
        return " ".join(" ".join(pieces).split())

    def iter(self) -> list["Element"]:
        found = [self]
        for child in self.children:
            found.extend(child.iter())
        return found

    def find_all(self, tag: str | None = None, **attrs: str) -> list["Element"]:
        """Descendants with ``tag`` whose attributes include ``attrs`` (``data_x`` is data-x)."""
        wanted = {key.replace("_", "-"): value for key, value in attrs.items()}
        return [
            e
            for e in self.iter()[1:]
            if (tag is None or e.tag == tag)
            and all(e.attrs.get(k) == v or (v == "*" and k in e.attrs) for k, v in wanted.items())
        ]

    def find(self, tag: str | None = None, **attrs: str) -> "Element":
        (only,) = self.find_all(tag, **attrs)
        return only


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].parts.append(data)


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


def _recipe(**rx: str) -> Recipe:
    result = prepare_bag(prescription=make_rx(**rx), library=resolve(make_site(demo=True)))
    assert isinstance(result, Recipe)
    return result


@pytest.fixture(scope="module")
def adult() -> Element:
    return parse(render_worksheet(_recipe(dose="28"), printed_at=PRINTED))


def test_render_worksheet_is_well_formed_with_title_and_demo_stamp(adult: Element) -> None:
    assert adult.find("title").text == "Blinatumomab bag worksheet: 28 mcg/day, 24-h bag"
    assert adult.find("p", data_stamp="demo").text == "demo library: not for clinical use"
    assert adult.find("html").attrs["lang"] == "en"


def test_render_worksheet_shows_patient_and_prescription(adult: Element) -> None:
    patient = adult.find("section", data_section="patient")

    assert patient.find("td", data_field="weight_kg").text == "70 kg"
    assert patient.find("td", data_field="bsa_m2").text == "not used (fixed dose)"
    assert [th.text for th in patient.find_all("th")][:2] == ["Name", "Identifier / date of birth"]
    prescription = adult.find("section", data_section="prescription")
    assert prescription.find("td", data_field="dose").text == "28 mcg/day"
    assert prescription.find("td", data_field="duration_h").text == "24 h"


def test_render_worksheet_lists_every_volume_with_its_source(adult: Element) -> None:
    rows = {
        tr.attrs["data-field"]: tr
        for tr in adult.find("section", data_section="volumes").find_all("tr", data_field="*")
    }

    assert set(rows) == {
        "vials",
        "reconstitution_water_ml",
        "concentration_mcg_per_ml",
        "saline_ml",
        "stabilizer_ml",
        "drug_ml",
        "drug_mcg",
        "total_ml",
        "infuse_ml",
        "overfill_ml",
        "priming_ml",
        "rate_ml_per_h",
        "duration_h",
        "delivered_mcg_per_day",
    }
    assert rows["drug_ml"].find("td", data_value="*").attrs["data-value"] == "2.6"
    assert rows["saline_ml"].find("td", data_value="*").text == "270 mL"
    assert rows["saline_ml"].find_all("td")[-1].text == "pharm-us-2014-3.3-saline"
    assert rows["total_ml"].find("td", data_value="*").text == "278.6 mL"
    assert rows["delivered_mcg_per_day"].find("td", data_value="*").text == "27.997 mcg/day"


def test_render_worksheet_steps_in_order_stabilizer_before_drug(adult: Element) -> None:
    steps = adult.find("section", data_section="steps").find_all("li", data_step="*")
    codes = [li.attrs["data-step"] for li in steps]

    assert codes.index("saline") < codes.index("stabilizer") < codes.index("drug")
    assert codes[0] == "verify"
    assert steps[codes.index("drug")].text.startswith("☐ Add 2.6 mL reconstituted blinatumomab")


def test_render_worksheet_warnings_checks_and_library_validation(adult: Element) -> None:
    warnings = adult.find("section", data_section="warnings")

    assert {li.attrs["data-warning"] for li in warnings.find_all("li", data_warning="*")} >= {
        "in-line-filter",
        "do-not-flush",
    }
    levels = {
        li.attrs["data-check"]: li.attrs["data-level"]
        for li in warnings.find_all("li")
        if "data-check" in li.attrs
    }
    assert levels["delivered-within-tolerance"] == "ok"
    library = adult.find("section", data_section="library")
    assert library.find("td", data_field="validated_by").text == "Pharmacist A and Pharmacist B"
    assert library.find("td", data_field="validated_on").text == "2026-01-15"
    assert library.find("td", data_field="demo").text == "yes: not for clinical use"


def test_render_worksheet_has_prepared_by_and_checked_by_boxes(adult: Element) -> None:
    signatures = adult.find("section", data_section="signatures")

    boxes = [div.attrs["data-sign"] for div in signatures.find_all("div", data_sign="*")]
    assert boxes == ["prepared-by", "checked-by"]
    assert signatures.find("div", data_sign="checked-by").find("strong").text == "Checked by"


def test_render_worksheet_seven_day_bag_shows_missing_expiry_and_soft_override_line() -> None:
    page = parse(render_worksheet(_recipe(hours=168, dose="28", weight="70"), printed_at=PRINTED))

    expiry = page.find("section", data_section="expiry")
    missing = [
        tr.attrs["data-expiry"]
        for tr in expiry.find_all("tr", data_expiry="*")
        if tr.find_all("td", data_missing="true")
    ]
    assert missing == ["prepared-bag/room-temperature", "prepared-bag/refrigerated"]
    soft = page.find_all("li", data_level="soft")
    assert soft
    assert all(li.find_all("span", **{"class": "blank"}) for li in soft)
    assert "benzyl-alcohol" in {
        li.attrs["data-warning"] for li in page.find_all("li", data_warning="*")
    }


def test_render_worksheet_label_row_and_bsa_are_shown() -> None:
    recipe = _recipe(dose=None, per_m2="15", bsa="0.80", weight="20")

    page = parse(render_worksheet(recipe, printed_at=PRINTED))

    assert page.find("td", data_field="bsa_m2").text == "0.80 m²"
    assert page.find("strong", data_field="origin").text == "derived"
    assert page.find_all(data_field="label_row") == []


def test_render_worksheet_escapes_library_text() -> None:
    site = make_site(name="<script>alert(1)</script>", demo=False)
    result = prepare_bag(prescription=make_rx(dose="9"), library=resolve(site))
    assert isinstance(result, Recipe)

    page = parse(render_worksheet(result, printed_at=PRINTED))

    assert page.find_all("script") == []
    assert page.find("td", data_field="library_name").text.startswith("<script>alert(1)</script>")
    assert page.find_all("p", data_stamp="demo") == []


def _stored(recipe: Recipe) -> dict[str, Any]:
    """The recipe read back as a stored bag keeps it (a JSON column: floats)."""
    return read_recipe_dict(json.loads(json.dumps(to_json_ready(recipe_to_dict(recipe)))))


def test_render_worksheet_sections_fill_in_the_patient_the_signatures_and_overrides() -> None:
    recipe = _recipe(hours=168, dose="28", weight="70")
    soft = [c.code for c in recipe.checks if c.level.value == "soft"]
    filled = FilledIn(
        patient_name="Maria <M.>",
        patient_identifier="P-002",
        prepared_by=Signature("pharm.ana", "2026-12-10 10:30"),
        checked_by=Signature("pharm.ben", "2026-12-10 10:45"),
        overrides={soft[0]: "checked with the current label"},
    )

    sheet = parse(render_worksheet_sections(_stored(recipe), printed_at=PRINTED, filled=filled))

    assert sheet.find_all("html") == []
    assert sheet.find_all("style") == []
    assert sheet.find("td", data_field="patient_name").text == "Maria <M.>"
    assert sheet.find("td", data_field="patient_identifier").text == "P-002"
    prepared = sheet.find("div", data_sign="prepared-by")
    assert prepared.find("span", data_signed_by="*").text == "pharm.ana"
    assert prepared.find("span", data_signed_at="*").text == "2026-12-10 10:30"
    checked = sheet.find("div", data_sign="checked-by")
    assert checked.find("span", data_signed_by="*").attrs["data-signed-by"] == "pharm.ben"
    reasons = {s.text for s in sheet.find_all("span", data_override=soft[0])}
    assert reasons == {"checked with the current label"}
    for li in sheet.find_all("li", data_level="soft"):
        overridden = li.attrs["data-check"] == soft[0]
        assert bool(li.find_all("span", **{"class": "blank"})) is not overridden


def test_render_worksheet_sections_from_a_stored_recipe_show_the_same_quantities() -> None:
    recipe = _recipe(dose="28")
    whole = parse(render_worksheet(recipe, printed_at=PRINTED))

    sheet = parse(render_worksheet_sections(_stored(recipe), printed_at=PRINTED, filled=FilledIn()))

    def values(page: Element) -> dict[str, Decimal]:
        return {
            tr.attrs["data-field"]: Decimal(tr.find("td", data_value="*").attrs["data-value"])
            for tr in page.find("section", data_section="volumes").find_all("tr", data_field="*")
        }

    assert values(sheet) == values(whole)
    assert [s.attrs["data-step"] for s in sheet.find_all("li", data_step="*")] == [
        s.attrs["data-step"] for s in whole.find_all("li", data_step="*")
    ]
    signatures = sheet.find("section", data_section="signatures")
    assert signatures.find_all("span", data_signed_by="*") == []
