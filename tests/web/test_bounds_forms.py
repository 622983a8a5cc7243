"""Every number, date and text a web form sends is bounded (issue 16, item 10): other
digits than 0-9, a NUL, huge and tiny numbers and far dates are a form error on the page
(422), never a server error, on SQLite and on PostgreSQL.

Read as a DOM: the refusals are asserted on ``data-error-for`` and ``data-status``.
"""

from collections.abc import Callable
from datetime import UTC, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blina.demo import DEMO_PASSWORD
from tests.web.conftest import DemoClinic
from tests.web.soup import csrf_in, csrf_of, one, page

# What a hostile or confused sender types where a number or a date belongs.
_ODD = [
    "\N{SUPERSCRIPT TWO}",
    "3\N{SUPERSCRIPT TWO}",
    "\N{ARABIC-INDIC DIGIT THREE}\N{ARABIC-INDIC DIGIT EIGHT}",
    "\N{FULLWIDTH DIGIT THREE}\N{FULLWIDTH DIGIT NINE}",
    "\N{DEVANAGARI DIGIT FOUR}",
    "1e999999",
    "-1e999999",
    "1e-999999",
    "1e99999999999999999999999999",
    "9" * 30,
    "0." + "0" * 30 + "1",
    "2147483648",
    "9223372036854775808",
    "-9223372036854775809",
    "NaN",
    "Infinity",
    "\x00",
    "37\x00",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "9999-12-31T23:59-12:00",
    "1900-01-01T00:00+14:00",
    "",
]
_OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12))])
VALUES = st.one_of(
    st.sampled_from(_ODD),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.none() | _OFFSETS).map(lambda d: d.isoformat(timespec="minutes")),
    st.text(max_size=12),
)
_FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def _never_5xx(
    send: Callable[[dict[str, str]], Any], fields: tuple[str, ...]
) -> Callable[[], None]:
    """A hypothesis test sending ``fields`` filled from VALUES; it asserts no 5xx."""

    @_FUZZ
    @given(st.fixed_dictionaries(dict.fromkeys(fields, VALUES)))
    def run(values: dict[str, str]) -> None:
        response = send(values)
        assert response.status_code < 500, (values, response.text[:500])

    return run


def _poster(browser: TestClient, form_page: str, path: str, base: dict[str, str]) -> Any:
    csrf = csrf_in(browser.get(form_page))

    def send(values: dict[str, str]) -> Any:
        data = {**base, **values, "csrf_token": csrf}
        return browser.post(path, data=data, follow_redirects=False)

    return send


def _getter(browser: TestClient, path: str, base: dict[str, str]) -> Any:
    def send(values: dict[str, str]) -> Any:
        return browser.get(path, params={**base, **values})

    return send


# --- the fuzz, form by form ------------------------------------------------------------------


def test_the_check_in_form_never_answers_5xx(clinic: DemoClinic) -> None:
    """The patient's own form: reachable by anyone signed in as a patient."""
    patient = clinic.patients["P-001"]
    browser = clinic.browser("alex")
    send = _poster(
        browser,
        f"/patients/{patient}/check-in",
        f"/patients/{patient}/check-in",
        {"symptom": "nausea", "temperature_unit": "C"},
    )
    _never_5xx(send, ("temperature", "severity-nausea", "note", "idempotency_key"))()


def test_the_course_form_and_its_preview_never_answer_5xx(clinic: DemoClinic) -> None:
    patient = clinic.patients["P-002"]
    browser = clinic.browser("dr.lee")
    base = {"indication": "relapsed-refractory", "confirm_past_start": "yes"}
    fields = ("start", "start_time", "weight_kg", "height_cm", "age_years", "bag_hours", "cycles")
    posted = _poster(
        browser, f"/patients/{patient}/courses/new", f"/patients/{patient}/courses", base
    )
    _never_5xx(posted, fields)()
    _never_5xx(_getter(browser, f"/patients/{patient}/courses/preview", base), fields)()


