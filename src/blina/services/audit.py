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

This module appends; ``audit_checks`` verifies the chain, a clinic's trail since its
signed checkpoint and the signed head, with the hashing, head row and MAC text shared
from here; ``audit_reading`` reads the trail for the pages.
"""

import hashlib
import json
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy.event
from sqlalchemy import (
    String,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from blina.services.actors import Actor
from blina.services.audit_key import (
    SignedHead,
    append_head,
    key_of,
)
from blina.services.sealed_rows import sign_unsigned_rows
from blina.store.prepared import Prepared
from blina.store.tables import (
    AuditEvent,
    AuditHead,
    table_of,
)

__all__ = [
    "GENESIS",
    "AuditKeyMissing",
    "append_audit",
    "append_denial",
    "audit_position",
    "audit_undone_on_error",
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
    digest = event_hash(appending.hash, content)
    key = key_of(session)
    mac = None
    if key is not None:
        if appending.mac_from is None:
            appending.mac_from = seq
            appending.starts_keyed = True
        mac = key.sign(event_text(appending.mac_from, digest))
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


def event_text(mac_from: int, digest: str) -> bytes:
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
        write_pending(session)


def write_pending(session: Session) -> None:
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
HEAD_TABLE = table_of(AuditHead)
_LOCK_HEAD = Prepared(
    select(HEAD_TABLE.c.seq, HEAD_TABLE.c.last_hash, HEAD_TABLE.c.mac_from)
    .where(HEAD_TABLE.c.id == 1)
    .with_for_update()
)
_POSITION = Prepared(select(HEAD_TABLE.c.seq).where(HEAD_TABLE.c.id == 1))
_MOVE_HEAD = Prepared(
    update(HEAD_TABLE)
    .where(HEAD_TABLE.c.id == 1)
    .values(seq=bindparam("seq"), last_hash=bindparam("last_hash"), mac_from=bindparam("mac_from"))
)
_APPEND = Prepared(insert(table_of(AuditEvent)), columns=[*_HASHED, "prev_hash", "hash", "mac"])
# The subject column's width, as the table declares it.
_SUBJECT_TYPE = table_of(AuditEvent).c.subject_id.type
assert isinstance(_SUBJECT_TYPE, String)
assert _SUBJECT_TYPE.length is not None
_SUBJECT_WIDTH: int = _SUBJECT_TYPE.length


def event_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """SHA-256 of the previous hash and the event's content (its time in UTC)."""
    fields = {**content, "at": content["at"].astimezone(UTC).isoformat()}
    return hashlib.sha256((prev_hash + _CANONICAL.encode(fields)).encode()).hexdigest()


# The hashed text: keys sorted, no spaces, ASCII only. One encoder for every event
# (json.dumps with these options would build a new one on each call).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def event_content(event: Any) -> dict[str, Any]:
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
