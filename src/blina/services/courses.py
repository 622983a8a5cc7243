"""Courses: start, read (with the derived plan), change with optimistic concurrency,
and keep the clinic's task index in step with the plan.

About 850 lines because the task index is written in the same transaction as every change
of the course (the plan and the index may never disagree); it lives here rather than in
``tasks`` so that no other module can change a course without rewriting its index.
"""

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from blina.domain.body import measure_body
from blina.domain.course_plan import CoursePlan
from blina.domain.course_state import (
    ON_PUMP,
    BagRecord,
    BagStatus,
    CourseState,
    SlotState,
    course_state,
)
from blina.domain.errors import InvalidInput
from blina.domain.planning import plan_course
from blina.domain.replanning.decisions import CourseStatus, Replan
from blina.domain.replanning.events import Discontinuation, Event, Hang
from blina.domain.replanning.replay import replan
from blina.domain.units import McgPerDay
from blina.interop.json.replanning import event_from_dict, event_to_dict
from blina.knowledge import Knowledge
from blina.services.access import course_for, patient_for, require_role
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.errors import Conflict
from blina.services.records import CourseRecord, PatientRecord, copy_of
from blina.services.treatments import end_reason, refuse_active_treatment
from blina.store.tables import BagPreparation, Clinic, Course, CourseEvent, CourseTask, Patient

__all__ = [
    "VERIFY_LEAD",
    "CourseRequest",
    "CourseView",
    "Prescribed",
    "bag_records",
    "course_patient",
    "current_view",
    "current_views",
    "end_course",
    "events_of",
    "get_course",
    "latest_views",
    "list_courses",
    "plan_for",
    "record_event",
    "replanned_plan",
    "start_course",
    "update_course",
    "view_of",
]

# How long before its start a bag must be verified, or its task shows "blocked" (a site
# working rule, not a clinical number).
VERIFY_LEAD = timedelta(hours=2)


@dataclass(frozen=True, slots=True)
class CourseRequest:
    regimen_id: str
    start: date
    weight_kg: Decimal
    age_years: Decimal
    height_cm: Decimal | None = None
    bag_hours: int = 24
    cycles: int | None = None
    start_time: time = time(9, 0)
    cycle_starts: dict[int, date] | None = None
    # A start before today (clinic time) is refused unless confirmed; it is recorded.
    confirm_past_start: bool = False


@dataclass(frozen=True, slots=True)
class CourseView:
    """A course, its plan (re-planned through its event log), the decisions, and its state
    now: the one place every reader takes the current dose, phase and bags from. The
    course and its patient are records as they were when the view was taken."""

    course: CourseRecord
    patient: PatientRecord
    plan: CoursePlan
    replanned: Replan | None
    state: CourseState


def current_view(views: list[CourseView]) -> CourseView | None:
    """The course a page shows: the active one, else the latest."""
    active = [v for v in views if v.course.status == "active"]
    return active[-1] if active else (views[-1] if views else None)


class Prescribed(Protocol):
    """What a plan is derived from: a stored course, or a row of its columns."""

    regimen_id: str
    start: date
    start_time: time
    bag_hours: int
    cycles: int
    cycle_starts: dict[str, Any]
    weight_kg: Decimal
    height_cm: Decimal | None
    age_years: Decimal


def plan_for(knowledge: Knowledge, course: Prescribed, zone: ZoneInfo) -> CoursePlan:
    """The course's plan, derived from the stored prescription (never stored twice).

    Planning is pure, so plans are kept by their inputs: every check-in needs today's
    place in the course, and the prescription rarely changes.
    """
    key = (
        id(knowledge),
        course.regimen_id,
        course.start,
        course.start_time,
        course.bag_hours,
        course.cycles,
        tuple(sorted(course.cycle_starts.items())),
        course.weight_kg,
        course.height_cm,
        course.age_years,
        zone.key,
    )
    kept = _PLANS.get(key)
    if kept is not None and kept[0] is knowledge:
        return kept[1]
    body = measure_body(
        weight_kg=course.weight_kg,
        height_cm=course.height_cm,
        age_years=course.age_years,
        rules=knowledge.body_rules,
    )
    plan = plan_course(
        regimen=knowledge.regimen(course.regimen_id),
        body=body,
        start=course.start,
        bag_hours=course.bag_hours,
        zone=zone,
        start_time=course.start_time,
        cycles=course.cycles,
        cycle_starts={int(k): date.fromisoformat(v) for k, v in course.cycle_starts.items()},
    )
    if len(_PLANS) >= _PLANS_KEPT:
        _PLANS.clear()
    _PLANS[key] = (knowledge, plan)
    return plan


