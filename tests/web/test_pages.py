"""Every page x role: who sees what, and no page shows another patient's data.

Pages are read as a DOM (BeautifulSoup): assertions are on elements and data-*
attributes, never on substrings of the HTML.
"""

import pytest
from bs4 import BeautifulSoup

from blina.web.i18n import gettext_for
from tests.web.conftest import DemoClinic
from tests.web.soup import csrf_of, fragment, one, page

STAFF = ("admin", "dr.lee", "nurse.kim", "pharm.ana")
FAMILY = ("alex", "alex.partner")  # tied to P-001

# page -> who may open it for a patient of their reach (others: the status they get)
PATIENT_PAGES = {
    "/patients/{id}": ("patient", {}),
    "/patients/{id}/calendar": ("calendar", {}),
    "/patients/{id}/check-in": ("check-in", {}),
    "/patients/{id}/audit": (
        "audit",
        {"nurse.kim": 403, "pharm.ana": 403, "alex": 403, "alex.partner": 403},
    ),
    "/patients/{id}/courses/new": (
        "course-new",
        {"admin": 403, "nurse.kim": 403, "pharm.ana": 403, "alex": 403, "alex.partner": 403},
    ),
}


def page_name(soup: BeautifulSoup) -> str:
    body = soup.find("body")
    assert body is not None
    return str(body.get("data-page"))


@pytest.mark.parametrize("who", STAFF + FAMILY)
@pytest.mark.parametrize("path", list(PATIENT_PAGES))
def test_patient_pages_by_role(clinic: DemoClinic, who: str, path: str) -> None:
    name, refused = PATIENT_PAGES[path]
    response = clinic.browser(who).get(path.format(id=clinic.patients["P-001"]))
    soup = page(response)
    expected = refused.get(who, 200)
    assert response.status_code == expected
    if expected == 200:
        assert page_name(soup) == name
    else:
        assert page_name(soup) == "error"
        assert one(soup, "[data-status]")["data-status"] == str(expected)


@pytest.mark.parametrize("who", FAMILY)
@pytest.mark.parametrize("path", [*PATIENT_PAGES, "/patients/{id}/calendar.ics"])
@pytest.mark.parametrize("other", ["P-002", "P-003", "P-004"])
def test_family_never_sees_another_patient(
    clinic: DemoClinic, who: str, path: str, other: str
) -> None:
    other_id = clinic.patients[other]
    response = clinic.browser(who).get(path.format(id=other_id))
    assert response.status_code in (403, 404)
    soup = page(response)
    assert page_name(soup) == "error"
    assert not soup.select(f'[data-patient="{other_id}"]')
    assert other not in soup.get_text()


@pytest.mark.parametrize("who", STAFF)
def test_clinic_home_lists_tasks_and_patients_with_cycle_and_day(
    clinic: DemoClinic, who: str
) -> None:
    soup = page(clinic.browser(who).get("/"))
    assert page_name(soup) == "home"
    rows = soup.select("section.patients tr[data-patient]")
    assert {row["data-code"] for row in rows} == set(clinic.patients)
    alex = one(soup, 'tr[data-code="P-001"] [data-cycle]')
    assert alex["data-cycle"] == "1"
    assert alex["data-cycle-day"] == "3"  # two days into the course
    assert alex["data-inpatient"] == "yes"
    kinds = {li["data-task-kind"] for li in soup.select("[data-task-kind]")}
    assert "bag-change" in kinds


@pytest.mark.parametrize("who", FAMILY)
def test_family_home_is_today(clinic: DemoClinic, who: str) -> None:
    browser = clinic.browser(who)
    response = browser.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/today"
    soup = page(browser.get("/today"))
    assert page_name(soup) == "today"
    status = one(soup, "p.status")
    assert (status["data-cycle"], status["data-cycle-day"]) == ("1", "3")
    assert one(soup, "[data-next-bag]")["data-next-bag"]
    assert int(str(one(soup, "[data-hospital-days]")["data-hospital-days"])) > 0
    assert soup.select("[data-red-flag]")
    assert one(soup, 'a[data-link="check-in"]')["href"] == (
        f"/patients/{clinic.patients['P-001']}/check-in"
    )


def test_staff_today_goes_to_the_clinic_home(clinic: DemoClinic) -> None:
    response = clinic.browser("nurse.kim").get("/today", follow_redirects=False)
    assert response.headers["location"] == "/"


