"""The pharmacy worksheet and the bag label in Spanish: headings, labels, units, numbers
with the decimal comma, the steps and warnings through the clinical catalog, and a step
the knowledge file no longer writes that way printed as the bag was made."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from bs4 import BeautifulSoup

from blina.interop.bag_label import BagLabel, render_bag_label
from blina.interop.worksheet import ENGLISH, limit_text
from blina.knowledge import Knowledge
from blina.web.formatting import formatter_for
from blina.web.i18n import LANG_COOKIE, clinical_gettext_for
from blina.web.worksheet_words import step_writer, worksheet_words
from tests.web.conftest import DemoClinic
from tests.web.soup import one, page
from tests.web.test_spanish_pages import Prepared, prepared  # noqa: F401 (a fixture)

MADRID = ZoneInfo("Europe/Madrid")
ES = formatter_for("es")
TEMPLATES = {
    "saline": "Add {saline_ml} mL {saline_kind} to the empty IV bag.",
    "verify": "Verify the prescription ({dose}), the bag duration ({duration_h} h) and the"
    " number of vials ({vials}).",
    "twice": "Take {n} mL, then {n} mL again.",
}


def _step(code: str, text: str, templates: dict[str, str] = TEMPLATES) -> str:
    return step_writer(templates, ES, clinical_gettext_for("es"))(code, text)


def test_a_step_is_written_again_in_spanish_with_its_own_figures() -> None:
    assert (
        _step(
            "saline",
            "Add 110.5 mL 0.9% Sodium Chloride Injection, preservative-free to the empty IV bag.",
        )
        == "Añada 110,5 mL de cloruro sódico 0.9% inyectable, sin conservantes a la bolsa IV"
        " vacía."
    )
    assert _step(
        "verify",
        "Verify the prescription (15 mcg/m2/day x 1.1 m2 = 16.5 mcg/day, capped), the bag"
        " duration (24 h) and the number of vials (1).",
    ) == (
        "Verifique la prescripción (15 mcg/m²/día x 1,1 m² = 16,5 mcg/día, con tope), la"
        " duración de la bolsa (24 h) y el número de viales (1)."
    )


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("saline", "Add 110 mL saline to the bag, slowly."),  # the template changed since
        ("unknown", "A step of a code the knowledge file no longer has."),
        ("twice", "Take 2 mL, then 2 mL again."),  # a template with no translation
        ("twice", "Take 2 mL, then 3 mL again."),  # the same field, two values
    ],
)
def test_a_step_that_cannot_be_read_back_is_printed_as_stored(code: str, text: str) -> None:
    assert _step(code, text) == text


def test_every_step_of_the_knowledge_file_has_its_spanish(knowledge: Knowledge) -> None:
    clinical = clinical_gettext_for("es")
    for step in knowledge.pharmacy.steps:
        spanish = clinical(step.text)
        assert spanish != step.text, step.code
        assert sorted(_fields(spanish)) == sorted(_fields(step.text)), step.code


def _fields(text: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", text)


def test_a_beyond_use_limit_in_each_language(knowledge: Knowledge) -> None:
    limit = {
        "hours": 48,
        "temperature": "up to 27 °C",
        "includes_infusion": True,
        "start_within_hours": Decimal("4.5"),
        "text": "48 h at up to 27 °C including infusion time: hang within 4.5 h of preparation",
    }
    assert limit_text(limit, ENGLISH) == limit["text"]  # the domain's own words
    words = worksheet_words(ES, clinical_gettext_for("es"), knowledge, MADRID)
    assert limit_text(limit, words) == (
        "48 h a hasta 27 °C, incluido el tiempo de infusión: colocar en las 4,5 h siguientes"
        " a la preparación"
    )
    assert limit_text({"text": "as stored"}, words) == "as stored"


def test_the_bag_label_in_spanish(knowledge: Knowledge) -> None:
    label = BagLabel(
        code="AB12CD34",
        patient_name="Ana 1e5",
        patient_identifier="12.5",
        dose_mcg_per_day=Decimal("28"),
        concentration_mcg_per_ml=Decimal("0.233"),
        total_ml=Decimal("270"),
        infuse_ml=Decimal("240"),
        rate_ml_per_h=Decimal("10"),
        duration_h=Decimal("24"),
        hang_from="10/12/2026 08:00 CET",
        hang_by=None,
        expiry=None,
    )
    words = worksheet_words(ES, clinical_gettext_for("es"), knowledge, MADRID)
    soup = BeautifulSoup(render_bag_label(label, words), "lxml")
    section = one(soup, "section.bag-label")
    assert section["lang"] == "es"
    assert section["aria-label"] == "Etiqueta de la bolsa AB12CD34"
    fields = {str(d["data-label-field"]): d.get_text(" ", strip=True) for d in soup.select("dd")}
    assert fields["dose_mcg_per_day"] == "28 mcg/día"
    assert fields["concentration_mcg_per_ml"] == "0,233 mcg/mL"
    assert fields["patient_name"] == "Ana 1e5"  # text is never read as a number
    assert fields["patient_identifier"] == "12.5"
    assert fields["hang_by"] == "falta : la receta no da plazo de uso: no colocar"
    assert "Código QR de la bolsa AB12CD34" in str(one(soup, "svg"))
    english = BeautifulSoup(render_bag_label(label), "lxml")
    assert one(english, "dd[data-label-field=dose_mcg_per_day]").get_text() == "28 mcg/day"


def test_the_stored_bag_s_worksheet_page_in_spanish(
    clinic: DemoClinic,
    prepared: Prepared,  # noqa: F811
) -> None:
    browser = clinic.browser("pharm.ana")
    browser.cookies.set(LANG_COOKIE, "es")
    soup = page(browser.get(f"/bags/{prepared.bag_id}/worksheet"))
    sheet = one(soup, "article.worksheet")
    assert sheet["lang"] == "es"
    assert one(sheet, "h1").get_text() == (
        "Bolsa de infusión de blinatumomab: hoja de preparación de farmacia"
    )
    rate = one(sheet, 'tr[data-field="rate_ml_per_h"] td[data-value]')
    assert rate["data-value"] == "0.6"  # the machine-read value stays as stored
    assert rate.get_text() == "0,6 mL/h"
    assert one(sheet, "td[data-field=dose]").get_text() == "28 mcg/día"
    steps = [li.get_text(" ", strip=True) for li in sheet.select("li[data-step]")]
    assert steps[0].startswith("☐ Verifique la prescripción (28 mcg/día)")
    assert all("Add " not in step for step in steps)
    assert one(sheet, "[data-field=origin]").get_text() in ("calculada", "fila de la ficha técnica")
    printed = one(soup, "p.bag-facts").get_text(" ", strip=True)
    assert "para colocar en la bomba el jue 17 dic 09:00" in printed
    english = clinic.browser("pharm.ana")
    english.cookies.set(LANG_COOKIE, "en")
    sheet_en = one(page(english.get(f"/bags/{prepared.bag_id}/worksheet")), "article.worksheet")
    assert sheet_en["lang"] == "en"
    assert one(sheet_en, 'tr[data-field="rate_ml_per_h"] td[data-value]').get_text() == ("0.6 mL/h")


def test_a_printed_time_is_the_reader_s_stamp(knowledge: Knowledge) -> None:
    words = worksheet_words(ES, clinical_gettext_for("es"), knowledge, MADRID)
    assert words.moment(datetime(2026, 12, 10, 9, 30, tzinfo=UTC)) == "10/12/2026 10:30"
