"""A two-clinic world for API tests: every role, a patient of another clinic, and a
caregiver of another patient."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from tests.clinic_factories import sign_in
from tests.conftest import empty_database

from blina.app import create_app
from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services.accounts import create_user, to_actor
from blina.services.check_ins import WRITERS
from blina.services.clock import FixedClock
from blina.services.courses import CourseRequest, start_course
from blina.services.patients import create_patient
from blina.store.session import make_session_factory, transaction
from blina.store.tables import Clinic, User

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class World:
    client: TestClient
    tokens: dict[str, str]
    patient_a1: int
    patient_a2: int
    patient_b: int
    course_a1: int

    def as_(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


# who -> (clinic, role, patient key or None)
PEOPLE = {
    "admin_a": ("a", "admin", None),
    "physician_a": ("a", "physician", None),
    "nurse_a": ("a", "nurse", None),
    "pharmacist_a": ("a", "pharmacist", None),
    "pharmacist_a2": ("a", "pharmacist", None),
    "patient_a": ("a", "patient", "a1"),
    "caregiver_a": ("a", "caregiver", "a1"),
    "caregiver_other": ("a", "caregiver", "a2"),
    "physician_b": ("b", "physician", None),
    "patient_b": ("b", "patient", "b"),
}


def settings_for(engine: Engine) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False), login_max_failures=3
    )


@pytest.fixture(scope="module")
def world(migrated_engine: Engine, knowledge: Knowledge) -> Iterator[World]:
    """Built once per module and engine: the access tests only add records with names of
    their own, so they do not disturb each other."""
    yield from built_world(migrated_engine, knowledge, check_in_writer="group-commit")


@pytest.fixture(scope="module", params=sorted(WRITERS))
def world_for_each_writer(
    request: pytest.FixtureRequest, migrated_engine: Engine, knowledge: Knowledge
) -> Iterator[World]:
    """The world built once for each check-in writer (services.check_ins.WRITERS): a
    module of check-in tests takes it as its ``world``, and every test runs against both."""
    yield from built_world(migrated_engine, knowledge, check_in_writer=request.param)


def built_world(
    migrated_engine: Engine, knowledge: Knowledge, *, check_in_writer: str
) -> Iterator[World]:
    """A fresh two-clinic world, its app storing check-ins with ``check_in_writer``."""
    engine = empty_database(migrated_engine)
    sessions = make_session_factory(engine)
    clock = FixedClock(datetime(2026, 12, 10, 9, 30, tzinfo=UTC))
    now = clock.now()
    with transaction(sessions) as session:
        clinics = {}
        for key, zone in (("a", "Europe/Paris"), ("b", "America/New_York")):
            clinic = Clinic(name=f"clinic {key}", zone=zone, created_at=now)
            session.add(clinic)
            session.flush()
            clinics[key] = clinic.id
        admins = {
            key: create_user(
                session,
                actor=None,
                now=now,
                clinic_id=cid,
                username=f"setup_{key}",
                display_name="setup",
                role="admin",
                password=PASSWORD,
            )
            for key, cid in clinics.items()
        }
        admin_actor = {key: to_actor(admin) for key, admin in admins.items()}
        patients = {}
        for key, clinic_key in (("a1", "a"), ("a2", "a"), ("b", "b")):
            staff = create_user(
                session,
                actor=None,
                now=now,
                clinic_id=clinics[clinic_key],
                username=f"reg_{key}",
                display_name="registrar",
                role="nurse",
                password=PASSWORD,
            )
            patients[key] = create_patient(
                session,
                actor=to_actor(staff),
                now=now,
                code=f"P-{key}",
                display_name=f"Patient {key}",
            ).id
        for who, (clinic_key, role, patient_key) in PEOPLE.items():
            create_user(
                session,
                actor=admin_actor[clinic_key],
                now=now,
                clinic_id=clinics[clinic_key],
                username=who,
                display_name=who,
                role=role,
                password=PASSWORD,
                patient_id=None if patient_key is None else patients[patient_key],
            )
    with transaction(sessions) as session:
        physician = session.execute(select(User).where(User.username == "physician_a")).scalar_one()
        request = CourseRequest(
            confirm_past_start=True,
            regimen_id="relapsed-refractory",
            start=date(2026, 12, 8),
            weight_kg=Decimal(70),
            age_years=Decimal(40),
            cycles=2,
        )
        course = start_course(
            session,
            actor=to_actor(physician),
            now=now,
            knowledge=knowledge,
            patient_id=patients["a1"],
            request=request,
        )
        course_id = course.course.id
    settings = settings_for(engine)
    tokens = {}
    for who in PEOPLE:
        outcome = sign_in(sessions, who, password=PASSWORD, now=now, settings=settings)
        assert outcome.token is not None
        tokens[who] = outcome.token
    app = create_app(settings, clock=clock, knowledge=knowledge, check_in_writer=check_in_writer)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield World(client, tokens, patients["a1"], patients["a2"], patients["b"], course_id)
    app.state.blina.engine.dispose()
