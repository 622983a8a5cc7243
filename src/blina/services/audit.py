"""The audit trail: every write appends one event in the same transaction.

Events form a hash chain: each event's hash covers its content and the previous hash,
so changing, removing or reordering history is detected by ``verify_chain``. Appends
lock the single ``audit_head`` row, so concurrent writers (several API processes on
PostgreSQL) never fork the chain.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy.event
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    bindparam,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from blina.services.access import patient_for, require_role
from blina.services.actors import Actor, Role
from blina.store.prepared import Prepared
from blina.store.tables import (
    AuditEvent,
    AuditHead,
    BagPreparation,
    CalendarFeed,
    Course,
    SymptomReport,
    User,
    table_of,
)

__all__ = [
    "AuditChoices",
    "AuditFilters",
    "AuditPage",
    "ChainReport",
    "append_audit",
    "append_denial",
    "audit_choices",
    "audit_position",
    "clinic_events",
    "events_for_patient",
    "verify_chain",
]

GENESIS = "0" * 64
# session.info: (transaction, seq and hash of its newest event, events not yet written)
_HEAD = "blina.audit_head"
_HASHED = (
    "seq",
    "at",
    "actor_id",
    "clinic_id",
    "action",
    "subject_type",
    "subject_id",
    "before",
    "after",
)


def append_audit(
    session: Session,
    *,
    at: datetime,
    actor: Actor | None,
    action: str,
    subject_type: str,
    subject_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    clinic_id: int | None = None,
) -> None:
    """Append one event to the chain, in the caller's transaction.

    The head row is read (and locked) on the transaction's first append; the events and
    the head are written together just before the commit, so a group commit of many
    check-ins writes its events in one statement and moves the head once.
    """
    seq, prev_hash = _head(session)
    content = {
        "seq": seq + 1,
        "at": at,
        "actor_id": None if actor is None else actor.user_id,
        "clinic_id": clinic_id
        if clinic_id is not None
        else (None if actor is None else actor.clinic_id),
        "action": action,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "before": _jsonable(before),
        "after": _jsonable(after),
    }
    digest = _hash(prev_hash, content)
    transaction = session.get_transaction()
    kept = session.info.get(_HEAD)
    if kept is None or kept[0] is not transaction:
        pending: list[dict[str, Any]] = []
    else:
        pending = kept[3]
    pending.append({**content, "prev_hash": prev_hash, "hash": digest})
    session.info[_HEAD] = (transaction, seq + 1, digest, pending)


def append_denial(
    session: Session,
    *,
    at: datetime,
    actor: Actor | None,
    request_line: str,
    after: dict[str, Any],
) -> None:
    """Audit a refused request. Its line ("GET /api/v1/users") is the subject, cut to
    the column's width, and is kept whole in the event."""
    append_audit(
        session,
        at=at,
        actor=actor,
        action="access.denied",
        subject_type="request",
        subject_id=request_line[:_SUBJECT_WIDTH],
        after={**after, "request": request_line},
    )


def _head(session: Session) -> tuple[int, str]:
    """The chain's head for this transaction: read under lock on first use, then kept."""
    kept = session.info.get(_HEAD)
    if kept is not None and kept[0] is session.get_transaction():
        return kept[1], kept[2]
    seq, last_hash = _LOCK_HEAD.first(session, {})
    return seq, last_hash


def audit_position(session: Session) -> int:
    """How many events the chain holds: every write appends one, so while this number
    stands still nothing has changed (what is derived from the data may be kept)."""
    seq: int = _POSITION.scalar(session, {})
    return seq


@sqlalchemy.event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    """Write the transaction's appended events (one statement for all of them) and move
    the head row to the last one. Runs just before every commit (a listener on the class:
    one on each session would build that session's event dispatch), and before any read
    of the trail in the same transaction."""
    kept = session.info.get(_HEAD)
    if kept is None or kept[0] is not session.get_transaction() or not kept[3]:
        return
    transaction, seq, digest, pending = kept
    _APPEND.many(session, pending)
    _MOVE_HEAD.run(session, {"seq": seq, "last_hash": digest})
    session.info[_HEAD] = (transaction, seq, digest, [])


