"""Today's tasks for a clinic: bag changes, premedication, admissions and discharges,
cycle starts under supervision and labs, read from the task index (the course's current
plan), each with its state now: done (the bag hung, the premedication given), due,
overdue, blocked (no verified bag two hours before it is due), or do-not-hang (a bag the
current plan no longer has, still waiting in the pharmacy or on the ward).

A course of another therapy (``therapy_courses``) has no task index: its rows for the day
are read from its plan (``domain.therapies.today.clinic_entries``), derived on each read
from the stored inputs as every other reader derives them, and are "due" (blina keeps no
record of such a dose given)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, case, literal, or_, select
from sqlalchemy.orm import Session

from blina.domain.course_state import LIVE, WAITING, BagStatus, CoursePhase, slot_status
from blina.domain.therapies.model import Entry, EntryKind, TherapyDay
from blina.domain.therapies.today import CLINIC_KINDS, clinic_entries
from blina.knowledge import Knowledge
from blina.services.access import require_role
from blina.services.actors import Actor, Role
from blina.services.courses import VERIFY_LEAD
from blina.services.therapy_courses import TherapyCourseView, active_therapy_courses
from blina.services.therapy_planning import BLINATUMOMAB
from blina.store.prepared import Prepared
from blina.store.tables import (
    BagPreparation,
    Clinic,
    Course,
    CourseTask,
    Patient,
    PremedicationGiven,
    table_of,
)

__all__ = [
    "TASK_KINDS",
    "TASK_STATES",
    "THERAPY_TASK_KINDS",
    "TaskRow",
    "clinic_today",
    "require_task_reader",
    "tasks_for_day",
]

TASK_STATES = ("due", "done", "overdue", "blocked", "do-not-hang")
# A therapy course's rows: "therapy-" and the plan entry's kind (dose, premedication,
# monitoring, step, visit).
THERAPY_TASK_PREFIX = "therapy-"
THERAPY_TASK_KINDS = tuple(
    THERAPY_TASK_PREFIX + kind.value for kind in EntryKind if kind in CLINIC_KINDS
)
TASK_KINDS = (
    "bag-change",
    "premedication",
    "admission",
    "discharge",
    "supervision",
    "labs",
    "do-not-hang",
    *THERAPY_TASK_KINDS,
)


@dataclass(frozen=True, slots=True)
class TaskRow:
    day: date
    at: datetime | None
    kind: str
    text: str
    course_id: int | None  # None on a therapy course's row (``therapy_course_id``)
    patient_id: int
    patient_code: str
    patient_name: str
    state: str = "due"
    bag_code: str | None = None
    # The figures and names ``text`` was written from, by kind, for a page to write the
    # task in its reader's language (``blina.web.task_words``); None for a task stored
    # before they were kept. All strings:
    # bag-change: cycle, number, total, dose_mcg_per_day, hours; premedication: drug,
    # dose_mg, route, timing, reason; admission: cycle, days; discharge: cycle;
    # supervision: cycle, supervision; labs: item; do-not-hang: code, reason.
    params: Mapping[str, str] | None = None
    therapy: str = BLINATUMOMAB  # the therapy's knowledge key
    therapy_course_id: int | None = None


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


def tasks_for_day(
    session: Session, *, actor: Actor, day: date, now: datetime, knowledge: Knowledge
) -> list[TaskRow]:
    """The clinic's tasks on ``day`` with their state at ``now``, then the rows of its
    active therapy courses on ``day``, then the bags of the clinic that must not be hung."""
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
            BagPreparation.code,
            BagPreparation.status,
            PremedicationGiven.id,
            CourseTask.id,
            CourseTask.ref,
            BagPreparation.dose_mcg_per_day,
            CourseTask.params,
        )
        .join(Patient, Patient.id == CourseTask.patient_id)
        .outerjoin(
            BagPreparation,
            and_(
                CourseTask.kind == "bag-change",
                BagPreparation.course_id == CourseTask.course_id,
                BagPreparation.slot_start == CourseTask.slot_key,
                BagPreparation.status.not_in(_FREED),
            ),
        )
        .outerjoin(
            PremedicationGiven,
            and_(
                CourseTask.kind == "premedication",
                PremedicationGiven.course_id == CourseTask.course_id,
                PremedicationGiven.due == CourseTask.at,
                PremedicationGiven.drug == CourseTask.ref,
            ),
        )
        .where(CourseTask.clinic_id == actor.clinic_id, CourseTask.day == day)
        .order_by(CourseTask.at, CourseTask.id)
    )
    # A slot is its key (its first start, which a late hang before it does not move) and
    # its dose: a restart at another dose where a bag began leaves the old dose's bag at the
    # same key (removed, or waiting and marked do not hang). Each task keeps the bag of its
    # own dose; a task written before bag-change tasks carried their dose (an empty ref)
    # keeps the bag at its key.
    tasks: dict[int, TaskRow] = {}
    for row in session.execute(query):
        task_id, ref, dose = row[11], row[12], row[13]
        bag = row[8] if dose is None or not ref or Decimal(ref) == dose else None
        task = TaskRow(
            *row[:8],
            state=_state(
                row.kind, row.at, None if bag is None else row[9], row[10] is not None, now
            ),
            bag_code=bag,
            params=row[14],
        )
        if task_id not in tasks or bag is not None:
            tasks[task_id] = task
    therapy_rows = [
        row
        for view in active_therapy_courses(session, actor.clinic_id, knowledge=knowledge)
        for row in _therapy_rows(view, day)
    ]
    return [*tasks.values(), *therapy_rows, *_do_not_hang(session, actor.clinic_id, day, now)]


def _therapy_rows(view: TherapyCourseView, day: date) -> list[TaskRow]:
    """The rows of a therapy course on ``day``: its plan's entries the care team acts on."""
    planned = next((d for d in view.plan.days if d.on == day), None)
    if planned is None:
        return []
    return [
        TaskRow(
            day,
            None,
            THERAPY_TASK_PREFIX + entry.kind.value,
            _therapy_text(view.name, planned, entry),
            None,
            view.patient.id,
            view.patient.code,
            view.patient.display_name,
            # The parts the text is written from, for a page to write it in its reader's
            # language (``entry`` keeps the domain's sentence).
            params={
                "what": entry.what,
                "label": planned.label,
                "source": entry.source,
                "name": view.name,
                "entry": entry.text,
                "dose": "" if entry.dose is None else f"{entry.dose} {entry.unit}",
            },
            therapy=view.course.therapy,
            therapy_course_id=view.course.id,
        )
        for entry in clinic_entries(planned)
    ]


