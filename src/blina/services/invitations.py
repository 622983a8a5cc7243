"""One-time invitations for a family member (issue 18): the care team (a physician, a
nurse or the admin) invites someone to be the patient or a caregiver of one patient of
their clinic; the invitee opens the link, without signing in, sets their own password, and
can then sign in, seeing that patient only.

The token is made as a reset link's is (``password_resets``): 256 random bits, known once,
when the link is issued; only its SHA-256 is stored, so a copy of the database opens
nothing. A link works until it expires (``Settings.invitation_hours``) and once; a newer
invitation of the same username in the clinic, or a revocation, revokes it. An unknown,
used, revoked or expired token answers the same ``NotFound`` in the same words.

The username (and the name the care team knows the person by) is fixed when the
invitation is issued, not chosen by whoever holds the link: the care team knows whom to
expect when they sign in or call; a newer invitation of the same person is known to
replace the older one; the page the link opens asks for a password only; and a link
holder cannot probe which usernames exist. The name is checked free when the invitation
is issued and again when it is used (an admin may have given it to someone meanwhile).

Issuing, revoking and using an invitation are audited, as events about the patient (so
they appear in the patient's audit trail); the account a used one makes is written as any
user's row is, sealed with the audit key (``sealed_rows``). The password is hashed in a
turn from the login limits with no transaction open, as a reset link's is.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.errors import InvalidInput
from blina.services.access import patient_for, require_role
from blina.services.accounts import (
    add_user,
    check_display_name,
    check_new_password,
    check_role,
    check_username,
    hash_password,
    roles_for,
    username_taken,
)
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.errors import Conflict, NotFound
from blina.services.login_limits import LoginLimits
from blina.services.phones import check_phone
from blina.store.session import read_only, transaction
from blina.store.tables import Clinic, Invitation, table_of

__all__ = [
    "UNUSABLE",
    "InvitationRecord",
    "InvitationState",
    "InvitationTarget",
    "IssuedInvitation",
    "accept_invitation",
    "invitation_target",
    "issue_invitation",
    "list_invitations",
    "may_invite",
    "revoke_invitation",
]

UNUSABLE = "this invitation cannot be used"
_INVITING = (Role.PHYSICIAN, Role.NURSE, Role.ADMIN)
_INVITED = tuple(r.value for r in roles_for(patient_id=0))  # patient, caregiver
_INVITATIONS = table_of(Invitation)


class InvitationState(StrEnum):
    PENDING = "pending"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    """A new invitation's token, the only time it is known, and when it stops working."""

    token: str
    invitation_id: int
    patient_id: int
    username: str
    role: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class InvitationRecord:
    """An invitation as the care team lists it, with its state at the moment asked."""

    id: int
    patient_id: int
    role: str
    username: str
    display_name: str
    issued_by: int
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    user_id: int | None
    state: InvitationState


@dataclass(frozen=True, slots=True)
class InvitationTarget:
    """What a usable invitation makes: the account's username and role."""

    invitation_id: int
    username: str
    role: str


def may_invite(actor: Actor) -> bool:
    return actor.role in _INVITING