# Built once: an append runs on every write, and building a statement costs more than
# running it. Core tables, not the ORM: nothing here needs an object back.
_HEAD_TABLE = table_of(AuditHead)
_LOCK_HEAD = Prepared(
    select(_HEAD_TABLE.c.seq, _HEAD_TABLE.c.last_hash)
    .where(_HEAD_TABLE.c.id == 1)
    .with_for_update()
)
_POSITION = Prepared(select(_HEAD_TABLE.c.seq).where(_HEAD_TABLE.c.id == 1))
_MOVE_HEAD = Prepared(
    update(_HEAD_TABLE)
    .where(_HEAD_TABLE.c.id == 1)
    .values(seq=bindparam("seq"), last_hash=bindparam("last_hash"))
)
_APPEND = Prepared(insert(table_of(AuditEvent)), columns=[*_HASHED, "prev_hash", "hash"])
# The subject column's width, as the table declares it.
_SUBJECT_TYPE = table_of(AuditEvent).c.subject_id.type
assert isinstance(_SUBJECT_TYPE, String)
assert _SUBJECT_TYPE.length is not None
_SUBJECT_WIDTH: int = _SUBJECT_TYPE.length


def events_for_patient(session: Session, *, actor: Actor, patient_id: int) -> list[AuditEvent]:
    """A patient's audit trail (admin or physician): the events about the patient, their
    courses, bags and check-ins, oldest first."""
    _write_pending(session)
    require_role(actor, Role.ADMIN, Role.PHYSICIAN, doing="read a patient's audit trail")
    patient = patient_for(session, actor, patient_id)
    course_ids = select(Course.id).where(Course.patient_id == patient.id)
    bag_ids = select(BagPreparation.id).where(BagPreparation.course_id.in_(course_ids))
    report_ids = select(SymptomReport.id).where(SymptomReport.patient_id == patient.id)
    feed_ids = select(CalendarFeed.id).where(CalendarFeed.patient_id == patient.id)
    subjects = [
        (AuditEvent.subject_type == "patient") & (AuditEvent.subject_id == str(patient.id)),
        (AuditEvent.subject_type == "course")
        & AuditEvent.subject_id.in_(_texts(session, course_ids)),
        (AuditEvent.subject_type == "bag") & AuditEvent.subject_id.in_(_texts(session, bag_ids)),
        (AuditEvent.subject_type == "symptom_report")
        & AuditEvent.subject_id.in_(_texts(session, report_ids)),
        (AuditEvent.subject_type == "calendar_feed")
        & AuditEvent.subject_id.in_(_texts(session, feed_ids)),
    ]
    return list(
        session.execute(
            select(AuditEvent)
            .where(AuditEvent.clinic_id == actor.clinic_id, or_(*subjects))
            .order_by(AuditEvent.seq)
        ).scalars()
    )


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

    events: list[AuditEvent]
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
    _write_pending(session)
    require_role(actor, Role.ADMIN, Role.PHYSICIAN, doing="read the clinic's audit trail")
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
        events,
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
    _write_pending(session)
    require_role(actor, Role.ADMIN, Role.PHYSICIAN, doing="read the clinic's audit trail")
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


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    events: int
    first_bad_seq: int | None
    problem: str


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash from the start; report the first event that does not match."""
    _write_pending(session)
    previous = GENESIS
    expected_seq = 1
    count = 0
    for event in session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars():
        count += 1
        if event.seq != expected_seq:
            return ChainReport(False, count, event.seq, f"event {expected_seq} is missing")
        if event.prev_hash != previous:
            return ChainReport(
                False, count, event.seq, "its previous hash does not match the chain"
            )
        if _hash(event.prev_hash, _content(event)) != event.hash:
            return ChainReport(False, count, event.seq, "its content does not match its hash")
        previous = event.hash
        expected_seq += 1
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    if head.seq != count or head.last_hash != previous:
        return ChainReport(False, count, None, "the newest events were removed")
    return ChainReport(True, count, None, "")


def _hash(prev_hash: str, content: dict[str, Any]) -> str:
    """SHA-256 of the previous hash and the event's content (its time in UTC)."""
    fields = {**content, "at": content["at"].astimezone(UTC).isoformat()}
    return hashlib.sha256((prev_hash + _CANONICAL.encode(fields)).encode()).hexdigest()


# The hashed text: keys sorted, no spaces, ASCII only. One encoder for every event
# (json.dumps with these options would build a new one on each call).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _content(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in _HASHED}


def _jsonable(value: Any) -> Any:
    """The JSON form stored and hashed (decimals and dates as text, keys sorted)."""
    if value is None:
        return None
    if all(type(key) is str and type(item) in _PLAIN for key, item in value.items()):
        # Most events (every check-in's two): what the round trip below gives, without it.
        return dict(sorted(value.items()))
    return json.loads(json.dumps(value, default=str, sort_keys=True))


_PLAIN = (str, int, bool, type(None))
