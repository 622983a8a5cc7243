"""Today's tasks for a clinic: bag changes, premedication, admissions and discharges,
cycle starts under supervision and labs, read from the task index."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from blina.services.access import require_role
from blina.services.actors import Actor, Role
from blina.store.prepared import Prepared
from blina.store.tables import Clinic, CourseTask, Patient, table_of

__all__ = ["TaskRow", "clinic_today", "require_task_reader", "tasks_for_day"]


@dataclass(frozen=True, slots=True)
class TaskRow:
    day: date
    at: datetime | None
    kind: str
    text: str
    course_id: int
    patient_id: int
    patient_code: str
    patient_name: str


def require_task_reader(actor: Actor) -> None:
    """Clinic staff see the clinic's tasks; patients and families do not."""
    require_role(
        actor,
        Role.NURSE,
        Role.PHARMACIST,
        Role.PHYSICIAN,
        Role.ADMIN,
        doing="see the clinic's tasks",
    )


def tasks_for_day(session: Session, *, actor: Actor, day: date) -> list[TaskRow]:
    require_task_reader(actor)
    query = (
        select(
            CourseTask.day,
            CourseTask.at,
            CourseTask.kind,
            CourseTask.text,
            CourseTask.course_id,
            CourseTask.patient_id,
            Patient.code,
            Patient.display_name,
        )
        .join(Patient, Patient.id == CourseTask.patient_id)
        .where(CourseTask.clinic_id == actor.clinic_id, CourseTask.day == day)
        .order_by(CourseTask.at, CourseTask.id)
    )
    return [TaskRow(*row) for row in session.execute(query)]


def clinic_today(session: Session, *, actor: Actor, now: datetime) -> date:
    """The calendar date at ``now`` in the actor's clinic."""
    zone: str = _ZONE.scalar(session, {"clinic_id": actor.clinic_id})
    return now.astimezone(ZoneInfo(zone)).date()


# Built once: every ward screen's poll of the task list runs it.
_CLINICS = table_of(Clinic)
_ZONE = Prepared(select(_CLINICS.c.zone).where(_CLINICS.c.id == bindparam("clinic_id")))
