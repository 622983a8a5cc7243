"""Accounts: users and roles, argon2 passwords, session and bearer tokens, login throttling,
and a user's change of their own password.

About 670 lines: a sign-in, a change of one's own password and the making of a user share
the account's checks (the password rule, the username, the role's tie to a patient), the
hasher and its dummy hash, and the prepared statements that read and pause an account;
split apart, the timing-equal paths would no longer read as one.
"""

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.domain.errors import BlinaError, InvalidInput
from blina.services.access import require_role
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.credentials import end_sessions, revoke_reset_links
from blina.services.errors import (
    Conflict,
    LoginThrottled,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from blina.services.login_limits import LoginLimits
from blina.services.phones import check_phone
from blina.services.records import UserRecord, copy_of
from blina.store.prepared import Prepared
from blina.store.session import read_only, transaction
from blina.store.tables import LoginToken, Patient, User, table_of

__all__ = [
    "NO_PASSWORD",
    "OWN_PHONE_ROLES",
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "SESSION_COOKIE",
    "LoginOutcome",
    "add_user",
    "authenticate",
    "change_password",
    "change_phone",
    "check_display_name",
    "check_new_password",
    "check_role",
    "check_username",
    "create_user",
    "hash_password",
    "list_users",
    "log_in",
    "log_out",
    "own_account",
    "roles_for",
    "session_cookie",
    "set_own_phone",
    "to_actor",
    "username_taken",
]

# The browser's session: one cookie, set by the JSON API's session login and the sign-in
# page alike, so one sign-in serves both.
SESSION_COOKIE = "blina_session"

_HASHER = PasswordHasher()
_USERNAME = re.compile(r"[A-Za-z0-9._-]{1,120}")
# Every new password: made by an admin, changed by its user, or set through a reset link.
# At most what a sign-in accepts (api.schemas.LoginRequest), or it could never be used.
PASSWORD_MIN = 10
PASSWORD_MAX = 200
_PASSWORD_ALLOWED = f"{PASSWORD_MIN} to {PASSWORD_MAX} characters, without NUL (0x00)"
_PATIENT_ROLES = (Role.PATIENT, Role.CAREGIVER)
# The hash of a user who has no password yet (made with a set-password link): no argon2
# hash, so no password matches it; a sign-in checks the dummy hash instead, at the same cost.
NO_PASSWORD = "!no-password"
# Who sets their own phone number: the people the care team calls back about a patient.
OWN_PHONE_ROLES = _PATIENT_ROLES


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


def check_new_password(field: str, password: str) -> str:
    """``password`` if a new password may be it; else a refusal naming ``field`` (never
    the password itself)."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX or "\x00" in password:
        raise InvalidInput(field, "(hidden)", _PASSWORD_ALLOWED)
    return password


def roles_for(patient_id: int | None) -> tuple[Role, ...]:
    """The roles a user tied to ``patient_id`` (None: to no patient) may hold: a patient
    or caregiver is tied to their patient, and no one else is."""
    if patient_id is not None:
        return _PATIENT_ROLES
    return tuple(r for r in Role if r not in _PATIENT_ROLES)


def check_role(role: str, *, patient_id: int | None) -> Role:
    """``role``, for a new user tied to ``patient_id``, as ``roles_for`` allows."""
    roles = [r.value for r in Role]
    if role not in roles:
        raise InvalidInput("role", role, f"one of {', '.join(roles)}")
    if Role(role) not in roles_for(patient_id):
        raise InvalidInput(
            "patient_id", patient_id, "given for a patient or caregiver, and only for them"
        )
    return Role(role)


def check_username(username: str) -> str:
    """``username`` if a new user may have it (its form; whether it is taken is the
    caller's to ask, in its transaction)."""
    if not _USERNAME.fullmatch(username):
        raise InvalidInput(
            "username", username, "1 to 120 letters, digits, dots, dashes or underscores"
        )
    return username


def check_display_name(display_name: str) -> str:
    """``display_name`` trimmed, if a user may be shown by it."""
    name = display_name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("display_name", display_name, "1 to 200 characters")
    return name


def username_taken(session: Session, username: str) -> bool:
    return session.execute(select(User.id).where(User.username == username)).first() is not None


def create_user(
    session: Session,
    *,
    actor: Actor | None,
    now: datetime,
    clinic_id: int,
    username: str,
    display_name: str,
    role: str,
    password: str | None,
    patient_id: int | None = None,
    phone: str | None = None,
) -> User:
    """Create a user. Only an admin of the clinic may (``actor`` None: system set-up).
    ``password`` None: the user has none until they set one through a reset link
    (``password_resets``); no password signs them in meanwhile. ``phone``: the user's
    own number (``phones.check_phone``; empty or None: none)."""
    if actor is not None and (actor.role is not Role.ADMIN or actor.clinic_id != clinic_id):
        raise PermissionDenied("only an admin of the clinic manages users")
    check_role(role, patient_id=patient_id)
    check_username(username)
    display_name = check_display_name(display_name)
    phone = check_phone("phone", phone)
    if password is not None:
        check_new_password("password", password)
    if patient_id is not None:
        patient = session.get(Patient, patient_id)
        if patient is None or patient.clinic_id != clinic_id:
            raise NotFound(f"patient {patient_id} not found")
    if username_taken(session, username):
        raise InvalidInput("username", username, "a name no other user has")
    user = add_user(
        session,
        now=now,
        clinic_id=clinic_id,
        username=username,
        display_name=display_name,
        role=role,
        password_hash=NO_PASSWORD if password is None else hash_password(password),
        patient_id=patient_id,
        phone=phone,
    )
    append_audit(
        session,
        at=now,
        actor=actor,
        clinic_id=clinic_id,
        action="user.create",
        subject_type="user",
        subject_id=user.id,
        after={"username": username, "role": role, "patient_id": patient_id, "phone": phone},
    )
    return user


def add_user(
    session: Session,
    *,
    now: datetime,
    clinic_id: int,
    username: str,
    display_name: str,
    role: str,
    password_hash: str,
    patient_id: int | None,
    phone: str | None = None,
) -> User:
    """The new user's row, active, written (and sealed, ``sealed_rows``) as given: the
    caller checked it and audits it."""
    user = User(
        clinic_id=clinic_id,
        username=username,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        patient_id=patient_id,
        failed_logins=0,
        locked_until=None,
        active=True,
        created_at=now,
        phone=phone,
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session, *, actor: Actor) -> list[UserRecord]:
    if actor.role is not Role.ADMIN:
        raise PermissionDenied("only an admin lists users")
    found = session.execute(
        select(User).where(User.clinic_id == actor.clinic_id).order_by(User.id)
    ).scalars()
    return [copy_of(UserRecord, user) for user in found]


def own_account(session: Session, *, actor: Actor) -> UserRecord:
    """The signed-in user's own account (their page and ``/me``)."""
    user = session.get(User, actor.user_id)
    if user is None or not user.active:
        raise NotAuthenticated("sign in again")
    return copy_of(UserRecord, user)


def set_own_phone(
    session: Session, *, actor: Actor, now: datetime, phone: str | None
) -> UserRecord:
    """A patient or caregiver sets their own number, for the care team to call them back
    (empty or None: no number). Audited with the number before and after; the same
    number again changes and records nothing."""
    require_role(actor, *OWN_PHONE_ROLES, doing="set their own phone number")
    phone = check_phone("phone", phone)
    user = session.get(User, actor.user_id, with_for_update=True)
    if user is None or not user.active:
        raise NotAuthenticated("sign in again")
    change_phone(session, actor=actor, now=now, user=user, phone=phone)
    return copy_of(UserRecord, user)


def change_phone(
    session: Session, *, actor: Actor, now: datetime, user: User, phone: str | None
) -> None:
    """``user``'s number, checked by the caller, written and audited if it is new."""
    if user.phone == phone:
        return
    before = user.phone
    user.phone = phone
    session.flush()
    append_audit(
        session,
        at=now,
        actor=actor,
        action="user.phone",
        subject_type="user",
        subject_id=user.id,
        before={"phone": before},
        after={"phone": phone},
    )


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    """A token and who it signs in, or the refusal (a failed attempt is counted and
    audited all the same)."""

    token: str | None
    actor: Actor | None
    refusal: BlinaError | None


@dataclass(frozen=True, slots=True)
class _Account:
    """What a login reads of an account (``_ACCOUNT``)."""

    id: int
    clinic_id: int
    role: str
    patient_id: int | None
    username: str
    password_hash: str
    active: bool
    locked_until: datetime | None

    def open_at(self, now: datetime) -> bool:
        return self.active and (self.locked_until is None or self.locked_until <= now)

    def actor(self) -> Actor:
        return Actor(self.id, self.clinic_id, Role(self.role), self.patient_id, self.username)


def log_in(
    sessions: sessionmaker[Session],
    *,
    limits: LoginLimits,
    settings: Settings,
    now: datetime,
    username: str,
    password: str,
    kind: str,
    source: str,
) -> LoginOutcome:
    """Check the password and issue a token (``kind`` "session" or "bearer").

    Three steps, so that no transaction is open while argon2 works (about 180 ms, which
    held SQLite's writer and a PostgreSQL connection; issue 16): read the account, check
    the password in a turn from ``limits``, then write the outcome in a short transaction.

    After ``login_max_failures`` wrong passwords in a row the account pauses, first for
    ``login_lockout_first_seconds``, doubling with each further failure up to
    ``login_lockout_minutes``. Failures are counted by one atomic update, so guesses in
    parallel each count, and a right password is let in only by a write that finds the
    account still not paused. An unknown name, an inactive or paused account and a wrong
    password get the same answer at the same cost (a hash is checked in every case).
    ``source`` (the client's address) and ``username`` are limited in failures a
    minute; every attempt on an active account is audited.
    """
    try:
        limits.check(source=source, username=username)
        with limits.admitted():
            with read_only(sessions) as session:
                row = session.execute(_ACCOUNT, {"username": username}).first()
            account = None if row is None else _Account(*row)
            open_ = account is not None and account.open_at(now)
            right = _check_password(
                limits, account.password_hash if account and open_ else None, password
            )
    except LoginThrottled as refusal:
        return LoginOutcome(None, None, refusal)
    token = None
    if account is not None and account.active:
        with transaction(sessions) as session:
            token = _record_attempt(
                session,
                settings=settings,
                now=now,
                account=account,
                open_=open_,
                right=right,
                kind=kind,
            )
    if account is None or token is None:
        limits.failed(source=source, username=username)
        return LoginOutcome(None, None, NotAuthenticated("wrong username or password"))
    limits.succeeded(username=username)
    return LoginOutcome(token, account.actor(), None)


def _check_password(limits: LoginLimits, password_hash: str | None, password: str) -> bool:
    """``password`` checked against ``password_hash`` in a turn from ``limits``; without
    a hash (no such account, or a paused one) against a dummy, at the same cost, and
    never right."""
    usable = None if password_hash == NO_PASSWORD else password_hash
    matches = limits.in_turn(lambda: _verify(usable or _dummy_hash(_HASHER), password))
    return matches and usable is not None


def _record_attempt(
    session: Session,
    *,
    settings: Settings,
    now: datetime,
    account: _Account,
    open_: bool,
    right: bool,
    kind: str,
) -> str | None:
    """The attempt written: a paused account's audited, a failure counted, or a success
    with its new token (returned), if the account is still open."""
    if not open_:
        _audit_attempt(session, now=now, account=account, action="login.paused")
        return None
    if not right:
        _count_failure(session, settings=settings, now=now, account=account)
        return None
    # The pause is read again where the success is written: failures counted in parallel
    # since the account was read may have paused it.
    let_in = session.execute(
        _LET_IN, {"user_id": account.id, "at": now, "checked": account.password_hash}
    ).first()
    if let_in is None:
        _audit_attempt(session, now=now, account=account, action="login.refused")
        return None
    token = secrets.token_urlsafe(32)
    session.execute(
        insert(_TOKENS).values(
            user_id=account.id,
            token_sha256=_digest(token),
            kind=kind,
            created_at=now,
            expires_at=now + timedelta(hours=settings.session_hours),
        )
    )
    append_audit(
        session,
        at=now,
        actor=account.actor(),
        action="login",
        subject_type="user",
        subject_id=account.id,
    )
    return token


def _count_failure(
    session: Session,
    *,
    settings: Settings,
    now: datetime,
    account: _Account,
    attempt: str = "login",
) -> None:
    """One more failure, counted by the database (``failed_logins + 1``: parallel
    failures never read the same count), and the pause it earns. ``attempt``: what was
    tried, the audited action's first word ("login", or "password" for a change of it)."""
    failures = session.execute(_ONE_MORE_FAILURE, {"user_id": account.id}).scalar_one()
    pause = _pause(settings, failures)
    if pause is not None:
        # Under the row lock the increment took (PostgreSQL) or the writer's (SQLite): a
        # later failure, with a longer pause, writes after this one.
        session.execute(
            update(_USERS).where(_USERS.c.id == account.id).values(locked_until=now + pause)
        )
    _audit_attempt(
        session,
        now=now,
        account=account,
        action=f"{attempt}.failed" if pause is None else f"{attempt}.locked",
        after={"failures": failures},
    )


def _pause(settings: Settings, failures: int) -> timedelta | None:
    """None below ``login_max_failures``; then the first pause, doubled for each failure
    beyond, never longer than ``login_lockout_minutes``."""
    beyond = failures - settings.login_max_failures
    if beyond < 0:
        return None
    first = settings.login_lockout_first_seconds
    longest = settings.login_lockout_minutes * 60
    return timedelta(seconds=min(first * 2 ** min(beyond, 32), longest))


def _audit_attempt(
    session: Session,
    *,
    now: datetime,
    account: _Account,
    action: str,
    after: dict[str, Any] | None = None,
) -> None:
    append_audit(
        session,
        at=now,
        actor=None,
        clinic_id=account.clinic_id,
        action=action,
        subject_type="user",
        subject_id=account.id,
        after=after,
    )


def authenticate(session: Session, *, now: datetime, token: str) -> Actor:
    """Who ``token`` signs in, now: an ordinary SQLAlchemy query on every signed-in
    request, run on the driver only inside the group-commit writer (store.prepared)."""
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
_ACCOUNTS = select(
    _USERS.c.id,
    _USERS.c.clinic_id,
    _USERS.c.role,
    _USERS.c.patient_id,
    _USERS.c.username,
    _USERS.c.password_hash,
    _USERS.c.active,
    _USERS.c.locked_until,
)
_ACCOUNT = _ACCOUNTS.where(_USERS.c.username == bindparam("username"))
_ACCOUNT_OF = _ACCOUNTS.where(_USERS.c.id == bindparam("user_id"))
_ONE_MORE_FAILURE = (
    update(_USERS)
    .where(_USERS.c.id == bindparam("user_id"))
    .values(failed_logins=_USERS.c.failed_logins + 1)
    .returning(_USERS.c.failed_logins)
)
# Only while the account is active, not paused, and its hash the one the password was
# checked against (not changed in between).
_LET_IN = (
    update(_USERS)
    .where(
        _USERS.c.id == bindparam("user_id"),
        _USERS.c.active.is_(True),
        _USERS.c.password_hash == bindparam("checked"),
        or_(_USERS.c.locked_until.is_(None), _USERS.c.locked_until <= bindparam("at")),
    )
    .values(failed_logins=0, locked_until=None, last_login_at=bindparam("at"))
    .returning(_USERS.c.id)
)


def change_password(
    sessions: sessionmaker[Session],
    *,
    limits: LoginLimits,
    settings: Settings,
    now: datetime,
    actor: Actor,
    token: str,
    current_password: str,
    new_password: str,
    source: str,
) -> int:
    """The signed-in ``actor`` sets a new password, giving the current one. Every other
    session and bearer token of theirs ends (``token``, the one this request came with,
    stays signed in), and so do reset links not yet used. How many sessions ended.

    As a login does (``log_in``): the current password is checked, and the new one
    hashed, in turns from ``limits`` with no transaction open; a wrong current password
    is a failed attempt (counted, audited, and pausing the account as a wrong password at
    sign-in does; ``source`` and the username are limited in failures a minute); a
    paused account is refused until the pause ends (``LoginThrottled``). The new
    password keeps the rule every new password keeps (``check_new_password``) and differs
    from the current one: both checked first, at no cost.
    """
    check_new_password("new_password", new_password)
    if new_password == current_password:
        raise InvalidInput("new_password", "(hidden)", "different from the current password")
    limits.check(source=source, username=actor.username)
    with limits.admitted():
        with read_only(sessions) as session:
            row = session.execute(_ACCOUNT_OF, {"user_id": actor.user_id}).first()
        account = None if row is None else _Account(*row)
        if account is None or not account.active:
            raise NotAuthenticated("sign in again")
        open_ = account.open_at(now)
        right = open_ and _check_password(limits, account.password_hash, current_password)
        new_hash = limits.in_turn(lambda: hash_password(new_password)) if right else None
    ended = 0
    with transaction(sessions) as session:
        if not open_:
            _audit_attempt(session, now=now, account=account, action="password.paused")
        elif new_hash is None:
            _count_failure(session, settings=settings, now=now, account=account, attempt="password")
        else:
            ended = _set_own_password(
                session, now=now, actor=actor, account=account, new_hash=new_hash, token=token
            )
    if not open_:
        assert account.locked_until is not None
        wait = (account.locked_until - now).total_seconds()
        raise LoginThrottled(
            "too many wrong passwords: try again later", retry_after=max(1, math.ceil(wait))
        )
    if new_hash is None:
        limits.failed(source=source, username=actor.username)
        raise InvalidInput("current_password", "(hidden)", "the account's current password")
    limits.succeeded(username=actor.username)
    return ended


def _set_own_password(
    session: Session, *, now: datetime, actor: Actor, account: _Account, new_hash: str, token: str
) -> int:
    """The new hash written, if the account is still active and its password the one
    checked (not changed since, by a reset or in another tab); the user's row locked
    first, so that a sign-in writing at the same time lands before or after, never
    between (``credentials``)."""
    user = session.get(User, account.id, with_for_update=True)
    if user is None or not user.active:
        raise NotAuthenticated("sign in again")
    if user.password_hash != account.password_hash:
        raise Conflict("the password was changed meanwhile: sign in again with the new one")
    user.password_hash = new_hash
    user.failed_logins = 0
    user.locked_until = None
    ended = end_sessions(session, user_id=user.id, keep_sha256=_digest(token))
    revoke_reset_links(session, user_id=user.id, now=now)
    append_audit(
        session,
        at=now,
        actor=actor,
        action="user.password",
        subject_type="user",
        subject_id=user.id,
        after={"other_sessions_ended": ended},
    )
    return ended


def log_out(session: Session, *, token: str) -> None:
    found = session.execute(
        select(LoginToken).where(LoginToken.token_sha256 == _digest(token))
    ).scalar_one_or_none()
    if found is not None:
        session.delete(found)


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Checked when no account's hash may be: a wrong name costs as much as a wrong
    password (made by ``hasher``, so with the parameters real hashes have)."""
    return hasher.hash("blina-no-such-user")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
