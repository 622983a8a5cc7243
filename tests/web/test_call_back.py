"""The number to call back (issue 18): on the alert card, the reporter's own or else the
patient's, as a tel: link saying whose it is, or plainly none with a link to add one;
the card's dose and hospital day as the patient page's "Now" says them; and the pages
where the numbers are given (registering a patient, the patient page, one's account, an
invitation, the admin's users page), each refusing a number that cannot be dialled in
the page's words.

Read as a DOM; each test works on patients and usernames of its own, or puts back what
it changed.
"""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from blina.demo import DEMO_PATIENTS, DEMO_USER_PHONES
from blina.store.session import read_only, transaction
from blina.store.tables import Alert, Patient, User
from tests.web.conftest import NOW, DemoClinic
from tests.web.soup import csrf_in, csrf_of, one, page

DEMO_PHONES = {demo.code: demo.phone for demo in DEMO_PATIENTS}
REFUSED = ["12345", "call me", "+1 555 0111 ext 2", "1" * 33]
REFUSED_IDS = ["five-digits", "words", "extension", "too-long"]


def _post(browser: TestClient, form_page: str, path: str, **fields: str) -> object:
    token = csrf_in(browser.get(form_page))
    return browser.post(path, data={"csrf_token": token, **fields}, follow_redirects=False)


def _check_in(clinic: DemoClinic, username: str, key: str) -> None:
    """A fever with confusion (call now) reported by ``username`` for P-001."""
    browser = clinic.browser(username)
    patient = clinic.patients["P-001"]
    form = page(browser.get(f"/patients/{patient}/check-in"))
    sent = browser.post(
        f"/patients/{patient}/check-in",
        data={
            "csrf_token": csrf_of(form),
            "idempotency_key": key,
            "temperature": "39.0",
            "temperature_unit": "C",
            "symptom": ["confusion"],
        },
    )
    assert one(page(sent), "section.triage")["data-alert"] == "yes"


def _close_open_alerts(clinic: DemoClinic, code: str) -> None:
    with transaction(clinic.app.state.blina.sessions) as session:
        session.execute(
            update(Alert)
            .where(Alert.patient_id == clinic.patients[code], Alert.status == "open")
            .values(status="acknowledged")
        )


def _add_alert(clinic: DemoClinic, code: str) -> None:
    """An open alert as the check-in service leaves it (without its check-in)."""
    with transaction(clinic.app.state.blina.sessions) as session:
        session.add(
            Alert(
                patient_id=clinic.patients[code],
                symptom_report_id=None,
                level="call-now",
                reason="test alert",
                status="open",
                created_at=NOW - timedelta(minutes=3),
                escalation_step=0,
                next_escalation_at=None,
            )
        )


def _card(clinic: DemoClinic, code: str) -> Tag:
    soup = page(clinic.browser("nurse.kim").get("/"))
    return one(soup, f'section.alerts li[data-card="{clinic.patients[code]}"]')


def _patient_phone(clinic: DemoClinic, code: str) -> str | None:
    with read_only(clinic.app.state.blina.sessions) as session:
        return session.execute(
            select(Patient.phone).where(Patient.id == clinic.patients[code])
        ).scalar_one()


def _user_phone(clinic: DemoClinic, username: str) -> str | None:
    with read_only(clinic.app.state.blina.sessions) as session:
        return session.execute(select(User.phone).where(User.username == username)).scalar_one()


# --- the card -------------------------------------------------------------------------------


def test_a_check_in_from_a_reporter_without_a_number_is_called_back_on_the_patient_s(
    clinic: DemoClinic,
) -> None:
    _close_open_alerts(clinic, "P-001")
    assert _user_phone(clinic, "alex") is None  # the patient gave none of their own
    _check_in(clinic, "alex", "from-the-patient")

    call_back = one(_card(clinic, "P-001"), "[data-call-back]")

    assert call_back["data-call-back"] == "patient"
    number = one(call_back, 'a[href^="tel:"]')
    on_file = DEMO_PHONES["P-001"]
    assert on_file is not None
    assert number["href"] == "tel:" + on_file.replace(" ", "")
    assert number["data-phone"] == on_file
    assert number.get_text(strip=True).endswith(f"the patient's number on file: {on_file}")
    assert not call_back.select("[data-no-phone]")


