"""Users (admin only) and patients (within the actor's reach)."""

from datetime import timedelta

from fastapi import APIRouter, Request, Response

from blina.api.deps import ActorDep, ReadDep, StateDep, TxDep
from blina.api.paging import LIMIT_DEFAULT, After, Limit, one_page
from blina.api.schemas import (
    PatientCreate,
    PatientPublic,
    ResetLinkPublic,
    RoleChange,
    UserCreate,
    UserPublic,
)
from blina.services import account_admin, accounts, password_resets, patients
from blina.services.records import PatientRecord, UserRecord, copy_of
from blina.services.storage import RecordId

router = APIRouter()

# The name of the web page a reset link opens (web.routes.user_accounts).
RESET_PAGE = "password_reset_page"


def _user(user: UserRecord) -> UserPublic:
    return UserPublic(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        patient_id=user.patient_id,
        active=user.active,
    )


def _patient(row: object) -> PatientPublic:
    patient = copy_of(PatientRecord, row)
    return PatientPublic(id=patient.id, code=patient.code, display_name=patient.display_name)


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
        session, actor=actor, now=state.clock.now(), code=body.code, display_name=body.display_name
    )
    return _patient(patient)


@router.get("/patients/{patient_id}", tags=["patients"])
def get_patient(patient_id: RecordId, session: ReadDep, actor: ActorDep) -> PatientPublic:
    return _patient(patients.get_patient(session, actor=actor, patient_id=patient_id))
