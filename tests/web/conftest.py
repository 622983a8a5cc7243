"""The demo clinic behind the web pages, and browsers (test clients) signed in as its users."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from blina.app import create_app
from blina.config import Settings
from blina.demo import DEMO_PASSWORD, seed_demo_clinic
from blina.knowledge import Knowledge
from blina.services.clock import FixedClock
from blina.store.session import make_session_factory, read_only
from blina.store.tables import Course, Patient
from tests.conftest import empty_database
from tests.web.soup import csrf_of, page

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class DemoClinic:
    app: FastAPI
    patients: dict[str, int]  # code -> id
    courses: dict[str, int]  # code -> latest course id
    browser: Callable[[str | None], TestClient]


def sign_in(client: TestClient, username: str) -> TestClient:
    soup = page(client.get("/login"))
    response = client.post(
        "/login",
        data={"username": username, "password": DEMO_PASSWORD, "csrf_token": csrf_of(soup)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture(scope="module")
def clinic(migrated_engine: Engine, knowledge: Knowledge) -> Iterator[DemoClinic]:
    """The demo clinic at a fixed instant; one per test module and database engine."""
    engine = empty_database(migrated_engine)
    sessions = make_session_factory(engine)
    seed_demo_clinic(sessions, now=NOW, knowledge=knowledge)
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
