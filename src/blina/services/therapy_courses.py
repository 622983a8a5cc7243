"""Courses of the therapies beside blinatumomab (inotuzumab, rituximab, gemtuzumab, the
CAR-T products): started by the physician, read with their plan, changed as what happens
is recorded, ended without deleting anything.

A therapy course stores its planning inputs (``TherapyInputs``), never its plan: every
read re-plans through ``therapy_planning.plan_therapy``, so the plan shown is always the
one derived from the inputs as they now stand. What happens is recorded as a change of
those inputs (the response after a cycle, a dose's actual date, the CAR-T product ready,
the first infusion's CRS and ICANS grades, ...) at the version the physician read; each
change is re-planned before it is written (an input the planner refuses changes nothing)
and audited with the inputs before and after.

Who may: the physician starts, changes and ends; the clinic's staff read (the nurse, the
pharmacist who prepares the doses, the admin); a patient or caregiver reads their own
patient's. A patient has one active treatment at a time (``treatments``).

``active_therapy_course`` is the seam for the readers (the family's calendar and Today,
the patient page's "Now", triage): the patient's active therapy course with its plan, for
a caller that has already decided the reader may see the patient; ``therapy_now`` reads
that plan on one day (``domain.therapies.today``). ``active_therapy_courses`` is the same
read for a whole clinic (its task list).
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from blina.domain.errors import InvalidInput
from blina.domain.therapies.inputs import TherapyInputs
from blina.domain.therapies.model import TherapyPlan
from blina.domain.therapies.today import TherapyToday, therapy_today
from blina.interop.json.therapy_inputs import therapy_inputs_from_dict, therapy_inputs_to_dict
from blina.knowledge import Knowledge
from blina.services.access import patient_for, require_role
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.errors import Conflict, NotFound
from blina.services.records import PatientRecord, copy_of
from blina.services.therapy_catalog import warnings_boxed_first
from blina.services.therapy_planning import BLINATUMOMAB, plan_therapy, therapy_name
from blina.services.treatments import end_reason, refuse_active_treatment
from blina.store.tables import Patient, TherapyCourse

__all__ = [
    "CHANGEABLE",
    "TherapyCourseRecord",
    "TherapyCourseView",
    "TherapyNow",
    "active_therapy_course",
    "active_therapy_courses",
    "change_therapy_course",
    "current_therapy_view",
    "end_therapy_course",
    "get_therapy_course",
    "list_therapy_courses",
    "start_therapy_course",
    "therapy_now",
]

# Every input but the therapy itself: another therapy is another course.
CHANGEABLE = tuple(f.name for f in fields(TherapyInputs) if f.name != "therapy")


@dataclass(frozen=True, slots=True)
class TherapyCourseRecord:
    """A therapy course as stored, without its inputs (``TherapyCourseView.inputs``)."""

    id: int
    patient_id: int
    therapy: str
    status: str
    ended_reason: str | None
    version: int
    prescribed_by: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class TherapyCourseView:
    """A therapy course, its inputs as they now stand and the plan derived from them
    (warnings boxed first); ``name`` is the therapy's for a heading."""

    course: TherapyCourseRecord
    patient: PatientRecord
    name: str
    inputs: TherapyInputs
    plan: TherapyPlan


