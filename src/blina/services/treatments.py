"""One active treatment per patient: the rule both kinds of course are started under.

A patient has at most one active course of any therapy: a course of blinatumomab
(``courses``) or a course of another therapy (``therapy_courses``). Two treatments at
once is what blina cannot plan safely (their premedications, monitoring and toxicity
rules would be read apart), so starting a second is refused (409) naming the one active,
until the physician ends it.

Each table's partial unique index keeps one active row of its own kind against a race;
across the two tables the patient's row is locked first (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite writes one transaction at a time), so two physicians starting one of
each kind at the same moment are taken one after the other.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from blina.domain.errors import InvalidInput
from blina.services.errors import Conflict
from blina.store.tables import Course, Patient, TherapyCourse

__all__ = ["END_OUTCOMES", "END_REASON_MAX", "end_reason", "refuse_active_treatment"]

# How a course of either kind ends (``courses.end_course``, ``therapy_courses.end_therapy_course``).
END_OUTCOMES = ("completed", "discontinued", "cancelled")
END_REASON_MAX = 2000  # characters

_END_IT = "end it first (completed, discontinued with a reason, or cancelled as entered in error)"


def refuse_active_treatment(session: Session, patient: Patient) -> None:
    """Conflict when ``patient`` has an active course of any therapy; the patient's row
    stays locked until the caller's transaction ends."""
    session.execute(select(Patient.id).where(Patient.id == patient.id).with_for_update())
    course = session.execute(
        select(Course.id).where(Course.patient_id == patient.id, Course.status == "active")
    ).scalar()
    if course is not None:
        raise Conflict(
            f"patient {patient.code} already has an active course (course {course}): {_END_IT}"
        )
    therapy = session.execute(
        select(TherapyCourse.id, TherapyCourse.therapy).where(
            TherapyCourse.patient_id == patient.id, TherapyCourse.status == "active"
        )
    ).first()
    if therapy is not None:
        raise Conflict(
            f"patient {patient.code} already has an active course of {therapy.therapy} "
            f"(therapy course {therapy.id}): {_END_IT}"
        )


def end_reason(outcome: str, reason: str) -> str:
    """The reason a course of either kind is ended with, trimmed: ``outcome`` one of
    ``END_OUTCOMES``; a reason required unless it is ``completed``, at most
    ``END_REASON_MAX`` characters."""
    if outcome not in END_OUTCOMES:
        raise InvalidInput("outcome", outcome, "one of " + ", ".join(END_OUTCOMES))
    reason = reason.strip()
    if outcome != "completed" and not reason:
        raise InvalidInput("reason", "(empty)", f"a reason: a course is {outcome} with one")
    if len(reason) > END_REASON_MAX:
        raise InvalidInput(
            "reason", f"{len(reason)} characters", f"at most {END_REASON_MAX} characters"
        )
    return reason
