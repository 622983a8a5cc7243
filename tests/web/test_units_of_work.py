"""A page's one unit of work (blina.web.deps): committed before the answer is sent, and
rolled back whenever the handler raised, also when the error was answered with a page
or the form was shown again (``submit``)."""

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx2
import pytest
from fastapi import APIRouter, Response
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from blina.app import create_app
from blina.config import Settings
from blina.domain.errors import InvalidInput
from blina.knowledge import Knowledge
from blina.services.clock import FixedClock
from blina.services.storage import Session
from blina.store.session import make_session_factory, read_only
from blina.store.tables import Clinic
from blina.web.deps import PageDep, WriteDep
from blina.web.render import render
from blina.web.routes import WebRoute
from blina.web.routes._common import submit
from tests.web.soup import csrf_in, one, page

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _add_clinic(session: Session, name: str) -> None:
    session.add(Clinic(name=name, zone="UTC", created_at=NOW))
    session.flush()


@router.post("/test/kept")
def kept(session: WriteDep) -> Response:
    _add_clinic(session, "kept")
    return Response(status_code=204)


@router.post("/test/raised")
def raised(session: WriteDep) -> Response:
    _add_clinic(session, "raised")
    raise InvalidInput("name", "raised", "a name no test refuses")


@router.post("/test/refused")
def refused(ctx: PageDep, session: WriteDep) -> Response:
    def save() -> None:
        _add_clinic(session, "refused")
        raise InvalidInput("name", "refused", "a name no test refuses")

    def again(reading: Session, error: InvalidInput, status: int) -> Response:
        seen = reading.execute(select(func.count()).select_from(Clinic)).scalar_one()
        message = f"{error.field}: {seen} clinics"
        return render(ctx, "pages/error.html", status=status, status_code=status, message=message)

    submit(ctx, save, refused={InvalidInput: 422}, again=again)
    return Response(status_code=204)


@pytest.fixture
def browser(engine: Engine, knowledge: Knowledge) -> Iterator[TestClient]:
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    app = create_app(settings, clock=FixedClock(NOW), knowledge=knowledge)
    app.include_router(router)
    with TestClient(app) as client:
        yield client
    app.state.blina.engine.dispose()


def _post(browser: TestClient, path: str) -> httpx2.Response:
    token = csrf_in(browser.get("/login"))
    return browser.post(path, data={"csrf_token": token}, follow_redirects=False)


def _clinics(engine: Engine) -> list[str]:
    with read_only(make_session_factory(engine)) as session:
        return list(session.execute(select(Clinic.name).order_by(Clinic.name)).scalars())


def test_a_handler_that_answers_commits_its_writes(browser: TestClient, engine: Engine) -> None:
    assert _post(browser, "/test/kept").status_code == 204
    assert _clinics(engine) == ["kept"]


def test_an_error_answered_with_a_page_writes_nothing(browser: TestClient, engine: Engine) -> None:
    answer = _post(browser, "/test/raised")
    assert answer.status_code == 422
    assert one(page(answer), "[data-status]")["data-status"] == "422"
    assert _clinics(engine) == []


def test_a_refused_form_is_shown_again_from_what_is_stored_and_writes_nothing(
    browser: TestClient, engine: Engine
) -> None:
    answer = _post(browser, "/test/refused")
    assert answer.status_code == 422
    assert one(page(answer), "[data-status]").get_text() == "name: 0 clinics"
    assert _clinics(engine) == []


def test_a_forged_form_never_opens_a_unit_of_work(browser: TestClient, engine: Engine) -> None:
    browser.get("/login")
    answer = browser.post("/test/kept", data={"csrf_token": "0" * 64}, follow_redirects=False)
    assert answer.status_code == 403
    assert _clinics(engine) == []
