"""Ending what lets a user in (services.credentials): their sessions and tokens, and their
reset links not yet used."""

import hashlib
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.services.accounts import authenticate
from blina.services.credentials import end_sessions, revoke_reset_links
from blina.services.errors import NotAuthenticated
from blina.services.password_resets import issue_reset_link
from blina.store.session import read_only, transaction
from blina.store.tables import PasswordReset
from tests.clinic_factories import NOW, World, sign_in


def _token(sessions: sessionmaker[Session], username: str) -> str:
    outcome = sign_in(sessions, username, kind="session")
    assert outcome.token is not None, outcome.refusal
    return outcome.token


def _signs_in(sessions: sessionmaker[Session], token: str) -> bool:
    with read_only(sessions) as session:
        try:
            authenticate(session, now=NOW, token=token)
        except NotAuthenticated:
            return False
    return True


def test_every_session_of_the_user_ends_but_the_one_kept_and_no_other_user_s(
    sessions: sessionmaker[Session], world: World
) -> None:
    kept, ended, other = (
        _token(sessions, "nurse"),
        _token(sessions, "nurse"),
        _token(sessions, "admin"),
    )
    with transaction(sessions) as session:
        count = end_sessions(
            session,
            user_id=world.nurse.user_id,
            keep_sha256=hashlib.sha256(kept.encode()).hexdigest(),
        )
    assert count == 1
    assert _signs_in(sessions, kept)
    assert not _signs_in(sessions, ended)
    assert _signs_in(sessions, other)
    with transaction(sessions) as session:
        assert end_sessions(session, user_id=world.nurse.user_id) == 1
    assert not _signs_in(sessions, kept)


def test_reset_links_not_yet_used_are_revoked_and_kept_for_the_record(
    sessions: sessionmaker[Session], world: World
) -> None:
    with transaction(sessions) as session:
        issue_reset_link(
            session,
            actor=world.admin,
            now=NOW,
            user_id=world.nurse.user_id,
            lifetime=timedelta(hours=1),
        )
    later = NOW + timedelta(minutes=5)
    with transaction(sessions) as session:
        assert revoke_reset_links(session, user_id=world.nurse.user_id, now=later) == 1
        assert revoke_reset_links(session, user_id=world.nurse.user_id, now=later) == 0
        assert revoke_reset_links(session, user_id=world.pharmacist.user_id, now=later) == 0
    with read_only(sessions) as session:
        links = session.execute(select(PasswordReset)).scalars().all()
    assert [(link.user_id, link.revoked_at) for link in links] == [(world.nurse.user_id, later)]
