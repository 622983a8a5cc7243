"""Signing in over HTTP, JSON and the sign-in page: one answer for every refusal that
could tell which usernames exist, and 429 with Retry-After once failures are limited."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from tests.web.soup import csrf_in, one, page

from blina.app import create_app
from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services.accounts import create_user
from blina.services.clock import FixedClock
from blina.store.session import transaction
from blina.store.tables import Clinic

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
PASSWORD = "correct horse battery"
WRONG = {"ok": False, "error": "wrong username or password", "errors": [], "status": 401}

Client = Callable[..., TestClient]


@pytest.fixture
def client(
    engine: Engine, sessions: sessionmaker[Session], knowledge: Knowledge
) -> Iterator[Client]:
    """A nurse's account, and a client of an app made with the given settings."""
    with transaction(sessions) as session:
        clinic = Clinic(name="c", zone="UTC", created_at=NOW)
        session.add(clinic)
        session.flush()
        create_user(
            session,
            actor=None,
            now=NOW,
            clinic_id=clinic.id,
            username="nurse",
            display_name="N",
            role="nurse",
            password=PASSWORD,
        )
    opened: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        url = engine.url.render_as_string(hide_password=False)
        # 429s are sent at once: the hold before them is for floods, not for tests.
        held = {"login_refusal_delay_seconds": 0} | settings
        app = create_app(
            Settings(database_url=url, **held), clock=FixedClock(NOW), knowledge=knowledge
        )
        opened.append(TestClient(app).__enter__())
        return opened[-1]

    yield make
    for opened_client in opened:
        opened_client.__exit__(None, None, None)
        opened_client.app.state.blina.engine.dispose()  # type: ignore[attr-defined]


def _login(client: TestClient, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_login_unknown_user_wrong_password_and_paused_account_answer_alike(
    client: Client,
) -> None:
    api = client(login_max_failures=2)
    unknown = _login(api, "nobody", "whatever")
    wrong = [_login(api, "nurse", "nope") for _ in range(2)]
    paused = _login(api, "nurse", PASSWORD)  # the right password, during the pause

    for response in (unknown, *wrong, paused):
        assert response.status_code == 401
        assert response.json() == WRONG


def test_login_failures_from_one_address_answer_429_with_retry_after(client: Client) -> None:
    api = client(login_failures_per_source=3)
    for number in range(3):
        assert _login(api, f"name{number}", "nope").status_code == 401

    refused = _login(api, "nurse", PASSWORD)

    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json() == {
        "ok": False,
        "error": "too many failed logins: try again later",
        "errors": [],
        "status": 429,
    }


def test_login_failures_naming_a_username_answer_alike_known_or_not(client: Client) -> None:
    api = client(login_failures_per_username=2, login_max_failures=10)
    answers = []
    for username in ("nurse", "nobody"):
        for _ in range(2):
            assert _login(api, username, "nope").status_code == 401
        answers.append(_login(api, username, "nope"))

    assert [a.status_code for a in answers] == [429, 429]
    assert answers[0].json() == answers[1].json()


def test_login_page_limited_answers_429_with_retry_after_and_the_message(
    client: Client,
) -> None:
    browser = client(login_failures_per_source=1)
    token = csrf_in(browser.get("/login"))
    form = {"username": "nurse", "password": "nope", "csrf_token": token}
    wrong = browser.post("/login", data=form)
    refused = browser.post("/login", data={**form, "password": PASSWORD})

    assert wrong.status_code == 401
    assert "wait a few minutes" in one(page(wrong), '[data-error-for="login"]').text
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert one(page(refused), '[data-error-for="login"]').text == (
        "Too many failed attempts. Try again later."
    )
