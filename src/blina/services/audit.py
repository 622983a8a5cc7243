"""The audit trail: every write appends one event in the same transaction.

Events form a hash chain: each event's hash covers its content and the previous hash,
so changing, removing or reordering history is detected by ``verify_chain``. Appends
lock the single ``audit_head`` row, so concurrent writers (several API processes on
PostgreSQL) never fork the chain.

With the audit key (blina.services.audit_key), history can no longer be rewritten by
someone who can write to the database but does not hold the key (issue 16):

- each event carries a MAC of its hash and of ``mac_from``, the event the keyed trail
  starts at (the first event appended with a key; the events before it keep their plain
  chain). Moving that start changes what every later MAC signs;
- each commit that moved the head appends the signed head to a file outside the
  database; a database head behind it, or a different event at its position, is a tail
  cut off;
- the audited records carry MACs of their own (blina.services.sealed_rows), given to the
  rows already there when the trail becomes keyed.

A clinic's audit page verifies only the clinic's events since its last verification
(``verify_clinic_trail``), from a checkpoint signed with the key.

The module is long (about 780 lines) because appending and verifying share the hashing,
the head row and the keyed MACs; splitting it into a writing and a checking module is
left to the work on module sizes (issue 17, item 4).
"""

import hashlib
import json
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
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
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from blina.services.access import patient_for, require_role
from blina.services.actors import Actor, Role
from blina.services.audit_key import (
    AuditKey,
    SignedHead,
    append_head,
    key_of,
    read_signed_head,
)
from blina.services.records import AuditRecord, copy_of
from blina.services.sealed_rows import sign_unsigned_rows
from blina.store.prepared import Prepared
from blina.store.session import read_only, streamed, transaction
from blina.store.tables import (
    AuditCheckpoint,
    AuditEvent,
    AuditHead,
    BagPreparation,
    CalendarFeed,
    Course,
    SymptomReport,
    TherapyCourse,
    User,
    table_of,
)

__all__ = [
    "AuditChoices",
    "AuditFilters",
    "AuditKeyMissing",
    "AuditPage",
    "ChainReport",
    "append_audit",
    "append_denial",
    "audit_choices",
    "audit_position",
    "audit_undone_on_error",
    "check_signed_head",
    "clinic_events",
    "events_for_patient",
    "signed_head",
    "verify_chain",
    "verify_clinic_trail",
]

GENESIS = "0" * 64
# session.info: the transaction's appends (_Appending)
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


class AuditKeyMissing(RuntimeError):
    """The trail is keyed, and this process holds no audit key: an event it appended
    would carry no MAC, and break the trail."""


class _Appending:
    """A transaction's appends: the head as they leave it, and the events not yet written.

    ``starts_keyed``: this transaction appends the trail's first keyed event; ``moved``:
    it wrote events, and its commit appends the signed head to the head file.
    """

    __slots__ = ("events", "hash", "mac_from", "moved", "seq", "starts_keyed", "transaction")

    def __init__(self, transaction: object, seq: int, last_hash: str, mac_from: int | None):
        self.transaction = transaction
        self.seq = seq
        self.hash = last_hash
        self.mac_from = mac_from
        self.starts_keyed = False
        self.moved = False
        self.events: list[dict[str, Any]] = []


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
    check-ins writes its events in one statement and moves the head once. With the audit
    key the event carries its MAC (one HMAC of its hash).
    """
    appending = _appending(session)
    seq = appending.seq + 1
    content = {
        "seq": seq,
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
    digest = _hash(appending.hash, content)
    key = key_of(session)
    mac = None
    if key is not None:
        if appending.mac_from is None:
            appending.mac_from = seq
            appending.starts_keyed = True
        mac = key.sign(_event_text(appending.mac_from, digest))
    elif appending.mac_from is not None:
        raise AuditKeyMissing(
            f"the audit trail is keyed from event {appending.mac_from}: set BLINA_AUDIT_KEY"
        )
    appending.events.append({**content, "prev_hash": appending.hash, "hash": digest, "mac": mac})
    appending.seq = seq
    appending.hash = digest


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


def _appending(session: Session) -> _Appending:
    """This transaction's appends: the head read under lock on first use, then kept."""
    kept: _Appending | None = session.info.get(_HEAD)
    transaction = session.get_transaction()
    if kept is not None and kept.transaction is transaction:
        return kept
    _listen(session)
    seq, last_hash, mac_from = _LOCK_HEAD.first(session, {})
    # Taken after the read, which may have begun the transaction.
    appending = _Appending(session.get_transaction(), seq, last_hash, mac_from)
    session.info[_HEAD] = appending
    return appending


