"""One-time password reset links (issue 16, item 11): the admin of a clinic issues one for
a user who cannot sign in; the user opens it, without signing in, and sets a new password.

As with calendar feeds, the token is known once, when the link is issued, and only its
SHA-256 is stored: a copy of the database opens no account. A link works until it
expires (``Settings.password_reset_hours``) and once; a newer link for the same user, a
deactivation or a change of the password revokes it. Setting the password through it
clears the account's failed attempts and pause, and ends every session and token of the
user. An unknown, used, revoked or expired token, or one of a user deactivated since,
answers the same ``NotFound`` in the same words: the answer tells nothing of which tokens
ever existed. Issuing and using a link are audited.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from blina.services.account_admin import managed_user
from blina.services.accounts import check_new_password, hash_password
from blina.services.actors import Actor
from blina.services.audit import append_audit
from blina.services.credentials import end_sessions, revoke_reset_links
from blina.services.errors import Conflict, NotFound
from blina.services.login_limits import LoginLimits
from blina.store.session import read_only, transaction
from blina.store.tables import PasswordReset, User, table_of

__all__ = ["IssuedReset", "ResetTarget", "issue_reset_link", "reset_target", "use_reset_link"]

UNUSABLE = "this link cannot be used"
_RESETS = table_of(PasswordReset)
_USERS = table_of(User)


@dataclass(frozen=True, slots=True)
class IssuedReset:
    """A new link's token, the only time it is known, and when the link stops working."""

    token: str
    expires_at: datetime
    user_id: int
    username: str


@dataclass(frozen=True, slots=True)
class ResetTarget:
    """Whose password a usable link sets."""

    reset_id: int
    user_id: int
    username: str


def issue_reset_link(
    session: Session, *, actor: Actor, now: datetime, user_id: int, lifetime: timedelta
) -> IssuedReset:
    """A new reset link for a user of the admin's clinic, working for ``lifetime``; the
    user's older links not yet used stop working. A deactivated user gets none
    (``Conflict``: reactivate them first)."""
    user = managed_user(session, actor=actor, user_id=user_id, doing="issue a password reset link")
    if not user.active:
        raise Conflict(f"user {user_id} is deactivated: reactivate them first")
    revoked = revoke_reset_links(session, user_id=user.id, now=now)
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(
        user_id=user.id,
        token_sha256=_digest(token),
        issued_by=actor.user_id,
        created_at=now,
        expires_at=now + lifetime,
        used_at=None,
        revoked_at=None,
    )
    session.add(reset)
    session.flush()
    append_audit(
        session,
        at=now,
        actor=actor,
        action="user.reset_link",
        subject_type="user",
        subject_id=user.id,
        after={
            "reset_id": reset.id,
            "expires_at": reset.expires_at.isoformat(),
            "older_links_revoked": revoked,
        },
    )
    return IssuedReset(token, reset.expires_at, user.id, user.username)


def reset_target(session: Session, *, token: str, now: datetime) -> ResetTarget:
    """Whose password the link with ``token`` sets, if it can be used now."""
    found = session.execute(
        select(_RESETS.c.id, _USERS.c.id, _USERS.c.username)
        .join(_USERS, _USERS.c.id == _RESETS.c.user_id)
        .where(
            _RESETS.c.token_sha256 == _digest(token),
            _RESETS.c.used_at.is_(None),
            _RESETS.c.revoked_at.is_(None),
            _RESETS.c.expires_at > now,
            _USERS.c.active.is_(True),
        )
    ).first()
    if found is None:
        raise NotFound(UNUSABLE)
    return ResetTarget(*found)


def use_reset_link(
    sessions: sessionmaker[Session],
    *,
    limits: LoginLimits,
    now: datetime,
    token: str,
    password: str,
) -> ResetTarget:
    """Set the new ``password`` through the link with ``token``, once.

    The link is checked first (an unusable one costs no hash), then the password's rule;
    the password is hashed in a turn from ``limits`` with no transaction open, as a
    sign-in checks one; then one transaction claims the link (only if it is still unused:
    of two uses at once, one sets the password), sets the password, clears the failed
    attempts and the pause, and ends every session and token of the user.
    """
    with read_only(sessions) as session:
        target = reset_target(session, token=token, now=now)
    check_new_password("password", password)
    with limits.admitted():
        new_hash = limits.in_turn(lambda: hash_password(password))
    with transaction(sessions) as session:
        # The user's row first, then the link's: the order every change of an account
        # takes its locks in (a link issued at the same time revokes this one, or waits).
        user = session.get(User, target.user_id, with_for_update=True)
        claimed = session.execute(
            update(_RESETS)
            .where(
                _RESETS.c.id == target.reset_id,
                _RESETS.c.used_at.is_(None),
                _RESETS.c.revoked_at.is_(None),
                _RESETS.c.expires_at > now,
            )
            .values(used_at=now)
            .returning(_RESETS.c.id)
        ).first()
        if claimed is None or user is None or not user.active:
            raise NotFound(UNUSABLE)
        user.password_hash = new_hash
        user.failed_logins = 0
        user.locked_until = None
        ended = end_sessions(session, user_id=user.id)
        append_audit(
            session,
            at=now,
            actor=None,
            clinic_id=user.clinic_id,
            action="user.password_reset",
            subject_type="user",
            subject_id=user.id,
            after={"reset_id": target.reset_id, "sessions_ended": ended},
        )
    # The failures naming the account (this process's window) are forgotten with its pause.
    limits.succeeded(username=target.username)
    return target


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
