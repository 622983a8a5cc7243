"""The clinic's open alerts on the care team's home page, and acknowledging one.

Pages are read as a DOM (BeautifulSoup): assertions are on elements and data-*
attributes, never on substrings of the HTML.
"""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlalchemy import update

from blina.demo import DEMO_USER_PHONES
from blina.services.alerts import OUTCOMES, WHAT_WAS_DONE_MAX
from blina.store.session import read_only, transaction
from blina.store.tables import Alert
from blina.web.routes.care_team import HANDLED_PER_PAGE
from tests.web.conftest import NOW, DemoClinic
from tests.web.soup import csrf_in, csrf_of, one, page


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
    token: str | None = None,
) -> tuple[int, BeautifulSoup]:
    """Acknowledges through the form on Clinic today; ``token``: the browser's form token,
    when a test acknowledges many alerts (the page need not be fetched for each)."""
    token = csrf_in(browser.get("/")) if token is None else token
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
    token = csrf_in(browser.get(home))
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
        data["csrf_token"] = csrf_in(clinic.browser("dr.lee").get("/"))
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


# --- issue 18: cards that say what happened, the acknowledged list -----------------------


def _card(soup: BeautifulSoup, patient_id: int) -> Tag:
    return one(soup, f'section.alerts li[data-card="{patient_id}"]')


def test_a_card_says_what_was_reported_by_whom_when_and_how_to_call_back(
    clinic: DemoClinic,
) -> None:
    _close_open_alerts(clinic, "P-001")
    caregiver = clinic.browser("alex.partner")
    patient = clinic.patients["P-001"]
    form = page(caregiver.get(f"/patients/{patient}/check-in"))
    sent = caregiver.post(
        f"/patients/{patient}/check-in",
        data={
            "csrf_token": csrf_of(form),
            "idempotency_key": "card-content",
            "temperature": "39.2",
            "temperature_unit": "C",
            "symptom": ["confusion", "headache"],
            "severity-headache": "2",
            "note": "he does not know where he is",
        },
    )
    report = one(page(sent), "section.triage")["data-report"]

    card = _card(page(clinic.browser("dr.lee").get("/")), patient)
    assert card["data-level"] == "call-now"
    assert one(card, "a.patient")["href"] == f"/patients/{patient}"
    assert one(card, "a.patient").get_text(strip=True) == "Alex (adult, in hospital on cycle 1)"
    assert one(card, "[data-code]")["data-code"] == "P-001"
    assert one(card, "[data-age]")["data-age"] == "41"
    assert one(card, "[data-in-hospital]")["data-in-hospital"] == "yes"
    assert one(card, "[data-cycle-day]")["data-cycle-day"] == "3"
    assert one(card, "[data-level-word]").get_text(" ", strip=True).endswith("Call now")

    [line] = card.select("ol.reported > li")
    assert line["data-check-in"] == report
    assert line["data-alerted"] == "yes"
    assert one(line, "[data-minutes-ago]")["data-minutes-ago"] == "0"
    assert one(line, "time")["datetime"] == NOW.isoformat()
    # the clinic is in Paris: 09:30 UTC is 10:30 there
    assert "10:30" in one(line, "time").get_text()
    reporter = one(line, "[data-reporter]")
    assert (reporter["data-reporter"], reporter["data-role"]) == ("alex.partner", "caregiver")
    temperature = one(line, "[data-temperature]")
    assert (temperature["data-temperature"], temperature["data-fired"]) == ("39.2 C", "yes")
    symptoms = {
        str(li["data-symptom"]): (li["data-severity"], li["data-history"], li["data-fired"])
        for li in line.select("[data-symptom]")
    }
    # confusion may have been reported by another test of this clinic: new or persisting
    assert symptoms["confusion"][0] == ""
    assert symptoms["confusion"][1] in ("new", "persisting")
    assert symptoms["confusion"][2] == "yes"
    assert symptoms["headache"][:2] == ("2", "new")
    assert one(line, '[data-symptom="headache"] em').get_text(strip=True) == "new"
    fired_first = [li["data-fired"] for li in line.select("[data-symptom]")]
    assert fired_first == sorted(fired_first, key=lambda f: f != "yes")
    assert one(line, "[data-free-text] q").get_text() == "he does not know where he is"
    call_back = one(card, "[data-call-back]")
    # the caregiver who reported gave their own number: the one to call
    assert call_back["data-call-back"] == "reporter"
    number = one(call_back, 'a[href^="tel:"]')
    mine = DEMO_USER_PHONES["alex.partner"]
    assert number["href"] == "tel:" + mine.replace(" ", "")
    assert number.get_text(strip=True) == f"alex.partner (caregiver): {mine}"
    assert [s["data-reported-by"] for s in call_back.select("[data-reported-by]")] == [
        "alex.partner"
    ]


