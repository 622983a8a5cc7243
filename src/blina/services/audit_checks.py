"""Checking the audit trail: recompute the hash chain and its MACs (``verify_chain``), a
clinic's events since its signed checkpoint (``verify_clinic_trail``), and the head
against the signed head kept outside the database (``signed_head``,
``check_signed_head``).

Apart from ``audit`` (appending), whose hashing, head row and MAC text it shares.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from blina.services.access import require_role
from blina.services.actors import Actor, Role
from blina.services.audit import (
    GENESIS,
    HEAD_TABLE,
    event_content,
    event_hash,
    event_text,
    write_pending,
)
from blina.services.audit_key import (
    AuditKey,
    SignedHead,
    key_of,
    read_signed_head,
)
from blina.store.session import read_only, streamed, transaction
from blina.store.tables import AuditCheckpoint, AuditEvent, table_of

__all__ = ["ChainReport", "check_signed_head", "signed_head", "verify_chain", "verify_clinic_trail"]

EVENTS = table_of(AuditEvent)
CHECKPOINTS = table_of(AuditCheckpoint)


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
    write_pending(session)
    key = key_of(session)
    signed = _signed_in_file(key)  # before the head: its lines were committed by then
    head = _head_row(session)

    def broken(count: int, seq: int | None, problem: str) -> ChainReport:
        return ChainReport(False, count, seq, problem, key is not None, head.mac_from)

    previous = GENESIS
    expected_seq = 1
    count = 0
    query = select(EVENTS).where(EVENTS.c.seq <= head.seq).order_by(EVENTS.c.seq)
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
        select(CHECKPOINTS).where(CHECKPOINTS.c.clinic_id == clinic_id)
    ).first()
    if checkpoint is not None:
        text = _checkpoint_text(clinic_id, checkpoint.seq, checkpoint.hash)
        if key is not None and checkpoint.mac is not None and not key.signed(text, checkpoint.mac):
            return broken(0, None, "the page's checkpoint was not written with the audit key")
        # A checkpoint written without the key is not trusted once there is one.
        if key is None or checkpoint.mac is not None:
            # The event it names is checked again (its content, hash and MAC): one event.
            event = session.execute(select(EVENTS).where(EVENTS.c.seq == checkpoint.seq)).first()
            if (
                event is None
                or event.hash != checkpoint.hash
                or _event_problem(event, event.prev_hash, key, head.mac_from)
            ):
                return broken(1, checkpoint.seq, "it changed after it was verified")
            start = checkpoint.seq
    before = EVENTS.alias("before")
    after = EVENTS.alias("after")
    query = (
        select(EVENTS, before.c.hash.label("before_hash"), after.c.prev_hash.label("next_link"))
        .outerjoin(before, before.c.seq == EVENTS.c.seq - 1)
        .outerjoin(after, after.c.seq == EVENTS.c.seq + 1)
        .where(EVENTS.c.clinic_id == clinic_id, EVENTS.c.seq > start, EVENTS.c.seq <= head.seq)
        .order_by(EVENTS.c.seq)
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
    statement = (postgresql_insert if postgresql else sqlite_insert)(CHECKPOINTS).values(
        clinic_id=clinic_id, seq=seq, hash=last_hash, mac=mac
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[CHECKPOINTS.c.clinic_id],
            set_={
                "seq": statement.excluded.seq,
                "hash": statement.excluded.hash,
                "mac": statement.excluded.mac,
            },
            where=CHECKPOINTS.c.seq < statement.excluded.seq,
        )
    )


def _checkpoint_text(clinic_id: int, seq: int, last_hash: str) -> bytes:
    return f"checkpoint:{clinic_id}:{seq}:{last_hash}".encode()


def signed_head(session: Session) -> tuple[SignedHead | None, str]:
    """The chain's head signed with the audit key, for the clinic to keep elsewhere (and
    give to ``check_signed_head`` later); None and why when there is no key, or when the
    head is not one to vouch for (behind the head file's, or not its newest event's)."""
    write_pending(session)
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
    write_pending(session)
    key = key_of(session)
    if key is None:
        return "no audit key (BLINA_AUDIT_KEY) is set to check the signed head with"
    if not signed.signed_by(key):
        return "the head given is not signed with the audit key"
    return _against_signed_head(session, _head_row(session), signed)


def _head_row(session: Session) -> Any:
    return session.execute(select(HEAD_TABLE).where(HEAD_TABLE.c.id == 1)).one()


def _hash_at(session: Session, seq: int) -> str | None:
    found: str | None = session.execute(select(EVENTS.c.hash).where(EVENTS.c.seq == seq)).scalar()
    return found


def _head_event_problem(session: Session, head: Any) -> str:
    """Whether the head row names its newest event (an empty chain has none)."""
    if head.seq == 0 or _hash_at(session, head.seq) == head.last_hash:
        return ""
    return "the head does not name the newest event (events were removed)"


def _beyond_head_problem(session: Session, head: Any) -> str:
    """Whether an event lies beyond the head (the head moved back over it), as the head
    reads now: an event appended since it was first read is none."""
    beyond = session.execute(select(func.min(EVENTS.c.seq)).where(EVENTS.c.seq > head.seq))
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
    if event_hash(event.prev_hash, event_content(event)) != event.hash:
        return "its content does not match its hash"
    if mac_from is None or event.seq < mac_from:
        if event.mac is not None:
            return "it carries a MAC from before the keyed trail's start (the start was moved)"
        return ""
    if event.mac is None:
        return f"it carries no MAC (every event from {mac_from} on must)"
    if key is not None and not key.signed(event_text(mac_from, event.hash), event.mac):
        return "its MAC does not match: it was written or rewritten without the audit key"
    return ""