# Plans by their inputs (the knowledge object is kept beside the plan, so a reused id
# never answers for another knowledge). Cleared when full: a plan is cheap to rebuild.
_PLANS: dict[tuple[object, ...], tuple[Knowledge, CoursePlan]] = {}
_PLANS_KEPT = 4096


def start_course(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    patient_id: int,
    request: CourseRequest,
) -> CourseView:
    require_role(actor, Role.PHYSICIAN, doing="prescribe a course")
    patient = patient_for(session, actor, patient_id)
    zone = _zone(session, patient.clinic_id)
    regimen = knowledge.regimen(request.regimen_id)
    today = now.astimezone(zone).date()
    if request.start < today and not request.confirm_past_start:
        raise InvalidInput(
            "start",
            request.start.isoformat(),
            f"today ({today.isoformat()}) or later, or a start in the past confirmed "
            "(confirm_past_start): it is recorded as such",
        )
    course = Course(
        patient_id=patient.id,
        regimen_id=regimen.id,
        start=request.start,
        start_time=request.start_time,
        bag_hours=request.bag_hours,
        cycles=request.cycles or regimen.max_cycles,
        cycle_starts={str(k): v.isoformat() for k, v in (request.cycle_starts or {}).items()},
        weight_kg=request.weight_kg,
        height_cm=request.height_cm,
        age_years=request.age_years,
        status="active",
        backdated=request.start < today,
        version=1,
        prescribed_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    plan_for(knowledge, course, zone)  # validates the prescription before anything is written
    _refuse_second_course(session, patient)
    session.add(course)
    try:
        session.flush()
    except IntegrityError:  # another physician started one at the same moment
        raise Conflict(
            f"patient {patient.code} already has an active course: end it first"
        ) from None
    view = view_of(session, knowledge, course, patient, [], now)
    sync_course(session, view)
    append_audit(
        session,
        at=now,
        actor=actor,
        action="course.start",
        subject_type="course",
        subject_id=course.id,
        after={**_snapshot(course), "backdated": course.backdated},
    )
    return view


def _refuse_second_course(session: Session, patient: Patient) -> None:
    """One active treatment per patient: no second course of blinatumomab, and none
    beside an active course of another therapy (``treatments``)."""
    refuse_active_treatment(session, patient)


def get_course(
    session: Session, *, actor: Actor, now: datetime, knowledge: Knowledge, course_id: int
) -> CourseView:
    course, patient = course_for(session, actor, course_id)
    return view_of(session, knowledge, course, patient, events_of(session, course.id), now)


def course_patient(session: Session, *, actor: Actor, course_id: int) -> PatientRecord:
    """The patient of a course the actor may see (a page about the course goes back to
    the patient's)."""
    _, patient = course_for(session, actor, course_id)
    return copy_of(PatientRecord, patient)


def list_courses(
    session: Session, *, actor: Actor, now: datetime, knowledge: Knowledge, patient_id: int
) -> list[CourseView]:
    """A patient's courses, oldest first, each with its (re-)planned course."""
    patient = patient_for(session, actor, patient_id)
    found = session.execute(
        select(Course).where(Course.patient_id == patient.id).order_by(Course.id)
    ).scalars()
    return [
        view_of(session, knowledge, course, patient, events_of(session, course.id), now)
        for course in found
    ]


def current_views(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    patient_ids: Collection[int],
) -> dict[int, CourseView]:
    """Each patient's course as their page shows it (``current_view``: the active one,
    else the latest), for many patients at once (Clinic today's alert cards). Patients
    the actor may not see, or without a course, are left out."""
    views = _views_of_patients(session, actor, now, knowledge, patient_ids, active_first=True)
    return {patient_id: view for patient_id, (view, _) in views.items()}


def latest_views(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    patient_ids: Collection[int],
) -> dict[int, tuple[CourseView, list[Event]]]:
    """Each patient's latest course (``list_courses``'s last) with its log, oldest first,
    for many patients at once (Clinic today's list of patients, where the log tells an
    interrupted or discontinued course). Patients the actor may not see, or without a
    course, are left out."""
    return _views_of_patients(session, actor, now, knowledge, patient_ids, active_first=False)


def _views_of_patients(
    session: Session,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    patient_ids: Collection[int],
    *,
    active_first: bool,
) -> dict[int, tuple[CourseView, list[Event]]]:
    """One course of each patient, with its log: the latest, or with ``active_first`` an
    active one before it. The courses with their patients, their logs and their bags are
    read in one query each, however many patients: a page that lists patients costs the
    same few queries for a clinic of hundreds as for one patient."""
    if not patient_ids:
        return {}
    # The clinic's row too: held here, the plans find its zone in the identity map.
    query = (
        select(Course, Patient, Clinic)
        .join(Patient, Patient.id == Course.patient_id)
        .join(Clinic, Clinic.id == Patient.clinic_id)
        .where(Course.patient_id.in_(patient_ids), Patient.clinic_id == actor.clinic_id)
        .order_by(Course.id)
    )
    if not actor.is_staff:
        query = query.where(Patient.id == actor.patient_id)
    chosen: dict[int, tuple[Course, Patient]] = {}
    clinics = set()
    for course, patient, clinic in session.execute(query):
        clinics.add(clinic)
        kept = chosen.get(patient.id)
        # by id, so the latest comes last; with active_first an active course stays
        if (
            not active_first
            or kept is None
            or course.status == "active"
            or kept[0].status != "active"
        ):
            chosen[patient.id] = (course, patient)
    course_ids = [course.id for course, _ in chosen.values()]
    events = _events_of_courses(session, course_ids)
    bags = _bags_of_courses(session, course_ids)
    views = {}
    for patient_id, (course, patient) in chosen.items():
        logged, hung = events.get(course.id, []), bags.get(course.id, [])
        plan, replanned = replanned_plan(session, knowledge, course, patient, logged, now, hung)
        view = _with_state(session, course, patient, plan, replanned, logged, now, hung)
        views[patient_id] = (view, logged)
    return views


def events_of(session: Session, course_id: int) -> list[Event]:
    return _events_of_courses(session, [course_id]).get(course_id, [])


def _events_of_courses(session: Session, course_ids: list[int]) -> dict[int, list[Event]]:
    """Each course's log, in order."""
    rows = session.execute(
        select(CourseEvent)
        .where(CourseEvent.course_id.in_(course_ids))
        .order_by(CourseEvent.at, CourseEvent.id)
    ).scalars()
    found: dict[int, list[Event]] = {}
    for row in rows:
        # A JSON column keeps the dose as text (exact); the event reader wants a number.
        found.setdefault(row.course_id, []).append(
            event_from_dict(
                {k: Decimal(v) if k == "dose_mcg_per_day" else v for k, v in row.details.items()},
                f"course_event[{row.id}]",
            )
        )
    return found


def record_event(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    course_id: int,
    expected_version: int,
    event: dict[str, Any],
) -> CourseView:
    """Add an interruption, a restart or a discontinuation to the course's log and re-plan.

    The whole log is replayed through the label's rules first; a log they refuse (a
    restart without an interruption, events out of order) changes nothing.
    """
    require_role(
        actor, Role.PHYSICIAN, doing="record an interruption, a restart or a discontinuation"
    )
    course, patient = course_for(session, actor, course_id)
    _check_version(course, expected_version)
    if course.status != "active":
        raise Conflict(f"course {course_id} is {course.status}: its log is closed")
    new = event_from_dict(event, "event")
    if new.at > now:
        raise InvalidInput("event.at", new.at.isoformat(), f"not after now ({now.isoformat()})")
    events = [*events_of(session, course.id), new]
    plan, replanned = replanned_plan(session, knowledge, course, patient, events, now)
    assert replanned is not None
    stored = _log_event(session, course, actor, now, new)
    before = _snapshot(course)
    if replanned.status == CourseStatus.DISCONTINUED:
        course.status = "discontinued"
    return _changed(
        session,
        course,
        patient,
        plan,
        replanned,
        events,
        now,
        actor,
        action=f"course.{stored['kind']}",
        before=before,
        extra={"event": stored},
    )


def view_of(
    session: Session,
    knowledge: Knowledge,
    course: Course,
    patient: Patient,
    events: list[Event],
    now: datetime,
) -> CourseView:
    """The course with its plan, re-planned through ``events`` (its log) and its bags'
    hangs when it has any, and its state at ``now``."""
    bags = bag_records(session, course.id) if course.id is not None else []
    plan, replanned = replanned_plan(session, knowledge, course, patient, events, now, bags)
    return _with_state(session, course, patient, plan, replanned, events, now, bags)


def replanned_plan(
    session: Session,
    knowledge: Knowledge,
    course: Prescribed,
    patient: Patient,
    events: list[Event],
    now: datetime,
    bags: list[BagRecord] | None = None,
) -> tuple[CoursePlan, Replan | None]:
    """The course's current plan, re-planned through its log and the hangs of its bags
    (``bags``, read when not given) when it has either: the infusion time counted is the
    time bags ran, so a bag hung late moves the rest of the cycle. For a reader that
    needs no state (triage, the calendar) as for one that does."""
    plan = plan_for(knowledge, course, _zone(session, patient.clinic_id))
    course_id = getattr(course, "id", None)
    if bags is None:
        bags = bag_records(session, course_id) if course_id is not None else []
    hangs = [
        Hang(bag.slot_start, bag.dose, bag.hung_at)
        for bag in bags
        if bag.hung_at is not None and bag.status in ON_PUMP
    ]
    if not events and not hangs:
        return plan, None
    replanned = replan(plan, events, rules=knowledge.toxicity.modifications, now=now, hangs=hangs)
    return replanned.plan, replanned


def _with_state(
    session: Session,
    course: Course,
    patient: Patient,
    plan: CoursePlan,
    replanned: Replan | None,
    events: list[Event],
    now: datetime,
    bags: list[BagRecord] | None = None,
) -> CourseView:
    if bags is None:
        bags = bag_records(session, course.id) if course.id is not None else []
    state = course_state(
        plan=plan,
        replanned=replanned,
        events=events,
        bags=bags,
        recorded_status=course.status,
        now=now,
        verify_lead=VERIFY_LEAD,
    )
    return CourseView(
        copy_of(CourseRecord, course), copy_of(PatientRecord, patient), plan, replanned, state
    )


def bag_records(session: Session, course_id: int) -> list[BagRecord]:
    """The course's bags as the course state reads them."""
    return _bags_of_courses(session, [course_id]).get(course_id, [])


def _bags_of_courses(session: Session, course_ids: list[int]) -> dict[int, list[BagRecord]]:
    rows = session.execute(
        select(
            BagPreparation.course_id,
            BagPreparation.id,
            BagPreparation.code,
            BagPreparation.slot_start,
            BagPreparation.dose_mcg_per_day,
            BagPreparation.status,
            BagPreparation.hung_at,
            BagPreparation.removed_at,
        ).where(BagPreparation.course_id.in_(course_ids))
    ).all()
    found: dict[int, list[BagRecord]] = {}
    for course_id, id_, code, start, dose, status, hung, removed in rows:
        found.setdefault(course_id, []).append(
            BagRecord(id_, code, start, McgPerDay(dose), BagStatus(status), hung, removed)
        )
    return found


def update_course(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    course_id: int,
    expected_version: int,
    bag_hours: int | None = None,
    cycles: int | None = None,
    cycle_starts: dict[int, date] | None = None,
    status: str | None = None,
) -> CourseView:
    """Change a course the actor read at ``expected_version``; a newer version is a Conflict."""
    require_role(actor, Role.PHYSICIAN, doing="change a course")
    course, patient = course_for(session, actor, course_id)
    _check_version(course, expected_version)
    if course.status == "cancelled":
        raise Conflict(f"course {course_id} was cancelled as entered in error: it stays so")
    if status == "active" and course.status != "active":
        _refuse_second_course(session, patient)
    before = _snapshot(course)
    with session.no_autoflush:  # one flush below, so the version moves by one
        _apply(course, bag_hours=bag_hours, cycles=cycles, cycle_starts=cycle_starts, status=status)
        # validates the new prescription before the write
        plan_for(knowledge, course, _zone(session, patient.clinic_id))
    _save(course, session, now)
    view = view_of(session, knowledge, course, patient, events_of(session, course.id), now)
    sync_course(session, view)
    append_audit(
        session,
        at=now,
        actor=actor,
        action="course.update",
        subject_type="course",
        subject_id=course.id,
        before=before,
        after=_snapshot(course),
    )
    return view


def end_course(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    course_id: int,
    expected_version: int,
    outcome: str,
    reason: str,
) -> CourseView:
    """End an active course: ``completed``, ``discontinued`` (a reason; logged as a
    discontinuation once the infusion has started) or ``cancelled`` as entered in error (a
    reason). Nothing is deleted; its bags not yet hung become do-not-hang."""
    require_role(actor, Role.PHYSICIAN, doing="end a course")
    reason = end_reason(outcome, reason)
    course, patient = course_for(session, actor, course_id)
    _check_version(course, expected_version)
    if course.status != "active":
        raise Conflict(f"course {course_id} is already {course.status}")
    events = events_of(session, course.id)
    plan, replanned = replanned_plan(session, knowledge, course, patient, events, now)
    if outcome == "discontinued" and plan.bags and now > plan.bags[0].start:
        new = Discontinuation(now, reason)
        events = [*events, new]
        # the log accepts it (as record_event checks), and the state reads the new plan
        plan, replanned = replanned_plan(session, knowledge, course, patient, events, now)
        _log_event(session, course, actor, now, new)
    before = _snapshot(course)
    course.status = outcome
    course.ended_reason = reason or None
    return _changed(
        session,
        course,
        patient,
        plan,
        replanned,
        events,
        now,
        actor,
        action=f"course.end.{outcome}",
        before=before,
        extra={"reason": reason},
    )


def _changed(
    session: Session,
    course: Course,
    patient: Patient,
    plan: CoursePlan,
    replanned: Replan | None,
    events: list[Event],
    now: datetime,
    actor: Actor,
    *,
    action: str,
    before: dict[str, object],
    extra: dict[str, object],
) -> CourseView:
    """A course row changed: saved, its state derived, its tasks and do-not-hang marks
    rewritten, the change audited (before, and after with ``extra``)."""
    _save(course, session, now)
    view = _with_state(session, course, patient, plan, replanned, events, now)
    sync_course(session, view)
    append_audit(
        session,
        at=now,
        actor=actor,
        action=action,
        subject_type="course",
        subject_id=course.id,
        before=before,
        after={**_snapshot(course), **extra},
    )
    return view


def _log_event(
    session: Session, course: Course, actor: Actor, now: datetime, event: Event
) -> dict[str, Any]:
    """Append ``event`` to the course's log; the stored form is returned for the audit."""
    stored = event_to_dict(event)
    session.add(
        CourseEvent(
            course_id=course.id,
            kind=stored["kind"],
            at=event.at,
            details=stored,
            recorded_by=actor.user_id,
            recorded_at=now,
        )
    )
    return stored


def _save(course: Course, session: Session, now: datetime) -> None:
    """Write the course's change; a concurrent change since it was read is a Conflict."""
    course.updated_at = now
    flag_modified(course, "updated_at")  # every change bumps the version, even at the same instant
    try:
        session.flush()  # bumps the version; a concurrent change fails here
    except StaleDataError:
        raise Conflict(
            f"course {course.id} changed since it was read: reload it and try again"
        ) from None


def _check_version(course: Course, expected_version: int) -> None:
    if course.version != expected_version:
        raise Conflict(
            f"course {course.id} changed since it was read (version {course.version}, "
            f"not {expected_version}): reload it and try again"
        )


def _apply(
    course: Course,
    *,
    bag_hours: int | None,
    cycles: int | None,
    cycle_starts: dict[int, date] | None,
    status: str | None,
) -> None:
    if bag_hours is not None:
        course.bag_hours = bag_hours
    if cycles is not None:
        course.cycles = cycles
    if cycle_starts is not None:
        course.cycle_starts = {str(k): v.isoformat() for k, v in cycle_starts.items()}
    if status is not None:
        course.status = status


def sync_course(session: Session, view: CourseView) -> None:
    """After the plan changed: the task index rewritten from it, the plan's end kept, and
    each bag waiting to be hung marked do-not-hang (or cleared) from the course state."""
    write_tasks(session, view)
    # A plain UPDATE: the plan's end is derived, not a change of the course (its version,
    # which a client sends back, stays).
    bags = view.plan.bags
    session.execute(
        update(Course)
        .where(Course.id == view.course.id)
        .values(plan_end=bags[-1].end if bags else None)
        .execution_options(synchronize_session=False)
    )
    refused = {bag.id: reason for bag, reason in view.state.do_not_hang}
    # One statement clears the marks the new plan lifts, one per bag sets a reason (a
    # re-plan refuses few bags), not one per slot.
    session.execute(
        update(BagPreparation)
        .where(
            BagPreparation.course_id == view.course.id,
            BagPreparation.do_not_hang.is_not(None),
            BagPreparation.id.not_in(refused),
        )
        .values(do_not_hang=None)
    )
    for bag_id, reason in refused.items():
        session.execute(
            update(BagPreparation).where(BagPreparation.id == bag_id).values(do_not_hang=reason)
        )


def bag_task_text(state: SlotState, number: int, total: int) -> str:
    """A bag change as a nurse writes it: "Cycle 1 · bag 3 of 14 · 28 mcg/day · 48-h bag"
    (numbered within its cycle)."""
    slot = state.slot
    return f"Cycle {slot.cycle} · bag {number} of {total} · {slot.dose} · {_hours(slot.hours)} bag"


def _hours(hours: Decimal) -> str:
    """A bag's length for people: whole hours, or hours and minutes ("7 h 52 min")."""
    minutes = int((hours * 60).to_integral_value())
    whole, rest = divmod(minutes, 60)
    return f"{whole}-h" if not rest else f"{whole} h {rest} min"


def write_tasks(session: Session, view: CourseView) -> None:
    """Rewrite the course's rows in the clinic's task index from its current plan."""
    course, patient, plan = view.course, view.patient, view.plan
    session.execute(delete(CourseTask).where(CourseTask.course_id == course.id))
    if course.status != "active":
        return
    zone = plan.zone
    rows: list[dict[str, object]] = []

    def task(
        day: date,
        kind: str,
        text: str,
        params: dict[str, str],
        at: datetime | None = None,
        ref: str = "",
        key: datetime | None = None,
    ) -> None:
        rows.append(
            {
                "course_id": course.id,
                "clinic_id": patient.clinic_id,
                "patient_id": patient.id,
                "day": day,
                "at": at,
                "kind": kind,
                "text": text,
                "ref": ref,
                "slot_key": key,
                "params": params,
            }
        )

    per_cycle = Counter(slot.slot.cycle for slot in view.state.slots)
    numbered: Counter[int] = Counter()
    for slot in view.state.slots:
        numbered[slot.slot.cycle] += 1
        number, total = numbered[slot.slot.cycle], per_cycle[slot.slot.cycle]
        task(
            slot.slot.start.astimezone(zone).date(),
            "bag-change",
            bag_task_text(slot, number, total),
            {
                "cycle": str(slot.slot.cycle),
                "number": str(number),
                "total": str(total),
                "dose_mcg_per_day": str(slot.slot.dose.value),
                "hours": str(slot.slot.hours),
            },
            slot.slot.start,
            str(slot.slot.dose.value),
            slot.slot.key,
        )
    for dose in plan.premedication:
        local = dose.due.astimezone(zone)
        task(
            local.date(),
            "premedication",
            f"{dose.drug} {dose.dose} {dose.route}, {dose.timing} ({dose.reason})",
            {
                "drug": dose.drug,
                "dose_mg": str(dose.dose.value),
                "route": dose.route,
                "timing": dose.timing,
                "reason": dose.reason,
            },
            dose.due,
            dose.drug,
        )
    for cycle in plan.cycles:
        if cycle.inpatient_days:
            task(
                cycle.start,
                "admission",
                f"Admission: cycle {cycle.number}, {cycle.inpatient_days} days",
                {"cycle": str(cycle.number), "days": str(cycle.inpatient_days)},
            )
            last = cycle.start.toordinal() + cycle.inpatient_days
            task(
                date.fromordinal(last),
                "discharge",
                f"Discharge after cycle {cycle.number}'s hospital days",
                {"cycle": str(cycle.number)},
            )
        else:
            supervision = plan.regimen.supervision.text
            task(
                cycle.start,
                "supervision",
                f"Cycle {cycle.number} start: {supervision}",
                {"cycle": str(cycle.number), "supervision": supervision},
            )
    first = plan.days[0]
    for item in first.monitoring:
        task(first.date, "labs", item, {"item": item})
    if rows:
        session.execute(insert(CourseTask), rows)


def _zone(session: Session, clinic_id: int) -> ZoneInfo:
    # by the identity map: many courses of one clinic read its row once
    return ZoneInfo(session.get_one(Clinic, clinic_id).zone)


def _snapshot(course: Course) -> dict[str, object]:
    return {
        "regimen_id": course.regimen_id,
        "start": course.start.isoformat(),
        "start_time": course.start_time.isoformat(),
        "bag_hours": course.bag_hours,
        "cycles": course.cycles,
        "cycle_starts": dict(course.cycle_starts),
        "weight_kg": str(course.weight_kg),
        "height_cm": None if course.height_cm is None else str(course.height_cm),
        "age_years": str(course.age_years),
        "status": course.status,
        "version": course.version,
    }
