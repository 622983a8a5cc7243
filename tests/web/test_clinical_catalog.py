"""The clinical content in Spanish: every knowledge text a patient, a family or a nurse
reads has an entry in the ``clinical`` catalog, no translation changes a number, and the
pages show the translation (the domain and the JSON API stay English).

Pages are read as a DOM (BeautifulSoup): assertions are on elements and data-*
attributes, and on the text of the elements that carry the clinical content.
"""

import dataclasses
import re
from collections import Counter
from collections.abc import Iterator, Mapping

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from blina.domain.toxicity import CRITERION_NAMES, Relative
from blina.domain.toxicity.crs import SCALE as crs_scale
from blina.domain.toxicity.icans import SCALE as icans_scale
from blina.domain.triage.rules import Guidance, TriageLevel
from blina.knowledge import Knowledge
from blina.services.therapy_catalog import therapy_catalog
from blina.web import i18n
from blina.web.sentences import domain_templates
from tests.web.conftest import DemoClinic
from tests.web.soup import csrf_of, one, page

CLINICAL_PO = i18n.LOCALE_DIR / "es" / "LC_MESSAGES" / f"{i18n.CLINICAL_DOMAIN}.po"
_NUMBER = re.compile(r"\d+(?:\.\d+)*")


def _guidance(guidance: Guidance, where: str) -> Iterator[tuple[str, str]]:
    for part in ("do_now", "tell_team", "do_not"):
        for index, instruction in enumerate(getattr(guidance, part)):
            yield instruction.text, f"{where}.{part}[{index}]"


def _knowledge_texts(knowledge: Knowledge) -> Iterator[tuple[str, str]]:
    """(text, where) for every knowledge text the pages show a patient, a family or a
    nurse (the check-in form, the triage answer, today, the check-in history, alerts)."""
    rules = knowledge.triage
    for level, guide in rules.levels.items():
        yield guide.name, f"triage.toml levels[{level}].name"
        yield from _guidance(guide.guidance, f"triage.toml levels[{level}]")
        for index, instruction in enumerate(guide.in_hospital):
            yield instruction.text, f"triage.toml levels[{level}].in_hospital[{index}]"
    yield rules.follow_up, "triage.toml severity.follow_up"
    yield from _guidance(rules.always, "triage.toml always")
    yield from _guidance(rules.infusing, "triage.toml infusing")
    yield rules.pediatric_note.text, "triage.toml pediatric.note"
    for group in rules.groups.values():
        yield group.name, f"triage.toml groups[{group.id}].name"
        yield from _guidance(group.guidance, f"triage.toml groups[{group.id}]")
    for area in rules.areas.values():
        yield area.name, f"triage.toml areas[{area.id}].name"
    for therapy in rules.therapies.values():
        yield from _guidance(therapy.guidance, f"triage.toml therapies[{therapy.id}]")
    for symptom in rules.symptoms.values():
        yield symptom.name, f"triage.toml symptoms[{symptom.id}].name"
    for rule in rules.rules:
        yield rule.reason, f"triage.toml rules[{rule.id}].reason"
    for temperature_rule in rules.temperature_rules:
        yield temperature_rule.reason, f"triage.toml temperature_rules[{temperature_rule.id}]"
    yield rules.no_rule.reason, "triage.toml no_rule.reason"
    yield rules.same_day_escalation.reason, "triage.toml same_day_escalation.reason"
    for index, word in enumerate(rules.severity_words):
        yield word, f"triage.toml severity.words[{index}]"
    for regimen in knowledge.regimens_by_id.values():
        yield regimen.name, f"regimens.toml regimens[{regimen.id}].name"
        for precaution in regimen.precautions:
            yield precaution.description, f"regimens.toml precautions[{precaution.kind}]"
        for index, premedication in enumerate(regimen.premedication):
            where = f"regimens.toml regimens[{regimen.id}].premedication[{index}]"
            yield premedication.drug, f"{where}.drug"
            yield premedication.timing, f"{where}.timing"
            yield premedication.route, f"{where}.route"
        yield regimen.supervision.text, "regimens.toml supervision.text"
        for index, monitoring in enumerate(regimen.monitoring):
            yield monitoring.what, f"regimens.toml monitoring[{index}].what"
    yield from _pharmacy_texts(knowledge)
    yield from _grading_texts(knowledge)
    yield from _modification_texts(knowledge)
    yield from _therapy_texts(knowledge)
    for where, template in domain_templates():
        yield template.english, where