# The session classes (and plain sessions) whose commits write the events appended.
_LISTENING: "weakref.WeakSet[object]" = weakref.WeakSet()


def _listen(session: Session) -> None:
    """Have the commits of ``session`` write the events it appends: listeners on the
    session's own class, added at its first append. A sessionmaker makes a class of its
    own, so the listeners reach that sessionmaker's sessions and no other (a listener on
    each session would build that session's event dispatch at every transaction); a
    ``Session`` made without a sessionmaker gets them on itself."""
    target: object = type(session)
    if target is Session:
        target = session
    if target in _LISTENING:
        return
    sqlalchemy.event.listen(target, "before_commit", _before_commit)
    sqlalchemy.event.listen(target, "after_commit", _append_signed_head)
    _LISTENING.add(target)


@contextmanager
def audit_undone_on_error(session: Session) -> Iterator[None]:
    """Around one unit of work among others in a shared transaction, inside its savepoint
    (a group commit's): if the unit raises, the events it appended are forgotten with its
    writes, so the chain goes on from the event before them."""
    kept: _Appending | None = session.info.get(_HEAD)
    if kept is not None and kept.transaction is not session.get_transaction():
        kept = None
    before = None
    if kept is not None:
        before = (kept.seq, kept.hash, kept.mac_from, kept.starts_keyed, len(kept.events))
    try:
        yield
    except BaseException:
        if kept is None or before is None:
            session.info.pop(_HEAD, None)  # the unit's first append read the head
        else:
            kept.seq, kept.hash, kept.mac_from, kept.starts_keyed, count = before
            del kept.events[count:]
        raise


def _event_text(mac_from: int, digest: str) -> bytes:
    return f"event:{mac_from}:{digest}".encode()


def audit_position(session: Session) -> int:
    """How many events the chain holds: every write appends one, so while this number
    stands still nothing has changed (what is derived from the data may be kept)."""
    seq: int = _POSITION.scalar(session, {})
    return seq


def _before_commit(session: Session) -> None:
    """The events are written at the commit of the outermost transaction: SQLAlchemy also
    runs this at a nested transaction's release, which leaves them to it."""
    if not session.in_nested_transaction():
        _write_pending(session)


def _write_pending(session: Session) -> None:
    """Write the transaction's appended events (one statement for all of them) and move
    the head row to the last one. Runs just before the commit (``_listen``), and before
    any read of the trail in the same transaction."""
    kept: _Appending | None = session.info.get(_HEAD)
    if kept is None or kept.transaction is not session.get_transaction() or not kept.events:
        return
    _APPEND.many(session, kept.events)
    _MOVE_HEAD.run(session, {"seq": kept.seq, "last_hash": kept.hash, "mac_from": kept.mac_from})
    kept.events = []
    kept.moved = True
    key = key_of(session)
    if kept.starts_keyed and key is not None:
        # The trail becomes keyed: the records already there get their MACs now.
        sign_unsigned_rows(session, key)
        kept.starts_keyed = False


def _append_signed_head(session: Session) -> None:
    """After a commit that moved the head: the signed head, one line in the head file."""
    kept: _Appending | None = session.info.get(_HEAD)
    if kept is None or not kept.moved or session.in_nested_transaction():
        return
    if kept.transaction is not session.get_transaction():
        return
    kept.moved = False
    key = key_of(session)
    if key is not None:
        append_head(key, SignedHead.of(key, kept.seq, kept.hash, kept.mac_from))


# Built once: an append runs on every write, and building a statement costs more than
# running it. Core tables, not the ORM: nothing here needs an object back.
_HEAD_TABLE = table_of(AuditHead)
_LOCK_HEAD = Prepared(
    select(_HEAD_TABLE.c.seq, _HEAD_TABLE.c.last_hash, _HEAD_TABLE.c.mac_from)
    .where(_HEAD_TABLE.c.id == 1)
    .with_for_update()
)
_POSITION = Prepared(select(_HEAD_TABLE.c.seq).where(_HEAD_TABLE.c.id == 1))
_MOVE_HEAD = Prepared(
    update(_HEAD_TABLE)
    .where(_HEAD_TABLE.c.id == 1)
    .values(seq=bindparam("seq"), last_hash=bindparam("last_hash"), mac_from=bindparam("mac_from"))
)
_APPEND = Prepared(insert(table_of(AuditEvent)), columns=[*_HASHED, "prev_hash", "hash", "mac"])
# The subject column's width, as the table declares it.
_SUBJECT_TYPE = table_of(AuditEvent).c.subject_id.type
assert isinstance(_SUBJECT_TYPE, String)
assert _SUBJECT_TYPE.length is not None
_SUBJECT_WIDTH: int = _SUBJECT_TYPE.length


