"""Every endpoint x every role: who may do what, and denials that do not leak."""

from collections.abc import Callable
from typing import Any

import pytest
from httpx2 import Response
from sqlalchemy import select
from tests.api.conftest import PEOPLE, World

from blina.store.tables import AuditEvent

STAFF_A = {"admin_a", "physician_a", "nurse_a", "pharmacist_a", "pharmacist_a2"}
SEES_A1 = STAFF_A | {"patient_a", "caregiver_a"}
EVERYONE = set(PEOPLE)


def _expect(allowed: set[str], ok: int, others: int | Callable[[str], int]) -> Callable[[str], int]:
    def status(who: str) -> int:
        if who in allowed:
            return ok
        return others(who) if callable(others) else others

    return status


def _hidden_unless_staff_of_a(forbidden: int) -> Callable[[str], int]:
    """Outsiders (another clinic, another patient's caregiver) get 404: the record's
    existence must not leak. Insiders without the role get ``forbidden``."""

    def status(who: str) -> int:
        return 404 if who in {"physician_b", "patient_b", "caregiver_other"} else forbidden

    return status


PLAN = {
    "indication": "mrd-positive",
    "weight_kg": 70,
    "age_years": 40,
    "start": "2026-12-01",
    "cycles": 1,
}
COURSE = {
    "indication": "mrd-positive",
    "weight_kg": 70,
    "age_years": 40,
    "start": "2026-12-20",
    "cycles": 1,
}


def _call(
    world: World, who: str, method: str, path: str, body: Any = None, headers: Any = None
) -> Response:
    url = path.format(
        a1=world.patient_a1, a2=world.patient_a2, b=world.patient_b, c1=world.course_a1
    )
    return world.client.request(
        method, f"/api/v1{url}", json=body, headers={**world.as_(who), **(headers or {})}
    )


CASES: list[tuple[str, str, str, Any, Callable[[str], int]]] = [
    ("me", "GET", "/me", None, _expect(EVERYONE, 200, 0)),
    ("users-list", "GET", "/users", None, _expect({"admin_a"}, 200, 403)),
    (
        "users-create",
        "POST",
        "/users",
        {
            "username": "newnurse",
            "display_name": "N",
            "role": "nurse",
            "password": "long enough pw",
        },
        _expect({"admin_a"}, 201, 403),
    ),
    # No user has this id: the clinic's admin is told so; everyone else is refused first.
    *[
        (f"users-{name}", method, f"/users/999999/{name}", body, _expect({"admin_a"}, 404, 403))
        for name, method, body in [
            ("deactivate", "POST", None),
            ("reactivate", "POST", None),
            ("role", "PUT", {"role": "nurse"}),
            ("phone", "PUT", {"phone": "+1 555 0100"}),
            ("reset-link", "POST", None),
        ]
    ],
    # One's own number: the family's, for the care team to call back.
    (
        "me-phone",
        "PUT",
        "/me/phone",
        {"phone": "+1 555 0101"},
        _expect({"patient_a", "caregiver_a", "caregiver_other", "patient_b"}, 200, 403),
    ),
    ("patients-list", "GET", "/patients", None, _expect(EVERYONE, 200, 0)),
    (
        "patients-create",
        "POST",
        "/patients",
        {"code": "NEW-{who}", "display_name": "New"},
        _expect({"admin_a", "physician_a", "nurse_a", "physician_b"}, 201, 403),
    ),
    ("patient-get", "GET", "/patients/{a1}", None, _expect(SEES_A1, 200, 404)),
    (
        "patient-phone",
        "PUT",
        "/patients/{a1}/phone",
        {"phone": "(555) 010-0102"},
        _expect({"physician_a", "nurse_a"}, 200, lambda who: 404 if who == "physician_b" else 403),
    ),
    ("courses-list", "GET", "/patients/{a1}/courses", None, _expect(SEES_A1, 200, 404)),
    (
        "course-start",
        "POST",
        "/patients/{a2}/courses",  # a1 has its active course already
        COURSE,
        _expect({"physician_a"}, 201, lambda who: 404 if who == "physician_b" else 403),
    ),
    ("course-get", "GET", "/courses/{c1}", None, _expect(SEES_A1, 200, 404)),
    (
        "course-change",
        "PATCH",
        "/courses/{c1}",
        {"version": 1, "bag_hours": 48},
        _expect({"physician_a"}, 200, lambda who: 404 if who == "physician_b" else 403),
    ),
    (
        "therapy-courses-list",
        "GET",
        "/patients/{a1}/therapy-courses",
        None,
        _expect(SEES_A1, 200, 404),
    ),
    (
        # a1 has its active course of blinatumomab: the physician of the clinic reaches
        # the one-active-treatment rule (409); everyone else is stopped before it.
        "therapy-course-start",
        "POST",
        "/patients/{a1}/therapy-courses",
        {"therapy": "inotuzumab", "bsa_m2": 1.7, "start": "2026-12-20", "transplant": "planned"},
        _expect({"physician_a"}, 409, lambda who: 404 if who == "physician_b" else 403),
    ),
    (
        "report-submit",
        "POST",
        "/patients/{a1}/symptom-reports",
        {"temperature": 38.4, "symptoms": {"fever": None, "chills": 1}},
        _expect(SEES_A1, 201, _hidden_unless_staff_of_a(404)),
    ),
    ("reports-list", "GET", "/patients/{a1}/symptom-reports", None, _expect(SEES_A1, 200, 404)),
    (
        "clinic-tasks",
        "GET",
        "/clinic/tasks?day=2026-12-08",
        None,
        _expect(STAFF_A | {"physician_b"}, 200, 403),
    ),
    ("calc-plan", "POST", "/calc/plan", PLAN, _expect(EVERYONE, 200, 0)),
    (
        "bag-prepare",
        "POST",
        "/courses/{c1}/bags",
        {},
        _expect({"pharmacist_a", "pharmacist_a2"}, 201, 403),
    ),
    # A bag record (the recipe, who prepared and checked it) is the clinic's staff's.
    (
        "bags-list",
        "GET",
        "/courses/{c1}/bags",
        None,
        _expect(STAFF_A, 200, lambda who: 404 if who == "physician_b" else 403),
    ),
    (
        # version 999 is never current: the physician of the clinic reaches the version
        # check (409); everyone else is stopped before it.
        "course-event",
        "POST",
        "/courses/{c1}/events",
        {
            "version": 999,
            "event": {
                "at": "2026-12-09T10:00:00Z",
                "kind": "interrupt",
                "cause": "crs",
                "grade": 3,
            },
        },
        _expect({"physician_a"}, 409, lambda who: 404 if who == "physician_b" else 403),
    ),
    (
        "assessment-record",
        "POST",
        "/courses/{c1}/assessments",
        {"findings": {"scale": "crs", "temperature_c": 38.5}},
        _expect({"physician_a", "nurse_a"}, 201, lambda who: 404 if who == "physician_b" else 403),
    ),
    ("assessments-list", "GET", "/courses/{c1}/assessments", None, _expect(SEES_A1, 200, 404)),
    (
        "calc-grade",
        "POST",
        "/calc/grade",
        {"findings": {"scale": "crs", "temperature_c": 38.5}},
        _expect(EVERYONE, 200, 0),
    ),
]