def _grading_texts(knowledge: Knowledge) -> Iterator[tuple[str, str]]:
    """The knowledge words of a grading result: the CRS and ICANS levels and bands, the
    CTCAE terms, cells and notes, the criteria's names and the scales' names."""
    toxicity = knowledge.toxicity
    crs, icans, ctcae = toxicity.crs, toxicity.icans, toxicity.ctcae
    for part, levels in (("hypotension", crs.hypotension), ("oxygen", crs.oxygen)):
        for key, level in levels.items():
            yield level.text, f"toxicity.toml crs.{part}[{key}]"
    yield crs.masking, "toxicity.toml crs.masking"
    for part in ("consciousness", "seizure", "cerebral_edema", "icp_signs"):
        for key, level in getattr(icans, part).items():
            yield level.text, f"toxicity.toml icans.{part}[{key}]"
    yield icans.motor_weakness.text, "toxicity.toml icans.motor_weakness"
    for part in ("ice", "capd"):
        yield getattr(icans, f"{part}_unarousable").text, f"toxicity.toml icans.{part}_unarousable"
        for band in getattr(icans, f"{part}_bands"):
            yield band.text, f"toxicity.toml icans.{part}_bands[{band.low}-{band.high}]"
            if band.note is not None:
                yield band.note, f"toxicity.toml icans.{part}_bands[{band.low}-{band.high}].note"
    yield icans.age_note, "toxicity.toml icans.age_note"
    for term in ctcae.terms.values():
        where = f"toxicity.toml ctcae.terms[{term.id}]"
        yield term.term, f"{where}.term"
        for band in term.bands:
            yield band.text, f"{where}.bands[{band.grade}]"
        for key, level in term.findings.items():
            yield level.text, f"{where}.findings[{key}]"
        for index, note in enumerate(term.notes):
            yield note, f"{where}.notes[{index}]"
    for name in CRITERION_NAMES:
        yield name, "blina.domain.toxicity.CRITERION_NAMES"
    for relative in Relative:
        if relative is not Relative.ABSOLUTE:
            yield relative.upper(), "blina.domain.toxicity.Relative"
    for scale in (crs_scale, icans_scale):
        yield scale, "a scale's name (blina.domain.toxicity)"


# The fields of the therapies' and the CAR-T knowledge that hold words the therapy plan
# shows (the others are ids, units, sources and figures).
_THERAPY_WORDS = frozenset({"text", "fact", "instead", "name", "label", "dose_text", "host"})


def _therapy_texts(knowledge: Knowledge) -> Iterator[tuple[str, str]]:
    """The therapies' and the CAR-T products' words as their plans show them: names,
    label versions, dose texts, premedication, monitoring, warnings and gaps."""

    def walk(value: object, where: str) -> Iterator[tuple[str, str]]:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            for field in dataclasses.fields(value):
                found = getattr(value, field.name)
                if isinstance(found, str):
                    if field.name in _THERAPY_WORDS and (" " in found or field.name == "name"):
                        yield found, f"{where}.{field.name}"
                else:
                    yield from walk(found, f"{where}.{field.name}")
        elif isinstance(value, Mapping):
            for key, item in value.items():
                yield from walk(item, f"{where}[{key}]")
        elif isinstance(value, tuple | list):
            for index, item in enumerate(value):
                yield from walk(item, f"{where}[{index}]")

    yield from walk(dict(knowledge.therapies), "therapy_*.toml")
    yield from walk(knowledge.car_t, "car_t.toml")
    yield from walk(dict(knowledge.age_indications), "indications.toml")
    for info in therapy_catalog(knowledge):  # the planner's list of therapies
        yield info.name, f"blina.services.therapy_catalog[{info.key}].name"
        yield info.label, f"blina.services.therapy_catalog[{info.key}].label"


