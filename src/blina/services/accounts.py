"""Accounts: users and roles, argon2 passwords, session and bearer tokens, login throttling."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from blina.config import Settings
from blina.domain.errors import BlinaError, InvalidInput
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.errors import LoginThrottled, NotAuthenticated, NotFound, PermissionDenied
from blina.store.prepared import Prepared
from blina.store.tables import LoginToken, Patient, User, table_of

__all__ = [
    "SESSION_COOKIE",
    "LoginOutcome",
    "authenticate",
    "create_user",
    "hash_password",
    "list_users",
    "log_in",
    "log_out",
    "session_cookie",
    "to_actor",
]

# The browser's session: one cookie, set by the JSON API's session login and the sign-in
# page alike, so one sign-in serves both.
SESSION_COOKIE = "blina_session"

_HASHER = PasswordHasher()
# Verified when the username is unknown, so a wrong name costs as much time as a wrong password.
_DUMMY_HASH = _HASHER.hash("blina-no-such-user")
_MIN_PASSWORD = 10
_USERNAME = re.compile(r"[A-Za-z0-9._-]{1,120}")


def session_cookie(settings: Settings, token: str) -> dict[str, Any]:
    """The session cookie for ``token``, as ``Response.set_cookie`` takes it."""
    return {
        "key": SESSION_COOKIE,
        "value": token,
        "max_age": settings.session_hours * 3600,
        "httponly": True,
        "secure": settings.cookie_secure,
        "samesite": "strict",
    }


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def to_actor(user: User) -> Actor:
    return Actor(user.id, user.clinic_id, Role(user.role), user.patient_id, user.username)


def create_user(
    session: Session,
    *,
    actor: Actor | None,
    now: datetime,
    clinic_id: int,
    username: str,
    display_name: str,
    role: str,
    password: str,
    patient_id: int | None = None,
) -> User:
    """Create a user. Only an admin of the clinic may (``actor`` None: system set-up)."""
    if actor is not None and (actor.role is not Role.ADMIN or actor.clinic_id != clinic_id):
        raise PermissionDenied("only an admin of the clinic manages users")
    roles = [r.value for r in Role]
    if role not in roles:
        raise InvalidInput("role", role, f"one of {', '.join(roles)}")
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            "username", username, "1 to 120 letters, digits, dots, dashes or underscores"
        )
    if len(password) < _MIN_PASSWORD:
        raise InvalidInput("password", "(hidden)", f"at least {_MIN_PASSWORD} characters")
    needs_patient = role in (Role.PATIENT, Role.CAREGIVER)
    if needs_patient != (patient_id is not None):
        raise InvalidInput(
            "patient_id", patient_id, "given for a patient or caregiver, and only for them"
        )
    if patient_id is not None:
        patient = session.get(Patient, patient_id)
        if patient is None or patient.clinic_id != clinic_id:
            raise NotFound(f"patient {patient_id} not found")
    if session.execute(select(User.id).where(User.username == username)).first() is not None:
        raise InvalidInput("username", username, "a name no other user has")
    user = User(
        clinic_id=clinic_id,
        username=username,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
        patient_id=patient_id,
        failed_logins=0,
        locked_until=None,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    append_audit(
        session,
        at=now,
        actor=actor,
        clinic_id=clinic_id,
        action="user.create",
        subject_type="user",
        subject_id=user.id,
        after={"username": username, "role": role, "patient_id": patient_id},
    )
    return user


def list_users(session: Session, *, actor: Actor) -> list[User]:
    if actor.role is not Role.ADMIN:
        raise PermissionDenied("only an admin lists users")
    return list(
        session.execute(
            select(User).where(User.clinic_id == actor.clinic_id).order_by(User.id)
        ).scalars()
    )


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """A token and its user, or the refusal to raise once the transaction is committed
    (a failed attempt is counted and audited even though the login fails)."""

    token: str | None
    user: User | None
    refusal: BlinaError | None


def log_in(
    session: Session, *, settings: Settings, now: datetime, username: str, password: str, kind: str
) -> LoginOutcome:
    """Check the password and issue a token (``kind`` "session" or "bearer").

    After ``login_max_failures`` wrong passwords in a row the account is locked for
    ``login_lockout_minutes``; every attempt on a known account is audited.
    """
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active:
        _verify(_DUMMY_HASH, password)
        return LoginOutcome(None, None, NotAuthenticated("wrong username or password"))
    if user.locked_until is not None and user.locked_until > now:
        return LoginOutcome(
            None,
            None,
            LoginThrottled(
                f"too many failed logins: try again after {user.locked_until:%H:%M} UTC"
            ),
        )
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        locked = user.failed_logins >= settings.login_max_failures
        if locked:
            user.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
            user.failed_logins = 0
        append_audit(
            session,
            at=now,
            actor=None,
            clinic_id=user.clinic_id,
            action="login.locked" if locked else "login.failed",
            subject_type="user",
            subject_id=user.id,
        )
        return LoginOutcome(None, None, NotAuthenticated("wrong username or password"))
    user.failed_logins = 0
    user.locked_until = None
    token = secrets.token_urlsafe(32)
    session.add(
        LoginToken(
            user_id=user.id,
            token_sha256=_digest(token),
            kind=kind,
            created_at=now,
            expires_at=now + timedelta(hours=settings.session_hours),
        )
    )
    append_audit(
        session,
        at=now,
        actor=to_actor(user),
        action="login",
        subject_type="user",
        subject_id=user.id,
    )
    return LoginOutcome(token, user, None)


def authenticate(session: Session, *, now: datetime, token: str) -> Actor:
    row = _SIGNED_IN.first(session, {"digest": _digest(token)})
    if row is None or row.expires_at <= now or not row.active:
        raise NotAuthenticated("sign in again")
    return Actor(row.id, row.clinic_id, Role(row.role), row.patient_id, row.username)


# Built once: every signed-in request runs it.
_TOKENS = table_of(LoginToken)
_USERS = table_of(User)
_SIGNED_IN = Prepared(
    select(
        _TOKENS.c.expires_at,
        _USERS.c.id,
        _USERS.c.clinic_id,
        _USERS.c.role,
        _USERS.c.patient_id,
        _USERS.c.username,
        _USERS.c.active,
    )
    .join(_USERS, _USERS.c.id == _TOKENS.c.user_id)
    .where(_TOKENS.c.token_sha256 == bindparam("digest"))
)


def log_out(session: Session, *, token: str) -> None:
    found = session.execute(
        select(LoginToken).where(LoginToken.token_sha256 == _digest(token))
    ).scalar_one_or_none()
    if found is not None:
        session.delete(found)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
