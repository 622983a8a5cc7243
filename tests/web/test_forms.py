"""The patient page's forms: CRS and ICANS graded as they are filled (an htmx fragment)
and recorded, and interruptions, restarts and discontinuations recorded on the course.

Read as a DOM: assertions are on elements and data-* attributes.
"""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import select

from blina.demo import DEMO_ZONE
from blina.store.session import read_only
from blina.store.tables import Course, ToxicityAssessment
from tests.web.conftest import NOW, DemoClinic
from tests.web.soup import csrf_of, one, page

CRS_GRADE_3 = {
    "scale": "crs",
    "temperature_c": "39.5",
    "hypotension": "one-vasopressor",
    "oxygen": "low-flow",
}


def _local(hours_ago: float) -> str:
    """A time ``hours_ago`` before the test's now, as the form's datetime-local field."""
    return (NOW - timedelta(hours=hours_ago)).astimezone(DEMO_ZONE).strftime("%Y-%m-%dT%H:%M")


def _patient(clinic: DemoClinic, browser: TestClient, code: str) -> BeautifulSoup:
    response = browser.get(f"/patients/{clinic.patients[code]}")
    assert response.status_code == 200
    return page(response)


def _version(soup: BeautifulSoup) -> str:
    return str(one(soup, 'form[data-form="event"] input[name="version"]')["value"])


def _status(response: object) -> str:
    return str(one(page(response), "[data-status]")["data-status"])


def test_crs_is_graded_as_the_form_is_filled(clinic: DemoClinic) -> None:
    browser = clinic.browser("nurse.kim")
    response = browser.get(f"/courses/{clinic.courses['P-001']}/grade", params=CRS_GRADE_3)
    assert response.status_code == 200
    soup = page(response)
    result = one(soup, '[data-grade-result="crs"]')
    assert result["data-grade"] == "3"
    assert [li["data-decisive"] for li in result.select("[data-decisive]")] == ["hypotension"]
    assert one(result, "[data-action]")["data-action"] == "interrupt"
    # the fragment clears the message slot beside every field (out of band)
    slot = one(soup, "#crs-temperature_c-error")
    assert slot["hx-swap-oob"] == "true"
    assert not slot.select("[data-error-for]")


def test_icans_ice_2_awake_is_grade_3(clinic: DemoClinic) -> None:
    browser = clinic.browser("dr.lee")
    params = {"scale": "icans", "age_years": "41", "consciousness": "awake", "ice_score": "2"}
    soup = page(browser.get(f"/courses/{clinic.courses['P-001']}/grade", params=params))
    result = one(soup, '[data-grade-result="icans"]')
    assert result["data-grade"] == "3"
    assert [li["data-decisive"] for li in result.select("[data-decisive]")] == ["ICE score"]
    # P-001 is on day 3 of cycle 1, at 9 mcg/day: grade-3 neurotoxicity at the restart step
    # cannot be restarted lower, so the label's stricter reading discontinues.
    assert one(result, "[data-action]")["data-action"] == "discontinue"


def test_grade_0_shows_no_action(clinic: DemoClinic) -> None:
    browser = clinic.browser("nurse.kim")
    params = {"scale": "crs", "temperature_c": "37.0"}
    soup = page(browser.get(f"/courses/{clinic.courses['P-001']}/grade", params=params))
    assert one(soup, '[data-grade-result="crs"]')["data-grade"] == "0"
    assert not soup.select("[data-action]")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"scale": "crs", "temperature_c": "55"}, "temperature_c"),
        ({"scale": "crs", "temperature_c": "warm"}, "temperature_c"),
        ({"scale": "icans", "age_years": "41", "consciousness": "awake"}, "ice_score"),
        (
            {"scale": "icans", "age_years": "41", "consciousness": "awake", "ice_score": "11"},
            "ice_score",
        ),
        (
            {"scale": "icans", "age_years": "7", "consciousness": "awake", "ice_score": "5"},
            "ice_score",
        ),
    ],
)
def test_a_bad_value_is_shown_beside_its_field(
    clinic: DemoClinic, params: dict[str, str], field: str
) -> None:
    browser = clinic.browser("nurse.kim")
    soup = page(browser.get(f"/courses/{clinic.courses['P-001']}/grade", params=params))
    assert one(soup, "[data-grade-result]")["data-grade"] == "none"
    slot = one(soup, f"#{params['scale']}-{field}-error")
    assert slot["hx-swap-oob"] == "true"
    # named by the form's label, not by the field's code name
    label = {"temperature_c": "Temperature (C): ", "ice_score": "ICE score (0-10, from 12 years): "}
    assert one(slot, f'[data-error-for="{field}"]').get_text().startswith(label[field])