def _modification_texts(knowledge: Knowledge) -> Iterator[tuple[str, str]]:
    """The label's dose-modification rules as the decisions and the label's action
    quote them: the rule, the older rule, the gaps, the restart condition, the
    corticosteroid."""
    modifications = knowledge.toxicity.modifications
    table = modifications.interruptions
    yield table.no_row, "regimens.toml interruptions.no_row"
    yield table.older_restart_premedication, "interruptions.older_restart_premedication"
    for row in modifications.rows:
        where = f"modifications[{row.id}]"
        if row.current_gap:
            yield row.current_gap, f"{where}.current_gap"
        for name, rule in (("current", row.current), ("older", row.older)):
            if rule is None:
                continue
            yield rule.text, f"{where}.{name}.text"
            yield rule.edition, f"{where}.{name}.edition"
            if rule.resume_when:
                yield rule.resume_when, f"{where}.{name}.resume_when"
            for index, gap in enumerate(rule.gaps):
                yield gap, f"{where}.{name}.gaps[{index}]"
            if rule.corticosteroid is not None:
                yield rule.corticosteroid.drug, f"{where}.{name}.corticosteroid.drug"
                yield rule.corticosteroid.text, f"{where}.{name}.corticosteroid.text"
    if table.child_step is not None:
        yield table.child_step.edition, "interruptions.child_step.edition"


def _pharmacy_texts(knowledge: Knowledge) -> Iterator[tuple[str, str]]:
    """The knowledge words of the pharmacy worksheet: kinds of water and saline, storage
    temperatures in words, the warnings and the steps (templates with their fields)."""
    pharmacy = knowledge.pharmacy
    yield pharmacy.reconstitution.water_kind, "pharmacy.toml reconstitution.water_kind"
    for hours, bag in pharmacy.bags.items():
        yield bag.saline_kind, f"pharmacy.toml bags[{hours} h].saline_kind"
    for rule in pharmacy.stability:
        if any(letter.isalpha() for letter in rule.temperature.replace("C", "")):
            yield rule.temperature, f"pharmacy.toml stability[{rule.item}].temperature"
    for advisory in pharmacy.advisories:
        yield advisory.text, f"pharmacy.toml advisories[{advisory.code}].text"
    for step in pharmacy.steps:
        yield step.text, f"pharmacy.toml steps[{step.code}].text"


def _instruction_texts(knowledge: Knowledge) -> set[str]:
    """The English instructions, rule explanations and level names of triage.toml."""
    rules = knowledge.triage
    texts = {guide.name for guide in rules.levels.values()}
    texts.update(i.text for guide in rules.levels.values() for i in guide.in_hospital)
    texts.add(rules.follow_up)
    for guidance in [
        *(guide.guidance for guide in rules.levels.values()),
        rules.always,
        rules.infusing,
        *(group.guidance for group in rules.groups.values()),
        *(therapy.guidance for therapy in rules.therapies.values()),
    ]:
        texts.update(text for text, _ in _guidance(guidance, ""))
    texts.update(rule.reason for rule in rules.rules)
    texts.update(rule.reason for rule in rules.temperature_rules)
    return texts


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    with CLINICAL_PO.open("rb") as po:
        return read_po(po, locale="es", domain=i18n.CLINICAL_DOMAIN)


@pytest.fixture(scope="module")
def translated(catalog: Catalog) -> dict[str, str]:
    """msgid -> msgstr of the entries the pages use (translated and not fuzzy)."""
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


def es(text: str) -> str:
    return i18n.clinical_gettext_for("es")(text)


def spanish(clinic: DemoClinic, who: str) -> TestClient:
    """A browser signed in as ``who`` that chose Spanish (the ``blina_lang`` cookie)."""
    browser = clinic.browser(who)
    browser.get("/lang", params={"to": "es", "next": "/"}, follow_redirects=False)
    assert browser.cookies.get(i18n.LANG_COOKIE) == "es"
    return browser


def text_of(soup: BeautifulSoup, selector: str) -> list[str]:
    return [" ".join(element.get_text().split()) for element in soup.select(selector)]


def reasons_of(answer: BeautifulSoup) -> list[tuple[str, str]]:
    """(rule id, explanation) of the answer's "why" list, without the source."""
    return [
        (str(li["data-rule"]), "".join(li.find_all(string=True, recursive=False)).strip())
        for li in answer.select("[data-reasons] li[data-rule]")
    ]


