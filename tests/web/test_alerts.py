"""The clinic's open alerts on the care team's home page, and acknowledging one.

Pages are read as a DOM (BeautifulSoup): assertions are on elements and data-*
attributes, never on substrings of the HTML.
"""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import update

from blina.services.alerts import OUTCOMES
from blina.store.session import read_only, transaction
from blina.store.tables import Alert
from tests.web.conftest import NOW, DemoClinic
from tests.web.soup import csrf_of, one, page


def _add_alert(clinic: DemoClinic, code: str, level: str, minutes_ago: int, step: int = 0) -> int:
    """An open alert as the check-in service leaves it (without its check-in)."""
    with transaction(clinic.app.state.blina.sessions) as session:
        alert = Alert(
            patient_id=clinic.patients[code],
            symptom_report_id=None,
            level=level,
            reason=f"test alert ({level})",
            status="open",
            created_at=NOW - timedelta(minutes=minutes_ago),
            escalation_step=step,
            next_escalation_at=None,
        )
        session.add(alert)
        session.flush()
        return alert.id


def _status_of(clinic: DemoClinic, alert_id: int) -> tuple[str, str | None]:
    with read_only(clinic.app.state.blina.sessions) as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert.status, alert.outcome


def _alert_ids(soup: BeautifulSoup) -> list[int]:
    return [int(str(li["data-alert"])) for li in soup.select("section.alerts li[data-alert]")]


