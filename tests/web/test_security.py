"""CSRF on every POST form, security headers on every page, session cookie flags."""

import pytest
from fastapi.testclient import TestClient

from blina.app import create_app
from blina.config import Settings
from blina.demo import DEMO_PASSWORD
from tests.web.conftest import DemoClinic
from tests.web.soup import csrf_in, one, page


def _posts(clinic: DemoClinic) -> list[tuple[str, str]]:
    """Every POST form: (who, path)."""
    p1, c1 = clinic.patients["P-001"], clinic.courses["P-001"]
    return [
        ("alex.partner", "/logout"),
        ("alex.partner", f"/patients/{p1}/check-in"),
        ("dr.lee", f"/patients/{p1}/courses"),
        ("pharm.ana", f"/courses/{c1}/bags"),
        ("pharm.ben", "/bags/1/verify"),
        ("nurse.kim", "/alerts/1/acknowledge"),
    ]


@pytest.mark.parametrize("token", [None, "", "0" * 64])
def test_login_without_a_valid_csrf_token_is_refused(clinic: DemoClinic, token: str | None) -> None:
    browser = clinic.browser(None)
    browser.get("/login")
    data = {"username": "nurse.kim", "password": DEMO_PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = browser.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert one(page(response), "[data-status]")["data-status"] == "403"
    assert "blina_session" not in response.cookies


@pytest.mark.parametrize("index", range(6))
def test_every_form_refuses_a_post_without_its_token(clinic: DemoClinic, index: int) -> None:
    who, path = _posts(clinic)[index]
    browser = clinic.browser(who)
    response = browser.post(path, data={"temperature": "39"}, follow_redirects=False)
    assert response.status_code == 403
    assert one(page(response), "[data-status]")["data-status"] == "403"
    # still signed in: the refusal changed nothing
    assert browser.get("/", follow_redirects=False).status_code in (200, 303)


def test_a_token_from_another_browser_is_refused(clinic: DemoClinic) -> None:
    mine, theirs = clinic.browser("alex.partner"), clinic.browser("alex")
    patient = clinic.patients["P-001"]
    their_token = csrf_in(theirs.get(f"/patients/{patient}/check-in"))
    response = mine.post(
        f"/patients/{patient}/check-in", data={"csrf_token": their_token, "temperature": "37"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "path", ["/login", "/", "/today", "/patients/1", "/patients/999", "/static/htmx.min.js"]
)
def test_security_headers_on_every_page(clinic: DemoClinic, path: str) -> None:
    response = clinic.browser("alex.partner").get(path)
    csp = {
        part.strip().split(" ", 1)[0]: part.strip()
        for part in response.headers["content-security-policy"].split(";")
    }
    assert csp["script-src"] == "script-src 'self'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def _session_cookie(set_cookies: list[str]) -> list[str]:
    (cookie,) = [c for c in set_cookies if c.startswith("blina_session=")]
    return [part.strip().lower() for part in cookie.split(";")]


@pytest.mark.parametrize("secure", [False, True])
def test_session_cookie_flags(clinic: DemoClinic, secure: bool) -> None:
    state = clinic.app.state.blina
    settings = Settings(
        database_url=state.settings.database_url, cookie_secure=secure, environment="local"
    )
    app = create_app(settings, clock=state.clock, knowledge=state.knowledge)
    # A Secure cookie comes back only over https.
    with TestClient(app, base_url="https://testserver") as browser:
        token = csrf_in(browser.get("/login"))
        response = browser.post(
            "/login",
            data={"username": "nurse.kim", "password": DEMO_PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        flags = _session_cookie(response.headers.get_list("set-cookie"))
    app.state.blina.engine.dispose()
    assert "httponly" in flags
    assert "samesite=strict" in flags
    assert ("secure" in flags) is secure


def test_log_out_ends_the_session(clinic: DemoClinic) -> None:
    browser = clinic.browser("nurse.kim")
    token = csrf_in(browser.get("/"))
    browser.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    response = browser.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_off_site(clinic: DemoClinic, target: str) -> None:
    browser = clinic.browser(None)
    token = csrf_in(browser.get("/login"))
    response = browser.post(
        "/login",
        data={
            "username": "nurse.kim",
            "password": DEMO_PASSWORD,
            "csrf_token": token,
            "next": target,
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_wrong_password_reshows_the_form_with_the_message(clinic: DemoClinic) -> None:
    browser = clinic.browser(None)
    token = csrf_in(browser.get("/login"))
    response = browser.post(
        "/login", data={"username": "nurse.kim", "password": "nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert one(page(response), '[data-error-for="login"]')


@pytest.mark.parametrize(
    "path", ["/patients/abc", "/patients/999/calendar", "/no/such/page", "/bags/1/verify"]
)
def test_bad_addresses_answer_a_page_not_json(clinic: DemoClinic, path: str) -> None:
    response = clinic.browser("nurse.kim").get(path)
    assert response.headers["content-type"].startswith("text/html")
    assert response.status_code in (404, 405)
