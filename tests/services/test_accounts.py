"""Accounts: argon2 passwords, tokens, throttling after repeated failures, all audited."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.domain.errors import InvalidInput
from blina.services import accounts
from blina.services.accounts import authenticate, create_user, log_in, log_out
from blina.services.errors import LoginThrottled, NotAuthenticated, PermissionDenied
from blina.store.session import transaction
from blina.store.tables import AuditEvent, Clinic

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SETTINGS = Settings(login_max_failures=3, login_lockout_minutes=15, session_hours=12)


@pytest.fixture
def clinic_id(sessions: sessionmaker[Session]) -> int:
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
            password="a long password",
        )
        return clinic.id


def _login(
    sessions: sessionmaker[Session], password: str, at: datetime = NOW
) -> accounts.LoginOutcome:
    with transaction(sessions) as session:
        return log_in(
            session, settings=SETTINGS, now=at, username="nurse", password=password, kind="bearer"
        )


def test_hash_password_production_parameters_are_argon2id() -> None:
    assert accounts.PasswordHasher().hash("x").startswith("$argon2id$")
    assert accounts._DUMMY_HASH.startswith("$argon2id$")


def test_log_in_right_password_issues_a_token_that_authenticates(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    outcome = _login(sessions, "a long password")

    assert outcome.refusal is None
    assert outcome.token is not None
    with sessions() as session:
        actor = authenticate(session, now=NOW + timedelta(hours=11), token=outcome.token)
        assert actor.username == "nurse"
        with pytest.raises(NotAuthenticated):
            authenticate(session, now=NOW + timedelta(hours=12), token=outcome.token)


def test_log_out_token_stops_working(sessions: sessionmaker[Session], clinic_id: int) -> None:
    token = _login(sessions, "a long password").token
    assert token is not None
    with transaction(sessions) as session:
        log_out(session, token=token)
    with sessions() as session, pytest.raises(NotAuthenticated):
        authenticate(session, now=NOW, token=token)


def test_log_in_repeated_failures_lock_the_account_and_are_audited(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    for _ in range(3):
        assert isinstance(_login(sessions, "wrong").refusal, NotAuthenticated)

    locked = _login(sessions, "a long password", NOW + timedelta(minutes=14))
    assert isinstance(locked.refusal, LoginThrottled)
    assert _login(sessions, "a long password", NOW + timedelta(minutes=16)).token is not None
    with sessions() as session:
        actions = list(
            session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars()
        )
    assert actions[-4:] == ["login.failed", "login.failed", "login.locked", "login"]


def test_log_in_unknown_user_is_refused_like_a_wrong_password(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    with transaction(sessions) as session:
        outcome = log_in(
            session, settings=SETTINGS, now=NOW, username="nobody", password="x", kind="bearer"
        )
    assert str(outcome.refusal) == "wrong username or password"


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("role", {"role": "surgeon"}),
        ("username", {"username": "bad name"}),
        ("password", {"password": "short"}),
        ("patient_id", {"role": "patient"}),
        ("username", {"username": "nurse"}),
    ],
)
def test_create_user_bad_input_names_the_field(
    sessions: sessionmaker[Session], clinic_id: int, field: str, changes: dict[str, str]
) -> None:
    values = {
        "username": "new",
        "display_name": "N",
        "role": "nurse",
        "password": "a long password",
    } | changes
    with transaction(sessions) as session, pytest.raises(InvalidInput) as caught:
        create_user(session, actor=None, now=NOW, clinic_id=clinic_id, **values)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_create_user_by_non_admin_is_denied(
    sessions: sessionmaker[Session], clinic_id: int
) -> None:
    with transaction(sessions) as session:
        nurse = accounts.to_actor(session.execute(select(accounts.User)).scalar_one())
    with transaction(sessions) as session, pytest.raises(PermissionDenied):
        create_user(
            session,
            actor=nurse,
            now=NOW,
            clinic_id=clinic_id,
            username="x",
            display_name="x",
            role="nurse",
            password="a long password",
        )
