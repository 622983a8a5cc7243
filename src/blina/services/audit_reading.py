"""The audit trail as the pages read it: a patient's events, and a clinic's, filtered and
paged (``events_for_patient``, ``clinic_events``, ``audit_choices``).

Apart from ``audit`` (appending): these only read, after writing the transaction's own
pending events so that a page shows what its request just did.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    exists,
    or_,
    select,
)
from sqlalchemy.orm import Session

from blina.services.access import patient_for, require_role
from blina.services.actors import Actor, Role
from blina.services.audit import (
    write_pending,
)
from blina.services.records import AuditRecord, copy_of
from blina.store.tables import (
    AuditEvent,
    BagPreparation,
    CalendarFeed,
    Course,
    SymptomReport,
    TherapyCourse,
    User,
)

__all__ = [
    "AuditChoices",
    "AuditFilters",
    "AuditPage",
    "audit_choices",
    "clinic_events",
    "events_for_patient",
]


def events_for_patient(session: Session, *, actor: Actor, patient_id: int) -> list[AuditRecord]:
    """A patient's audit trail (admin or physician): the events about the patient, their
    courses (of every therapy), bags and check-ins, oldest first."""
    require_role(actor, Role.ADMIN, Role.PHYSICIAN, doing="read a patient's audit trail")
    write_pending(session)
    patient = patient_for(session, actor, patient_id)
    course_ids = select(Course.id).where(Course.patient_id == patient.id)
    bag_ids = select(BagPreparation.id).where(BagPreparation.course_id.in_(course_ids))
    report_ids = select(SymptomReport.id).where(SymptomReport.patient_id == patient.id)
    feed_ids = select(CalendarFeed.id).where(CalendarFeed.patient_id == patient.id)
    therapy_ids = select(TherapyCourse.id).where(TherapyCourse.patient_id == patient.id)
    subjects = [
        (AuditEvent.subject_type == "patient") & (AuditEvent.subject_id == str(patient.id)),
        (AuditEvent.subject_type == "course")
        & AuditEvent.subject_id.in_(_texts(session, course_ids)),
        (AuditEvent.subject_type == "bag") & AuditEvent.subject_id.in_(_texts(session, bag_ids)),
        (AuditEvent.subject_type == "symptom_report")
        & AuditEvent.subject_id.in_(_texts(session, report_ids)),
        (AuditEvent.subject_type == "calendar_feed")
        & AuditEvent.subject_id.in_(_texts(session, feed_ids)),
        (AuditEvent.subject_type == "therapy_course")
        & AuditEvent.subject_id.in_(_texts(session, therapy_ids)),
    ]
    rows = session.execute(
        select(AuditEvent)
        .where(AuditEvent.clinic_id == actor.clinic_id, or_(*subjects))
        .order_by(AuditEvent.seq)
    ).scalars()
    return [copy_of(AuditRecord, row) for row in rows]


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """Which of the clinic's events to show: by whom, which action, from ``since``
    (inclusive) to ``until`` (exclusive). None: any."""

    actor_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of events, newest first. ``newer`` and ``older`` are the cursors for the
    neighbouring pages (``after=newer``, ``before=older``); None when there is none."""

    events: list[AuditRecord]
    newer: int | None
    older: int | None


def clinic_events(
    session: Session,
    *,
    actor: Actor,
    filters: AuditFilters,
    before: int | None = None,
    after: int | None = None,
    limit: int = 100,
) -> AuditPage:
    """The clinic's audit trail (admin or physician), newest first, ``limit`` at a time.

    Pages are cut by sequence number, not by offset, so events written meanwhile never
    shift a page: ``before`` gives the events older than that one, ``after`` the ones
    newer than it. Another clinic's events, and system events of no clinic, never show.
    """
    require_role(actor, Role.ADMIN, Role.PHYSICIAN, doing="read the clinic's audit trail")
    write_pending(session)
    conditions = _conditions(actor, filters)
    query = select(AuditEvent).where(*conditions)
    events: list[AuditEvent] = []
    if after is not None:
        newer = query.where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(limit)
        events = list(reversed(session.execute(newer).scalars().all()))
    if len(events) < limit:  # back at the newest events: show a full first page
        if before is not None and after is None:
            query = query.where(AuditEvent.seq < before)
        newest_first = query.order_by(AuditEvent.seq.desc()).limit(limit)
        events = list(session.execute(newest_first).scalars())
    if not events:
        return AuditPage([], None, None)
    first, last = events[0].seq, events[-1].seq
    return AuditPage(
        [copy_of(AuditRecord, event) for event in events],
        first if _any(session, [*conditions, AuditEvent.seq > first]) else None,
        last if _any(session, [*conditions, AuditEvent.seq < last]) else None,
    )


@dataclass(frozen=True, slots=True)
class AuditChoices:
    """What the clinic's trail can be filtered by: its users (id, username) and the
    actions its events have."""

    users: list[tuple[int, str]]
    actions: list[str]


def audit_choices(session: Session, *, actor: Actor) -> AuditChoices:
    require_role(actor, Role.ADMIN, Role.PHYSICIAN, doing="read the clinic's audit trail")
    write_pending(session)
    users = session.execute(
        select(User.id, User.username)
        .where(User.clinic_id == actor.clinic_id)
        .order_by(User.username)
    ).all()
    actions = session.execute(
        select(AuditEvent.action)
        .distinct()
        .where(AuditEvent.clinic_id == actor.clinic_id)
        .order_by(AuditEvent.action)
    ).scalars()
    return AuditChoices([(user_id, name) for user_id, name in users], list(actions))


def _conditions(actor: Actor, filters: AuditFilters) -> list[ColumnElement[bool]]:
    conditions = [AuditEvent.clinic_id == actor.clinic_id]
    if filters.actor_id is not None:
        conditions.append(AuditEvent.actor_id == filters.actor_id)
    if filters.action:
        conditions.append(AuditEvent.action == filters.action)
    if filters.since is not None:
        conditions.append(AuditEvent.at >= filters.since)
    if filters.until is not None:
        conditions.append(AuditEvent.at < filters.until)
    return conditions


def _any(session: Session, conditions: list[ColumnElement[bool]]) -> bool:
    return bool(session.execute(select(exists().where(*conditions))).scalar())


def _texts(session: Session, ids: Select[int]) -> list[str]:
    """Ids as the text ``subject_id`` stores them (a subject may be of any kind)."""
    return [str(i) for i in session.execute(ids).scalars()]