@pytest.mark.parametrize("who", sorted(PEOPLE))
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [pytest.param(m, p, b, e, id=name) for name, m, p, b, e in CASES],
)
def test_endpoint_by_role_answers_expected_status(
    world: World, who: str, method: str, path: str, body: Any, expected: Callable[[str], int]
) -> None:
    headers = (
        {"Idempotency-Key": f"key-{who}"}
        if path.endswith("symptom-reports") and method == "POST"
        else None
    )
    if isinstance(body, dict):
        body = {k: v.format(who=who) if isinstance(v, str) else v for k, v in body.items()}
    response = _call(world, who, method, path, body, headers)
    assert response.status_code == expected(who), response.text
    if response.status_code >= 400:
        assert response.json()["ok"] is False
        assert response.json()["status"] == response.status_code


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [pytest.param(m, p, b, e, id=n) for n, m, p, b, e in CASES],
)
def test_endpoint_without_token_answers_401(
    world: World, method: str, path: str, body: Any, expected: object
) -> None:
    url = path.format(
        a1=world.patient_a1, a2=world.patient_a2, b=world.patient_b, c1=world.course_a1
    )
    response = world.client.request(
        method, f"/api/v1{url}", json=body, headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error": "sign in first", "errors": [], "status": 401}


def test_patients_list_shows_only_what_the_actor_may_see(world: World) -> None:
    def codes(who: str) -> list[str]:
        return [p["code"] for p in _call(world, who, "GET", "/patients").json()]

    # Other tests of this module may register more patients (codes NEW-...).
    assert {"P-a1", "P-a2"} <= set(codes("nurse_a"))
    assert "P-b" not in codes("nurse_a")
    assert codes("patient_a") == ["P-a1"]
    assert codes("caregiver_other") == ["P-a2"]
    assert "P-b" in codes("physician_b")
    assert not [c for c in codes("physician_b") if c.startswith("P-a")]


def test_denial_is_audited(world: World) -> None:
    sessions = world.client.app.state.blina.sessions  # type: ignore[attr-defined]

    def denials() -> list[AuditEvent]:
        query = select(AuditEvent).where(
            AuditEvent.action == "access.denied", AuditEvent.actor_id.is_not(None)
        )
        with sessions() as session:
            return list(session.execute(query).scalars())

    world.client.app.state.blina.denials.flush(everything=True)  # type: ignore[attr-defined]
    before = len(denials())
    assert _call(world, "nurse_a", "GET", "/users").status_code == 403
    assert len(denials()) == before  # counted; written once its minute has closed
    world.client.app.state.blina.denials.flush(everything=True)  # type: ignore[attr-defined]
    after = denials()
    assert len(after) == before + 1
    assert after[-1].subject_id == "GET /api/v1/users"
    assert after[-1].after == {
        "reason": "only an admin lists users",
        "request": "GET /api/v1/users",
        "count": 1,
        "last_at": after[-1].at.isoformat(),
    }


def test_denial_of_a_long_request_line_is_audited_whole(world: World) -> None:
    # Longer than the subject column (40 characters): PostgreSQL enforces its width.
    path = "/alerts/2147483647/acknowledge"
    response = _call(world, "caregiver_a", "POST", path, {"outcome": "advice-given"})

    assert response.status_code == 403
    world.client.app.state.blina.denials.flush(everything=True)  # type: ignore[attr-defined]
    with world.client.app.state.blina.sessions() as session:  # type: ignore[attr-defined]
        denied = session.execute(
            select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
        ).scalar_one()
    assert denied.action == "access.denied"
    assert denied.subject_id == f"POST /api/v1{path}"[:40]
    assert denied.after["request"] == f"POST /api/v1{path}"
