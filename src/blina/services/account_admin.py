"""What the admin of a clinic changes in its users' accounts: deactivation, reactivation,
role (issue 16, item 11) and phone number (issue 18). Password reset links are ``password_resets``'.

Each change is the admin's alone, within their clinic: another role is refused (403), and
a user of another clinic, like one that does not exist, is not found (404). An admin
changes neither their own activity nor their own role, so a clinic always keeps the
admin acting. A deactivation ends every session and bearer token of the user at once, and
the reset links not yet used; a new role ends every session, so that the user signs in
again under it. Every change is audited, and the user's row is re-sealed with it (an ORM
update, ``sealed_rows``). Asking for what already holds (deactivating an inactive user)
changes nothing and records nothing.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from blina.domain.errors import InvalidInput
from blina.services.access import require_role
from blina.services.accounts import change_phone, roles_for
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.credentials import end_sessions, revoke_reset_links
from blina.services.errors import NotFound, PermissionDenied
from blina.services.phones import check_phone
from blina.services.records import UserRecord, copy_of
from blina.store.tables import User

__all__ = ["change_role", "deactivate_user", "managed_user", "reactivate_user", "set_phone"]


def managed_user(session: Session, *, actor: Actor, user_id: int, doing: str) -> User:
    """The user of the admin's clinic with ``user_id``, its row locked for the change
    (a sign-in writing at the same time waits for it: ``credentials``)."""
    require_role(actor, Role.ADMIN, doing=doing)
    user = session.get(User, user_id, with_for_update=True)
    if user is None or user.clinic_id != actor.clinic_id:
        raise NotFound(f"user {user_id} not found")
    return user


def deactivate_user(session: Session, *, actor: Actor, now: datetime, user_id: int) -> UserRecord:
    """The user can no longer sign in, and every session, token and reset link of theirs
    stops working at once."""
    user = managed_user(session, actor=actor, user_id=user_id, doing="deactivate a user")
    if user.id == actor.user_id:
        raise PermissionDenied("an admin cannot deactivate their own account")
    if not user.active:
        return copy_of(UserRecord, user)
    user.active = False
    ended = end_sessions(session, user_id=user.id)
    revoked = revoke_reset_links(session, user_id=user.id, now=now)
    _audit(
        session,
        now=now,
        actor=actor,
        user=user,
        action="user.deactivate",
        before={"active": True},
        after={"active": False, "sessions_ended": ended, "reset_links_revoked": revoked},
    )
    return copy_of(UserRecord, user)


def reactivate_user(session: Session, *, actor: Actor, now: datetime, user_id: int) -> UserRecord:
    """The user can sign in again, with the password they had (or through a reset link
    issued now)."""
    user = managed_user(session, actor=actor, user_id=user_id, doing="reactivate a user")
    if user.active:
        return copy_of(UserRecord, user)
    user.active = True
    _audit(
        session,
        now=now,
        actor=actor,
        user=user,
        action="user.reactivate",
        before={"active": False},
        after={"active": True},
    )
    return copy_of(UserRecord, user)


def change_role(
    session: Session, *, actor: Actor, now: datetime, user_id: int, role: str
) -> UserRecord:
    """The user's new role, which must fit their tie to a patient as at creation
    (``accounts.roles_for``): staff roles among themselves, patient and caregiver between
    themselves. Every session of the user ends."""
    user = managed_user(session, actor=actor, user_id=user_id, doing="change a user's role")
    if user.id == actor.user_id:
        raise PermissionDenied("an admin cannot change their own role")
    allowed = roles_for(user.patient_id)
    if role not in allowed:
        tie = "tied to a patient" if user.patient_id is not None else "tied to no patient"
        raise InvalidInput("role", role, f"one of {', '.join(allowed)}, for a user {tie}")
    new_role = Role(role)
    if user.role == new_role:
        return copy_of(UserRecord, user)
    before = user.role
    user.role = new_role.value
    ended = end_sessions(session, user_id=user.id)
    _audit(
        session,
        now=now,
        actor=actor,
        user=user,
        action="user.role",
        before={"role": before},
        after={"role": new_role.value, "sessions_ended": ended},
    )
    return copy_of(UserRecord, user)


def set_phone(
    session: Session, *, actor: Actor, now: datetime, user_id: int, phone: str | None
) -> UserRecord:
    """The user's own number, set by the admin (for a family member who asks at the
    desk; empty or None: none). Audited when it changes."""
    user = managed_user(session, actor=actor, user_id=user_id, doing="change a user's phone")
    change_phone(session, actor=actor, now=now, user=user, phone=check_phone("phone", phone))
    return copy_of(UserRecord, user)


def _audit(
    session: Session,
    *,
    now: datetime,
    actor: Actor,
    user: User,
    action: str,
    before: dict[str, object],
    after: dict[str, object],
) -> None:
    append_audit(
        session,
        at=now,
        actor=actor,
        action=action,
        subject_type="user",
        subject_id=user.id,
        before=before,
        after=after,
    )
