"""Users (admin only), patients (within the actor's reach), and a patient's family
invitations (the care team).

An invitation is used on its web page only (``/invite/{token}``), as a reset link is: it
is a link for a person, opened in a browser, who sets a password there; an API door for
it would be a second way in without signing in, with nothing a page lacks."""

from datetime import timedelta

from fastapi import APIRouter, Request, Response

from blina.api.deps import ActorDep, ReadDep, StateDep, TxDep
from blina.api.paging import LIMIT_DEFAULT, After, Limit, one_page
from blina.api.schemas import (
    InvitationCreate,
    InvitationIssued,
    InvitationPublic,
    PatientCreate,
    PatientPublic,
    PhoneChange,
    ResetLinkPublic,
    RoleChange,
    UserCreate,
    UserPublic,
)
from blina.services import account_admin, accounts, invitations, password_resets, patients
from blina.services.records import PatientRecord, UserRecord, copy_of
from blina.services.storage import RecordId

router = APIRouter()

# The names of the web pages a reset link and an invitation open (web.routes.user_accounts).
RESET_PAGE = "password_reset_page"
INVITATION_PAGE = "invitation_page"


def _user(user: UserRecord) -> UserPublic:
    return UserPublic(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        patient_id=user.patient_id,
        active=user.active,
        phone=user.phone,
    )


def _patient(row: object) -> PatientPublic:
    patient = copy_of(PatientRecord, row)
    return PatientPublic(
        id=patient.id, code=patient.code, display_name=patient.display_name, phone=patient.phone
    )


@router.get("/users", tags=["users"])
def list_users(session: ReadDep, actor: ActorDep) -> list[UserPublic]:
    """The clinic's users (admin)."""
    return [_user(u) for u in accounts.list_users(session, actor=actor)]


@router.post("/users", status_code=201, tags=["users"])
def create_user(body: UserCreate, session: TxDep, state: StateDep, actor: ActorDep) -> UserPublic:
    """Create a user of the admin's clinic."""
    user = accounts.create_user(
        session,
        actor=actor,
        now=state.clock.now(),
        clinic_id=actor.clinic_id,
        username=body.username,
        display_name=body.display_name,
        role=body.role,
        password=body.password,
        patient_id=body.patient_id,
        phone=body.phone,
    )
    return _user(copy_of(UserRecord, user))


@router.post("/users/{user_id}/deactivate", tags=["users"])
def deactivate_user(
    user_id: RecordId, session: TxDep, state: StateDep, actor: ActorDep
) -> UserPublic:
    """The user can no longer sign in; their sessions, tokens and reset links end at once
    (admin of their clinic; not oneself)."""
    return _user(
        account_admin.deactivate_user(session, actor=actor, now=state.clock.now(), user_id=user_id)
    )


@router.post("/users/{user_id}/reactivate", tags=["users"])
def reactivate_user(
    user_id: RecordId, session: TxDep, state: StateDep, actor: ActorDep
) -> UserPublic:
    """The user can sign in again (admin of their clinic)."""
    return _user(
        account_admin.reactivate_user(session, actor=actor, now=state.clock.now(), user_id=user_id)
    )


@router.put("/users/{user_id}/role", tags=["users"])
def change_role(
    user_id: RecordId, body: RoleChange, session: TxDep, state: StateDep, actor: ActorDep
) -> UserPublic:
    """A new role, within the user's kind (staff, or patient and caregiver); the user's
    sessions end (admin of their clinic; not one's own role)."""
    user = account_admin.change_role(
        session, actor=actor, now=state.clock.now(), user_id=user_id, role=body.role
    )
    return _user(user)


@router.put("/users/{user_id}/phone", tags=["users"])
def set_user_phone(
    user_id: RecordId, body: PhoneChange, session: TxDep, state: StateDep, actor: ActorDep
) -> UserPublic:
    """The user's own number, empty or null for none (admin of their clinic); audited."""
    user = account_admin.set_phone(
        session, actor=actor, now=state.clock.now(), user_id=user_id, phone=body.phone
    )
    return _user(user)


@router.post("/users/{user_id}/reset-link", status_code=201, tags=["users"])
def issue_reset_link(
    user_id: RecordId, request: Request, session: TxDep, state: StateDep, actor: ActorDep
) -> ResetLinkPublic:
    """A one-time link for the user to set a new password, shown this once; it expires
    after ``BLINA_PASSWORD_RESET_HOURS`` and revokes the user's older links (admin of
    their clinic)."""
    issued = password_resets.issue_reset_link(
        session,
        actor=actor,
        now=state.clock.now(),
        user_id=user_id,
        lifetime=timedelta(hours=state.settings.password_reset_hours),
    )
    # Under BLINA_PUBLIC_URL: outside the local environment, never the request's Host header.
    url = state.settings.address_for(
        request.app.url_path_for(RESET_PAGE, token=issued.token),
        as_requested=str(request.url_for(RESET_PAGE, token=issued.token)),
    )
    return ResetLinkPublic(url=url, expires_at=issued.expires_at)


