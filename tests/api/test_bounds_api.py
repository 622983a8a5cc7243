"""Every number, date and text the API reads is bounded (issue 16, items 3 and 10): a
value out of bounds is a 422 naming the field and the allowed range, before any
arithmetic and before the database; never a 500, never a stall."""

from typing import Any

import pytest
from tests.api.conftest import World

from blina.domain import bounds

DECIMAL = bounds.decimal_allowed()
DIGITS = "a number written with the digits 0-9, such as 70 or 70.5"
PLAN = {"indication": "relapsed-refractory", "weight_kg": 70, "age_years": 40}


def _refusal(response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    body = response.json()
    by_field = {e["field"]: e for e in body["errors"]}
    assert field in by_field, body
    return by_field[field]  # type: ignore[no-any-return]


# --- finding 3: one request stalled the process for ~47 s -----------------------------------


def test_a_dose_of_1e999999_is_refused_before_any_arithmetic(world: World) -> None:
    """A patient may call the bag calculator; the huge exponent is refused as it is read
    (asserted by the answer, not by a clock)."""
    response = world.client.post(
        "/api/v1/calc/bag",
        headers=world.as_("patient_a"),
        json={"hours": 24, "weight_kg": "70", "dose_mcg_per_day": "1e999999"},
    )
    refusal = _refusal(response, "dose_mcg_per_day")
    assert refusal["allowed"] == DECIMAL
    assert refusal["message"].startswith("dose_mcg_per_day 1e999999 is not allowed")


@pytest.mark.parametrize(
    ("dose", "allowed"),
    [
        ("1e-999999", DECIMAL),
        (1e300, DECIMAL),
        ("1E+12", DECIMAL),
        ("0.0000000000001", DECIMAL),
        ("NaN", DIGITS),
        ("-Infinity", DIGITS),
    ],
    ids=repr,
)
def test_a_dose_out_of_range_is_refused(world: World, dose: Any, allowed: str) -> None:
    response = world.client.post(
        "/api/v1/calc/bag",
        headers=world.as_("patient_a"),
        json={"hours": 24, "weight_kg": 70, "dose_mcg_per_day": dose},
    )
    assert _refusal(response, "dose_mcg_per_day")["allowed"] == allowed


# --- finding 10: digits, far dates, integers beyond the columns, NUL ------------------------


@pytest.mark.parametrize("digits", ["٣", "\uff13", "²", "7²"])  # \uff13: a fullwidth 3
def test_a_number_in_other_digits_is_refused(world: World, digits: str) -> None:
    response = world.client.post(
        "/api/v1/calc/bag",
        headers=world.as_("patient_a"),
        json={"hours": 24, "weight_kg": digits, "dose_mcg_per_day": "28"},
    )
    assert _refusal(response, "weight_kg")["allowed"] == DIGITS


@pytest.mark.parametrize("start", ["9999-12-31", "0001-01-01", "1899-12-31", "2201-01-01"])
def test_a_course_start_outside_the_window_is_refused(world: World, start: str) -> None:
    for path in ("/calc/plan", f"/patients/{world.patient_a2}/courses"):
        response = world.client.post(
            f"/api/v1{path}",
            headers=world.as_("physician_a"),
            json={**PLAN, "start": start, "confirm_past_start": True},
        )
        refusal = _refusal(response, "start")
        assert refusal["allowed"] == "a date from 1900-01-01 to 2200-12-31"


def test_the_last_start_in_the_window_is_planned(world: World) -> None:
    response = world.client.post(
        "/api/v1/calc/plan", headers=world.as_("physician_a"), json={**PLAN, "start": "2200-12-31"}
    )
    assert response.status_code == 200, response.text


def test_a_cycle_start_outside_the_window_is_refused(world: World) -> None:
    response = world.client.post(
        "/api/v1/calc/plan",
        headers=world.as_("physician_a"),
        json={**PLAN, "start": "2026-12-01", "cycle_starts": {"2": "9999-12-31"}},
    )
    assert _refusal(response, "cycle_starts.2")["allowed"] == (
        "a date from 1900-01-01 to 2200-12-31"
    )


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:00:00-05:00"])
def test_a_moment_outside_the_window_is_refused(world: World, moment: str) -> None:
    allowed = "a date and time from 1900-01-01 to 2200-12-31"
    replan = world.client.post(
        "/api/v1/calc/replan",
        headers=world.as_("physician_a"),
        json={**PLAN, "start": "2026-12-01", "now": moment},
    )
    assert _refusal(replan, "now")["allowed"] == allowed
    event = world.client.post(
        f"/api/v1/courses/{world.course_a1}/events",
        headers=world.as_("physician_a"),
        json={"version": 1, "event": {"at": moment, "kind": "discontinue"}},
    )
    assert _refusal(event, "event.at")["allowed"] == allowed
    given = world.client.post(
        f"/api/v1/courses/{world.course_a1}/premedication",
        headers=world.as_("nurse_a"),
        json={"due": moment, "drug": "dexamethasone", "given_at": moment},
    )
    assert _refusal(given, "given_at")["allowed"] == allowed
    bag = world.client.post(
        f"/api/v1/courses/{world.course_a1}/bags",
        headers=world.as_("pharmacist_a"),
        json={"bag_start": moment},
    )
    assert _refusal(bag, "bag_start")["allowed"] == allowed


def test_a_task_day_outside_the_window_is_refused(world: World) -> None:
    response = world.client.get(
        "/api/v1/clinic/tasks", headers=world.as_("nurse_a"), params={"day": "9999-12-31"}
    )
    assert _refusal(response, "day")["allowed"] == "a date from 1900-01-01 to 2200-12-31"


@pytest.mark.parametrize("observed_at", ["0001-01-01T00:00:00Z", "1999-12-31T23:59:59Z"])
def test_a_check_in_observed_before_2000_is_refused(world: World, observed_at: str) -> None:
    response = world.client.post(
        f"/api/v1/patients/{world.patient_a1}/symptom-reports",
        headers={**world.as_("patient_a"), "Idempotency-Key": f"bounds-{observed_at}"},
        json={"symptoms": {}, "observed_at": observed_at},
    )
    refusal = _refusal(response, "observed_at")
    assert refusal["allowed"] == "a date and time from 2000-01-01 to 2200-12-31"


def test_a_check_in_observed_on_the_first_day_of_2000_is_stored(world: World) -> None:
    response = world.client.post(
        f"/api/v1/patients/{world.patient_a1}/symptom-reports",
        headers={**world.as_("patient_a"), "Idempotency-Key": "bounds-2000"},
        json={"symptoms": {}, "observed_at": "2000-01-01T00:00:00Z"},
    )
    assert response.status_code == 201, response.text


INT_COLUMN = "less than or equal to 2147483647"


@pytest.mark.parametrize("number", [2**31, 2**63, 10**30])
def test_a_whole_number_beyond_an_integer_column_is_refused(world: World, number: int) -> None:
    cases: list[tuple[str, str, str, dict[str, Any], str]] = [
        ("admin_a", "post", "/users", {"username": "u", "display_name": "u", "role": "patient",
                                       "password": "a long password 1", "patient_id": number},
         "patient_id"),
        ("physician_a", "post", "/calc/plan", {**PLAN, "start": "2026-12-01", "cycles": number},
         "cycles"),
        ("physician_a", "post", "/calc/plan",
         {**PLAN, "start": "2026-12-01", "cycle_starts": {str(number): "2027-01-01"}},
         f"cycle_starts.{number}.[key]"),
        ("physician_a", "patch", f"/courses/{world.course_a1}", {"version": number}, "version"),
        ("nurse_a", "post", "/calc/grade",
         {"findings": {"scale": "icans", "age_years": 40, "consciousness": "awake",
                       "ice_score": number}}, "findings.icans.ice_score"),
        ("patient_a", "post", "/calc/bag", {"hours": number, "weight_kg": 70,
                                             "dose_mcg_per_day": 28}, "hours"),
    ]  # fmt: skip
    for who, method, path, body, field in cases:
        response = world.client.request(method, f"/api/v1{path}", headers=world.as_(who), json=body)
        allowed = _refusal(response, field)["allowed"]
        assert INT_COLUMN in allowed, (path, allowed)


def test_a_severity_beyond_an_integer_column_is_refused(world: World) -> None:
    response = world.client.post(
        f"/api/v1/patients/{world.patient_a1}/symptom-reports",
        headers={**world.as_("patient_a"), "Idempotency-Key": "bounds-severity"},
        json={"symptoms": {"nausea": 2**63}},
    )
    assert INT_COLUMN in _refusal(response, "symptoms.nausea")["allowed"]


def test_text_with_a_nul_is_refused_by_the_pharmacy_routes_too(world: World) -> None:
    response = world.client.post(
        "/api/v1/bags/1/end",
        headers=world.as_("pharmacist_a"),
        json={"outcome": "voided", "reason": "spilled\x00"},
    )
    assert _refusal(response, "reason")["allowed"] == "text without NUL (0x00) characters"


# --- the contract: every number and date in a request says its bounds ------------------------


def _unbounded(schema: dict[str, Any], where: str, found: list[str], defs: dict[str, Any]) -> None:
    """Each integer, number, decimal (a number or a string) and date in ``schema`` without
    its bounds, added to ``found``."""
    if "$ref" in schema:
        _unbounded(defs[schema["$ref"].rsplit("/", 1)[-1]], where, found, defs)
        return
    kinds = {s.get("type") for s in schema.get("anyOf", [])}
    bounded = "maximum" in schema or "exclusiveMaximum" in schema
    if {"number", "string"} <= kinds:  # a Decimal
        if not bounded:
            found.append(f"{where}: a decimal")
        return
    if schema.get("type") in ("integer", "number") and not bounded:
        found.append(f"{where}: {schema['type']}")
    if schema.get("format") in ("date", "date-time") and "formatMinimum" not in schema:
        found.append(f"{where}: {schema['format']}")
    for part in schema.get("anyOf", []):
        _unbounded(part, where, found, defs)
    for name, part in schema.get("properties", {}).items():
        _unbounded(part, f"{where}.{name}", found, defs)
    for key in ("additionalProperties", "items", "propertyNames"):
        if isinstance(schema.get(key), dict):
            _unbounded(schema[key], f"{where}[{key}]", found, defs)


def test_every_number_and_date_a_request_sends_is_bounded_in_the_openapi(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    defs = spec["components"]["schemas"]
    found: list[str] = []
    checked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                _unbounded(parameter["schema"], f"{method} {path} {parameter['name']}", found, defs)
                checked += 1
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            if body is not None:
                _unbounded(body, f"{method} {path} body", found, {**defs, **body.get("$defs", {})})
                checked += 1
    assert checked > 30
    assert found == []


def test_the_openapi_check_finds_an_unbounded_number() -> None:
    found: list[str] = []
    schema = {
        "properties": {
            "n": {"type": "integer"},
            "d": {"anyOf": [{"type": "number"}, {"type": "string"}]},
            "day": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
            "ok": {"type": "integer", "minimum": 0, "maximum": 4},
        }
    }
    _unbounded(schema, "body", found, {})
    assert found == ["body.n: integer", "body.d: a decimal", "body.day: date"]
