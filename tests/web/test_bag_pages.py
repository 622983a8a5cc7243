"""A bag's whole life from the patient page, and the premedication recorded as given from
the state banner, on the demo clinic at its fixed instant (10 Dec 2026, 10:30 in Paris).

P-003's demo course is cancelled as entered in error and a new one starts today at 11:00
Paris (a child, relapsed-refractory, 48-h bags): its first premedication is due now and
its first bag may be hung from 10:00. Read as a DOM: assertions are on data-* attributes.
"""

from decimal import Decimal
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fastapi.testclient import TestClient

from tests.web.conftest import DemoClinic
from tests.web.soup import csrf_of, one, page

COURSE = {
    "indication": "relapsed-refractory",
    "start": "2026-12-10",
    "start_time": "11:00",
    "weight_kg": "21.5",
    "height_cm": "118",
    "age_years": "7",
    "bag_hours": "48",
    "cycles": "",
}


@pytest.fixture(scope="module")
def patient(clinic: DemoClinic) -> int:
    """P-003 with a new course starting today at 11:00 Paris."""
    doctor = clinic.browser("dr.lee")
    patient = clinic.patients["P-003"]
    soup = page(doctor.get(f"/patients/{patient}"))
    end_form = one(soup, '[data-form="end"]')
    ended = doctor.post(
        f"/courses/{clinic.courses['P-003']}/end",
        data={
            "outcome": "cancelled",
            "reason": "entered in error",
            "version": one(end_form, 'input[name="version"]')["value"],
            "csrf_token": csrf_of(soup),
        },
        follow_redirects=False,
    )
    assert ended.status_code == 303
    form = page(doctor.get(f"/patients/{patient}/courses/new"))
    started = doctor.post(
        f"/patients/{patient}/courses",
        data={**COURSE, "csrf_token": csrf_of(form)},
        follow_redirects=False,
    )
    assert started.status_code == 303, page(started).get_text()
    return patient


def _page(browser: TestClient, patient: int) -> BeautifulSoup:
    response = browser.get(f"/patients/{patient}")
    assert response.status_code == 200
    return page(response)


def _post(browser: TestClient, patient: int, path: str, **data: str) -> Any:
    soup = _page(browser, patient)
    return browser.post(path, data={**data, "csrf_token": csrf_of(soup)}, follow_redirects=False)


def _bag(soup: BeautifulSoup, bag_id: str) -> BeautifulSoup:
    return one(soup, f'tr[data-bag="{bag_id}"]')


def _prepare(clinic: DemoClinic, patient: int) -> str:
    """The next bag, prepared by pharm.ana (a reason for each soft check) and returned."""
    ana = clinic.browser("pharm.ana")
    soup = _page(ana, patient)
    course = one(soup, "form.prepare")["action"]
    response = ana.post(course, data={"csrf_token": csrf_of(soup)}, follow_redirects=False)
    if response.status_code == 422:
        codes = [i["name"] for i in page(response).select("form.prepare input[name^=override-]")]
        data = dict.fromkeys(codes, "checked against the current label")
        response = ana.post(
            course, data={**data, "csrf_token": csrf_of(soup)}, follow_redirects=False
        )
    assert response.status_code == 303, page(response).get_text()
    return str(_page(ana, patient).select("tr[data-bag]")[-1]["data-bag"])


def _verify(clinic: DemoClinic, patient: int, bag_id: str) -> None:
    ben = clinic.browser("pharm.ben")
    response = _post(ben, patient, f"/bags/{bag_id}/verify")
    assert response.status_code == 303


def test_the_premedication_due_is_recorded_as_given_from_the_banner(
    clinic: DemoClinic, patient: int
) -> None:
    nurse = clinic.browser("nurse.kim")
    soup = _page(nurse, patient)
    banner = one(soup, "section.state-banner")
    assert banner["data-phase"] == "not-started"
    due = one(banner, "[data-premedication-due]")
    assert due["data-premedication-due"] == "dexamethasone"
    form = one(due, 'form[data-form="premedication-given"]')
    fields = {i["name"]: i["value"] for i in form.select("input[name]")}
    assert fields["given_at"] == "2026-12-10T10:30"

    late = nurse.post(
        form["action"], data={**fields, "given_at": "2026-12-10T11:31"}, follow_redirects=False
    )
    assert late.status_code == 422, "given after now"
    assert (
        one(page(late), '[data-error-for="premedication"]')
        .get_text()
        .startswith("Given at (clinic time): Thu 10 Dec 11:31 is not allowed")
    )

    response = nurse.post(form["action"], data=fields, follow_redirects=False)
    assert response.status_code == 303
    assert not _page(nurse, patient).select("[data-premedication-due]")
    again = nurse.post(form["action"], data=fields, follow_redirects=False)
    assert again.status_code == 409, "recorded once"
    tasks = page(nurse.get("/")).select(
        f'li[data-task-kind="premedication"][data-patient="{patient}"]'
    )
    assert [t["data-task-state"] for t in tasks] == ["done"]
    # The CRS form says that fever may be masked by the dose just given.
    masking = one(_page(nurse, patient), 'form[data-form="crs"] [data-masking-given]')
    assert "dexamethasone" in masking.get_text()