def events_for_patient(session: Session, *, actor: Actor, patient_id: int) -> list[AuditRecord]:
    """A patient's audit trail (admin or physician): the events about the patient, their
    courses (of every therapy), bags and check-ins, oldest first."""
    require_role(actor, Role.ADMIN, Role.PHYSICIAN, doing="read a patient's audit trail")
    _write_pending(session)
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
    _write_pending(session)
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
    _write_pending(session)
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
    """A verification: whether the trail holds, how many events were checked, the first
    that does not (None when what is wrong is no one event), and what is wrong.

    ``keyed``: an audit key was at hand, so MACs were checked; ``mac_from``: the event
    the keyed trail starts at (None: no event carries a MAC).
    """

    ok: bool
    events: int
    first_bad_seq: int | None
    problem: str
    keyed: bool = False
    mac_from: int | None = None


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash (and MAC) from the start; report the first event that does not
    match, a tail cut off (behind the head file's signed head), or a keyed trail with no
    key to check it.

    The events up to the head as first read are checked: writers may append meanwhile.
    The head file is read before the head, so call this first in its transaction (a
    snapshot older than the file's newest line would look like a tail cut off).
    """
    _write_pending(session)
    key = key_of(session)
    signed = _signed_in_file(key)  # before the head: its lines were committed by then
    head = _head_row(session)

    def broken(count: int, seq: int | None, problem: str) -> ChainReport:
        return ChainReport(False, count, seq, problem, key is not None, head.mac_from)

    previous = GENESIS
    expected_seq = 1
    count = 0
    query = select(_EVENTS).where(_EVENTS.c.seq <= head.seq).order_by(_EVENTS.c.seq)
    with streamed(session, query) as events:
        for event in events:
            count += 1
            if event.seq != expected_seq:
                return broken(count, event.seq, f"event {expected_seq} is missing")
            problem = _event_problem(event, previous, key, head.mac_from)
            if problem:
                return broken(count, event.seq, problem)
            previous = event.hash
            expected_seq += 1
    if head.seq != count or head.last_hash != previous:
        return broken(count, None, "the newest events were removed")
    problem = _beyond_head_problem(session, head) or _head_problem(session, key, head, signed)
    if problem:
        return broken(count, None, problem)
    return ChainReport(True, count, None, "", key is not None, head.mac_from)


def verify_clinic_trail(sessions: sessionmaker[Session], *, actor: Actor) -> ChainReport:
    """The clinic's events since its checkpoint verified (admin or physician), then the
    checkpoint moved to the newest: a view costs the events written since the last one.

    Each event is checked as ``verify_chain`` does, with its links to the events before
    and after it (of any clinic: only their hashes are read); the head, and the head file,
    as there. History before the checkpoint is ``blina audit verify``'s to check; the
    checkpoint itself is signed with the key, and its event must still hold its hash.
    """
    require_role(actor, Role.ADMIN, Role.PHYSICIAN, doing="read the clinic's audit trail")
    with read_only(sessions) as session:
        key = key_of(session)
        report, newest = _verify_clinic(session, actor.clinic_id, _signed_in_file(key))
    if report.ok and newest is not None:
        seq, last_hash = newest
        mac = None if key is None else key.sign(_checkpoint_text(actor.clinic_id, seq, last_hash))
        with transaction(sessions) as session:
            _keep_checkpoint(session, actor.clinic_id, seq, last_hash, mac)
    return report


def _verify_clinic(
    session: Session, clinic_id: int, signed: tuple[SignedHead | None, str]
) -> tuple[ChainReport, tuple[int, str] | None]:
    """``signed``: the head file's newest head, read before this transaction's first
    statement (so the head read next is at least as new)."""
    key = key_of(session)
    head = _head_row(session)

    def broken(count: int, seq: int | None, problem: str) -> tuple[ChainReport, None]:
        return ChainReport(False, count, seq, problem, key is not None, head.mac_from), None

    start = 0
    checkpoint = session.execute(
        select(_CHECKPOINTS).where(_CHECKPOINTS.c.clinic_id == clinic_id)
    ).first()
    if checkpoint is not None:
        text = _checkpoint_text(clinic_id, checkpoint.seq, checkpoint.hash)
        if key is not None and checkpoint.mac is not None and not key.signed(text, checkpoint.mac):
            return broken(0, None, "the page's checkpoint was not written with the audit key")
        # A checkpoint written without the key is not trusted once there is one.
        if key is None or checkpoint.mac is not None:
            # The event it names is checked again (its content, hash and MAC): one event.
            event = session.execute(select(_EVENTS).where(_EVENTS.c.seq == checkpoint.seq)).first()
            if (
                event is None
                or event.hash != checkpoint.hash
                or _event_problem(event, event.prev_hash, key, head.mac_from)
            ):
                return broken(1, checkpoint.seq, "it changed after it was verified")
            start = checkpoint.seq
    before = _EVENTS.alias("before")
    after = _EVENTS.alias("after")
    query = (
        select(_EVENTS, before.c.hash.label("before_hash"), after.c.prev_hash.label("next_link"))
        .outerjoin(before, before.c.seq == _EVENTS.c.seq - 1)
        .outerjoin(after, after.c.seq == _EVENTS.c.seq + 1)
        .where(_EVENTS.c.clinic_id == clinic_id, _EVENTS.c.seq > start, _EVENTS.c.seq <= head.seq)
        .order_by(_EVENTS.c.seq)
    )
    count = 0
    newest = None
    with streamed(session, query) as events:
        for event in events:
            count += 1
            previous = GENESIS if event.seq == 1 else event.before_hash
            if previous is None:
                return broken(count, event.seq, f"event {event.seq - 1} is missing")
            problem = _event_problem(event, previous, key, head.mac_from)
            if not problem and event.next_link is None and event.seq != head.seq:
                return broken(count, event.seq + 1, f"event {event.seq + 1} is missing")
            if not problem and event.next_link not in (None, event.hash):
                problem = "its hash is not the one the next event links to"
            if problem:
                return broken(count, event.seq, problem)
            newest = (event.seq, event.hash)
    problem = (
        _head_event_problem(session, head)
        or _beyond_head_problem(session, head)
        or _head_problem(session, key, head, signed)
    )
    if problem:
        return broken(count, None, problem)
    return ChainReport(True, count, None, "", key is not None, head.mac_from), newest


def _keep_checkpoint(
    session: Session, clinic_id: int, seq: int, last_hash: str, mac: str | None
) -> None:
    """The clinic's checkpoint moved forward to ``seq`` (never back: two views at once)."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    statement = (postgresql_insert if postgresql else sqlite_insert)(_CHECKPOINTS).values(
        clinic_id=clinic_id, seq=seq, hash=last_hash, mac=mac
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[_CHECKPOINTS.c.clinic_id],
            set_={
                "seq": statement.excluded.seq,
                "hash": statement.excluded.hash,
                "mac": statement.excluded.mac,
            },
            where=_CHECKPOINTS.c.seq < statement.excluded.seq,
        )
    )