@router.get("/patients", tags=["patients"])
def list_patients(
    request: Request,
    response: Response,
    session: ReadDep,
    actor: ActorDep,
    limit: Limit = LIMIT_DEFAULT,
    after: After = None,
) -> list[PatientPublic]:
    """Patients the actor may see: the clinic's for staff, their own for a patient or
    caregiver; a page at a time (``paging``)."""
    found = patients.list_patients(session, actor=actor, after=after, limit=limit + 1)
    return [_patient(p) for p in one_page(request, response, found, limit, lambda p: p.id)]


@router.post("/patients", status_code=201, tags=["patients"])
def create_patient(
    body: PatientCreate, session: TxDep, state: StateDep, actor: ActorDep
) -> PatientPublic:
    """Register a patient (physician, nurse or admin)."""
    patient = patients.create_patient(
        session,
        actor=actor,
        now=state.clock.now(),
        code=body.code,
        display_name=body.display_name,
        phone=body.phone,
    )
    return _patient(patient)


@router.get("/patients/{patient_id}", tags=["patients"])
def get_patient(patient_id: RecordId, session: ReadDep, actor: ActorDep) -> PatientPublic:
    return _patient(patients.get_patient(session, actor=actor, patient_id=patient_id))


@router.put("/patients/{patient_id}/phone", tags=["patients"])
def set_patient_phone(
    patient_id: RecordId, body: PhoneChange, session: TxDep, state: StateDep, actor: ActorDep
) -> PatientPublic:
    """The patient's or family's number to call back, empty or null for none (physician
    or nurse); audited."""
    patient = patients.set_patient_phone(
        session, actor=actor, now=state.clock.now(), patient_id=patient_id, phone=body.phone
    )
    return _patient(patient)


def _invitation(row: invitations.InvitationRecord) -> InvitationPublic:
    return InvitationPublic(
        id=row.id,
        patient_id=row.patient_id,
        role=row.role,
        username=row.username,
        display_name=row.display_name,
        state=row.state.value,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        revoked_at=row.revoked_at,
        user_id=row.user_id,
    )


@router.post("/patients/{patient_id}/invitations", status_code=201, tags=["patients"])
def issue_invitation(
    patient_id: RecordId,
    body: InvitationCreate,
    request: Request,
    session: TxDep,
    state: StateDep,
    actor: ActorDep,
) -> InvitationIssued:
    """A one-time link for a family member to make their own account, as the patient or a
    caregiver of this patient, under ``username``; shown this once. It works for
    ``BLINA_INVITATION_HOURS`` and revokes the clinic's older invitations of the same
    username (physician, nurse or admin)."""
    issued = invitations.issue_invitation(
        session,
        actor=actor,
        now=state.clock.now(),
        patient_id=patient_id,
        role=body.role,
        username=body.username,
        display_name=body.display_name,
        lifetime=timedelta(hours=state.settings.invitation_hours),
    )
    # Under BLINA_PUBLIC_URL: outside the local environment, never the request's Host header.
    url = state.settings.address_for(
        request.app.url_path_for(INVITATION_PAGE, token=issued.token),
        as_requested=str(request.url_for(INVITATION_PAGE, token=issued.token)),
    )
    return InvitationIssued(
        id=issued.invitation_id,
        url=url,
        expires_at=issued.expires_at,
        username=issued.username,
        role=issued.role,
    )


@router.get("/patients/{patient_id}/invitations", tags=["patients"])
def list_invitations(
    patient_id: RecordId, session: ReadDep, state: StateDep, actor: ActorDep
) -> list[InvitationPublic]:
    """The patient's invitations, newest first, each with its state now (physician, nurse
    or admin)."""
    found = invitations.list_invitations(
        session, actor=actor, now=state.clock.now(), patient_id=patient_id
    )
    return [_invitation(row) for row in found]


@router.post("/patients/{patient_id}/invitations/{invitation_id}/revoke", tags=["patients"])
def revoke_invitation(
    patient_id: RecordId,
    invitation_id: RecordId,
    session: TxDep,
    state: StateDep,
    actor: ActorDep,
) -> InvitationPublic:
    """The invitation stops working if still pending; a used, expired or revoked one is
    answered as it is (physician, nurse or admin)."""
    row = invitations.revoke_invitation(
        session,
        actor=actor,
        now=state.clock.now(),
        patient_id=patient_id,
        invitation_id=invitation_id,
    )
    return _invitation(row)
