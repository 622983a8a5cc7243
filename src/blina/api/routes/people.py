"""Users (admin only) and patients (within the actor's reach)."""

from fastapi import APIRouter, Request, Response

from blina.api.deps import ActorDep, ReadDep, StateDep, TxDep
from blina.api.paging import LIMIT_DEFAULT, After, Limit, one_page
from blina.api.schemas import PatientCreate, PatientPublic, UserCreate, UserPublic
from blina.services import accounts, patients
from blina.store.tables import Patient, User
from blina.store.types import RecordId

router = APIRouter()


def _user(user: User) -> UserPublic:
    return UserPublic(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        patient_id=user.patient_id,
    )


def _patient(patient: Patient) -> PatientPublic:
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
    return _user(user)


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