def test_anonymous_is_sent_to_login(clinic: DemoClinic) -> None:
    response = clinic.browser(None).get("/patients/1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_patient_page_shows_timeline_calendar_and_decisions(clinic: DemoClinic) -> None:
    soup = page(clinic.browser("dr.lee").get(f"/patients/{clinic.patients['P-004']}"))
    kinds = {rect["data-kind"] for rect in soup.select("svg rect[data-kind]")}
    assert {"hospital", "home"} <= kinds
    assert soup.select("table.calendar tr[data-kind]")
    actions = [li["data-action"] for li in soup.select(".decisions li[data-action]")]
    assert actions, "the interrupted demo course shows its decisions"
    assert one(soup, 'a[data-link="audit"]')
    assert one(soup, 'a[data-link="new-course"]')


def test_calendar_offers_an_icalendar_file(clinic: DemoClinic) -> None:
    browser = clinic.browser("alex.partner")
    soup = page(browser.get(f"/patients/{clinic.patients['P-001']}/calendar"))
    link = one(soup, 'a[data-link="ics"]')
    response = browser.get(str(link["href"]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.content.startswith(b"BEGIN:VCALENDAR")


def test_audit_trail_lists_the_patients_events(clinic: DemoClinic) -> None:
    soup = page(clinic.browser("admin").get(f"/patients/{clinic.patients['P-004']}/audit"))
    actions = {row["data-action"] for row in soup.select("tr[data-action]")}
    assert {"patient.create", "course.start", "course.interrupt"} <= actions


def test_a_pharmacist_prepares_and_a_second_verifies(clinic: DemoClinic) -> None:
    patient = clinic.patients["P-002"]
    ana, ben = clinic.browser("pharm.ana"), clinic.browser("pharm.ben")
    soup = page(ana.get(f"/patients/{patient}"))
    before = {row["data-bag"] for row in soup.select("tr[data-bag]")}
    url = f"/courses/{clinic.courses['P-002']}/bags"
    asked = ana.post(url, data={"csrf_token": csrf_of(soup)})
    # The demo library leaves soft checks open: the form asks a reason for each.
    assert asked.status_code == 422
    form = page(asked)
    one(form, '[data-error-for="prepare"]')
    reasons = {
        str(i["name"]): "checked with the current label"
        for i in form.select("form.prepare input[name^=override-]")
    }
    assert reasons
    response = ana.post(url, data={"csrf_token": csrf_of(form), **reasons}, follow_redirects=False)
    assert response.status_code == 303, page(response).select("[data-error-for]")
    soup = page(ana.get(f"/patients/{patient}"))
    (new,) = {row["data-bag"] for row in soup.select("tr[data-bag]")} - before
    row = one(soup, f'tr[data-bag="{new}"]')
    assert row["data-verified"] == "no"
    assert row.select('[data-verify="waiting"]'), "the preparer gets no verify button"
    assert not row.select('button[data-action="verify"]')

    refused = ana.post(f"/bags/{new}/verify", data={"csrf_token": csrf_of(soup)})
    assert refused.status_code == 403
    assert one(page(refused), f'[data-error-for="verify-{new}"]')

    soup = page(ben.get(f"/patients/{patient}"))
    one(soup, f'tr[data-bag="{new}"] button[data-action="verify"]')
    done = ben.post(f"/bags/{new}/verify", data={"csrf_token": csrf_of(soup)})
    assert done.status_code == 200
    row = one(page(done), f'tr[data-bag="{new}"]')
    assert row["data-verified"] == "yes"
    assert one(row, "[data-verified-by]")["data-verified-by"] == "pharm.ben"


def test_a_nurse_may_not_prepare_a_bag(clinic: DemoClinic) -> None:
    nurse = clinic.browser("nurse.kim")
    soup = page(nurse.get(f"/patients/{clinic.patients['P-002']}"))
    assert not soup.select('button[data-action="prepare"]')
    response = nurse.post(
        f"/courses/{clinic.courses['P-002']}/bags", data={"csrf_token": csrf_of(soup)}
    )
    assert response.status_code == 403
    assert page_name(page(response)) == "error"


def test_start_course_preview_then_save(clinic: DemoClinic) -> None:
    doctor = clinic.browser("dr.lee")
    patient = clinic.patients["P-003"]
    form = {
        "indication": "relapsed-refractory",
        "start": "2026-12-14",
        "start_time": "09:00",
        "weight_kg": "21.5",
        "height_cm": "118",
        "age_years": "7",
        "bag_hours": "48",
        "cycles": "",
    }
    preview = doctor.get(
        f"/patients/{patient}/courses/preview", params=form, headers={"HX-Request": "true"}
    )
    partial = fragment(preview)
    assert partial.find("html") is None, "an htmx request gets the partial only"
    assert one(partial, "[data-preview]")["data-preview"] == "plan"
    bad = page(
        doctor.get(f"/patients/{patient}/courses/preview", params={**form, "weight_kg": "0"})
    )
    assert one(bad, "[data-preview]")["data-preview"] == "error"
    assert one(bad, "[data-error-for]")["data-error-for"] == "weight_kg"

    soup = page(doctor.get(f"/patients/{patient}/courses/new"))
    refused = doctor.post(
        f"/patients/{patient}/courses",
        data={**form, "weight_kg": "abc", "csrf_token": csrf_of(soup)},
    )
    assert refused.status_code == 422
    assert one(page(refused), '[data-error-for="weight_kg"]')
    second = doctor.post(f"/patients/{patient}/courses", data={**form, "csrf_token": csrf_of(soup)})
    assert second.status_code == 409, "P-003 has an active course: it is ended first"
    assert "already has an active course" in one(page(second), '[data-error-for="form"]').text
    patient_page = page(doctor.get(f"/patients/{patient}"))
    end_form = one(patient_page, '[data-form="end"]')
    no_reason = doctor.post(
        f"/courses/{clinic.courses['P-003']}/end",
        data={
            "outcome": "cancelled",
            "reason": "",
            "version": one(end_form, 'input[name="version"]')["value"],
            "csrf_token": csrf_of(patient_page),
        },
    )
    assert no_reason.status_code == 422
    ended = doctor.post(
        f"/courses/{clinic.courses['P-003']}/end",
        data={
            "outcome": "cancelled",
            "reason": "entered in error: wrong weight",
            "version": one(end_form, 'input[name="version"]')["value"],
            "csrf_token": csrf_of(patient_page),
        },
        follow_redirects=False,
    )
    assert ended.status_code == 303, ended.text
    saved = doctor.post(
        f"/patients/{patient}/courses",
        data={**form, "csrf_token": csrf_of(soup)},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/patients/{patient}"


def test_caregiver_check_in_shows_the_triage_answer(clinic: DemoClinic) -> None:
    caregiver = clinic.browser("alex.partner")
    patient = clinic.patients["P-001"]
    soup = page(caregiver.get(f"/patients/{patient}/check-in"))
    assert soup.select('input[name="symptom"][value="confusion"]')
    response = caregiver.post(
        f"/patients/{patient}/check-in",
        data={
            "csrf_token": csrf_of(soup),
            "idempotency_key": "web-test-1",
            "temperature": "39.0",
            "temperature_unit": "C",
            "symptom": ["confusion"],
        },
    )
    assert response.status_code == 200
    answer = page(response)
    result = one(answer, "section.triage")
    # Confusion of unknown severity (moderate) and a fever: call the team now (issue 15).
    assert result["data-level"] == "call-now"
    assert result["data-alert"] == "yes"
    assert answer.select('[data-instructions="do_now"] li')
    history = page(caregiver.get(f"/patients/{patient}"))
    assert one(history, f'tr[data-report="{result["data-report"]}"]')


def test_check_in_in_fahrenheit_and_a_bad_temperature(clinic: DemoClinic) -> None:
    caregiver = clinic.browser("alex")
    patient = clinic.patients["P-001"]
    soup = page(caregiver.get(f"/patients/{patient}/check-in"))
    bad = caregiver.post(
        f"/patients/{patient}/check-in",
        data={"csrf_token": csrf_of(soup), "temperature": "hot", "temperature_unit": "F"},
    )
    assert bad.status_code == 422
    form = page(bad)
    assert one(form, '[data-error-for="temperature"]')
    assert one(form, 'input[name="temperature_unit"][value="F"]').has_attr("checked")
    fine = caregiver.post(
        f"/patients/{patient}/check-in",
        data={"csrf_token": csrf_of(soup), "temperature": "98.6", "temperature_unit": "F"},
    )
    assert fine.status_code == 200
    assert one(page(fine), "section.triage")["data-level"]


def test_spanish_from_accept_language_and_the_switch_is_remembered(clinic: DemoClinic) -> None:
    browser = clinic.browser(None)
    spanish = page(browser.get("/login", headers={"Accept-Language": "es-MX,es;q=0.9"}))
    html = spanish.find("html")
    assert html is not None
    assert html["lang"] == "es"
    heading = spanish.find("h1")
    assert heading is not None
    assert heading.get_text(strip=True) == gettext_for("es")("Log in")
    switch = one(spanish, 'a[data-language="en"]')
    browser.get(str(switch["href"]), headers={"Accept-Language": "es"})
    english = page(browser.get("/login", headers={"Accept-Language": "es"}))
    html = english.find("html")
    assert html is not None
    assert html["lang"] == "en"