def issue_invitation(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    patient_id: int,
    role: str,
    username: str,
    display_name: str,
    lifetime: timedelta,
) -> IssuedInvitation:
    """A new invitation for ``username`` to be ``role`` (patient or caregiver) of the
    patient, working for ``lifetime``; the clinic's older invitations of the same username
    not yet used stop working."""
    require_role(actor, *_INVITING, doing="invite a family member")
    patient = patient_for(session, actor, patient_id)
    if role not in _INVITED:
        raise InvalidInput("role", role, f"one of {', '.join(_INVITED)}")
    check_role(role, patient_id=patient.id)
    check_username(username)
    name = check_display_name(display_name)
    # One invitation at a time per clinic: of two for the same username at once, the
    # later revokes the earlier (a row lock that lets rows referring to the clinic be
    # written meanwhile, PostgreSQL's FOR NO KEY UPDATE; SQLite has one writer).
    session.get(Clinic, actor.clinic_id, with_for_update={"key_share": True})
    if username_taken(session, username):
        raise InvalidInput("username", username, "a name no other user has")
    revoked = _revoke_pending(session, now=now, clinic_id=actor.clinic_id, username=username)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        clinic_id=actor.clinic_id,
        patient_id=patient.id,
        role=role,
        username=username,
        display_name=name,
        token_sha256=_digest(token),
        issued_by=actor.user_id,
        created_at=now,
        expires_at=now + lifetime,
        used_at=None,
        revoked_at=None,
        user_id=None,
    )
    session.add(invitation)
    session.flush()
    _audit(
        session,
        now=now,
        actor=actor,
        clinic_id=actor.clinic_id,
        patient_id=patient.id,
        action="invitation.issue",
        after={
            "invitation_id": invitation.id,
            "role": role,
            "username": username,
            "expires_at": invitation.expires_at.isoformat(),
            "older_invitations_revoked": revoked,
        },
    )
    return IssuedInvitation(token, invitation.id, patient.id, username, role, invitation.expires_at)


def list_invitations(
    session: Session, *, actor: Actor, now: datetime, patient_id: int
) -> list[InvitationRecord]:
    """The patient's invitations, newest first, each with its state ``now``."""
    require_role(actor, *_INVITING, doing="list a patient's invitations")
    patient = patient_for(session, actor, patient_id)
    rows = session.execute(
        select(Invitation).where(Invitation.patient_id == patient.id).order_by(Invitation.id.desc())
    ).scalars()
    return [_record(row, now) for row in rows]


def revoke_invitation(
    session: Session, *, actor: Actor, now: datetime, patient_id: int, invitation_id: int
) -> InvitationRecord:
    """The invitation stops working, if it is still pending; a used, expired or revoked
    one is left as it is, and nothing is recorded."""
    require_role(actor, *_INVITING, doing="revoke an invitation")
    patient = patient_for(session, actor, patient_id)
    invitation = session.get(Invitation, invitation_id, with_for_update=True)
    if invitation is None or invitation.patient_id != patient.id:
        raise NotFound(f"invitation {invitation_id} not found")
    if _state(invitation, now) is not InvitationState.PENDING:
        return _record(invitation, now)
    invitation.revoked_at = now
    session.flush()
    _audit(
        session,
        now=now,
        actor=actor,
        clinic_id=actor.clinic_id,
        patient_id=patient.id,
        action="invitation.revoke",
        after={"invitation_id": invitation.id, "username": invitation.username},
    )
    return _record(invitation, now)


def invitation_target(session: Session, *, token: str, now: datetime) -> InvitationTarget:
    """What the invitation with ``token`` makes, if it can be used now."""
    found = session.execute(
        select(_INVITATIONS.c.id, _INVITATIONS.c.username, _INVITATIONS.c.role).where(
            _INVITATIONS.c.token_sha256 == _digest(token), _usable(now)
        )
    ).first()
    if found is None:
        raise NotFound(UNUSABLE)
    return InvitationTarget(*found)


def accept_invitation(
    sessions: sessionmaker[Session],
    *,
    limits: LoginLimits,
    now: datetime,
    token: str,
    password: str,
    phone: str | None = None,
) -> InvitationTarget:
    """Make the invited account, with ``password`` (and ``phone``, the family member's own
    number for the care team to call back; empty or None: none), through the invitation
    with ``token``, once.

    As a reset link is used (``password_resets.use_reset_link``): the invitation is
    checked first (an unusable one costs no hash), then the password's rule; the password
    is hashed in a turn from ``limits`` with no transaction open; then one transaction
    claims the invitation (only if it is still usable: of two uses at once, one makes the
    account) and writes the user. A username taken since the invitation was issued is a
    ``Conflict``, and the invitation stays usable (the care team issues a new one).
    """
    with read_only(sessions) as session:
        target = invitation_target(session, token=token, now=now)
    check_new_password("password", password)
    phone = check_phone("phone", phone)
    with limits.admitted():
        new_hash = limits.in_turn(lambda: hash_password(password))
    try:
        with transaction(sessions) as session:
            _make_account(session, target=target, now=now, password_hash=new_hash, phone=phone)
    except IntegrityError:  # the same username written at the same moment by another
        raise _taken(target.username) from None
    return target