def _checkpoint_text(clinic_id: int, seq: int, last_hash: str) -> bytes:
    return f"checkpoint:{clinic_id}:{seq}:{last_hash}".encode()


def signed_head(session: Session) -> tuple[SignedHead | None, str]:
    """The chain's head signed with the audit key, for the clinic to keep elsewhere (and
    give to ``check_signed_head`` later); None and why when there is no key, or when the
    head is not one to vouch for (behind the head file's, or not its newest event's)."""
    _write_pending(session)
    key = key_of(session)
    if key is None:
        return None, "no audit key (BLINA_AUDIT_KEY) is set to sign the head with"
    signed = _signed_in_file(key)
    head = _head_row(session)
    problem = (
        _head_event_problem(session, head)
        or _beyond_head_problem(session, head)
        or _head_problem(session, key, head, signed)
    )
    if problem:
        return None, problem
    return SignedHead.of(key, head.seq, head.last_hash, head.mac_from), ""


def check_signed_head(session: Session, signed: SignedHead) -> str:
    """What is wrong with the trail against a head signed before (``signed_head``): the
    database behind it or holding another event at its position; "" when nothing is."""
    _write_pending(session)
    key = key_of(session)
    if key is None:
        return "no audit key (BLINA_AUDIT_KEY) is set to check the signed head with"
    if not signed.signed_by(key):
        return "the head given is not signed with the audit key"
    return _against_signed_head(session, _head_row(session), signed)


