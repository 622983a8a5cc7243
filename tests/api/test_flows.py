"""Use cases through the API: a course and its plan, 409 on a stale edit, the task list,
and the error shape in the CLI's words (check-ins: test_check_ins).

The routes' wiring: status, the answer's shape, who may. The rules behind the answers are
checked at the service or domain tier: a course's plan and its re-plan in
services/test_courses, the day's tasks in services/test_tasks, a bag's recipe and its
verification in services/test_pharmacy, gradings in services/test_toxicity and
services/test_gradings, the bag calculator's checks in domain/pharmacy."""

from typing import Any

import pytest
from tests.api.conftest import World

from blina.api.routes.home import _accepts_gzip
from blina.store.tables import Course


def _post(world: World, who: str, path: str, body: Any, **headers: str) -> Any:
    return world.client.post(f"/api/v1{path}", json=body, headers={**world.as_(who), **headers})


def _new_patient(world: World, code: str) -> int:
    """A patient of clinic a with no course yet (a patient has one active course)."""
    created = _post(world, "nurse_a", "/patients", {"code": code, "display_name": code})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _sessions(world: World) -> Any:
    return world.client.app.state.blina.sessions  # type: ignore[attr-defined]


def test_course_get_returns_the_derived_plan(world: World) -> None:
    """The plan's figures: services/test_courses
    (test_a_course_read_back_carries_its_plan_stepping_up_from_9_to_28_mcg_a_day)."""
    answer = world.client.get(f"/api/v1/courses/{world.course_a1}", headers=world.as_("nurse_a"))

    assert answer.status_code == 200
    course = answer.json()
    assert course["regimen_id"] == "relapsed-refractory"
    assert course["weight_kg"] == 70
    plan = course["plan"]
    assert plan["days"][0]["date"] == "2026-12-08"
    assert set(plan["days"][0]) >= {"date", "dose_mcg_per_day", "premedication"}
    assert plan["zone"] == "Europe/Paris"


def test_course_change_with_stale_version_answers_409_and_changes_nothing(world: World) -> None:
    created = _post(
        world,
        "physician_a",
        f"/patients/{world.patient_a2}/courses",
        {
            "indication": "mrd-positive",
            "weight_kg": 60,
            "age_years": 30,
            "start": "2027-01-04",
            "cycles": 2,
        },
    ).json()
    path = f"/api/v1/courses/{created['id']}"
    first = world.client.patch(
        path, json={"version": 1, "bag_hours": 48}, headers=world.as_("physician_a")
    )
    stale = world.client.patch(
        path, json={"version": 1, "bag_hours": 96}, headers=world.as_("physician_a")
    )

    assert first.status_code == 200
    assert first.json()["version"] == 2
    assert stale.status_code == 409
    assert stale.json()["status"] == 409
    with _sessions(world)() as session:
        stored = session.get(Course, created["id"])
        assert (stored.bag_hours, stored.version) == (48, 2)


def test_clinic_tasks_lists_bag_changes_admission_and_premedication(world: World) -> None:
    """Which tasks a day lists: services/test_tasks
    (test_the_first_day_lists_the_course_s_tasks_with_their_state,
    test_the_day_the_inpatient_days_end_lists_the_discharge)."""
    answer = world.client.get("/api/v1/clinic/tasks?day=2026-12-08", headers=world.as_("nurse_a"))

    assert answer.status_code == 200
    kinds = {t["kind"] for t in answer.json() if t["patient_code"] == "P-a1"}
    assert "bag-change" in kinds


def test_bad_input_answers_422_in_the_cli_words(world: World) -> None:
    response = _post(
        world,
        "nurse_a",
        "/calc/plan",
        {"indication": "mrd-positive", "weight_kg": 0, "age_years": 40, "start": "2026-12-01"},
    )

    assert response.status_code == 422
    assert response.json() == {
        "ok": False,
        "error": "weight_kg 0 is not allowed: must be > 0 and <= 350",
        "errors": [
            {
                "field": "weight_kg",
                "value": "0",
                "allowed": "> 0 and <= 350",
                "message": "weight_kg 0 is not allowed: must be > 0 and <= 350",
            }
        ],
        "status": 422,
    }