def test_the_newest_reporter_s_own_number_is_the_one_to_call(clinic: DemoClinic) -> None:
    _close_open_alerts(clinic, "P-001")
    _check_in(clinic, "alex", "patient-first")
    _check_in(clinic, "alex.partner", "caregiver-next")

    call_back = one(_card(clinic, "P-001"), "[data-call-back]")

    assert call_back["data-call-back"] == "reporter"
    assert one(call_back, "a[data-phone]")["data-phone"] == DEMO_USER_PHONES["alex.partner"]
    reporters = [s["data-reported-by"] for s in call_back.select("[data-reported-by]")]
    assert sorted(reporters) == ["alex", "alex.partner"]


def test_a_patient_with_no_number_on_file_says_so_and_links_to_add_one(
    clinic: DemoClinic,
) -> None:
    assert DEMO_PHONES["P-004"] is None
    _add_alert(clinic, "P-004")

    call_back = one(_card(clinic, "P-004"), "[data-call-back]")

    assert call_back["data-call-back"] == "none"
    assert not call_back.select('a[href^="tel:"]')
    assert one(call_back, "[data-no-phone]").get_text(strip=True) == "No phone number on file."
    patient = clinic.patients["P-004"]
    add = one(call_back, "a[data-add-phone]")
    assert add["href"] == f"/patients/{patient}#phone"
    target = page(clinic.browser("nurse.kim").get(f"/patients/{patient}"))
    assert one(target, "#phone form[data-form='patient-phone']")


def _now_on_patient_page(clinic: DemoClinic, code: str) -> BeautifulSoup:
    return page(clinic.browser("nurse.kim").get(f"/patients/{clinic.patients[code]}"))


@pytest.mark.parametrize("code", ["P-001", "P-002", "P-003"])
def test_the_card_s_dose_and_hospital_day_are_the_patient_page_s(
    clinic: DemoClinic, code: str
) -> None:
    _add_alert(clinic, code)
    facts = one(_card(clinic, code), ".patient-facts")
    now = _now_on_patient_page(clinic, code)

    running = one(facts, "[data-course-now]")
    state = one(now, "#state [data-state]")
    assert running["data-course-now"] == state["data-state"] == "infusing"
    assert running["data-dose"] == state["data-dose"]
    status = one(now, "#now p.status")
    assert one(facts, "[data-in-hospital]")["data-in-hospital"] == status["data-inpatient"]
    assert one(facts, "[data-cycle-day]")["data-cycle-day"] == status["data-cycle-day"]


def test_an_interrupted_course_shows_stopped_since_on_the_card(clinic: DemoClinic) -> None:
    _add_alert(clinic, "P-004")
    facts = one(_card(clinic, "P-004"), ".patient-facts")
    now = _now_on_patient_page(clinic, "P-004")

    assert one(now, "#state [data-state]")["data-state"] == "interrupted"
    stopped = one(facts, '[data-course-now="interrupted"]')
    assert stopped.get_text(strip=True).startswith("Infusion stopped since")
    assert not facts.select("[data-dose]")