def _therapy_text(name: str, day: TherapyDay, entry: Entry) -> str:
    dose = "" if entry.dose is None else f" [{entry.dose} {entry.unit}]"
    return f"{name}, {day.label}: {entry.text!s}{dose}"


_FREED = tuple(sorted(status.value for status in BagStatus if status not in LIVE))
_WAITING = tuple(sorted(status.value for status in WAITING))


def _state(kind: str, at: datetime | None, bag: str | None, given: bool, now: datetime) -> str:
    if kind == "bag-change" and at is not None:
        status = None if bag is None else BagStatus(bag)
        return slot_status(start=at, end=None, bag=status, now=now, lead=VERIFY_LEAD).value
    if kind == "premedication" and at is not None:
        if given:
            return "done"
        return "overdue" if now >= at + _PREMEDICATION_GRACE else "due"
    return "due"


# A premedication is "overdue" once this long past its time without a record of it given.
_PREMEDICATION_GRACE = timedelta(minutes=30)


def _do_not_hang(session: Session, clinic_id: int, day: date, now: datetime) -> list[TaskRow]:
    """Bags waiting to be hung that the current plan no longer has, or whose course's plan
    has ended by ``now``: the task is to keep them off the pump (and void or discard
    them)."""
    ended = and_(Course.plan_end.is_not(None), Course.plan_end <= now)
    query = (
        select(
            BagPreparation.slot_start,
            BagPreparation.code,
            case(
                (BagPreparation.do_not_hang.is_not(None), BagPreparation.do_not_hang),
                else_=literal(f"the course is {CoursePhase.COMPLETED.value}"),
            ),
            Course.id,
            Patient.id,
            Patient.code,
            Patient.display_name,
        )
        .join(Course, Course.id == BagPreparation.course_id)
        .join(Patient, Patient.id == Course.patient_id)
        .where(
            Patient.clinic_id == clinic_id,
            or_(BagPreparation.do_not_hang.is_not(None), ended),
            BagPreparation.status.in_(_WAITING),
        )
        .order_by(BagPreparation.slot_start)
    )
    return [
        TaskRow(
            day,
            start,
            "do-not-hang",
            f"Do not hang bag {code}: {reason}",
            course_id,
            patient_id,
            patient_code,
            patient_name,
            state="do-not-hang",
            bag_code=code,
            params={"code": code, "reason": reason},
        )
        for start, code, reason, course_id, patient_id, patient_code, patient_name in (
            session.execute(query)
        )
    ]


def clinic_today(session: Session, *, actor: Actor, now: datetime) -> date:
    """The calendar date at ``now`` in the actor's clinic."""
    zone: str = _ZONE.scalar(session, {"clinic_id": actor.clinic_id})
    return now.astimezone(ZoneInfo(zone)).date()


# Built once: every ward screen's poll of the task list runs it.
_CLINICS = table_of(Clinic)
_ZONE = Prepared(select(_CLINICS.c.zone).where(_CLINICS.c.id == bindparam("clinic_id")))