def test_unknown_indication_answers_422_listing_the_known_ones(world: World) -> None:
    response = _post(
        world,
        "nurse_a",
        "/calc/plan",
        {"indication": "induction", "weight_kg": 70, "age_years": 40, "start": "2026-12-01"},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "indication"
    assert "relapsed-refractory" in response.json()["error"]


def test_malformed_json_field_answers_422_naming_the_field(world: World) -> None:
    response = _post(
        world, "nurse_a", "/calc/plan", {"indication": "mrd-positive", "weight_kg": "heavy"}
    )

    assert response.status_code == 422
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields[0] == "weight_kg"
    assert "age_years" in fields


def test_login_api_session_cookie_and_bearer(world: World) -> None:
    cookie = world.client.post(
        "/api/v1/auth/login",
        json={"username": "nurse_a", "password": "correct horse battery", "kind": "session"},
    )
    assert cookie.status_code == 200
    assert "blina_session" in cookie.cookies
    assert "httponly" in cookie.headers["set-cookie"].lower()
    assert "samesite=strict" in cookie.headers["set-cookie"].lower()
    wrong = world.client.post(
        "/api/v1/auth/login", json={"username": "nurse_a", "password": "nope"}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "wrong username or password"


def test_text_with_a_nul_character_is_bad_input_on_every_database(world: World) -> None:
    """PostgreSQL cannot store NUL in text: the request is refused as input (422), the same
    on SQLite, never a 500 (a generated request found it)."""
    login = world.client.post("/api/v1/auth/login", json={"username": "\x00", "password": "x"})
    patient = world.client.post(
        "/api/v1/patients",
        json={"code": "P-\x00", "display_name": "N"},
        headers=world.as_("nurse_a"),
    )

    for response in (login, patient):
        assert response.status_code == 422
        assert "text without NUL (0x00) characters" in response.json()["error"]


def test_openapi_lists_every_route(world: World) -> None:
    paths = world.client.get("/openapi.json").json()["paths"]

    assert {
        "/api/v1/health",
        "/api/v1/auth/login",
        "/api/v1/patients",
        "/api/v1/patients/{patient_id}/courses",
        "/api/v1/courses/{course_id}",
        "/api/v1/patients/{patient_id}/symptom-reports",
        "/api/v1/clinic/tasks",
        "/api/v1/calc/plan",
    } <= set(paths)


def test_bag_prepared_by_one_pharmacist_verified_by_another(world: World) -> None:
    prepared = _post(world, "pharmacist_a", f"/courses/{world.course_a1}/bags", {})
    assert prepared.status_code == 201, prepared.text
    bag = prepared.json()
    recipe = bag["recipe"]
    # Now is 2026-12-10 09:30 UTC; the next 24-h bag is hung on C1D4, 2026-12-11 09:00 Paris.
    # (The recipe's figures: services/test_pharmacy,
    # test_a_prepared_bag_carries_its_recipe_for_the_slot.)
    assert recipe["bag_start"] == "2026-12-11T08:00:00+00:00"
    assert set(recipe) >= {"prescription", "rate_ml_per_h", "infuse_ml", "total_ml"}

    same = _post(world, "pharmacist_a", f"/bags/{bag['id']}/verify", None)
    other = _post(world, "pharmacist_a2", f"/bags/{bag['id']}/verify", None)
    again = _post(world, "pharmacist_a2", f"/bags/{bag['id']}/verify", None)

    assert same.status_code == 403
    assert "never by the one who prepared it" in same.json()["error"]
    assert other.status_code == 200
    assert other.json()["verified_by"] != bag["prepared_by"]
    assert again.status_code == 409


def test_bag_for_a_time_that_is_no_bag_answers_422_naming_the_field(world: World) -> None:
    response = _post(
        world,
        "pharmacist_a",
        f"/courses/{world.course_a1}/bags",
        {"bag_start": "2026-12-11T08:30:00Z"},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "bag_start"


def test_interruption_and_restart_replan_the_course_through_the_label(world: World) -> None:
    physician = world.as_("physician_a")
    created = _post(
        world,
        "physician_a",
        f"/patients/{_new_patient(world, 'P-replan')}/courses",
        {
            "indication": "relapsed-refractory",
            "weight_kg": 70,
            "age_years": 40,
            "start": "2026-12-01",
            "confirm_past_start": True,
        },
    ).json()
    path = f"/courses/{created['id']}/events"
    interrupt = {"at": "2026-12-09T10:00:00Z", "kind": "interrupt", "cause": "crs", "grade": 3}
    interrupted = _post(
        world, "physician_a", path, {"version": created["version"], "event": interrupt}
    )
    assert interrupted.status_code == 201, interrupted.text
    stale = _post(world, "physician_a", path, {"version": created["version"], "event": interrupt})
    assert stale.status_code == 409

    restart = {"at": "2026-12-10T09:00:00Z", "kind": "restart", "dose_mcg_per_day": 9}
    restarted = _post(
        world, "physician_a", path, {"version": interrupted.json()["version"], "event": restart}
    )

    assert restarted.status_code == 201, restarted.text
    # The re-plan's decisions and doses: services/test_courses
    # (test_an_interruption_and_a_restart_replan_the_course_through_the_label).
    plan = restarted.json()["plan"]
    actions = [d["action"] for d in plan["decisions"]]
    assert actions[:2] == ["interrupt", "continue-cycle"]
    assert plan["status"] == "active"
    listed = world.client.get(f"/api/v1/courses/{created['id']}", headers=physician).json()
    assert listed["plan"]["decisions"] == plan["decisions"]


def test_restart_without_interruption_answers_422_and_changes_nothing(world: World) -> None:
    course = world.client.get(
        f"/api/v1/courses/{world.course_a1}", headers=world.as_("physician_a")
    )
    version = course.json()["version"]
    response = _post(
        world,
        "physician_a",
        f"/courses/{world.course_a1}/events",
        {"version": version, "event": {"at": "2026-12-09T09:00:00Z", "kind": "restart"}},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("event")
    again = world.client.get(f"/api/v1/courses/{world.course_a1}", headers=world.as_("physician_a"))
    assert again.json()["version"] == version


def test_crs_grade_3_recorded_with_the_labels_action(world: World) -> None:
    findings = {
        "scale": "crs",
        "temperature_c": 39.5,
        "hypotension": "one-vasopressor",
        "oxygen": "low-flow",
    }
    response = _post(
        world, "nurse_a", f"/courses/{world.course_a1}/assessments", {"findings": findings}
    )

    assert response.status_code == 201, response.text
    # The grade and the label's action: services/test_toxicity
    # (test_a_grade_3_crs_is_stored_with_the_label_s_corticosteroid_and_restart_dose).
    body = response.json()
    assert body["grade"] == 3
    assert body["decision"]["action"]["kind"] == "interrupt"
    assert (
        _post(
            world, "caregiver_a", f"/courses/{world.course_a1}/assessments", {"findings": findings}
        ).status_code
        == 403
    )
    calc = _post(world, "caregiver_a", "/calc/grade", {"findings": findings})
    assert calc.status_code == 200
    assert calc.json()["grade"] == 3


def test_calc_bag_answers_like_blina_bag(world: World) -> None:
    """The recipe's figures and the checks behind a hard stop: domain/pharmacy
    (test_recipe's test_prepare_bag_24h_28_mcg_solves_mass_balance_to_measurable_volume,
    test_prescription's test_check_prescription_seven_day_bag_under_the_weight_floor_is_a_
    hard_stop and test_check_prescription_fixed_dose_for_an_infant_names_the_dose_per_m2)."""
    recipe = _post(
        world, "pharmacist_a", "/calc/bag", {"hours": 24, "weight_kg": 70, "dose_mcg_per_day": 28}
    )
    stopped = _post(
        world, "pharmacist_a", "/calc/bag", {"hours": 168, "weight_kg": 5, "dose_mcg_per_day": 9}
    )

    assert recipe.status_code == 200
    assert recipe.json()["rate_ml_per_h"] == 10
    assert recipe.json()["hard_stop"] is False
    assert stopped.status_code == 200
    assert stopped.json()["hard_stop"] is True
    assert stopped.json()["reasons"]


def test_calc_replan_answers_like_blina_replan(world: World) -> None:
    body = {
        "indication": "relapsed-refractory",
        "weight_kg": 70,
        "age_years": 40,
        "start": "2026-12-01",
        "cycles": 1,
        "now": "2026-12-20T00:00:00Z",
        "events": [
            {"at": "2026-12-10T10:00:00Z", "kind": "interrupt", "cause": "crs", "grade": 3},
            {"at": "2026-12-13T09:00:00Z", "kind": "restart", "dose_mcg_per_day": 9},
        ],
    }
    response = _post(world, "nurse_a", "/calc/replan", body)

    assert response.status_code == 200, response.text
    assert [d["action"] for d in response.json()["decisions"]][-1] == "step-up"


def test_trend_lists_temperatures_in_celsius_oldest_first(world: World) -> None:
    path = f"/patients/{world.patient_a2}/symptom-reports"
    caregiver = "caregiver_other"
    _post(
        world,
        caregiver,
        path,
        {
            "temperature": 100.4,
            "temperature_unit": "F",
            "symptoms": {"chills": 1},
            "observed_at": "2026-12-10T06:00:00Z",
        },
        **{"Idempotency-Key": "t1"},
    )
    _post(
        world,
        caregiver,
        path,
        {"temperature": 37.1, "symptoms": {}, "observed_at": "2026-12-10T04:00:00Z"},
        **{"Idempotency-Key": "t2"},
    )

    trend = world.client.get(f"/api/v1{path}/trend", headers=world.as_(caregiver)).json()

    assert [p["temperature_c"] for p in trend][-2:] == [37.1, 38.0]
    assert trend[-1]["symptoms"] == {"chills": 1}


def test_clinic_tasks_unchanged_answers_304_to_its_etag(world: World) -> None:
    path = "/api/v1/clinic/tasks?day=2026-12-08"
    first = world.client.get(path, headers=world.as_("nurse_a"))
    same = world.client.get(
        path, headers={**world.as_("nurse_a"), "If-None-Match": first.headers["etag"]}
    )

    assert first.status_code == 200
    assert same.status_code == 304
    assert same.headers["etag"] == first.headers["etag"]
    assert same.content == b""


def test_clinic_tasks_etag_stays_through_a_write_that_changes_no_task(world: World) -> None:
    path = "/api/v1/clinic/tasks?day=2026-12-08"
    before = world.client.get(path, headers=world.as_("nurse_a"))
    _post(
        world,
        "caregiver_a",
        f"/patients/{world.patient_a1}/symptom-reports",
        {"symptoms": {"headache": 1}},
        **{"Idempotency-Key": "etag-moves"},
    )
    after = world.client.get(
        path, headers={**world.as_("nurse_a"), "If-None-Match": before.headers["etag"]}
    )

    # The tag is the list's: a check-in changes no task, and the screen keeps its list.
    assert after.status_code == 304
    assert after.headers["etag"] == before.headers["etag"]


def test_clinic_tasks_stay_closed_to_families_even_when_kept(world: World) -> None:
    path = "/api/v1/clinic/tasks?day=2026-12-08"
    assert world.client.get(path, headers=world.as_("nurse_a")).status_code == 200

    assert world.client.get(path, headers=world.as_("caregiver_a")).status_code == 403


def test_clinic_tasks_compressed_for_screens_that_take_gzip(world: World) -> None:
    path = "/api/v1/clinic/tasks?day=2026-12-08"
    plain = world.client.get(path, headers={**world.as_("nurse_a"), "Accept-Encoding": "identity"})
    packed = world.client.get(
        path, headers={**world.as_("nurse_a"), "Accept-Encoding": "gzip, deflate"}
    )
    again = world.client.get(
        path,
        headers={
            **world.as_("nurse_a"),
            "Accept-Encoding": "gzip",
            "If-None-Match": packed.headers["etag"],
        },
    )

    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert plain.headers["vary"] == packed.headers["vary"] == "Accept-Encoding"
    assert packed.json() == plain.json() != []  # the client unpacked the same list
    assert packed.headers["etag"] != plain.headers["etag"]
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("header", "takes"),
    [
        ("gzip, deflate, br", True),
        ("GZIP", True),
        ("gzip; q=0.001", True),
        ("*;q=0.5", True),
        ("", False),
        ("identity", False),
        ("deflate, br", False),
        ("gzip;q=0", False),
        ("gzip; q=0.000", False),
        ("*, gzip;q=0", False),
    ],
)
def test_accept_encoding_is_read_as_the_http_rules_say(header: str, takes: bool) -> None:
    assert _accepts_gzip(header) is takes
