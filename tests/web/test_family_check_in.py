"""The family's check-in for a phone (issue 18): the emergency signs asked first, each a
button that sends the check-in through triage at once; the symptoms under their body
areas, a severity read only for a symptom ticked; the answer repeating what was sent;
every check-in from the page written by the app's check-in writer.

P-001 (Alex, patient and caregiver accounts "alex" and "alex.partner") is on a hospital
day of cycle 1. Pages are read as a DOM.
"""

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, or_, select

from blina.knowledge import Knowledge
from blina.services.check_ins import PostedCheckIn
from blina.services.reports import SubmittedReport
from blina.store.session import read_only
from blina.store.tables import Alert, SymptomReport
from blina.web.family_views import asked, group_views, symptom_areas
from tests.web.conftest import DemoClinic
from tests.web.soup import csrf_of, one, page


def _path(clinic: DemoClinic) -> str:
    return f"/patients/{clinic.patients['P-001']}/check-in"


def _form(browser: TestClient, clinic: DemoClinic) -> BeautifulSoup:
    return page(browser.get(_path(clinic)))


def _send(clinic: DemoClinic, data: dict[str, Any], *, who: str = "alex.partner") -> Any:
    browser = clinic.browser(who)
    token = csrf_of(_form(browser, clinic))
    return browser.post(_path(clinic), data={"csrf_token": token, **data})


def _stored(clinic: DemoClinic, report_id: int) -> dict[str, Any]:
    with read_only(clinic.app.state.blina.sessions) as session:
        row = session.get(SymptomReport, report_id)
        assert row is not None
        return dict(row.report)


def _reports(clinic: DemoClinic) -> int:
    with read_only(clinic.app.state.blina.sessions) as session:
        return session.execute(select(func.count()).select_from(SymptomReport)).scalar_one()


def _alert_for(clinic: DemoClinic, report_id: int) -> str | None:
    """The level of the open alert that holds the report, if any."""
    with read_only(clinic.app.state.blina.sessions) as session:
        return session.execute(
            select(Alert.level).where(
                or_(Alert.symptom_report_id == report_id, Alert.latest_report_id == report_id)
            )
        ).scalar_one_or_none()


# --- the form --------------------------------------------------------------------------


def test_the_emergency_signs_come_first_each_a_button_of_its_own_form(
    clinic: DemoClinic, knowledge: Knowledge
) -> None:
    rules = knowledge.triage
    soup = _form(clinic.browser("alex.partner"), clinic)

    forms = soup.select("main form")
    assert [f["class"] for f in forms] == [["emergency-signs"], ["check-in"]]
    buttons = forms[0].select('button[name="emergency_sign"]')
    signs = rules.emergency_signs()
    assert [b["value"] for b in buttons] == [s.symptom for s in signs]
    assert [b["data-emergency-sign"] for b in buttons] == [s.symptom for s in signs]
    for button, sign in zip(buttons, signs, strict=True):
        text = " ".join(button.get_text().split())
        assert rules.symptoms[sign.symptom].name in text
        severe = sign.severity is not None
        assert (f"({rules.severity_words[sign.severity or 0]})" in text) is severe
    # Enter in a field of the check-in sends the check-in, never a sign: no sign button
    # in that form, and its only submit button is "send"
    submits = forms[1].select('button[type="submit"], input[type="submit"]')
    assert [b.get("data-action") for b in submits] == ["send-check-in"]
    assert one(forms[0], 'a[data-action="no-emergency"]')["href"] == "#temperature-card"
    assert forms[0]["action"] == forms[1]["action"] == _path(clinic)
    keys = [one(f, 'input[name="idempotency_key"]')["value"] for f in forms]
    assert keys[0] != keys[1]


def test_the_symptoms_sit_closed_under_their_body_areas(
    clinic: DemoClinic, knowledge: Knowledge
) -> None:
    rules = knowledge.triage
    asked = [s for s in rules.symptoms.values() if not s.therapies]
    soup = _form(clinic.browser("alex.partner"), clinic)

    areas = soup.select("form.check-in details.area")
    assert [a["data-area"] for a in areas] == list(rules.areas)
    for area in areas:
        assert not area.has_attr("open")
        legend = one(area, ":scope > fieldset > legend")
        assert legend.get_text(strip=True) == rules.areas[str(area["data-area"])].name
        shown = [str(i["value"]) for i in area.select('input[name="symptom"]')]
        assert shown == [s.id for s in asked if s.area == area["data-area"]]
    # every symptom asked of everyone once (a sign asked only of some therapies' patients is
    # left out: the pages know none yet); each graded one with its "How bad?" beside its box
    ticks = [str(i["value"]) for i in soup.select('input[name="symptom"]')]
    assert sorted(ticks) == sorted(s.id for s in asked)
    for symptom in asked:
        tick = one(soup, f'div.symptom > label > input[name="symptom"][value="{symptom.id}"]')
        box = tick.find_parent("div")
        assert box is not None
        assert bool(box.select(f'.how-bad select[name="severity-{symptom.id}"]')) is (
            symptom.has_severity
        )


