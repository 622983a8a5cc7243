"""Therapy courses over the API: started by a physician with the body of
``POST /calc/therapy-plan`` and answered with the same plan, one active treatment per
patient (409 naming the active one), changed as what happens is recorded (only the fields
sent, at the version read), ended; read by the clinic's staff and the patient's family."""

from typing import Any

import pytest
from tests.api.conftest import PEOPLE, World

INOTUZUMAB: dict[str, Any] = {
    "therapy": "inotuzumab",
    "bsa_m2": "1.72",
    "start": "2026-12-10",
    "transplant": "not-planned",
}
OBECABTAGENE: dict[str, Any] = {
    "therapy": "obecabtagene",
    "start": "2026-12-14",
    "weight_kg": 60,
    "marrow_blasts_percent": "12",
}
RITUXIMAB: dict[str, Any] = {
    "therapy": "rituximab",
    "bsa_m2": "1.5",
    "host_day1": {"copdam1": "2026-12-11"},
}


def _patient(world: World, code: str) -> int:
    answer = world.client.post(
        "/api/v1/patients",
        json={"code": code, "display_name": code},
        headers=world.as_("physician_a"),
    )
    assert answer.status_code == 201, answer.text
    patient: int = answer.json()["id"]
    return patient


def _start(world: World, patient: int, body: dict[str, Any], who: str = "physician_a") -> Any:
    return world.client.post(
        f"/api/v1/patients/{patient}/therapy-courses", json=body, headers=world.as_(who)
    )


def _patch(world: World, course: int, body: dict[str, Any], who: str = "physician_a") -> Any:
    return world.client.patch(
        f"/api/v1/therapy-courses/{course}", json=body, headers=world.as_(who)
    )


@pytest.mark.parametrize("body", [INOTUZUMAB, OBECABTAGENE, RITUXIMAB], ids=lambda b: b["therapy"])
def test_a_started_course_answers_with_the_calculators_plan(
    world: World, body: dict[str, Any]
) -> None:
    patient = _patient(world, f"TC-{body['therapy']}")

    started = _start(world, patient, body)

    assert started.status_code == 201, started.text
    course = started.json()
    assert course["status"] == "active"
    assert course["version"] == 1
    assert course["therapy"] == body["therapy"]
    assert course["inputs"]["therapy"] == body["therapy"]
    calculated = world.client.post(
        "/api/v1/calc/therapy-plan", json=body, headers=world.as_("physician_a")
    )
    assert course["plan"] == calculated.json()
    read = world.client.get(f"/api/v1/therapy-courses/{course['id']}", headers=world.as_("nurse_a"))
    assert read.status_code == 200
    assert read.json() == course


def test_one_active_treatment_per_patient(world: World) -> None:
    patient = _patient(world, "TC-one")
    first = _start(world, patient, INOTUZUMAB).json()

    second = _start(world, patient, OBECABTAGENE)
    beside_blinatumomab = _start(world, world.patient_a1, INOTUZUMAB)
    blinatumomab = world.client.post(
        f"/api/v1/patients/{patient}/courses",
        json={
            "indication": "mrd-positive",
            "weight_kg": 70,
            "age_years": 40,
            "start": "2026-12-20",
        },
        headers=world.as_("physician_a"),
    )

    assert second.status_code == 409
    assert f"therapy course {first['id']}" in second.json()["error"]
    assert beside_blinatumomab.status_code == 409
    assert "already has an active course" in beside_blinatumomab.json()["error"]
    assert blinatumomab.status_code == 409
    assert "inotuzumab" in blinatumomab.json()["error"]


def test_a_change_sends_only_what_happened_and_replans(world: World) -> None:
    patient = _patient(world, "TC-change")
    course = _start(world, patient, INOTUZUMAB).json()

    changed = _patch(
        world,
        course["id"],
        {"version": 1, "responses": ["cr"], "dose_dates": {"C1D8": "2026-12-18"}},
    )

    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after["version"] == 2
    assert after["inputs"] == {
        **course["inputs"],
        "responses": ["cr"],
        "dose_dates": {"C1D8": "2026-12-18"},
    }
    calculated = world.client.post(
        "/api/v1/calc/therapy-plan",
        json={**INOTUZUMAB, "responses": ["cr"], "dose_dates": {"C1D8": "2026-12-18"}},
        headers=world.as_("physician_a"),
    )
    assert after["plan"] == calculated.json()
    # a null clears what was given; the MRD is the API's "mrd"
    cleared = _patch(world, course["id"], {"version": 2, "dose_dates": {}, "mrd": "negative"})
    assert cleared.status_code == 200, cleared.text
    assert "dose_dates" not in cleared.json()["inputs"]
    assert cleared.json()["inputs"]["mrd_negative"] is True