def _check_in_fever_and_confusion(clinic: DemoClinic, key: str) -> str:
    """A caregiver reports fever 39.0 C and confusion; the triage page's report id."""
    caregiver = clinic.browser("alex.partner")
    patient = clinic.patients["P-001"]
    form = page(caregiver.get(f"/patients/{patient}/check-in"))
    response = caregiver.post(
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
    answer = one(page(response), "section.triage")
    assert answer["data-alert"] == "yes"
    return str(answer["data-report"])


def _acknowledge(
    browser: TestClient,
    alert_id: int,
    *,
    outcome: str = "advice-given",
    note: str = "",
    done: str = "called the family back",
) -> tuple[int, BeautifulSoup]:
    token = csrf_of(page(browser.get("/")))
    response = browser.post(
        f"/alerts/{alert_id}/acknowledge",
        data={"csrf_token": token, "outcome": outcome, "note": note, "what_was_done": done},
        follow_redirects=False,
    )
    return response.status_code, page(response)


@pytest.mark.parametrize("who", ["nurse.kim", "dr.lee", "pharm.ana", "admin"])
def test_home_lists_open_alerts_most_urgent_first_then_oldest(clinic: DemoClinic, who: str) -> None:
    ours = {
        _add_alert(clinic, "P-002", "same-day", 180): ("same-day", "P-002", 180, 0),
        _add_alert(clinic, "P-003", "emergency", 10): ("emergency", "P-003", 10, 0),
        _add_alert(clinic, "P-004", "call-now", 120, step=1): ("call-now", "P-004", 120, 1),
        _add_alert(clinic, "P-001", "emergency", 60, step=2): ("emergency", "P-001", 60, 2),
    }
    soup = page(clinic.browser(who).get("/"))
    rows = [
        li
        for li in soup.select("section.alerts li[data-alert]")
        if int(str(li["data-alert"])) in ours
    ]
    shown = [
        (
            str(li["data-level"]),
            str(li["data-patient-code"]),
            int(str(li["data-age-minutes"])),
            int(str(li["data-escalation-step"])),
        )
        for li in rows
    ]
    assert shown == [
        ("emergency", "P-001", 60, 2),
        ("emergency", "P-003", 10, 0),
        ("call-now", "P-004", 120, 1),
        ("same-day", "P-002", 180, 0),
    ]
    for li in rows:
        # the patient's link heads the patient's card (issue 18: one card per patient)
        card = li.find_parent("li", attrs={"data-card": True})
        assert card is not None
        assert one(card, "a.patient")["href"] == f"/patients/{li['data-patient']}"
        assert one(li, ".reason").get_text(strip=True) == f"test alert ({li['data-level']})"
        assert one(li, "time.raised")["datetime"] == li["data-created"]
    levels = [str(li["data-level"]) for li in soup.select("section.alerts li[data-alert]")]
    rank = ["emergency", "call-now", "same-day", "routine"]
    assert levels == sorted(levels, key=rank.index), "the whole list is most urgent first"
    forms = soup.select("section.alerts form.acknowledge")
    if who in ("nurse.kim", "dr.lee"):
        assert len(forms) == len(soup.select("section.alerts li[data-alert]"))
        form = forms[0]
        assert form.select('input[name="csrf_token"]')
        options = [str(o["value"]) for o in form.select('select[name="outcome"] option')]
        assert options == list(OUTCOMES)
        assert form.select('textarea[name="note"]')
    else:
        assert forms == [], f"a {who} sees the alerts but may not acknowledge them"


def _close_open_alerts(clinic: DemoClinic, code: str) -> None:
    """Another test's alerts of the patient, out of the way: an open one would gather
    the next check-in."""
    with transaction(clinic.app.state.blina.sessions) as session:
        session.execute(
            update(Alert)
            .where(Alert.patient_id == clinic.patients[code], Alert.status == "open")
            .values(status="acknowledged")
        )


def test_a_nurse_acknowledges_the_alert_from_a_check_in(clinic: DemoClinic) -> None:
    _close_open_alerts(clinic, "P-001")
    report = _check_in_fever_and_confusion(clinic, "alerts-test-nurse")
    nurse = clinic.browser("nurse.kim")
    soup = page(nurse.get("/"))
    row = one(soup, f'section.alerts li[data-report="{report}"]')
    assert row["data-level"] == "call-now"
    assert row["data-patient"] == str(clinic.patients["P-001"])
    assert row["data-age-minutes"] == "0"
    alert_id = int(str(row["data-alert"]))
    form = one(row, "form.acknowledge")
    assert form["action"] == f"/alerts/{alert_id}/acknowledge"

    status, _ = _acknowledge(nurse, alert_id, note="sent to the emergency department")
    assert status == 303
    assert _status_of(clinic, alert_id) == (
        "acknowledged",
        "advice-given: sent to the emergency department",
    )
    assert alert_id not in _alert_ids(page(nurse.get("/")))

    again, soup = _acknowledge(nurse, alert_id)
    assert again == 409
    assert one(soup, "body")["data-page"] == "home"
    assert one(soup, f'[data-error-for="acknowledge-{alert_id}"]').get_text(strip=True)


def test_a_bad_outcome_reshows_the_form_with_the_message(clinic: DemoClinic) -> None:
    alert_id = _add_alert(clinic, "P-002", "call-now", 5)
    nurse = clinic.browser("nurse.kim")
    status, soup = _acknowledge(nurse, alert_id, outcome="went-home", note="kept")
    assert status == 422
    row = one(soup, f'section.alerts li[data-alert="{alert_id}"]')
    assert one(row, f'[data-error-for="acknowledge-{alert_id}"]').get_text(strip=True)
    assert one(row, "textarea").get_text() == "kept"
    assert _status_of(clinic, alert_id) == ("open", None)
    status, _ = _acknowledge(nurse, alert_id, outcome="patient-called-in")
    assert status == 303
    assert _status_of(clinic, alert_id) == ("acknowledged", "patient-called-in")


@pytest.mark.parametrize(("who", "home"), [("pharm.ana", "/"), ("alex.partner", "/today")])
def test_a_pharmacist_or_a_caregiver_may_not_acknowledge(
    clinic: DemoClinic, who: str, home: str
) -> None:
    alert_id = _add_alert(clinic, "P-001", "emergency", 1)
    browser = clinic.browser(who)
    token = csrf_of(page(browser.get(home)))
    response = browser.post(
        f"/alerts/{alert_id}/acknowledge",
        data={"csrf_token": token, "outcome": "advice-given", "note": ""},
    )
    assert response.status_code == 403
    soup = page(response)
    assert one(soup, "body")["data-page"] == "error"
    assert one(soup, "[data-status]")["data-status"] == "403"
    assert _status_of(clinic, alert_id) == ("open", None)
    assert alert_id in _alert_ids(page(clinic.browser("nurse.kim").get("/")))


@pytest.mark.parametrize("token", [None, "", "0" * 64, "another browser's"])
def test_acknowledging_needs_the_forms_csrf_token(clinic: DemoClinic, token: str | None) -> None:
    alert_id = _add_alert(clinic, "P-003", "emergency", 1)
    nurse = clinic.browser("nurse.kim")
    nurse.get("/")
    data = {"outcome": "advice-given", "note": ""}
    if token == "another browser's":
        data["csrf_token"] = csrf_of(page(clinic.browser("dr.lee").get("/")))
    elif token is not None:
        data["csrf_token"] = token
    response = nurse.post(f"/alerts/{alert_id}/acknowledge", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert one(page(response), "[data-status]")["data-status"] == "403"
    assert _status_of(clinic, alert_id) == ("open", None)


def test_acknowledging_an_unknown_alert_is_not_found(clinic: DemoClinic) -> None:
    status, soup = _acknowledge(clinic.browser("nurse.kim"), 999_999)
    assert status == 404
    assert one(soup, "body")["data-page"] == "error"


def test_further_check_ins_join_the_open_alert_and_a_more_urgent_one_raises_it(
    clinic: DemoClinic,
) -> None:
    """Fever and confusion (call now) twice, then a seizure (emergency): one alert in the
    queue, counting three check-ins, showing the newest, at the emergency level."""
    _close_open_alerts(clinic, "P-001")
    _check_in_fever_and_confusion(clinic, "join-1")
    second = _check_in_fever_and_confusion(clinic, "join-2")
    nurse = clinic.browser("nurse.kim")
    [row] = page(nurse.get("/")).select(
        f'section.alerts li[data-patient="{clinic.patients["P-001"]}"]'
    )
    assert (row["data-report"], row["data-level"]) == (second, "call-now")
    assert one(row, "[data-check-ins]")["data-check-ins"] == "2"

    caregiver = clinic.browser("alex.partner")
    patient = clinic.patients["P-001"]
    form = page(caregiver.get(f"/patients/{patient}/check-in"))
    seizure = caregiver.post(
        f"/patients/{patient}/check-in",
        data={"csrf_token": csrf_of(form), "idempotency_key": "join-3", "symptom": "seizure"},
    )
    assert one(page(seizure), "section.triage")["data-level"] == "emergency"
    [row] = page(nurse.get("/")).select(
        f'section.alerts li[data-patient="{clinic.patients["P-001"]}"]'
    )
    assert row["data-level"] == "emergency"
    assert row["data-escalation-step"] == "0"
    assert one(row, "[data-check-ins]")["data-check-ins"] == "3"
