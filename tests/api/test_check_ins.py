"""Check-ins through the API, against each check-in writer (services.check_ins): the
group-commit writer the service runs and the direct one, the reference. The idempotency
key, the triage and its alert, who may send one, every answer's shape against the
OpenAPI document, and bad input answered 422 with every problem at once."""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from sqlalchemy import func, select
from tests.api.conftest import PEOPLE, World
from tests.api.test_access import CASES, _call

from blina.store.tables import SymptomReport


@pytest.fixture(scope="module")
def world(world_for_each_writer: World) -> World:
    """Every test of this module runs once for each check-in writer."""
    return world_for_each_writer


def _post(world: World, who: str, path: str, body: Any, **headers: str) -> Any:
    return world.client.post(f"/api/v1{path}", json=body, headers={**world.as_(who), **headers})


def _sessions(world: World) -> Any:
    return world.client.app.state.blina.sessions  # type: ignore[attr-defined]


_SUBMIT = next(case for case in CASES if case[0] == "report-submit")


@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_a_check_in_is_stored_for_who_sees_the_patient_and_hidden_from_others(
    world: World, who: str
) -> None:
    _, method, path, body, expected = _SUBMIT
    response = _call(world, who, method, path, body, {"Idempotency-Key": f"role-{who}"})

    assert response.status_code == expected(who), response.text