def test_a_stale_version_is_409_and_a_refused_input_is_422_naming_it(world: World) -> None:
    patient = _patient(world, "TC-stale")
    course = _start(world, patient, OBECABTAGENE).json()
    assert _patch(world, course["id"], {"version": 1, "stay_near_days": 28}).status_code == 200

    stale = _patch(world, course["id"], {"version": 1, "no_driving_days": 56})
    wrong_kind = _patch(world, course["id"], {"version": 2, "transplant": "planned"})
    out_of_range = _patch(
        world, course["id"], {"version": 2, "first_dose_crs_grade": 5, "first_dose_icans_grade": 0}
    )
    therapy = _patch(world, course["id"], {"version": 2, "therapy": "inotuzumab"})
    nothing = _patch(world, course["id"], {"version": 2})

    assert stale.status_code == 409
    assert "version 2, not 1" in stale.json()["error"]
    for answer, field in (
        (wrong_kind, "transplant"),
        (out_of_range, "first_dose_crs_grade"),
        (therapy, "therapy"),
        (nothing, "changes"),
    ):
        assert answer.status_code == 422, answer.text
        assert field in [e["field"].split(".")[-1] for e in answer.json()["errors"]]


def test_ending_a_course_keeps_it_and_frees_the_patient(world: World) -> None:
    patient = _patient(world, "TC-end")
    course = _start(world, patient, OBECABTAGENE).json()

    no_reason = world.client.post(
        f"/api/v1/therapy-courses/{course['id']}/end",
        json={"version": 1, "outcome": "discontinued"},
        headers=world.as_("physician_a"),
    )
    ended = world.client.post(
        f"/api/v1/therapy-courses/{course['id']}/end",
        json={"version": 1, "outcome": "discontinued", "reason": "product not released"},
        headers=world.as_("physician_a"),
    )

    assert no_reason.status_code == 422
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "discontinued"
    assert ended.json()["ended_reason"] == "product not released"
    listed = world.client.get(
        f"/api/v1/patients/{patient}/therapy-courses", headers=world.as_("physician_a")
    )
    assert [c["id"] for c in listed.json()] == [course["id"]]
    assert _start(world, patient, INOTUZUMAB).status_code == 201


SEES_B = {"physician_b", "patient_b"}


@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_a_course_is_read_by_its_clinics_staff_and_family_changed_by_its_physician(
    world: World, who: str
) -> None:
    course = _start(world, world.patient_b, OBECABTAGENE, who="physician_b")
    if course.status_code == 409:  # started by an earlier parameter of this test
        listed = world.client.get(
            f"/api/v1/patients/{world.patient_b}/therapy-courses",
            headers=world.as_("physician_b"),
        )
        course_id = listed.json()[-1]["id"]
    else:
        course_id = course.json()["id"]

    read = world.client.get(f"/api/v1/therapy-courses/{course_id}", headers=world.as_(who))
    listed = world.client.get(
        f"/api/v1/patients/{world.patient_b}/therapy-courses", headers=world.as_(who)
    )
    changed = _patch(world, course_id, {"version": 999, "stay_near_days": 28}, who=who)
    started = _start(world, world.patient_b, INOTUZUMAB, who=who)

    assert read.status_code == (200 if who in SEES_B else 404)
    assert listed.status_code == (200 if who in SEES_B else 404)
    # the role first, then the clinic: only the clinic's physician reaches the version
    # check (and the one active treatment)
    refused = {"physician_b": 409, "physician_a": 404}.get(who, 403)
    assert changed.status_code == refused
    assert started.status_code == refused


def test_the_clinic_s_task_list_holds_a_therapy_course_s_rows_of_the_day(world: World) -> None:
    """The rows are the plan's entries the care team acts on (services/test_therapy_readers);
    here, their shape over the API: the therapy and its course named, no blinatumomab
    course."""
    patient = _patient(world, "TC-tasks")
    course = _start(world, patient, OBECABTAGENE).json()
    [first_dose] = [
        day
        for day in course["plan"]["days"]
        if any(e["kind"] == "dose" for e in day["entries"]) and day["date"] == OBECABTAGENE["start"]
    ]

    listed = world.client.get(
        f"/api/v1/clinic/tasks?day={first_dose['date']}", headers=world.as_("nurse_a")
    )
    elsewhere = world.client.get(
        f"/api/v1/clinic/tasks?day={first_dose['date']}", headers=world.as_("physician_b")
    )

    assert listed.status_code == 200
    rows = [t for t in listed.json() if t["patient_id"] == patient]
    assert [(t["kind"], t["therapy"], t["therapy_course_id"], t["course_id"]) for t in rows] == [
        (f"therapy-{e['kind']}", "obecabtagene", course["id"], None)
        for e in first_dose["entries"]
        if e["kind"] in ("dose", "premedication", "monitoring", "step", "visit")
    ]
    assert {t["state"] for t in rows} == {"due"}
    assert all(first_dose["label"] in t["text"] for t in rows)
    assert [t for t in elsewhere.json() if t["patient_id"] == patient] == []
