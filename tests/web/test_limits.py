"""Issue 16 on the pages: a form past its limit gets a page (413), pages are never stored
by a cache, and a calendar feed's address is under the configured public address, never
the one the request's Host header names."""

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from blina.app import create_app
from blina.config import Settings
from tests.web.conftest import DemoClinic, sign_in
from tests.web.soup import csrf_in, csrf_of, one, page

PUBLIC = "https://blina.example.org/care"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "This form is too long to send. Shorten the text and try again."),
        (
            "es",
            "Este formulario es demasiado largo para enviarlo. "
            "Acorte el texto e inténtelo de nuevo.",
        ),
    ],
)
def test_form_past_its_limit_answers_a_413_page(
    clinic: DemoClinic, language: str, message: str
) -> None:
    browser = clinic.browser("alex.partner")
    path = f"/patients/{clinic.patients['P-001']}/check-in"
    token = csrf_in(browser.get(path))
    limit = Settings().max_form_body_bytes

    response = browser.post(
        path,
        data={"csrf_token": token, "note": "n" * limit},
        headers={"Accept-Language": language},
    )

    assert response.status_code == 413
    assert response.headers["connection"] == "close"
    problem = one(page(response), "[data-status]")
    assert problem["data-status"] == "413"
    assert problem.get_text() == message


@pytest.mark.parametrize(
    "path",
    ["/login", "/", "/today", "/patients/{P-001}", "/patients/{P-001}/check-in", "/patients/999"],
)
def test_pages_are_not_stored_or_sniffed(clinic: DemoClinic, path: str) -> None:
    response = clinic.browser("alex.partner").get(
        path.replace("{P-001}", str(clinic.patients["P-001"]))
    )

    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_static_assets_may_be_cached_but_are_not_sniffed(clinic: DemoClinic) -> None:
    response = clinic.browser(None).get("/static/htmx.min.js")

    assert response.status_code == 200
    assert "cache-control" not in response.headers
    assert response.headers["x-content-type-options"] == "nosniff"


def test_calendar_feed_address_is_under_the_public_url_not_the_host_header(
    clinic: DemoClinic,
) -> None:
    state = clinic.app.state.blina
    settings = Settings(database_url=state.settings.database_url, public_url=PUBLIC + "/")
    app = create_app(settings, clock=state.clock, knowledge=state.knowledge)
    patient = clinic.patients["P-001"]
    with TestClient(app, base_url="http://attacker.example") as browser:
        sign_in(browser, "alex")
        calendar = page(browser.get(f"/patients/{patient}/calendar"))
        made = browser.post(
            f"/patients/{patient}/calendar-feeds",
            data={"csrf_token": csrf_of(calendar), "label": "phone"},
            headers={"Host": "attacker.example"},
        )
    app.state.blina.engine.dispose()

    assert made.status_code == 201
    url = str(one(page(made), "input[data-feed-url]")["value"])
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert url == f"{PUBLIC}/calendar/{token}.ics"
    assert one(page(made), 'a[data-link="webcal"]')["href"] == (
        f"webcal://blina.example.org/care/calendar/{token}.ics"
    )


@pytest.mark.parametrize("public_url", ["", "http://blina.example.org", "blina.example.org"])
def test_outside_local_a_public_https_address_is_required(public_url: str) -> None:
    with pytest.raises(ValidationError, match="BLINA_PUBLIC_URL"):
        Settings(
            environment="production",
            secret_key="a production secret",  # type: ignore[arg-type]
            audit_key="a production audit key of 32 characters",  # type: ignore[arg-type]
            cookie_secure=True,
            public_url=public_url,
        )
