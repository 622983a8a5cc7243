"""Password reset links: known once, stored hashed, working once and until they expire,
revoked by a newer link or a deactivation; and what the admin's changes to an account
record (services.account_admin)."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.services import account_admin, password_resets
from blina.services.accounts import create_user, to_actor
from blina.services.actors import Actor
from blina.services.errors import Conflict, NotFound
from blina.services.login_limits import LoginLimits
from blina.store.session import transaction
from blina.store.tables import AuditEvent, Clinic, LoginToken, PasswordReset, User
from tests.clinic_factories import sign_in

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
RIGHT = "a long password"
NEW = "new password 1"
SETTINGS = Settings()


@pytest.fixture
def admin(sessions: sessionmaker[Session]) -> Actor:
    """The clinic's admin; its nurse is user "nurse"."""
    with transaction(sessions) as session:
        clinic = Clinic(name="c", zone="UTC", created_at=NOW)
        session.add(clinic)
        session.flush()
        made = {
            role: create_user(
                session,
                actor=None,
                now=NOW,
                clinic_id=clinic.id,
                username=role,
                display_name=role.title(),
                role=role,
                password=RIGHT,
            )
            for role in ("admin", "nurse")
        }
        return to_actor(made["admin"])


def _nurse_id(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.execute(select(User.id).where(User.username == "nurse")).scalar_one()


def _issue(
    sessions: sessionmaker[Session], admin: Actor, at: datetime = NOW
) -> password_resets.IssuedReset:
    with transaction(sessions) as session:
        return password_resets.issue_reset_link(
            session, actor=admin, now=at, user_id=_nurse_id(sessions), lifetime=DAY
        )


def _use(
    sessions: sessionmaker[Session],
    token: str,
    at: datetime = NOW,
    password: str = NEW,
) -> password_resets.ResetTarget:
    return password_resets.use_reset_link(
        sessions, limits=LoginLimits(SETTINGS), now=at, token=token, password=password
    )


def _signs_in(sessions: sessionmaker[Session], password: str) -> bool:
    return sign_in(sessions, "nurse", password=password, now=NOW).token is not None


def test_a_link_s_token_is_known_once_and_only_its_hash_is_kept(
    sessions: sessionmaker[Session], admin: Actor
) -> None:
    issued = _issue(sessions, admin)

    assert issued.expires_at == NOW + DAY
    with sessions() as session:
        stored = session.execute(select(PasswordReset.token_sha256)).scalar_one()
        events = session.execute(select(AuditEvent.before, AuditEvent.after)).all()
    assert stored == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in repr(events)


def test_a_link_works_once_until_it_expires(sessions: sessionmaker[Session], admin: Actor) -> None:
    first, second = _issue(sessions, admin), _issue(sessions, admin, NOW + timedelta(hours=1))

    with pytest.raises(NotFound):  # revoked by the newer one
        _use(sessions, first.token)
    with pytest.raises(NotFound):  # expired
        _use(sessions, second.token, NOW + timedelta(hours=25))
    assert _use(sessions, second.token, NOW + timedelta(hours=24, minutes=59)).username == "nurse"
    with pytest.raises(NotFound, match=r"^this link cannot be used$"):  # used
        _use(sessions, second.token, NOW + timedelta(hours=24, minutes=59))
    assert _signs_in(sessions, NEW)


def test_a_link_of_a_user_deactivated_since_is_revoked_for_good(
    sessions: sessionmaker[Session], admin: Actor
) -> None:
    issued = _issue(sessions, admin)
    with transaction(sessions) as session:
        account_admin.deactivate_user(session, actor=admin, now=NOW, user_id=_nurse_id(sessions))
    with transaction(sessions) as session:
        account_admin.reactivate_user(session, actor=admin, now=NOW, user_id=_nurse_id(sessions))

    with pytest.raises(NotFound):
        _use(sessions, issued.token)
    assert _signs_in(sessions, RIGHT)


def test_no_link_for_a_deactivated_user(sessions: sessionmaker[Session], admin: Actor) -> None:
    with transaction(sessions) as session:
        account_admin.deactivate_user(session, actor=admin, now=NOW, user_id=_nurse_id(sessions))

    with pytest.raises(Conflict, match="reactivate"):
        _issue(sessions, admin)


def test_a_link_refuses_a_password_against_the_rule_and_stays_usable(
    sessions: sessionmaker[Session], admin: Actor
) -> None:
    issued = _issue(sessions, admin)

    with pytest.raises(ValueError, match="password"):
        _use(sessions, issued.token, password="short")
    assert _use(sessions, issued.token).username == "nurse"


def test_the_link_lifetime_setting_is_bounded() -> None:
    assert Settings().password_reset_hours == 24
    for hours in (0, 24 * 7 + 1):
        with pytest.raises(ValidationError, match="password_reset_hours"):
            Settings(password_reset_hours=hours)


# --- what the admin's changes record ---------------------------------------------------------


def test_each_change_of_an_account_is_audited_with_what_it_ended(
    sessions: sessionmaker[Session], admin: Actor
) -> None:
    assert _signs_in(sessions, RIGHT)
    nurse = _nurse_id(sessions)
    with transaction(sessions) as session:
        account_admin.change_role(session, actor=admin, now=NOW, user_id=nurse, role="physician")
        account_admin.change_role(session, actor=admin, now=NOW, user_id=nurse, role="physician")
        account_admin.deactivate_user(session, actor=admin, now=NOW, user_id=nurse)
        account_admin.reactivate_user(session, actor=admin, now=NOW, user_id=nurse)
        account_admin.reactivate_user(session, actor=admin, now=NOW, user_id=nurse)

    with sessions() as session:
        events = session.execute(
            select(AuditEvent.action, AuditEvent.before, AuditEvent.after)
            .where(AuditEvent.action.like("user.%"), AuditEvent.subject_id == str(nurse))
            .order_by(AuditEvent.seq)
        ).all()
        assert session.execute(select(LoginToken)).first() is None
    assert [tuple(e) for e in events[1:]] == [  # after "user.create"; no-ops record nothing
        ("user.role", {"role": "nurse"}, {"role": "physician", "sessions_ended": 1}),
        (
            "user.deactivate",
            {"active": True},
            {"active": False, "sessions_ended": 0, "reset_links_revoked": 0},
        ),
        ("user.reactivate", {"active": False}, {"active": True}),
    ]