def test_a_check_in_without_a_token_is_answered_401_and_not_stored(world: World) -> None:
    response = world.client.post(
        f"/api/v1/patients/{world.patient_a1}/symptom-reports",
        json={"symptoms": {"headache": 1}},
        headers={"Idempotency-Key": "no-token"},
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    with _sessions(world)() as session:
        stored = session.execute(
            select(func.count()).where(SymptomReport.idempotency_key == "no-token")
        ).scalar_one()
    assert stored == 0


def test_the_fast_route_answers_as_the_route_that_documents_it(world: World) -> None:
    """The Starlette route in front (api.routes.home.check_in_route) and the ordinary
    FastAPI route behind it give the same answers."""
    routes = world.client.app.router.routes  # type: ignore[attr-defined]
    fast = next(r for r in routes if getattr(r, "name", "") == "submit_report_fast")
    path = f"/patients/{world.patient_a1}/symptom-reports"
    body = {"temperature": 38.2, "symptoms": {"headache": None}, "interferes": {"headache": True}}

    def answers(key: str) -> list[tuple[int, Any]]:
        """Stored, answered again, and a bad request: each answer's status and shape (the
        second check-in's triage compares it with the first, so the values differ)."""
        sent = [
            _post(world, "caregiver_a", path, body, **{"Idempotency-Key": key}),
            _post(world, "caregiver_a", path, body, **{"Idempotency-Key": key}),
        ]
        stored = [
            (r.status_code, sorted(r.json()), sorted(r.json()["report"]), r.json()["replayed"])
            for r in sent
        ]
        bad = _post(world, "caregiver_a", "/patients/0/symptom-reports", {"x": 1})
        return [*stored, (bad.status_code, bad.json())]

    served = answers("fast-route")
    position = routes.index(fast)
    routes.remove(fast)
    try:
        documented = answers("documented-route")
    finally:
        routes.insert(position, fast)

    assert [answer[0] for answer in served] == [201, 200, 422]
    assert documented == served


def test_the_hot_routes_answers_conform_to_their_openapi_schemas(world: World) -> None:
    """The check-in's answers and the task list are written without FastAPI's response
    validation (api.routes.home): each answer is checked against the schema the OpenAPI
    document gives for its status, for generated requests and for a stored check-in, its
    replay and a task list."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    check_in = schema["/api/v1/patients/{patient_id}/symptom-reports"]["POST"]
    task_list = schema["/api/v1/clinic/tasks"]["GET"]
    body = {"temperature": 38.4, "symptoms": {"fever": None}, "note": "conforms"}
    headers = {**world.as_("caregiver_a"), "Idempotency-Key": "conforms"}
    for status in (201, 200):  # stored, then answered again
        case = check_in.Case(
            path_parameters={"patient_id": world.patient_a1},
            headers=headers,
            body=body,
            media_type="application/json",
        )
        response = case.call()
        assert response.status_code == status, response.text
        check_in.validate_response(response)
    listed = task_list.Case(query={"day": "2026-12-08"}, headers=world.as_("nurse_a")).call()
    assert listed.status_code == 200
    assert listed.json()
    task_list.validate_response(listed)

    for operation in (check_in, task_list):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def conforms(case: schemathesis.Case) -> None:
            for who in ("nurse_a", "caregiver_a"):
                response = case.call(headers={**world.as_(who), "Idempotency-Key": "generated"})
                if response.status_code in (200, 201):
                    case.operation.validate_response(response)

        conforms()


def test_symptom_report_same_idempotency_key_stores_one_report(world: World) -> None:
    body = {"temperature": 38.6, "symptoms": {"fever": None, "chills": 1}, "note": "after lunch"}
    path = f"/patients/{world.patient_a1}/symptom-reports"
    first = _post(world, "caregiver_a", path, body, **{"Idempotency-Key": "phone-123"})
    retry = _post(world, "caregiver_a", path, body, **{"Idempotency-Key": "phone-123"})

    # One report kept, its temperature as entered: services/test_check_in_writers
    # (test_the_same_check_in_again_is_answered_as_before_another_under_its_key_refused,
    # test_a_check_in_keeps_its_temperature_as_entered_and_says_what_to_do_now).
    assert first.status_code == 201
    assert retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["replayed"] is True


def test_the_same_key_with_another_check_in_is_refused_not_answered_routine(
    world: World,
) -> None:
    """The key first came with a calm check-in; sent again with a fever of 40.5 and a
    seizure it is refused (422 naming the key), never answered with the first triage. The
    triage of both and the new key's alert: services/test_check_in_writers
    (test_a_key_reused_with_another_check_in_is_refused_naming_it_and_a_new_key_is_triaged)."""
    path = f"/patients/{world.patient_a1}/symptom-reports"
    key = {"Idempotency-Key": "phone-7"}
    calm = _post(world, "caregiver_a", path, {"temperature": 37, "symptoms": {}}, **key)
    emergency = {"temperature": 40.5, "symptoms": {"seizure": None}}

    reused = _post(world, "caregiver_a", path, emergency, **key)

    assert calm.status_code == 201
    assert reused.status_code == 422
    assert "Idempotency-Key phone-7" in reused.json()["error"]
    assert "a new key for a new check-in" in reused.json()["error"]


def test_check_in_with_fever_and_confusion_alerts_the_team_who_acknowledge_it(world: World) -> None:
    body = {"temperature": 39.0, "symptoms": {"fever": None, "confusion": 2}}
    path = f"/patients/{world.patient_a1}/symptom-reports"
    answer = _post(world, "caregiver_a", path, body, **{"Idempotency-Key": "night-1"})

    # The triage, the queue's order and the acknowledgement's rules are the services':
    # test_check_in_writers (test_a_check_in_is_signed_in_stored_triaged_and_audited,
    # test_a_check_in_keeps_its_temperature_as_entered_and_says_what_to_do_now),
    # test_alert_lists (test_the_most_urgent_alert_comes_first_then_the_oldest) and
    # test_alerts (test_an_alert_is_acknowledged_once_by_the_care_team_and_stops_escalating).
    assert answer.status_code == 201, answer.text
    assert set(answer.json()["report"]["triage"]) >= {"level", "alert", "instructions"}
    alert_id = answer.json()["alert_id"]
    assert alert_id is not None

    queue = world.client.get("/api/v1/clinic/alerts", headers=world.as_("nurse_a")).json()
    assert alert_id in [a["id"] for a in queue]
    assert (
        world.client.get("/api/v1/clinic/alerts", headers=world.as_("caregiver_a")).status_code
        == 403
    )

    taken = _post(
        world, "nurse_a", f"/alerts/{alert_id}/acknowledge", {"outcome": "patient-called-in"}
    )
    again = _post(world, "nurse_a", f"/alerts/{alert_id}/acknowledge", {"outcome": "advice-given"})
    assert taken.status_code == 200
    assert taken.json()["status"] == "acknowledged"
    assert taken.json()["next_escalation_at"] is None
    assert again.status_code == 409
    assert (
        _post(
            world, "caregiver_a", f"/alerts/{alert_id}/acknowledge", {"outcome": "advice-given"}
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("content", "field", "value"),
    [
        (b'{"temperature": "warm"}', "temperature", "warm"),
        (b'{"temperature_unit": "K"}', "temperature_unit", "K"),
        (b'{"symptoms": {"headache": "bad"}}', "symptoms.headache", "bad"),
        (b'{"mood": "low"}', "mood", "low"),
        (b'{"note": 7}', "note", "7"),
        (b'{"temperature": 38', "body", '{"temperature": 38'),
        (b"", "body", ""),
    ],
)
def test_check_in_bad_body_answers_422_naming_the_field_and_stores_nothing(
    world: World, content: bytes, field: str, value: str
) -> None:
    response = world.client.post(
        f"/api/v1/patients/{world.patient_a1}/symptom-reports",
        content=content,
        headers={
            **world.as_("caregiver_a"),
            "Idempotency-Key": "bad-body",
            "Content-Type": "application/json",
        },
    )

    assert response.status_code == 422, response.text
    problem = response.json()["errors"][0]
    assert (problem["field"], problem["value"]) == (field, value)
    assert problem["message"].startswith(f"{field} {value} is not allowed: must be ")
    assert "Invalid JSON" not in problem["message"]
    assert "Extra inputs" not in problem["message"]
    with _sessions(world)() as session:
        stored = session.execute(
            select(func.count()).where(SymptomReport.idempotency_key == "bad-body")
        ).scalar_one()
    assert stored == 0


def test_check_in_without_idempotency_key_answers_422_naming_the_header(world: World) -> None:
    response = _post(
        world, "caregiver_a", f"/patients/{world.patient_a1}/symptom-reports", {"symptoms": {}}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "idempotency-key"


@pytest.mark.parametrize(
    ("patient", "key", "problems"),
    [
        ("0", "k", {"patient_id": "0"}),
        ("abc", "k", {"patient_id": "abc"}),
        ("2147483648", "k", {"patient_id": "2147483648"}),
        ("1", None, {"idempotency-key": "(missing)"}),
        ("1", "k" * 101, {"idempotency-key": "k" * 100 + "…"}),  # an excerpt
        ("0", "", {"patient_id": "0", "idempotency-key": ""}),
    ],
)
def test_check_in_bad_path_or_header_answers_422_with_the_bodys_problems(
    world: World, patient: str, key: str | None, problems: dict[str, str]
) -> None:
    headers = {**world.as_("caregiver_a"), **({} if key is None else {"Idempotency-Key": key})}
    response = world.client.post(
        f"/api/v1/patients/{patient}/symptom-reports",
        json={"temperature": "warm"},
        headers=headers,
    )

    assert response.status_code == 422
    found = {p["field"]: p["value"] for p in response.json()["errors"]}
    assert found == {**problems, "temperature": "warm"}


def test_openapi_documents_the_check_in_body_and_both_answers(world: World) -> None:
    document = world.client.get("/openapi.json").json()
    operation = document["paths"]["/api/v1/patients/{patient_id}/symptom-reports"]["post"]

    # Generated from the route's own types: the body is the ReportCreate schema.
    reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = document["components"]["schemas"][reference.removeprefix("#/components/schemas/")]
    assert operation["requestBody"]["required"] is True
    assert set(body["properties"]) == {
        "temperature",
        "temperature_unit",
        "symptoms",
        "note",
        "observed_at",
        "interferes",
    }
    assert body["additionalProperties"] is False
    parameters = {p["name"]: (p["in"], p["required"], p["schema"]) for p in operation["parameters"]}
    assert parameters["patient_id"][:2] == ("path", True)
    assert parameters["patient_id"][2]["type"] == "integer"
    assert (parameters["patient_id"][2]["minimum"], parameters["patient_id"][2]["maximum"]) == (
        1,
        2**31 - 1,
    )
    assert parameters["idempotency-key"][:2] == ("header", True)
    key = parameters["idempotency-key"][2]
    assert (key["type"], key["minLength"], key["maxLength"]) == ("string", 1, 100)
    for status in ("200", "201"):
        answer = operation["responses"][status]["content"]["application/json"]["schema"]
        assert answer == {"$ref": "#/components/schemas/ReportPublic"}
    assert "422" in operation["responses"]


def test_check_in_unknown_symptom_answers_422_naming_it(world: World) -> None:
    body = {"symptoms": {"purple-spots-on-moon": 1}}
    response = _post(
        world,
        "caregiver_a",
        f"/patients/{world.patient_a1}/symptom-reports",
        body,
        **{"Idempotency-Key": "x1"},
    )

    assert response.status_code == 422
    assert "purple-spots-on-moon" in response.json()["error"]


def test_a_check_in_through_the_api_answers_the_follow_up_question(world: World) -> None:
    """The answer to the follow-up question for a severity left "not sure" comes through
    the API as through the web form, and is kept with the check-in."""
    path = f"/patients/{world.patient_a1}/symptom-reports"
    body = {"symptoms": {"headache": None}, "interferes": {"headache": True}}

    answer = _post(world, "caregiver_a", path, body, **{"Idempotency-Key": "follow-up"})

    assert answer.status_code == 201, answer.text
    assert answer.json()["report"]["interferes"] == {"headache": True}