def _head_row(session: Session) -> Any:
    return session.execute(select(_HEAD_TABLE).where(_HEAD_TABLE.c.id == 1)).one()


def _hash_at(session: Session, seq: int) -> str | None:
    found: str | None = session.execute(select(_EVENTS.c.hash).where(_EVENTS.c.seq == seq)).scalar()
    return found


def _head_event_problem(session: Session, head: Any) -> str:
    """Whether the head row names its newest event (an empty chain has none)."""
    if head.seq == 0 or _hash_at(session, head.seq) == head.last_hash:
        return ""
    return "the head does not name the newest event (events were removed)"


def _beyond_head_problem(session: Session, head: Any) -> str:
    """Whether an event lies beyond the head (the head moved back over it), as the head
    reads now: an event appended since it was first read is none."""
    beyond = session.execute(select(func.min(_EVENTS.c.seq)).where(_EVENTS.c.seq > head.seq))
    seq = beyond.scalar()
    if seq is None or _head_row(session).seq >= seq:
        return ""
    return f"event {seq} lies beyond the chain's head (the head was moved back)"


def _signed_in_file(key: AuditKey | None) -> tuple[SignedHead | None, str]:
    return (None, "") if key is None else read_signed_head(key)


def _head_problem(
    session: Session,
    key: AuditKey | None,
    head: Any,
    in_file: tuple[SignedHead | None, str],
) -> str:
    """The head against the newest signed head of the head file (``in_file``, read before
    the head); a keyed trail with no key to check it."""
    if key is None:
        if head.mac_from is None:
            return ""
        return (
            f"events from {head.mac_from} on carry a MAC, and no audit key "
            "(BLINA_AUDIT_KEY) is set to check them"
        )
    signed, problem = in_file
    if problem:
        return problem
    if signed is None:
        if head.mac_from is not None and key.head_file is not None:
            return f"the head file {key.head_file} holds no signed head"
        return ""
    return _against_signed_head(session, head, signed)


def _against_signed_head(session: Session, head: Any, signed: SignedHead) -> str:
    if signed.mac_from != head.mac_from:
        return (
            f"the keyed trail starts at event {head.mac_from}, and the signed head says "
            f"{signed.mac_from} (the start was moved)"
        )
    if head.seq < signed.seq:
        return (
            f"the head is event {head.seq}, behind the signed head's event {signed.seq}: "
            "the newest events were removed"
        )
    if _hash_at(session, signed.seq) != signed.hash:
        return f"event {signed.seq} is not the one the signed head names"
    return ""


def _event_problem(event: Any, previous: str, key: AuditKey | None, mac_from: int | None) -> str:
    """What is wrong with one event (a row of audit_event) after ``previous``; "" if
    nothing. Its MAC is checked when there is a key (else the report says there is none)."""
    if event.prev_hash != previous:
        return "its previous hash does not match the chain"
    if _hash(event.prev_hash, _content(event)) != event.hash:
        return "its content does not match its hash"
    if mac_from is None or event.seq < mac_from:
        if event.mac is not None:
            return "it carries a MAC from before the keyed trail's start (the start was moved)"
        return ""
    if event.mac is None:
        return f"it carries no MAC (every event from {mac_from} on must)"
    if key is not None and not key.signed(_event_text(mac_from, event.hash), event.mac):
        return "its MAC does not match: it was written or rewritten without the audit key"
    return ""


_EVENTS = table_of(AuditEvent)
_CHECKPOINTS = table_of(AuditCheckpoint)


def _hash(prev_hash: str, content: dict[str, Any]) -> str:
    """SHA-256 of the previous hash and the event's content (its time in UTC)."""
    fields = {**content, "at": content["at"].astimezone(UTC).isoformat()}
    return hashlib.sha256((prev_hash + _CANONICAL.encode(fields)).encode()).hexdigest()


# The hashed text: keys sorted, no spaces, ASCII only. One encoder for every event
# (json.dumps with these options would build a new one on each call).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _content(event: Any) -> dict[str, Any]:
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