def check_in(browser: TestClient, patient: int, key: str) -> BeautifulSoup:
    """Fever 39.0 C and confusion: call the care team now (P-001 is in hospital)."""
    form = page(browser.get(f"/patients/{patient}/check-in"))
    response = browser.post(
        f"/patients/{patient}/check-in",
        data={
            "csrf_token": csrf_of(form),
            "idempotency_key": key,
            "temperature": "39.0",
            "temperature_unit": "C",
            "symptom": ["confusion"],
        },
    )
    assert response.status_code == 200
    return page(response)


# --- the catalog -------------------------------------------------------------------------


def test_every_clinical_text_has_a_spanish_entry(
    knowledge: Knowledge, translated: dict[str, str]
) -> None:
    texts = list(_knowledge_texts(knowledge))
    assert len({text for text, _ in texts}) > 150
    missing = sorted({f"{where}: {text!r}" for text, where in texts if text not in translated})
    assert not missing, "clinical.po (es) has no translation for:\n" + "\n".join(missing)


def test_the_clinical_catalog_has_no_stale_entry(
    knowledge: Knowledge, translated: dict[str, str]
) -> None:
    """An entry whose English is no longer in the knowledge files translates old advice."""
    used = {text for text, _ in _knowledge_texts(knowledge)}
    stale = sorted(set(translated) - used)
    assert not stale, f"clinical.po (es) translates text no knowledge file has: {stale}"


def test_no_translation_changes_a_number(translated: dict[str, str]) -> None:
    changed = [
        (english, spanish)
        for english, spanish in translated.items()
        if Counter(_NUMBER.findall(english)) != Counter(_NUMBER.findall(spanish))
    ]
    assert not changed, changed
    assert any(_NUMBER.search(english) for english in translated), "the check checks nothing"


def test_the_catalog_says_a_bilingual_clinician_must_review_it(catalog: Catalog) -> None:
    assert "bilingual clinician" in " ".join(catalog.header_comment.split())


def test_a_missing_clinical_entry_falls_back_to_english() -> None:
    unknown = "A symptom no knowledge file has (38.5 C)"
    assert i18n.clinical_gettext_for("es")(unknown) == unknown


def test_english_is_the_knowledge_text_itself(knowledge: Knowledge) -> None:
    english = i18n.clinical_gettext_for("en")
    assert all(english(text) == text for text, _ in _knowledge_texts(knowledge))


# --- the pages ---------------------------------------------------------------------------


def test_the_check_in_form_in_spanish(clinic: DemoClinic, knowledge: Knowledge) -> None:
    rules = knowledge.triage
    soup = page(spanish(clinic, "alex").get(f"/patients/{clinic.patients['P-001']}/check-in"))
    # the symptoms under their body areas (issue 18; the groups are on the today page)
    for area in rules.areas.values():
        assert text_of(soup, f'details[data-area="{area.id}"] .area-name') == [es(area.name)]
    for symptom in (s for s in rules.symptoms.values() if not s.therapies):
        label = one(soup, f'label[for="symptom-{symptom.id}"]')
        assert " ".join(label.get_text().split()) == es(symptom.name) != symptom.name
    severity = one(soup, 'select[name="severity-confusion"]')
    words = [" ".join(o.get_text().split()) for o in severity.select("option[value!='']")]
    assert words == [es(word) for word in rules.severity_words[1:]]
    assert not set(words) & set(rules.severity_words)


def test_a_spanish_check_in_shows_the_spanish_call_now_instructions(
    clinic: DemoClinic, knowledge: Knowledge
) -> None:
    patient = clinic.patients["P-001"]
    rules = knowledge.triage
    english = check_in(clinic.browser("alex.partner"), patient, "clinical-en-1")
    answer = check_in(spanish(clinic, "alex.partner"), patient, "clinical-es-1")

    result = one(answer, "section.triage")
    assert (result["data-level"], result["data-alert"]) == ("call-now", "yes")
    guide = rules.levels[TriageLevel.CALL_NOW]
    assert text_of(answer, "section.triage h1") == [es(guide.name)]
    do_now = text_of(answer, '[data-instructions="do_now"] li')
    # P-001 is on a hospital day of cycle 1: the in-hospital instructions (call the nurse).
    assert do_now[: len(guide.in_hospital)] == [es(i.text) for i in guide.in_hospital]
    # the same instructions and reasons as the English page, each translated
    instructions = text_of(english, "[data-instructions] li")
    assert instructions
    assert text_of(answer, "[data-instructions] li") == [es(text) for text in instructions]
    # The second check-in finds the confusion unchanged since the first, so fewer rules
    # fire; each reason shown is its rule's, translated.
    reasons = reasons_of(answer)
    assert reasons
    assert {rule for rule, _ in reasons} <= {rule for rule, _ in reasons_of(english)}
    by_id = {r.id: r.reason for r in (*rules.rules, *rules.temperature_rules)}
    assert reasons == [(rule, es(by_id[rule])) for rule, _ in reasons]
    page_text = " ".join(answer.get_text().split())
    left_in_english = [text for text in _instruction_texts(knowledge) if text in page_text]
    assert not left_in_english