def test_a_form_sent_back_opens_the_areas_with_a_symptom_ticked(clinic: DemoClinic) -> None:
    response = _send(
        clinic, {"temperature": "hot", "symptom": ["headache", "nausea"], "severity-nausea": "2"}
    )

    assert response.status_code == 422
    again = page(response)
    opened = {str(a["data-area"]) for a in again.select("details.area[open]")}
    assert opened == {"head-brain", "stomach-urine"}
    assert one(again, 'details[data-area="head-brain"] [data-ticked]')["data-ticked"] == "1"
    assert one(again, 'select[name="severity-nausea"] option[selected]')["value"] == "2"


# --- a "yes" to an emergency sign ---------------------------------------------------------


@pytest.mark.parametrize("sign", ["seizure", "chest-pain"], ids=["yes-no-sign", "graded-sign"])
def test_a_yes_is_an_emergency_stored_and_alerted(
    clinic: DemoClinic, knowledge: Knowledge, sign: str
) -> None:
    severity = {s.symptom: s.severity for s in knowledge.triage.emergency_signs()}[sign]
    before = _reports(clinic)

    response = _send(clinic, {"idempotency_key": f"yes-{sign}", "emergency_sign": sign})

    assert response.status_code == 200, response.text
    result = one(page(response), "section.triage")
    assert (result["data-level"], result["data-alert"]) == ("emergency", "yes")
    report_id = int(str(result["data-report"]))
    stored = _stored(clinic, report_id)
    assert stored["symptoms"] == {sign: severity}
    assert stored["triage"]["level"] == "emergency"
    assert _alert_for(clinic, report_id) == "emergency"
    assert _reports(clinic) == before + 1


@pytest.mark.parametrize(
    ("ticked", "kept"), [("", 3), ("1", 3), ("4", 4)], ids=["not-sure", "milder", "worse"]
)
def test_a_yes_with_the_same_symptom_ticked_keeps_the_worse(
    clinic: DemoClinic, ticked: str, kept: int
) -> None:
    response = _send(
        clinic,
        {
            "idempotency_key": f"chest-{ticked or 'unsure'}",
            "emergency_sign": "chest-pain",
            "symptom": ["chest-pain"],
            "severity-chest-pain": ticked,
        },
    )

    result = one(page(response), "section.triage")
    assert result["data-level"] == "emergency"
    assert _stored(clinic, int(str(result["data-report"])))["symptoms"] == {"chest-pain": kept}


@pytest.mark.parametrize("sign", ["headache", "", "seizure<script>"])
def test_a_sign_that_is_no_emergency_sign_is_refused_naming_the_field(
    clinic: DemoClinic, sign: str
) -> None:
    before = _reports(clinic)

    response = _send(clinic, {"idempotency_key": f"bad-{sign}", "emergency_sign": sign})

    assert response.status_code == 422
    message = one(page(response), '[data-error-for="emergency"]').get_text()
    assert "emergency_sign" in message
    assert "seizure" in message  # the signs allowed
    assert _reports(clinic) == before


# --- a severity only for a symptom ticked -------------------------------------------------


def test_a_severity_without_its_tick_is_ignored(clinic: DemoClinic) -> None:
    response = _send(
        clinic,
        {
            "idempotency_key": "untick",
            "symptom": ["headache"],
            "severity-headache": "1",
            "severity-nausea": "4",  # not ticked: not reported
            "severity-tiredness": "not-a-number",  # not ticked: not read
            "interferes-chills": "yes",
        },
    )

    assert response.status_code == 200, response.text
    result = one(page(response), "section.triage")
    stored = _stored(clinic, int(str(result["data-report"])))
    assert stored["symptoms"] == {"headache": 1}
    assert "interferes" not in stored


def test_a_bad_severity_of_a_ticked_symptom_is_refused(clinic: DemoClinic) -> None:
    before = _reports(clinic)

    response = _send(clinic, {"symptom": ["nausea"], "severity-nausea": "9"})

    assert response.status_code == 422
    assert "severity" in one(page(response), '[data-error-for="symptoms"]').get_text()
    assert _reports(clinic) == before


# --- the answer repeats what was sent -----------------------------------------------------


def _sent(answer: BeautifulSoup, selector: str) -> list[str]:
    return [" ".join(e.get_text().split()) for e in answer.select(f"[data-sent] {selector}")]


def test_the_answer_repeats_what_was_sent(clinic: DemoClinic, knowledge: Knowledge) -> None:
    rules = knowledge.triage
    words = rules.severity_words
    response = _send(
        clinic,
        {
            "idempotency_key": "repeat-en",
            "temperature": "37.2",
            "temperature_unit": "C",
            "symptom": ["headache", "nausea", "fainting"],
            "severity-headache": "1",
            "severity-nausea": "",
            "interferes-nausea": "no",
            "note": "Tired since noon",
        },
    )

    answer = page(response)
    assert _sent(answer, "[data-sent-temperature]") == ["37.2 °C"]
    assert _sent(answer, "[data-sent-sign]") == [rules.symptoms["fainting"].name]
    assert _sent(answer, "[data-sent-symptom]") == [
        f"{rules.symptoms['headache'].name}: {words[1]}",
        f"{rules.symptoms['nausea'].name}: not sure ({rules.follow_up} no)",
    ]
    assert _sent(answer, "[data-sent-note]") == ["Tired since noon"]


