"""The domain's sentences in the reader's language: written again from their template and
figures on a Spanish page, unchanged on an English page, read back when stored as text,
and shown as English, marked so, when they cannot be written."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

from blina.domain.course_state import CoursePhase
from blina.domain.modifications import AdverseReaction
from blina.domain.replanning import interruption_rules, restart_rules
from blina.domain.sentences import Template
from blina.domain.toxicity import crs
from blina.domain.toxicity.lab_units import READING
from blina.domain.units import McgPerDay
from blina.web import i18n
from blina.web.formatting import formatter_for
from blina.web.sentences import Speaker, domain_templates
from tests.web.test_task_words import _es, _row

ES = Speaker(formatter_for("es"), zone=ZoneInfo("Europe/Madrid"))
EN = Speaker(formatter_for("en"))


def test_a_spanish_page_writes_a_decision_from_its_figures() -> None:
    said = restart_rules.SAME_CYCLE(
        pause=timedelta(hours=30),
        days=14,
        cycle=1,
        infusion_days=28,
        given=timedelta(days=3),
        to_go=timedelta(days=25),
    )
    assert ES.words(said) == (
        "Interrupción de 30 h (como máximo 14 días): el ciclo 1 sigue hasta 28 días de "
        "infusión en total (3 días administrados, faltan 25 días)."
    )
    assert EN.words(said) == str(said)


def test_figures_dates_doses_and_lists_in_the_readers_format() -> None:
    dose = McgPerDay(Decimal("9.5"))
    why = (restart_rules.RULE_RESTARTS_AT(dose=dose), restart_rules.HELD_BELOW())
    said = restart_rules.RESTART_AT(dose=McgPerDay(Decimal(28)), why=why)
    assert ES.words(said) == (
        "Reanudar a 28 mcg/día: la regla reanuda a 9,5 mcg/día; Por debajo de la dosis del "
        "régimen y sin regla de aumento de dosis: se mantiene hasta el siguiente escalón del "
        "régimen o el final del ciclo.."
    )
    refused = interruption_rules.NOT_APPLIED(at=datetime(2026, 12, 7, 8, 0, tzinfo=UTC))
    assert ES.words(refused) == "No aplicado: el tratamiento terminó el lun 7 dic 09:00."
    fever = crs.FEVER(temperature=Decimal("38.6"), threshold=Decimal("38.0"))
    assert ES.words(fever) == "38,6 °C >= 38,0 °C"
    stopped = interruption_rules.TOOK_TOO_LONG(
        cause=AdverseReaction.CRS, grade=3, took=timedelta(days=15), days=14
    )
    assert ES.words(stopped).startswith("Síndrome de liberación de citocinas grado 3 tardó")


def test_an_english_page_shows_the_domains_english_exactly() -> None:
    said = crs.NASAL_CANNULA(level="no hypoxia", flow=Decimal("3"), relation="<=", limit=6)
    assert str(EN.markup(said)) == "no hypoxia: nasal cannula 3 L/min &lt;= 6 L/min"


def test_a_sentence_with_no_translation_is_shown_in_english_marked_so() -> None:
    untranslated = Template("A sentence no catalog has, at {dose}")
    said = untranslated(dose=McgPerDay(Decimal(9)))
    shown = BeautifulSoup(str(ES.markup(said)), "lxml")
    marked = shown.select_one("span[lang=en]")
    assert marked is not None
    assert marked.get_text() == "A sentence no catalog has, at 9 mcg/day"
    unknown = BeautifulSoup(str(ES.markup("checked <against> the label")), "lxml")
    assert unknown.select_one("span[lang=en]").get_text() == "checked <against> the label"


def test_a_nested_sentence_without_translation_leaves_the_whole_in_english() -> None:
    inner = Template("an untranslated reason")()
    said = restart_rules.RESTART_AT(dose=McgPerDay(Decimal(9)), why=(inner,))
    assert 'lang="en"' in str(ES.markup(said))
    assert ES.words_or_stored(str(said)) == str(said)


def test_a_template_of_figures_and_symbols_is_the_same_in_every_language() -> None:
    reading = READING(value=Decimal("1500.5"), unit="cells/mm3")
    assert ES.words(reading) == "1.500,5 cells/mm3"


def test_knowledge_texts_and_status_words() -> None:
    assert ES.words("no hypoxia") == "sin hipoxia"
    assert ES.words("Pancreatitis") == "Pancreatitis"  # the same in Spanish: an entry
    assert ES.words(CoursePhase.INTERRUPTED) == ES.fmt.status("interrupted")
    assert ES.words("discarded") == ES.fmt.status("discarded")
    assert str(ES.markup(None)) == ""


def test_a_stored_sentence_is_read_back_when_every_part_is_understood() -> None:
    stored = "ICE 5/10: ICE 3-6"
    assert ES.words(stored) == "ICE 5 de 10: ICE 3-6"
    cannula = "no hypoxia: nasal cannula 3.5 L/min <= 6 L/min"
    assert ES.words(cannula) == "sin hipoxia: cánula nasal 3,5 L/min <= 6 L/min"
    lab = "700 cells/mm3 < 1000 cells/mm3: grade 3: <1000-500/mm3"
    assert ES.words(lab) == "700 cells/mm3 < 1.000 cells/mm3: grado 3: <1000-500/mm3"
    # a part that is no figure, no entry, no code and no sentence: not guessed at
    odd = "a nice day: nasal cannula 3 L/min <= 6 L/min"
    assert ES.words_or_stored(odd) == odd


def test_a_stored_check_reason_keeps_a_quoted_name_and_reads_its_figures() -> None:
    """A pharmacy check stored as English (the worksheet reads the recipe as stored): the
    site library's quoted name kept, the figures and doses in the reader's format; a
    template of one field alone never reads a text as itself."""
    stored = (
        "no beyond-use time for the prepared bag (168-h bag) refrigerated: the reference has"
        " no current value and the site library 'blina demo library' gives none; take it"
        " from the current label before dispensing"
    )
    assert ES.words(stored).startswith(
        "no hay tiempo de caducidad para la bolsa preparada (bolsa de 168 h) en nevera"
    )
    assert "'blina demo library'" in ES.words(stored)
    capped = "15 mcg/m2/day x 1.1 m2 = 16.5 mcg/day, capped is within the label's dose limits"
    assert ES.words(capped) == (
        "15 mcg/m²/día x 1,1 m² = 16,5 mcg/día, con tope está dentro de los límites de dosis"
        " de la ficha técnica"
    )
    assert ES.words_or_stored("a sentence of no template") == "a sentence of no template"


def test_a_do_not_hang_task_reads_the_course_states_reason_back() -> None:
    task = _row(
        "do-not-hang",
        "Do not hang bag AB12CD34: the infusion is interrupted: no restart is recorded",
        {"code": "AB12CD34", "reason": "the infusion is interrupted: no restart is recorded"},
    )
    assert _es(task) == (
        "No colocar la bolsa AB12CD34: la infusión está interrumpida: no hay ninguna "
        "reanudación registrada"
    )
    odd = _row("do-not-hang", "x", {"code": "AB12CD34", "reason": "a reason typed by hand"})
    assert _es(odd).endswith(": a reason typed by hand")


def test_the_domain_templates_are_found_where_they_are_written() -> None:
    found = dict(domain_templates())
    assert found["blina.domain.toxicity.crs.FEVER"] is crs.FEVER
    assert found["blina.domain.replanning.restart_rules.SAME_CYCLE"] is restart_rules.SAME_CYCLE
    assert len(found) > 80


@pytest.fixture(scope="module")
def spanish_templates() -> dict[str, str]:
    path = i18n.LOCALE_DIR / "es" / "LC_MESSAGES" / f"{i18n.CLINICAL_DOMAIN}.po"
    with path.open("rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po) if m.id and m.string}


def test_every_domain_template_keeps_its_fields_in_spanish(
    spanish_templates: dict[str, str],
) -> None:
    """A translation that drops or renames a field would fail on the page (or show a
    sentence without its figure): each has exactly the template's fields."""
    checked = 0
    for _, template in domain_templates():
        spanish = spanish_templates.get(template.english)
        if spanish is None:
            continue  # the catalog test names a template with no translation
        assert Template(spanish).fields == template.fields, template.english
        checked += 1
    assert checked == len(domain_templates()) > 80