def _make_account(
    session: Session,
    *,
    target: InvitationTarget,
    now: datetime,
    password_hash: str,
    phone: str | None,
) -> None:
    claimed = session.execute(
        update(_INVITATIONS)
        .where(_INVITATIONS.c.id == target.invitation_id, _usable(now))
        .values(used_at=now)
        .returning(_INVITATIONS.c.clinic_id, _INVITATIONS.c.patient_id)
    ).first()
    if claimed is None:
        raise NotFound(UNUSABLE)
    clinic_id, patient_id = claimed
    if username_taken(session, target.username):
        raise _taken(target.username)
    invitation = session.get_one(Invitation, target.invitation_id)
    user = add_user(
        session,
        now=now,
        clinic_id=clinic_id,
        username=target.username,
        display_name=invitation.display_name,
        role=target.role,
        password_hash=password_hash,
        patient_id=patient_id,
        phone=phone,
    )
    invitation.user_id = user.id
    session.flush()
    _audit(
        session,
        now=now,
        actor=None,
        clinic_id=clinic_id,
        patient_id=patient_id,
        action="invitation.accept",
        after={
            "invitation_id": target.invitation_id,
            "user_id": user.id,
            "username": user.username,
            "role": user.role,
            "phone": phone,
        },
    )


def _taken(username: str) -> Conflict:
    return Conflict(
        f"the username {username} was given to someone else since this invitation was "
        "issued: ask the care team for a new invitation"
    )


def _usable(now: datetime) -> ColumnElement[bool]:
    return and_(
        _INVITATIONS.c.used_at.is_(None),
        _INVITATIONS.c.revoked_at.is_(None),
        _INVITATIONS.c.expires_at > now,
    )


def _revoke_pending(session: Session, *, now: datetime, clinic_id: int, username: str) -> int:
    revoked = session.execute(
        update(_INVITATIONS)
        .where(
            _INVITATIONS.c.clinic_id == clinic_id,
            _INVITATIONS.c.username == username,
            _INVITATIONS.c.used_at.is_(None),
            _INVITATIONS.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .returning(_INVITATIONS.c.id)
    )
    return len(revoked.all())


def _state(invitation: Invitation, now: datetime) -> InvitationState:
    if invitation.used_at is not None:
        return InvitationState.USED
    if invitation.revoked_at is not None:
        return InvitationState.REVOKED
    if invitation.expires_at <= now:
        return InvitationState.EXPIRED
    return InvitationState.PENDING


def _record(invitation: Invitation, now: datetime) -> InvitationRecord:
    return InvitationRecord(
        id=invitation.id,
        patient_id=invitation.patient_id,
        role=invitation.role,
        username=invitation.username,
        display_name=invitation.display_name,
        issued_by=invitation.issued_by,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        used_at=invitation.used_at,
        revoked_at=invitation.revoked_at,
        user_id=invitation.user_id,
        state=_state(invitation, now),
    )


def _audit(
    session: Session,
    *,
    now: datetime,
    actor: Actor | None,
    clinic_id: int,
    patient_id: int,
    action: str,
    after: dict[str, object],
) -> None:
    append_audit(
        session,
        at=now,
        actor=actor,
        clinic_id=clinic_id,
        action=action,
        subject_type="patient",
        subject_id=patient_id,
        after=after,
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
