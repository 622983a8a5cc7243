"""Starting a course of another therapy from the patient's page (physician): the picker,
the therapy's fields with their preview, the course stored and shown on the patient page
with its plan and sources; what happened recorded there and the course ended. The demo's
CAR-T and inotuzumab patients show theirs."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from blina.demo import DEMO_THERAPY_PATIENTS
from tests.web.conftest import DemoClinic
from tests.web.soup import csrf_of, fragment, one, page

INOTUZUMAB = {
    "therapy": "inotuzumab",
    "bsa_m2": "1.72",
    "start": "2026-12-10",
    "transplant": "not-planned",
}
OBECABTAGENE = {
    "therapy": "obecabtagene",
    "start": "2026-12-14",
    "weight_kg": "60",
    "marrow_blasts_percent": "12",
    "product_ready_on": "2026-12-09",
}


def _new_patient(doctor: TestClient, code: str) -> int:
    soup = page(doctor.get("/clinic/patients/new"))
    made = doctor.post(
        "/clinic/patients",
        data={"code": code, "display_name": code, "csrf_token": csrf_of(soup)},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    return int(made.headers["location"].rsplit("/", 1)[1])


def _start(doctor: TestClient, patient: int, form: dict[str, str]) -> Any:
    soup = page(doctor.get(f"/patients/{patient}/therapy-courses/new?therapy={form['therapy']}"))
    return doctor.post(
        f"/patients/{patient}/therapy-courses",
        data={**form, "csrf_token": csrf_of(soup)},
        follow_redirects=False,
    )


@pytest.mark.parametrize("form", [INOTUZUMAB, OBECABTAGENE], ids=lambda f: f["therapy"])
def test_a_physician_starts_a_course_of_another_therapy_from_the_patient_page(
    clinic: DemoClinic, form: dict[str, str]
) -> None:
    doctor = clinic.browser("dr.lee")
    patient = _new_patient(doctor, f"W-{form['therapy']}")
    start = page(doctor.get(f"/patients/{patient}/courses/new"))
    picker = one(start, '[data-picker="course-therapy"]')
    link = one(picker, f'[data-therapy="{form["therapy"]}"] a')["href"]
    assert link == f"/patients/{patient}/therapy-courses/new?therapy={form['therapy']}"
    assert one(picker, '[data-therapy="blinatumomab"] a')["aria-current"] == "page"

    chosen = page(doctor.get(str(link)))
    therapy_form = one(chosen, '[data-form="therapy-course"]')
    assert one(therapy_form, 'input[name="therapy"]')["value"] == form["therapy"]
    assert therapy_form.select_one('input[name="start"]') is not None
    preview = fragment(
        doctor.get(
            f"/patients/{patient}/therapy-courses/preview",
            params=form,
            headers={"HX-Request": "true"},
        )
    )
    assert preview.find("html") is None, "an htmx request gets the partial only"
    assert one(preview, "[data-preview]")["data-preview"] == "plan"

    started = _start(doctor, patient, form)

    assert started.status_code == 303, started.text
    assert started.headers["location"] == f"/patients/{patient}#therapy"
    shown = page(doctor.get(f"/patients/{patient}"))
    section = one(shown, '[data-section="therapy"]')
    assert section["data-therapy"] == form["therapy"]
    assert section["data-status"] == "active"
    assert one(shown, '[data-section-link="therapy"]')
    assert int(str(one(section, "[data-preview]")["data-days"])) > 0
    assert section.select("[data-source]"), "the plan shows its sources"
    assert one(section, '[data-form="therapy-change"]')
    assert one(section, '[data-form="therapy-end"]')
    # the change form opens with the course's inputs as they stand
    change = one(section, '[data-form="therapy-change"]')
    assert one(change, 'input[name="start"]')["value"] == form["start"]


def test_a_refused_start_shows_the_form_again_with_the_message_beside_the_field(
    clinic: DemoClinic,
) -> None:
    doctor = clinic.browser("dr.lee")
    patient = _new_patient(doctor, "W-refused")

    refused = _start(doctor, patient, {**INOTUZUMAB, "transplant": ""})
    beside = _start(doctor, clinic.patients["P-001"], INOTUZUMAB)

    assert refused.status_code == 422
    assert one(page(refused), '[data-form="therapy-course"] [data-error-for="transplant"]')
    assert beside.status_code == 409, "P-001 has an active course of blinatumomab"
    assert (
        "already has an active course"
        in one(page(beside), '[data-form="therapy-course"] [data-error-for="form"]').text
    )


def test_what_happened_is_recorded_and_the_course_ended_on_the_patient_page(
    clinic: DemoClinic,
) -> None:
    doctor = clinic.browser("dr.lee")
    patient = _new_patient(doctor, "W-change")
    assert _start(doctor, patient, INOTUZUMAB).status_code == 303
    shown = page(doctor.get(f"/patients/{patient}"))
    section = one(shown, '[data-section="therapy"]')
    course = section["data-therapy-course"]

    changed = doctor.post(
        f"/therapy-courses/{course}/change",
        data={
            **INOTUZUMAB,
            "responses": "cr",
            "version": section["data-version"],
            "csrf_token": csrf_of(shown),
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303, changed.text
    shown = page(doctor.get(f"/patients/{patient}"))
    section = one(shown, '[data-section="therapy"]')
    assert section["data-version"] == "2"
    labels = {str(day["data-label"]) for day in section.select("tbody[data-label]")}
    assert any(label.startswith("C2") for label in labels), "the response plans cycle 2"

    stale = doctor.post(
        f"/therapy-courses/{course}/change",
        data={**INOTUZUMAB, "version": "1", "csrf_token": csrf_of(shown)},
    )
    assert stale.status_code == 409
    assert one(page(stale), '[data-form="therapy-change"] [data-error-for="form"]')
    no_reason = doctor.post(
        f"/therapy-courses/{course}/end",
        data={
            "outcome": "discontinued",
            "reason": "",
            "version": "2",
            "csrf_token": csrf_of(shown),
        },
    )
    assert no_reason.status_code == 422
    assert one(page(no_reason), '[data-form="therapy-end"] [data-error-for="reason"]')

    ended = doctor.post(
        f"/therapy-courses/{course}/end",
        data={
            "outcome": "discontinued",
            "reason": "no response",
            "version": "2",
            "csrf_token": csrf_of(shown),
        },
        follow_redirects=False,
    )

    assert ended.status_code == 303
    section = one(page(doctor.get(f"/patients/{patient}")), '[data-section="therapy"]')
    assert section["data-status"] == "discontinued"
    assert section.select_one('[data-form="therapy-change"]') is None


@pytest.mark.parametrize("who", ["nurse.kim", "pharm.ana"])
def test_staff_read_a_therapy_course_but_only_the_physician_starts_or_changes(
    clinic: DemoClinic, who: str
) -> None:
    browser = clinic.browser(who)
    patient = clinic.patients["P-005"]

    shown = page(browser.get(f"/patients/{patient}"))
    refused = browser.get(f"/patients/{patient}/therapy-courses/new?therapy=inotuzumab")

    section = one(shown, '[data-section="therapy"]')
    assert section["data-therapy"] == "obecabtagene"
    assert section.select_one('[data-form="therapy-change"]') is None
    assert refused.status_code == 403


def test_the_demo_shows_its_car_t_and_inotuzumab_patients(clinic: DemoClinic) -> None:
    doctor = clinic.browser("dr.lee")
    for demo in DEMO_THERAPY_PATIENTS:
        section = one(
            page(doctor.get(f"/patients/{clinic.patients[demo.code]}")),
            '[data-section="therapy"]',
        )
        assert section["data-therapy"] == demo.inputs.therapy
        assert section["data-status"] == "active"