def test_the_grading_forms_never_answer_5xx(clinic: DemoClinic) -> None:
    course = clinic.courses["P-003"]
    browser = clinic.browser("nurse.kim")
    patient_page = f"/patients/{clinic.patients['P-003']}"
    for scale, fields in (
        ("crs", ("temperature_c", "oxygen_flow_l_per_min")),
        ("icans", ("age_years", "ice_score", "capd_score")),
    ):
        base = {"scale": scale, "consciousness": "awake", "oxygen": "low-flow"}
        _never_5xx(_getter(browser, f"/courses/{course}/grade", base), fields)()
        posted = _poster(browser, patient_page, f"/courses/{course}/assessments", base)
        _never_5xx(posted, fields)()


def test_the_lab_form_never_answers_5xx(clinic: DemoClinic) -> None:
    course = clinic.courses["P-003"]
    browser = clinic.browser("dr.lee")
    base = {"term": "Alanine aminotransferase increased", "unit": "U/L"}
    fields = ("value", "uln", "lln", "baseline", "taken_at")
    _never_5xx(_getter(browser, f"/courses/{course}/labs/grade", base), fields)()
    patient_page = f"/patients/{clinic.patients['P-003']}"
    _never_5xx(_poster(browser, patient_page, f"/courses/{course}/labs", base), fields)()


def test_the_course_event_forms_never_answer_5xx(clinic: DemoClinic) -> None:
    course = clinic.courses["P-004"]
    browser = clinic.browser("dr.lee")
    patient_page = f"/patients/{clinic.patients['P-004']}"
    for kind in ("interrupt", "restart"):
        base = {"kind": kind, "cause": "crs"}
        posted = _poster(browser, patient_page, f"/courses/{course}/events", base)
        _never_5xx(posted, ("version", "at", "grade", "dose_mcg_per_day"))()
    end = _poster(browser, patient_page, f"/courses/{course}/end", {"outcome": "completed"})
    _never_5xx(end, ("version", "reason"))()


def test_the_premedication_and_hang_forms_never_answer_5xx(clinic: DemoClinic) -> None:
    patient = clinic.patients["P-001"]
    browser = clinic.browser("nurse.kim")
    premedication = _poster(
        browser,
        f"/patients/{patient}",
        f"/courses/{clinic.courses['P-001']}/premedication",
        {"drug": "dexamethasone"},
    )
    _never_5xx(premedication, ("due", "given_at"))()
    hang = _poster(browser, f"/patients/{patient}", f"/patients/{patient}/bags/hang", {})
    _never_5xx(hang, ("code", "rate_ml_per_h", "volume_ml"))()


def test_the_audit_filters_never_answer_5xx(clinic: DemoClinic) -> None:
    browser = clinic.browser("admin")
    _never_5xx(_getter(browser, "/audit", {}), ("who", "action", "from", "to"))()
    _never_5xx(_getter(browser, "/audit", {}), ("before", "after"))()


def test_the_sign_in_form_never_answers_5xx(clinic: DemoClinic) -> None:
    # From an address of its own: its failed sign-ins pause that address, not the tests'.
    with TestClient(clinic.app, client=("192.0.2.16", 50000)) as browser:
        _never_5xx(_poster(browser, "/login", "/login", {}), ("username", "password"))()


# --- the findings, one by one ----------------------------------------------------------------


def _check_in(clinic: DemoClinic, data: dict[str, str]) -> Any:
    patient = clinic.patients["P-001"]
    browser = clinic.browser("alex")
    csrf = csrf_in(browser.get(f"/patients/{patient}/check-in"))
    return browser.post(
        f"/patients/{patient}/check-in", data={**data, "csrf_token": csrf}, follow_redirects=False
    )


@pytest.mark.parametrize(
    "severity", ["\N{SUPERSCRIPT TWO}", "\N{ARABIC-INDIC DIGIT TWO}", "9" * 5000]
)
def test_a_check_in_severity_in_other_digits_is_a_form_error(
    clinic: DemoClinic, severity: str
) -> None:
    response = _check_in(clinic, {"symptom": "nausea", "severity-nausea": severity})
    assert response.status_code == 422
    message = one(page(response), '[data-error-for="symptoms"]').get_text()
    assert "written with the digits 0-9" in message


def test_a_check_in_temperature_in_other_digits_is_a_form_error(clinic: DemoClinic) -> None:
    arabic_38 = "\N{ARABIC-INDIC DIGIT THREE}\N{ARABIC-INDIC DIGIT EIGHT}"
    response = _check_in(clinic, {"temperature": arabic_38, "temperature_unit": "C"})
    assert response.status_code == 422
    message = one(page(response), '[data-error-for="temperature"]').get_text()
    assert message.startswith(f"temperature {arabic_38} is not allowed")