def test_a_pharmacist_cannot_record_a_premedication(clinic: DemoClinic, patient: int) -> None:
    ana = clinic.browser("pharm.ana")
    soup = _page(ana, patient)
    assert not soup.select('form[data-form="premedication-given"]')
    course = one(soup, "form.prepare")["action"].rsplit("/", 1)[0]
    response = ana.post(
        f"{course}/premedication",
        data={
            "drug": "dexamethasone",
            "due": "2026-12-10T10:00",
            "given_at": "2026-12-10T10:00",
            "csrf_token": csrf_of(soup),
        },
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_a_bag_prepared_verified_dispensed_hung_and_removed(
    clinic: DemoClinic, patient: int
) -> None:
    bag_id = _prepare(clinic, patient)
    _verify(clinic, patient, bag_id)
    ana = clinic.browser("pharm.ana")
    soup = _page(ana, patient)
    dispense = one(_bag(soup, bag_id), 'form[data-form="dispense"]')
    assert [o["value"] for o in dispense.select("option")] == ["ward", "home"]
    wrong = _post(ana, patient, f"/bags/{bag_id}/dispense", to="moon")
    assert wrong.status_code == 422
    assert "to" in one(page(wrong), f'[data-error-for="verify-{bag_id}"]').get_text()
    response = _post(ana, patient, f"/bags/{bag_id}/dispense", to="ward")
    assert response.status_code == 303
    assert response.headers["location"] == f"/patients/{patient}#bag-{bag_id}"
    assert _bag(_page(ana, patient), bag_id)["data-bag-status"] == "dispensed"

    worksheet = page(ana.get(f"/bags/{bag_id}/worksheet"))
    rate = one(worksheet, 'tr[data-field="rate_ml_per_h"] td[data-value]')["data-value"]
    volume = one(worksheet, 'tr[data-field="infuse_ml"] td[data-value]')["data-value"]
    code = _bag(_page(ana, patient), bag_id)["data-code"]
    nurse = clinic.browser("nurse.kim")
    ten_times = str(Decimal(rate) * 10)
    refused = _post(
        nurse,
        patient,
        f"/patients/{patient}/bags/hang",
        code=code,
        rate_ml_per_h=ten_times,
        volume_ml=volume,
    )
    assert refused.status_code == 422
    form = one(page(refused), 'form[data-form="hang"]')
    assert "overdose" in one(form, '[data-error-for="hang"]').get_text()
    # The form comes back as sent, for the one field to be corrected.
    assert [one(form, f"#hang-{name}")["value"] for name in ("code", "rate", "volume")] == [
        code,
        ten_times,
        volume,
    ]
    hung = _post(
        nurse,
        patient,
        f"/patients/{patient}/bags/hang",
        code=code,
        rate_ml_per_h=rate,
        volume_ml=volume,
    )
    assert hung.status_code == 303, page(hung).get_text()
    soup = _page(nurse, patient)
    assert _bag(soup, bag_id)["data-bag-status"] == "hung"
    assert one(soup, "section.state-banner [data-running]")["data-running"] == code

    bad = _post(nurse, patient, f"/bags/{bag_id}/remove", volume_left_ml="-1")
    assert bad.status_code == 422
    message = one(page(bad), f'[data-error-for="verify-{bag_id}"]').get_text()
    assert message.startswith("Volume left in the bag (mL), if measured: -1 is not allowed")
    removed = _post(nurse, patient, f"/bags/{bag_id}/remove", volume_left_ml="1.5")
    assert removed.status_code == 303
    soup = _page(nurse, patient)
    assert _bag(soup, bag_id)["data-bag-status"] == "removed"
    assert not _bag(soup, bag_id).select("form")
    again = _post(nurse, patient, f"/bags/{bag_id}/remove")
    assert again.status_code == 409


def test_a_bag_voided_by_the_pharmacy_then_one_discarded_on_the_ward(
    clinic: DemoClinic, patient: int
) -> None:
    first = _prepare(clinic, patient)
    ana = clinic.browser("pharm.ana")
    end = one(_bag(_page(ana, patient), first), 'form[data-form="end-bag"]')
    assert one(end, 'input[name="outcome"]')["value"] == "voided"
    no_reason = _post(ana, patient, f"/bags/{first}/end", outcome="voided", reason=" ")
    assert no_reason.status_code == 422
    voided = _post(ana, patient, f"/bags/{first}/end", outcome="voided", reason="wrong saline")
    assert voided.status_code == 303
    assert _bag(_page(ana, patient), first)["data-bag-status"] == "voided"

    # The voided bag freed its slot: the next one is made for the same slot.
    second = _prepare(clinic, patient)
    assert (
        _bag(_page(ana, patient), second)["data-code"]
        != _bag(_page(ana, patient), first)["data-code"]
    )
    _verify(clinic, patient, second)
    nurse = clinic.browser("nurse.kim")
    end = one(_bag(_page(nurse, patient), second), 'form[data-form="end-bag"]')
    assert one(end, 'input[name="outcome"]')["value"] == "discarded"
    refused = _post(nurse, patient, f"/bags/{second}/end", outcome="voided", reason="x")
    assert refused.status_code == 403, "only the pharmacy voids"
    discarded = _post(
        nurse, patient, f"/bags/{second}/end", outcome="discarded", reason="dropped on the floor"
    )
    assert discarded.status_code == 303
    assert _bag(_page(nurse, patient), second)["data-bag-status"] == "discarded"


def test_a_family_member_sees_no_bag_forms(clinic: DemoClinic) -> None:
    soup = _page(clinic.browser("alex"), clinic.patients["P-001"])
    assert one(soup, "section.state-banner")
    assert not soup.select("section.bags")
    assert not soup.select('form[data-form="premedication-given"], form[data-form="hang"]')
