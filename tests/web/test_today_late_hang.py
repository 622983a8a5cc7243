"""The family's Today page follows a bag hung late: the running bag is found on its moved
slot and runs until its moved end, and the next bag change is the moved one."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from blina.app import create_app
from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services.pharmacy import hang_bag, library_for
from blina.store.session import read_only, transaction
from blina.store.tables import BagPreparation
from tests.clinic_factories import PASSWORD, add_bag, add_course, add_world
from tests.web.soup import csrf_of, one, page

FIRST = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)  # the course's first bag, 09:00 Paris


@dataclass
class Clock:
    at: datetime

    def now(self) -> datetime:
        return self.at


def test_today_shows_the_running_bag_on_its_moved_slot(
    engine: Engine, sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    library = library_for(Settings(), knowledge)
    with transaction(sessions) as session:
        world = add_world(session, now=FIRST - timedelta(hours=2))
        course = add_course(session, world, knowledge, now=FIRST - timedelta(hours=2))
        first = add_bag(session, world, knowledge, library, course, now=FIRST - timedelta(hours=2))
    hung_at = FIRST + timedelta(hours=3)  # 3 h after its time
    code = _code(sessions, first)
    with transaction(sessions) as session:
        bag = hang_bag(
            session,
            actor=world.nurse,
            now=hung_at,
            knowledge=knowledge,
            patient_id=world.patient,
            code=code,
            rate_ml_per_h=Decimal(10),
            volume_ml=Decimal(240),
        )
    assert bag.status == "hung"

    clock = Clock(hung_at + timedelta(hours=1))
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    app = create_app(settings, clock=clock, knowledge=knowledge)
    with TestClient(app) as browser:
        login = page(browser.get("/login"))
        signed = browser.post(
            "/login",
            data={"username": "family", "password": PASSWORD, "csrf_token": csrf_of(login)},
            follow_redirects=False,
        )
        assert signed.status_code == 303
        today = page(browser.get("/today"))
    app.state.blina.engine.dispose()

    now_line = one(today, "[data-bag-now]")
    assert now_line["data-bag-now"] == "1"
    # hung 12:00 Paris, a 24-h bag: it runs until 12:00 the next day, not 09:00
    assert "12:00" in now_line.get_text()
    next_bag = datetime.fromisoformat(str(one(today, "[data-next-bag]")["data-next-bag"]))
    assert next_bag == datetime(2026, 12, 11, 11, 0, tzinfo=UTC)


def _code(sessions: sessionmaker[Session], bag_id: int) -> str:
    with read_only(sessions) as session:
        row = session.get(BagPreparation, bag_id)
        assert row is not None
        return row.code