def test_a_check_in_note_with_a_nul_is_refused(clinic: DemoClinic) -> None:
    response = _check_in(clinic, {"note": "dizzy\x00"})
    assert response.status_code == 422
    message = one(page(response), "[data-status]").get_text()
    assert message == "note dizzy\\x00 is not allowed: must be text without NUL (0x00) characters"


def test_a_nul_in_the_username_is_refused_before_signing_in(clinic: DemoClinic) -> None:
    browser = clinic.browser(None)
    csrf = csrf_in(browser.get("/login"))
    response = browser.post(
        "/login",
        data={"username": "dr.lee\x00", "password": DEMO_PASSWORD, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert one(page(response), "[data-status]")["data-status"] == "422"
    assert "username" in one(page(response), "[data-status]").get_text()


@pytest.mark.parametrize(("start", "field"), [("9999-12-31", "start"), ("0001-01-01", "start")])
def test_a_course_start_outside_the_window_is_a_form_error(
    clinic: DemoClinic, start: str, field: str
) -> None:
    patient = clinic.patients["P-002"]
    browser = clinic.browser("dr.lee")
    csrf = csrf_in(browser.get(f"/patients/{patient}/courses/new"))
    data = {
        "indication": "relapsed-refractory",
        "start": start,
        "weight_kg": "70",
        "age_years": "40",
        "confirm_past_start": "yes",
        "csrf_token": csrf,
    }
    response = browser.post(f"/patients/{patient}/courses", data=data, follow_redirects=False)
    assert response.status_code == 422
    message = one(page(response), f'[data-error-for="{field}"]').get_text()
    assert message.endswith("must be a date from 1900-01-01 to 2200-12-31")


@pytest.mark.parametrize(
    ("field", "value"), [("bag_hours", "\N{SUPERSCRIPT TWO}"), ("cycles", "9223372036854775808")]
)
def test_a_course_preview_with_a_bad_whole_number_shows_it_beside_the_field(
    clinic: DemoClinic, field: str, value: str
) -> None:
    patient = clinic.patients["P-002"]
    params = {
        "indication": "relapsed-refractory",
        "start": "2026-12-10",
        "weight_kg": "70",
        "age_years": "40",
        field: value,
    }
    response = clinic.browser("dr.lee").get(f"/patients/{patient}/courses/preview", params=params)
    assert response.status_code == 200
    message = one(page(response), f'[data-error-for="{field}"]').get_text()
    assert "a whole number from -2147483648 to 2147483647" in message


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"who": "\N{SUPERSCRIPT TWO}"}, "who"),
        ({"to": "9999-12-31"}, "to"),
        ({"from": "0001-01-01"}, "from"),
        ({"action": "course.start\x00"}, "action"),
    ],
)
def test_an_audit_filter_out_of_bounds_is_shown_beside_it(
    clinic: DemoClinic, params: dict[str, str], field: str
) -> None:
    response = clinic.browser("admin").get("/audit", params=params)
    assert response.status_code == 422
    assert one(page(response), f'[data-error-for="{field}"]')


@pytest.mark.parametrize("cursor", ["before", "after"])
def test_an_audit_cursor_beyond_an_integer_column_names_no_page(
    clinic: DemoClinic, cursor: str
) -> None:
    response = clinic.browser("admin").get("/audit", params={cursor: str(2**63)})
    assert response.status_code == 404


def test_an_event_time_in_year_9999_is_a_form_error(clinic: DemoClinic) -> None:
    patient = clinic.patients["P-003"]
    browser = clinic.browser("dr.lee")
    soup = page(browser.get(f"/patients/{patient}"))
    version = one(soup, 'form[data-form="event"] input[name="version"]')["value"]
    data = {
        "csrf_token": csrf_of(soup),
        "version": str(version),
        "kind": "discontinue",
        "at": "9999-12-31T23:59",
    }
    response = browser.post(
        f"/courses/{clinic.courses['P-003']}/events", data=data, follow_redirects=False
    )
    assert response.status_code == 422
    message = one(page(response), '[data-error-for="at"]').get_text()
    assert message.endswith("must be a date and time from 1900-01-01 to 2200-12-31")