@pytest.mark.parametrize(
    ("who", "forms"),
    [
        # the number to call back at the top; in the page's sections: Plan (end), Bags
        # (hang), Toxicity (crs, icans, event), Labs
        ("dr.lee", ["patient-phone", "end", "hang", "crs", "icans", "event", "lab"]),
        ("nurse.kim", ["patient-phone", "hang", "crs", "icans", "lab"]),
        ("pharm.ana", []),
        ("admin", []),
        ("alex", []),
        ("alex.partner", []),
    ],
)
def test_who_sees_the_forms(clinic: DemoClinic, who: str, forms: list[str]) -> None:
    soup = _patient(clinic, clinic.browser(who), "P-001")
    assert [f["data-form"] for f in soup.select("form[data-form]")] == forms


def test_a_nurse_records_a_grading(clinic: DemoClinic) -> None:
    browser = clinic.browser("nurse.kim")
    course = clinic.courses["P-001"]
    soup = _patient(clinic, browser, "P-001")
    form = one(soup, 'form[data-form="crs"]')
    assert form["action"] == f"/courses/{course}/assessments#crs-problems"
    data = {**CRS_GRADE_3, "csrf_token": csrf_of(soup)}
    response = browser.post(form["action"], data=data, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/patients/{clinic.patients['P-001']}#gradings"
    with read_only(clinic.app.state.blina.sessions) as session:
        rows = list(
            session.execute(
                select(ToxicityAssessment).where(ToxicityAssessment.course_id == course)
            ).scalars()
        )
    assert [(r.grade, r.decision["action"]["kind"]) for r in rows] == [(3, "interrupt")]
    assert rows[0].inputs["hypotension"] == "one-vasopressor"


def test_a_bad_grading_is_not_recorded_and_shows_beside_the_field(clinic: DemoClinic) -> None:
    browser = clinic.browser("dr.lee")
    soup = _patient(clinic, browser, "P-003")
    data = {"scale": "crs", "temperature_c": "20", "csrf_token": csrf_of(soup)}
    response = browser.post(
        f"/courses/{clinic.courses['P-003']}/assessments", data=data, follow_redirects=False
    )
    assert response.status_code == 422
    form = one(page(response), 'form[data-form="crs"]')
    assert one(form, '[data-error-for="temperature_c"]')
    assert one(form, 'input[name="temperature_c"]')["value"] == "20"


def test_an_interruption_then_a_restart_are_replanned(clinic: DemoClinic) -> None:
    browser = clinic.browser("dr.lee")
    course = clinic.courses["P-002"]
    soup = _patient(clinic, browser, "P-002")
    assert not soup.select("section.decisions li[data-action]")
    interruption = {
        "csrf_token": csrf_of(soup),
        "version": _version(soup),
        "kind": "interrupt",
        "at": _local(5),
        "cause": "crs",
        "grade": "3",
    }
    response = browser.post(f"/courses/{course}/events", data=interruption, follow_redirects=False)
    assert response.status_code == 303, page(response).get_text()
    assert response.headers["location"] == f"/patients/{clinic.patients['P-002']}#decisions"
    soup = _patient(clinic, browser, "P-002")
    after_interruption = [li["data-action"] for li in soup.select("section.decisions li")]
    assert after_interruption == ["interrupt"]
    restart = {
        "csrf_token": csrf_of(soup),
        "version": _version(soup),
        "kind": "restart",
        "at": _local(1),
    }
    response = browser.post(f"/courses/{course}/events", data=restart, follow_redirects=False)
    assert response.status_code == 303, page(response).get_text()
    soup = _patient(clinic, browser, "P-002")
    after_restart = [li["data-action"] for li in soup.select("section.decisions li")]
    assert after_restart[0] == "interrupt"
    assert "restart" in after_restart
    with read_only(clinic.app.state.blina.sessions) as session:
        assert session.get(Course, course).version == int(interruption["version"]) + 2  # type: ignore[union-attr]


def test_a_stale_version_shows_the_conflict(clinic: DemoClinic) -> None:
    browser = clinic.browser("dr.lee")
    soup = _patient(clinic, browser, "P-003")
    stale = int(_version(soup)) - 1
    data = {
        "csrf_token": csrf_of(soup),
        "version": str(stale),
        "kind": "interrupt",
        "at": _local(2),
        "cause": "neurological",
        "grade": "2",
    }
    response = browser.post(
        f"/courses/{clinic.courses['P-003']}/events", data=data, follow_redirects=False
    )
    assert response.status_code == 409
    message = one(page(response), '[data-error-for="event"]').get_text()
    assert "changed since it was read" in message


def test_a_bad_event_time_shows_beside_the_field(clinic: DemoClinic) -> None:
    browser = clinic.browser("dr.lee")
    soup = _patient(clinic, browser, "P-003")
    data = {
        "csrf_token": csrf_of(soup),
        "version": _version(soup),
        "kind": "interrupt",
        "at": _local(-48),  # in the future
        "cause": "crs",
        "grade": "2",
    }
    response = browser.post(
        f"/courses/{clinic.courses['P-003']}/events", data=data, follow_redirects=False
    )
    assert response.status_code == 422
    assert one(page(response), 'form[data-form="event"] [data-error-for="at"]')


def test_a_nurse_cannot_record_an_interruption(clinic: DemoClinic) -> None:
    browser = clinic.browser("nurse.kim")
    soup = _patient(clinic, browser, "P-003")
    data = {
        "csrf_token": csrf_of(soup),
        "version": "1",
        "kind": "interrupt",
        "at": _local(2),
        "cause": "crs",
        "grade": "3",
    }
    response = browser.post(
        f"/courses/{clinic.courses['P-003']}/events", data=data, follow_redirects=False
    )
    assert response.status_code == 403
    assert _status(response) == "403"


def test_a_caregiver_can_neither_grade_nor_record(clinic: DemoClinic) -> None:
    browser = clinic.browser("alex.partner")
    course = clinic.courses["P-001"]
    soup = _patient(clinic, browser, "P-001")
    token = csrf_of(soup)
    live = browser.get(f"/courses/{course}/grade", params=CRS_GRADE_3)
    assert live.status_code == 403
    grading = browser.post(
        f"/courses/{course}/assessments", data={**CRS_GRADE_3, "csrf_token": token}
    )
    assert grading.status_code == 403
    assert _status(grading) == "403"
    event = {"csrf_token": token, "version": "1", "kind": "discontinue", "at": _local(1)}
    response = browser.post(f"/courses/{course}/events", data=event)
    assert response.status_code == 403
    assert _status(response) == "403"


@pytest.mark.parametrize("path", ["/courses/{c}/assessments", "/courses/{c}/events"])
@pytest.mark.parametrize("token", [None, "0" * 64])
def test_both_forms_refuse_a_post_without_a_valid_token(
    clinic: DemoClinic, path: str, token: str | None
) -> None:
    browser = clinic.browser("dr.lee")
    soup = _patient(clinic, browser, "P-003")
    data = {**CRS_GRADE_3, "version": _version(soup), "kind": "discontinue", "at": _local(1)}
    if token is not None:
        data["csrf_token"] = token
    response = browser.post(
        path.format(c=clinic.courses["P-003"]), data=data, follow_redirects=False
    )
    assert response.status_code == 403
    assert _status(response) == "403"
    assert _patient(clinic, browser, "P-003").select('form[data-form="event"]')


def test_a_physician_discontinues_a_course(clinic: DemoClinic) -> None:
    browser = clinic.browser("dr.lee")
    soup = _patient(clinic, browser, "P-004")  # interrupted six hours ago by the demo
    data = {
        "csrf_token": csrf_of(soup),
        "version": _version(soup),
        "kind": "discontinue",
        "at": _local(1),
        "reason": "persistent grade 3 CRS",
    }
    response = browser.post(
        f"/courses/{clinic.courses['P-004']}/events", data=data, follow_redirects=False
    )
    assert response.status_code == 303, page(response).get_text()
    soup = _patient(clinic, browser, "P-004")
    assert one(soup, "p.regimen")["data-status"] == "discontinued"
    assert soup.select("section.decisions li[data-action]")