def start_therapy_course(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    patient_id: int,
    inputs: TherapyInputs,
) -> TherapyCourseView:
    """Start a course of ``inputs.therapy`` for the patient (physician). The inputs are
    planned before anything is written; a patient with an active course of any therapy
    is refused (409) naming it."""
    require_role(actor, Role.PHYSICIAN, doing="start a therapy course")
    patient = patient_for(session, actor, patient_id)
    if inputs.therapy == BLINATUMOMAB:
        raise InvalidInput(
            "therapy", inputs.therapy, "another therapy: a blinatumomab course is a course"
        )
    stored = _stored(inputs)
    plan = plan_therapy(knowledge, inputs)  # refuses what the planner cannot plan
    refuse_active_treatment(session, patient)
    course = TherapyCourse(
        patient_id=patient.id,
        therapy=inputs.therapy,
        inputs=stored,
        status="active",
        version=1,
        prescribed_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(course)
    try:
        session.flush()
    except IntegrityError:  # another physician started one at the same moment
        raise Conflict(
            f"patient {patient.code} already has an active therapy course: end it first"
        ) from None
    append_audit(
        session,
        at=now,
        actor=actor,
        action="therapy_course.start",
        subject_type="therapy_course",
        subject_id=course.id,
        after=_snapshot(course),
    )
    return _view(knowledge, course, patient, inputs, plan)


def get_therapy_course(
    session: Session, *, actor: Actor, knowledge: Knowledge, therapy_course_id: int
) -> TherapyCourseView:
    course, patient = _course_for(session, actor, therapy_course_id)
    return _planned(knowledge, course, patient)


def list_therapy_courses(
    session: Session, *, actor: Actor, knowledge: Knowledge, patient_id: int
) -> list[TherapyCourseView]:
    """A patient's therapy courses, oldest first, each with its plan."""
    patient = patient_for(session, actor, patient_id)
    found = session.execute(
        select(TherapyCourse)
        .where(TherapyCourse.patient_id == patient.id)
        .order_by(TherapyCourse.id)
    ).scalars()
    return [_planned(knowledge, course, patient) for course in found]


def current_therapy_view(views: list[TherapyCourseView]) -> TherapyCourseView | None:
    """The therapy course a page shows: the active one, else the latest."""
    active = [v for v in views if v.course.status == "active"]
    return active[-1] if active else (views[-1] if views else None)


def active_therapy_course(
    session: Session, patient_id: int, *, knowledge: Knowledge
) -> TherapyCourseView | None:
    """The patient's active therapy course with its plan, or None. No authorization:
    for a service that has already checked that its reader may see the patient."""
    course = session.execute(
        select(TherapyCourse).where(
            TherapyCourse.patient_id == patient_id, TherapyCourse.status == "active"
        )
    ).scalar()
    if course is None:
        return None
    patient = session.get(Patient, patient_id)
    assert patient is not None  # the course's foreign key
    return _planned(knowledge, course, patient)


@dataclass(frozen=True, slots=True)
class TherapyNow:
    """The patient's active therapy course and its plan read on one day."""

    view: TherapyCourseView
    today: TherapyToday


def therapy_now(
    session: Session, *, actor: Actor, knowledge: Knowledge, patient_id: int, day: date
) -> TherapyNow | None:
    """The patient's active therapy course read on ``day`` (the clinic's calendar date),
    or None; for a reader who may see the patient (NotFound else)."""
    patient = patient_for(session, actor, patient_id)
    view = active_therapy_course(session, patient.id, knowledge=knowledge)
    return None if view is None else TherapyNow(view, therapy_today(view.plan, day))


def active_therapy_courses(
    session: Session,
    clinic_id: int,
    *,
    knowledge: Knowledge,
    patient_ids: Collection[int] | None = None,
) -> list[TherapyCourseView]:
    """Every active therapy course of the clinic's patients (or of ``patient_ids`` among
    them) with its plan, by patient code, in one query. No authorization: for a service
    that has already checked that its reader may see the clinic's patients."""
    query = (
        select(TherapyCourse, Patient)
        .join(Patient, Patient.id == TherapyCourse.patient_id)
        .where(Patient.clinic_id == clinic_id, TherapyCourse.status == "active")
        .order_by(Patient.code, TherapyCourse.id)
    )
    if patient_ids is not None:
        query = query.where(Patient.id.in_(patient_ids))
    return [_planned(knowledge, course, patient) for course, patient in session.execute(query)]


def change_therapy_course(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    therapy_course_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
) -> TherapyCourseView:
    """Record what happened as a change of the course's inputs (physician), at the
    version the physician read: ``changes`` maps input names (``CHANGEABLE``) to their
    new values (None: no longer given). The new inputs are planned before the write; a
    newer version is a Conflict."""
    require_role(actor, Role.PHYSICIAN, doing="change a therapy course")
    if not changes:
        raise InvalidInput("changes", "(none)", "at least one input: " + ", ".join(CHANGEABLE))
    for name in changes:
        if name not in CHANGEABLE:
            raise InvalidInput(
                name, "given", "one of the inputs " + ", ".join(CHANGEABLE) + " (not the therapy)"
            )
    course, patient = _course_for(session, actor, therapy_course_id)
    _check_version(course, expected_version)
    if course.status != "active":
        raise Conflict(f"therapy course {course.id} is {course.status}: it can no longer change")
    before = _snapshot(course)
    old = therapy_inputs_from_dict(course.inputs, f"therapy_course[{course.id}].inputs")
    new = replace(old, **{name: _unset(name, value) for name, value in changes.items()})
    stored = _stored(new)
    plan = plan_therapy(knowledge, new)
    course.inputs = stored
    _save(course, session, now)
    changed = sorted(name for name in CHANGEABLE if getattr(old, name) != getattr(new, name))
    append_audit(
        session,
        at=now,
        actor=actor,
        action="therapy_course.update",
        subject_type="therapy_course",
        subject_id=course.id,
        before=before,
        after={**_snapshot(course), "changed": changed},
    )
    return _view(knowledge, course, patient, new, plan)


def end_therapy_course(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    therapy_course_id: int,
    expected_version: int,
    outcome: str,
    reason: str,
) -> TherapyCourseView:
    """End an active therapy course (physician): ``completed``, ``discontinued`` (with a
    reason) or ``cancelled`` as entered in error (with a reason). Nothing is deleted."""
    require_role(actor, Role.PHYSICIAN, doing="end a therapy course")
    reason = end_reason(outcome, reason)
    course, patient = _course_for(session, actor, therapy_course_id)
    _check_version(course, expected_version)
    if course.status != "active":
        raise Conflict(f"therapy course {course.id} is already {course.status}")
    before = _snapshot(course)
    course.status = outcome
    course.ended_reason = reason or None
    _save(course, session, now)
    append_audit(
        session,
        at=now,
        actor=actor,
        action=f"therapy_course.end.{outcome}",
        subject_type="therapy_course",
        subject_id=course.id,
        before=before,
        after={**_snapshot(course), "reason": reason},
    )
    return _planned(knowledge, course, patient)


# --- helpers ----------------------------------------------------------------------------


_UNGIVEN = TherapyInputs(therapy="")


def _unset(name: str, value: Any) -> Any:
    """A change's None for a field whose "not given" is not None (the collections, the
    withheld flag) is that field's default."""
    return getattr(_UNGIVEN, name) if value is None else value


def _stored(inputs: TherapyInputs) -> dict[str, Any]:
    """The inputs as the course keeps them, read back once so that only what reads back
    (within every bound) is written."""
    stored = therapy_inputs_to_dict(inputs)
    therapy_inputs_from_dict(stored)
    return stored


def _course_for(
    session: Session, actor: Actor, therapy_course_id: int
) -> tuple[TherapyCourse, Patient]:
    """The course and its patient, when the actor may see the patient; NotFound else
    (a course the actor may not see is not said to exist)."""
    course = session.get(TherapyCourse, therapy_course_id)
    if course is None:
        raise NotFound(f"therapy course {therapy_course_id} not found")
    try:
        patient = patient_for(session, actor, course.patient_id)
    except NotFound:
        raise NotFound(f"therapy course {therapy_course_id} not found") from None
    return course, patient


def _planned(knowledge: Knowledge, course: TherapyCourse, patient: Patient) -> TherapyCourseView:
    inputs = therapy_inputs_from_dict(course.inputs, f"therapy_course[{course.id}].inputs")
    return _view(knowledge, course, patient, inputs, plan_therapy(knowledge, inputs))


def _view(
    knowledge: Knowledge,
    course: TherapyCourse,
    patient: Patient,
    inputs: TherapyInputs,
    plan: TherapyPlan,
) -> TherapyCourseView:
    return TherapyCourseView(
        course=copy_of(TherapyCourseRecord, course),
        patient=copy_of(PatientRecord, patient),
        name=therapy_name(knowledge, course.therapy),
        inputs=inputs,
        plan=replace(plan, warnings=warnings_boxed_first(plan)),
    )


def _check_version(course: TherapyCourse, expected_version: int) -> None:
    if course.version != expected_version:
        raise Conflict(
            f"therapy course {course.id} changed since it was read (version {course.version}, "
            f"not {expected_version}): reload it and try again"
        )


def _save(course: TherapyCourse, session: Session, now: datetime) -> None:
    """Write the change; a concurrent change since the course was read is a Conflict."""
    course.updated_at = now
    flag_modified(course, "updated_at")  # every change bumps the version, even at one instant
    try:
        session.flush()  # bumps the version; a concurrent change fails here
    except StaleDataError:
        raise Conflict(
            f"therapy course {course.id} changed since it was read: reload it and try again"
        ) from None


def _snapshot(course: TherapyCourse) -> dict[str, Any]:
    return {
        "therapy": course.therapy,
        "inputs": dict(course.inputs),
        "status": course.status,
        "ended_reason": course.ended_reason,
        "version": course.version,
    }