def test_a_patient_without_a_course_says_so_and_no_dose(clinic: DemoClinic) -> None:
    nurse = clinic.browser("nurse.kim")
    made = _post(
        nurse, "/clinic/patients/new", "/clinic/patients", code="CB-0", display_name="Nocourse"
    )
    patient = int(made.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
    clinic.patients["CB-0"] = patient
    _add_alert(clinic, "CB-0")

    facts = one(_card(clinic, "CB-0"), ".patient-facts")

    assert one(facts, "[data-course-now]")["data-course-now"] == "none"
    assert not facts.select("[data-dose], [data-in-hospital], [data-cycle-day]")


# --- where the numbers are given ------------------------------------------------------------


def test_a_nurse_adds_the_patient_s_number_on_the_patient_page(clinic: DemoClinic) -> None:
    nurse = clinic.browser("nurse.kim")
    patient = clinic.patients["P-004"]
    here = f"/patients/{patient}"

    saved = _post(nurse, here, f"{here}/phone", phone=" +1 555 0104 ")

    assert saved.status_code == 303  # type: ignore[attr-defined]
    assert saved.headers["location"] == f"{here}#phone"  # type: ignore[attr-defined]
    assert _patient_phone(clinic, "P-004") == "+1 555 0104"
    shown = one(page(nurse.get(here)), "#phone a[data-patient-phone]")
    assert shown["href"] == "tel:+15550104"
    _add_alert(clinic, "P-004")
    assert one(_card(clinic, "P-004"), "[data-call-back]")["data-call-back"] == "patient"
    audit = page(clinic.browser("dr.lee").get(f"{here}/audit"))
    assert "patient.phone" in audit.get_text()

    cleared = _post(nurse, here, f"{here}/phone", phone="")
    assert cleared.status_code == 303  # type: ignore[attr-defined]
    assert _patient_phone(clinic, "P-004") is None


@pytest.mark.parametrize("phone", REFUSED, ids=REFUSED_IDS)
def test_a_refused_number_on_the_patient_page_is_marked_and_kept(
    clinic: DemoClinic, phone: str
) -> None:
    nurse = clinic.browser("dr.lee")
    here = f"/patients/{clinic.patients['P-003']}"

    refused = _post(nurse, here, f"{here}/phone", phone=phone)

    assert refused.status_code == 422  # type: ignore[attr-defined]
    soup = page(refused)
    summary = one(soup, '#phone-problems[data-error-summary="phone"]')
    assert one(summary, 'a[href="#patient-phone"]').get_text().startswith("Give a phone number")
    field = one(soup, "#patient-phone")
    assert field["aria-invalid"] == "true"
    assert field["value"] == phone
    assert one(soup, 'details[data-panel="phone"]').has_attr("open")
    assert _patient_phone(clinic, "P-003") == DEMO_PHONES["P-003"]


@pytest.mark.parametrize("who", ["pharm.ana", "admin", "alex.partner"])
def test_only_a_physician_or_nurse_changes_the_patient_s_number(
    clinic: DemoClinic, who: str
) -> None:
    browser = clinic.browser(who)
    here = f"/patients/{clinic.patients['P-001']}"
    seen = page(browser.get(here))
    assert one(seen, "#phone a[data-patient-phone]")["data-patient-phone"] == DEMO_PHONES["P-001"]
    assert not seen.select("form[data-form='patient-phone']")
    token = csrf_of(seen)
    answer = browser.post(f"{here}/phone", data={"csrf_token": token, "phone": "+1 555 0199"})
    assert answer.status_code == 403
    assert _patient_phone(clinic, "P-001") == DEMO_PHONES["P-001"]


def test_a_patient_registered_with_a_number_keeps_it_and_a_bad_one_is_refused(
    clinic: DemoClinic,
) -> None:
    nurse = clinic.browser("nurse.kim")
    form = "/clinic/patients/new"
    refused = _post(
        nurse, form, "/clinic/patients", code="CB-1", display_name="Casey", phone="12-34"
    )
    made = _post(
        nurse, form, "/clinic/patients", code="CB-1", display_name="Casey", phone="+1 555 0105"
    )

    assert refused.status_code == 422  # type: ignore[attr-defined]
    soup = page(refused)
    assert "at least 6 digits" in one(soup, '[data-error-for="phone"]').get_text()
    assert one(soup, "#phone")["aria-invalid"] == "true"
    assert one(soup, "#code")["value"] == "CB-1"
    assert made.status_code == 303  # type: ignore[attr-defined]
    clinic.patients["CB-1"] = int(made.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
    assert _patient_phone(clinic, "CB-1") == "+1 555 0105"


def test_a_caregiver_sets_their_own_number_on_their_account_page(clinic: DemoClinic) -> None:
    caregiver = clinic.browser("alex.partner")
    form = one(page(caregiver.get("/account")), "form[data-form='own-phone']")
    assert one(form, "#own-phone")["value"] == DEMO_USER_PHONES["alex.partner"]

    refused = _post(caregiver, "/account", "/account/phone", phone="phone me")
    saved = _post(caregiver, "/account", "/account/phone", phone="+1 555 0112")

    assert refused.status_code == 422  # type: ignore[attr-defined]
    soup = page(refused)
    assert one(soup, "#own-phone")["aria-invalid"] == "true"
    assert one(soup, "#own-phone")["value"] == "phone me"
    assert one(soup, '[data-error-for="phone"]')
    assert saved.status_code == 303  # type: ignore[attr-defined]
    assert saved.headers["location"] == "/account?saved=phone"  # type: ignore[attr-defined]
    assert one(page(caregiver.get("/account?saved=phone")), '[data-saved="phone"]')
    assert _user_phone(clinic, "alex.partner") == "+1 555 0112"
    _post(caregiver, "/account", "/account/phone", phone=DEMO_USER_PHONES["alex.partner"])


def test_staff_have_no_number_of_their_own_to_set(clinic: DemoClinic) -> None:
    nurse = clinic.browser("nurse.kim")
    soup = page(nurse.get("/account"))
    assert not soup.select("form[data-form='own-phone']")
    answer = nurse.post(
        "/account/phone", data={"csrf_token": csrf_of(soup), "phone": "+1 555 0100"}
    )
    assert answer.status_code == 403
    assert _user_phone(clinic, "nurse.kim") is None


def test_the_admin_sets_a_user_s_number_on_the_users_page(clinic: DemoClinic) -> None:
    admin = clinic.browser("admin")
    user = one(page(admin.get("/clinic/users")), 'tr[data-username="alex"]')["data-user"]

    refused = _post(admin, "/clinic/users", f"/clinic/users/{user}/phone", phone="+1 (555)")
    saved = _post(admin, "/clinic/users", f"/clinic/users/{user}/phone", phone="+1 555 0113")

    assert refused.status_code == 422  # type: ignore[attr-defined]
    row = one(page(refused), f'tr[data-user="{user}"]')
    assert one(row, f"#phone-{user}")["aria-invalid"] == "true"
    assert one(row, f"#phone-{user}")["value"] == "+1 (555)"
    assert one(row, '[data-error-for="phone"]')
    assert saved.status_code == 303  # type: ignore[attr-defined]
    listed = one(page(admin.get("/clinic/users?done=phone")), f'tr[data-user="{user}"]')
    assert listed.select_one("[data-phone]")["data-phone"] == "+1 555 0113"  # type: ignore[index]
    assert _user_phone(clinic, "alex") == "+1 555 0113"
    _post(admin, "/clinic/users", f"/clinic/users/{user}/phone", phone="")
    assert _user_phone(clinic, "alex") is None


def test_an_invited_caregiver_gives_their_number_with_their_password(clinic: DemoClinic) -> None:
    nurse = clinic.browser("nurse.kim")
    family = f"/patients/{clinic.patients['P-002']}/family"
    issued = _post(
        nurse,
        family,
        f"{family}/invitations",
        role="caregiver",
        username="phone.caregiver",
        display_name="Phone Caregiver",
    )
    url = one(page(issued), "[data-invitation-url]")["data-invitation-url"]
    path = urlsplit(str(url)).path
    invitee = clinic.browser(None)
    token = csrf_in(invitee.get(path))
    chosen = "a password of my own"

    refused = invitee.post(
        path,
        data={"csrf_token": token, "password": chosen, "password_again": chosen, "phone": "x"},
    )
    done = invitee.post(
        path,
        data={
            "csrf_token": token,
            "password": chosen,
            "password_again": chosen,
            "phone": "+1 555 0114",
        },
    )

    assert refused.status_code == 422
    assert one(page(refused), "#phone")["aria-invalid"] == "true"
    assert one(page(refused), "#phone")["value"] == "x"
    assert done.status_code == 200
    assert one(page(done), "[data-invitation]")["data-invitation"] == "done"
    assert _user_phone(clinic, "phone.caregiver") == "+1 555 0114"


def test_clinic_today_reads_no_more_for_more_cards(clinic: DemoClinic) -> None:
    """The cards' courses, numbers and check-ins are read for all of them at once: a page
    with a card for every demo patient takes as many statements as one with a card for
    one (the patient list below reads its own page of patients either way)."""
    for code in DEMO_PHONES:
        _close_open_alerts(clinic, code)
    nurse = clinic.browser("nurse.kim")
    _add_alert(clinic, "P-001")
    one_card = _statements_of(clinic, nurse)
    for code in ("P-002", "P-003", "P-004"):
        _add_alert(clinic, code)
    four_cards = _statements_of(clinic, nurse)

    assert four_cards == one_card


def _statements_of(clinic: DemoClinic, browser: TestClient) -> int:
    engine = clinic.app.state.blina.engine
    executed: list[object] = []

    def count(*args: object) -> None:
        executed.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        soup = page(browser.get("/"))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    cards = soup.select("section.alerts li[data-card]")
    assert all(card.select("[data-course-now]") for card in cards)
    return len(executed)