def test_the_answer_repeats_a_check_in_in_the_reader_s_language(
    clinic: DemoClinic, knowledge: Knowledge
) -> None:
    rules = knowledge.triage
    browser = clinic.browser("alex")
    browser.cookies.set("blina_lang", "es")
    token = csrf_of(_form(browser, clinic))
    response = browser.post(
        _path(clinic),
        data={
            "csrf_token": token,
            "idempotency_key": "repeat-es",
            "temperature": "38,5",
            "emergency_sign": "chest-pain",
        },
    )

    answer = page(response)
    assert _sent(answer, "[data-sent-temperature]") == ["38,5 °C"]
    (sign,) = _sent(answer, "[data-sent-sign]")
    assert rules.symptoms["chest-pain"].name not in sign
    assert sign.endswith(": grave")
    assert _sent(answer, "[data-sent-symptoms]") == ["ningún síntoma"]
    assert _sent(answer, "[data-sent-temperature]") != ["38.5 °C"]


def test_a_check_in_with_nothing_says_so(clinic: DemoClinic) -> None:
    answer = page(_send(clinic, {"idempotency_key": "nothing"}))

    assert _sent(answer, "[data-sent-temperature]") == ["not measured"]
    assert _sent(answer, "[data-sent-symptoms]") == ["no symptoms"]
    assert _sent(answer, "[data-sent-note]") == ["nothing"]
    assert not answer.select("[data-sent-sign]")


# --- through the check-in writer ----------------------------------------------------------


@dataclasses.dataclass
class _Spy:
    """The app's writer, with each check-in it was handed."""

    writer: Any
    posted: list[PostedCheckIn] = dataclasses.field(default_factory=list)

    def start(self) -> None:
        self.writer.start()

    def close(self) -> None:
        self.writer.close()

    async def write(self, posted: PostedCheckIn) -> SubmittedReport:
        self.posted.append(posted)
        submitted: SubmittedReport = await self.writer.write(posted)
        return submitted


@pytest.fixture
def spy(clinic: DemoClinic) -> Iterator[_Spy]:
    state = clinic.app.state.blina
    real = state.check_ins
    watching = _Spy(real)
    object.__setattr__(state, "check_ins", watching)
    yield watching
    object.__setattr__(state, "check_ins", real)


def test_the_page_s_check_in_is_written_by_the_app_s_writer(clinic: DemoClinic, spy: _Spy) -> None:
    browser = clinic.browser("alex.partner")
    token = csrf_of(_form(browser, clinic))
    data = {"csrf_token": token, "idempotency_key": "writer-1", "temperature": "37.0"}

    first = one(page(browser.post(_path(clinic), data=data)), "section.triage")
    again = one(page(browser.post(_path(clinic), data=data)), "section.triage")

    # a double click: the same key, the same stored check-in, written once
    assert first["data-report"] == again["data-report"]
    assert [p.idempotency_key for p in spy.posted] == ["writer-1", "writer-1"]
    posted = spy.posted[0]
    assert posted.patient_id == clinic.patients["P-001"]
    assert posted.token == browser.cookies.get("blina_session")
    assert posted.check_in.temperature is not None
    assert str(posted.check_in.temperature) == "37.0"


def test_another_patient_s_check_in_is_refused_by_the_writer(clinic: DemoClinic, spy: _Spy) -> None:
    browser = clinic.browser("alex.partner")
    token = csrf_of(_form(browser, clinic))
    before = _reports(clinic)

    response = browser.post(
        f"/patients/{clinic.patients['P-002']}/check-in",
        data={"csrf_token": token, "idempotency_key": "not-mine", "emergency_sign": "seizure"},
    )

    assert response.status_code in (403, 404)
    assert [p.patient_id for p in spy.posted] == [clinic.patients["P-002"]]
    assert _reports(clinic) == before


def test_a_sign_asked_only_of_some_therapies_is_left_out_for_the_others(
    knowledge: Knowledge,
) -> None:
    """Issue 19: a sign for some therapies' patients (trouble writing after CAR-T cells,
    the VOD signs) is not asked of a patient on no other therapy (the pages of a patient
    on one ask it: tests/web/test_therapy_family.py)."""
    rules = knowledge.triage
    limited = [s for s in rules.symptoms.values() if s.therapies]
    assert limited

    shown = {s.id for area in symptom_areas(rules, []) for s in area.symptoms}
    listed = {
        s.id
        for red_flag in (True, False)
        for _, symptoms in group_views(rules, red_flag=red_flag)
        for s in symptoms
    }
    for symptom in limited:
        assert symptom.id not in shown | listed
        assert not asked(symptom)
        assert all(asked(symptom, therapy) for therapy in symptom.therapies)
        assert not asked(symptom, rules.default_therapy)
    assert shown == {s.id for s in rules.symptoms.values() if not s.therapies} == listed
