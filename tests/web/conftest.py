"""The demo clinic behind the web pages, and browsers (test clients) signed in as its users."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from blina.app import create_app
from blina.config import Settings
from blina.demo import DEMO_PASSWORD
from blina.knowledge import Knowledge
from blina.services.accounts import SESSION_COOKIE
from blina.services.clock import FixedClock
from blina.store.session import make_session_factory, read_only
from blina.store.tables import Course, Patient
from tests import clinic_factories as factories
from tests.conftest import DEMO_NOW

NOW = DEMO_NOW


@dataclass(frozen=True)
class DemoClinic:
    app: FastAPI
    patients: dict[str, int]  # code -> id
    courses: dict[str, int]  # code -> latest course id
    browser: Callable[[str | None], TestClient]


def sign_in(client: TestClient, username: str) -> TestClient:
    """``client`` signed in as ``username`` through the accounts service, as the sign-in
    form's answer would leave it: a session cookie, and the sign-in audited with the test
    client's address. The form itself is tested in test_account_pages; signing in through
    it for every test cost the quick tier about 1,200 requests and 600 parsed pages."""
    state = client.app.state.blina  # type: ignore[attr-defined]
    outcome = factories.sign_in(
        state.sessions,
        username,
        password=DEMO_PASSWORD,
        now=state.clock.now(),
        settings=state.settings,
        kind="session",
        source="testclient",
    )
    assert outcome.token is not None, outcome.refusal
    client.cookies.set(SESSION_COOKIE, outcome.token)
    return client


@pytest.fixture(scope="module")
def clinic(
    migrated_engine: Engine,
    knowledge: Knowledge,
    demo_clinic_in: Callable[[Engine], Engine],
) -> Iterator[DemoClinic]:
    """The demo clinic at a fixed instant; one per test module and database engine."""
    engine = demo_clinic_in(migrated_engine)
    sessions = make_session_factory(engine)
    with read_only(sessions) as session:
        patients = dict(session.execute(select(Patient.code, Patient.id)).all())
        courses = dict(
            session.execute(
                select(Patient.code, Course.id)
                .join(Course, Course.patient_id == Patient.id)
                .order_by(Course.id)
            ).all()
        )
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    app = create_app(settings, clock=FixedClock(NOW), knowledge=knowledge)
    opened: list[TestClient] = []

    def browser(username: str | None) -> TestClient:
        client = TestClient(app, raise_server_exceptions=True)
        client.__enter__()
        opened.append(client)
        return client if username is None else sign_in(client, username)

    yield DemoClinic(app, patients, courses, browser)
    for client in opened:
        client.__exit__(None, None, None)
    app.state.blina.engine.dispose()