def test_the_today_page_in_spanish_shows_what_to_watch_for(
    clinic: DemoClinic, knowledge: Knowledge
) -> None:
    soup = page(spanish(clinic, "alex").get("/today"))
    flags = [s for s in knowledge.triage.symptoms.values() if s.red_flag and not s.therapies]
    assert [li["data-red-flag"] for li in soup.select("[data-red-flag]")] == [s.id for s in flags]
    shown = text_of(soup, "[data-red-flag]")
    assert shown == [es(s.name) for s in flags]
    assert not set(shown) & {s.name for s in flags}
    precautions = text_of(soup, "[data-precaution]")
    assert precautions
    descriptions = {p.description for r in knowledge.regimens_by_id.values() for p in r.precautions}
    assert set(precautions) <= {es(d) for d in descriptions}
    assert not set(precautions) & descriptions
    for line in soup.select("[data-premedication] [data-drug]"):
        assert es(str(line["data-drug"])) in line.get_text()


def test_the_calendar_in_spanish_names_the_regimen_and_premedication_in_spanish(
    clinic: DemoClinic,
) -> None:
    patient = clinic.patients["P-001"]
    english = page(clinic.browser("alex").get(f"/patients/{patient}/calendar"))
    soup = page(spanish(clinic, "alex").get(f"/patients/{patient}/calendar"))

    regimen = english.select_one("[data-regimen]").get_text()
    assert soup.select_one("[data-regimen]").get_text() == es(regimen) != regimen
    lines = soup.select("[data-drug]")
    assert lines  # the demo course has premedication
    assert len(lines) == len(english.select("[data-drug]"))
    for line in lines:
        drug = str(line["data-drug"])
        assert es(drug) != drug
        assert es(drug) in line.get_text()


def test_the_check_in_history_and_the_alert_in_spanish(
    clinic: DemoClinic, knowledge: Knowledge
) -> None:
    patient = clinic.patients["P-001"]
    answer = check_in(clinic.browser("alex"), patient, "clinical-history-1")
    report = one(answer, "section.triage")["data-report"]

    history = page(spanish(clinic, "alex.partner").get(f"/patients/{patient}"))
    confusion = one(history, f'tr[data-report="{report}"] [data-symptom="confusion"]')
    assert confusion.get_text(strip=True) == es(knowledge.triage.symptoms["confusion"].name)

    english = page(clinic.browser("nurse.kim").get("/"))
    reason = one(english, f'section.alerts li[data-report="{report}"] .reason')
    alerts = page(spanish(clinic, "nurse.kim").get("/"))
    translated = one(alerts, f'section.alerts li[data-report="{report}"] .reason')
    assert reason.get_text(strip=True) in _instruction_texts(knowledge)
    assert translated.get_text(strip=True) == es(reason.get_text(strip=True))


def test_the_json_api_stays_english(clinic: DemoClinic, knowledge: Knowledge) -> None:
    patient = clinic.patients["P-001"]
    browser = spanish(clinic, "alex.partner")
    check_in(browser, patient, "clinical-api-1")
    reports = browser.get(f"/api/v1/patients/{patient}/symptom-reports").json()
    answer = max(reports, key=lambda report: report["id"])["report"]["triage"]
    english = _instruction_texts(knowledge)
    shown = [i["text"] for part in answer["instructions"].values() for i in part]
    assert shown
    assert set(shown) <= english
    assert {rule["reason"] for rule in answer["rules"]} <= english
