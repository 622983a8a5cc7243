"""Who may see and change what. One place, so the API and the web pages agree.

A patient or caregiver sees only their own patient; clinic staff only their clinic.
Records the actor may not know exist answer ``NotFound``, not ``PermissionDenied``.
"""

from sqlalchemy.orm import Session

from blina.services.actors import Actor, Role
from blina.services.errors import NotFound, PermissionDenied
from blina.store.tables import Course, Patient

__all__ = ["course_for", "patient_for", "require_patient", "require_role"]


def require_role(actor: Actor, *roles: Role, doing: str) -> None:
    if actor.role not in roles:
        names = " or ".join(str(r) for r in roles)
        raise PermissionDenied(f"only a {names} may {doing}")


def patient_for(session: Session, actor: Actor, patient_id: int) -> Patient:
    patient = session.get(Patient, patient_id)
    require_patient(actor, patient_id, None if patient is None else patient.clinic_id)
    assert patient is not None
    return patient


def require_patient(actor: Actor, patient_id: int, clinic_id: int | None) -> None:
    """The rule: staff see their clinic's patients, a patient or caregiver their own.
    ``clinic_id`` is the patient's clinic, None when there is no such patient."""
    if clinic_id is None or clinic_id != actor.clinic_id:
        raise NotFound(f"patient {patient_id} not found")
    if not actor.is_staff and actor.patient_id != patient_id:
        raise NotFound(f"patient {patient_id} not found")


def course_for(session: Session, actor: Actor, course_id: int) -> tuple[Course, Patient]:
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound(f"course {course_id} not found")
    try:
        patient = patient_for(session, actor, course.patient_id)
    except NotFound:
        raise NotFound(f"course {course_id} not found") from None
    return course, patient