def test_a_patient_s_alerts_share_one_card_most_urgent_on_top_emergency_cards_first(
    clinic: DemoClinic,
) -> None:
    _close_open_alerts(clinic, "P-002")
    _close_open_alerts(clinic, "P-003")
    _close_open_alerts(clinic, "P-004")
    call_now = _add_alert(clinic, "P-003", "call-now", 300)
    same_day = _add_alert(clinic, "P-002", "same-day", 200)
    emergency = _add_alert(clinic, "P-002", "emergency", 5)
    soup = page(clinic.browser("nurse.kim").get("/"))
    cards = soup.select("section.alerts li[data-card]")
    wanted = {str(clinic.patients[code]) for code in ("P-002", "P-003")}
    ours = [c for c in cards if c["data-card"] in wanted]
    assert [c["data-card"] for c in ours] == [
        str(clinic.patients["P-002"]),
        str(clinic.patients["P-003"]),
    ]
    levels = [str(c["data-level"]) for c in cards]
    rank = ["emergency", "call-now", "same-day", "routine"]
    assert levels == sorted(levels, key=rank.index), "emergency cards first"
    grouped, alone = ours
    assert [int(str(li["data-alert"])) for li in grouped.select("li[data-alert]")] == [
        emergency,
        same_day,
    ]
    assert grouped["data-level"] == "emergency"
    assert [int(str(li["data-alert"])) for li in alone.select("li[data-alert]")] == [call_now]
    # not colour alone: each level has its word and its icon
    badges = {
        c["data-level"]: one(c, ".alert-card-head [data-level-word]") for c in (grouped, alone)
    }
    words = {level: b.get_text(" ", strip=True) for level, b in badges.items()}
    assert words["emergency"] != words["call-now"]
    assert "Emergency" in words["emergency"]
    assert "Call now" in words["call-now"]
    icons = {level: one(b, '[aria-hidden="true"]').get_text() for level, b in badges.items()}
    assert icons["emergency"] != icons["call-now"]
    assert soup.select_one("section.alerts")["data-open-alerts"] == str(
        len(soup.select("section.alerts li[data-alert]"))
    )


@pytest.mark.parametrize(
    "done",
    ["", "   ", "x" * (WHAT_WAS_DONE_MAX + 1)],
    ids=["empty", "spaces", "too-long"],
)
def test_what_was_done_is_required_and_bounded_and_its_refusal_names_it(
    clinic: DemoClinic, done: str
) -> None:
    alert_id = _add_alert(clinic, "P-004", "call-now", 3)
    nurse = clinic.browser("nurse.kim")
    form = one(page(nurse.get("/")), f'li[data-alert="{alert_id}"] form.acknowledge')
    field = one(form, 'input[name="what_was_done"]')
    assert field.has_attr("required")
    assert field["maxlength"] == str(WHAT_WAS_DONE_MAX)
    assert one(form, f'label[for="{field["id"]}"]').get_text(strip=True)

    status, soup = _acknowledge(
        nurse, alert_id, outcome="sent-to-emergency", note="kept", done=done
    )
    assert status == 422
    row = one(soup, f'section.alerts li[data-alert="{alert_id}"]')
    error = one(row, f'[data-error-for="acknowledge-{alert_id}"]')
    assert error["data-field"] == "what_was_done"
    assert "what_was_done" in error.get_text()
    assert f"1 to {WHAT_WAS_DONE_MAX} characters" in error.get_text()
    again = one(row, 'input[name="what_was_done"]')
    assert again["aria-invalid"] == "true"
    assert again["aria-describedby"] == error["id"]
    assert one(row, "textarea").get_text() == "kept"
    assert one(row, "option[selected]")["value"] == "sent-to-emergency"
    assert _status_of(clinic, alert_id) == ("open", None)
    _acknowledge(nurse, alert_id)  # out of the other tests' way


def _handled_pages(browser: TestClient) -> list[list[int]]:
    """The acknowledged list's pages, following its "earlier" links to the end."""
    pages: list[list[int]] = []
    address: str | None = "/"
    while address is not None and len(pages) < 100:
        soup = page(browser.get(address))
        pages.append([int(str(li["data-handled"])) for li in soup.select("li[data-handled]")])
        following = soup.select_one('section.handled a[data-page="handled-next"]')
        address = None if following is None else str(following["href"]).split("#")[0]
    return pages


def test_the_acknowledged_list_says_who_when_and_what_was_done_each_once_across_pages(
    clinic: DemoClinic,
) -> None:
    _close_open_alerts(clinic, "P-003")
    nurse = clinic.browser("nurse.kim")
    token = csrf_in(nurse.get("/"))
    taken = []
    for i in range(HANDLED_PER_PAGE * 2 + 3):
        alert_id = _add_alert(clinic, "P-003", "call-now", 30)
        done = f"admitted, bed {i}"
        status, _ = _acknowledge(nurse, alert_id, outcome="admitted", done=done, token=token)
        assert status == 303
        taken.append(alert_id)

    pages = _handled_pages(clinic.browser("admin"))
    walked = [a for p in pages for a in p]
    assert len(walked) == len(set(walked)), "each acknowledged alert once"
    assert all(len(p) <= HANDLED_PER_PAGE for p in pages)
    assert len(pages) >= 3
    # all acknowledged at the same instant (the clinic's clock stands still): newest id first
    assert [a for a in walked if a in taken] == taken[::-1]

    row = one(page(nurse.get("/")), f'li[data-handled="{taken[-1]}"]')
    assert row["data-acknowledged-by"] == "nurse.kim"
    assert row["data-outcome"] == "admitted"
    assert (
        one(row, "[data-what-was-done]")
        .get_text(" ", strip=True)
        .endswith(f"admitted, bed {len(taken) - 1}")
    )
    assert one(row, "time.acknowledged-at")["datetime"] == NOW.isoformat()
    assert row["data-level"] == "call-now"
