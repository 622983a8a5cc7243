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

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from blina.services.access import patient_for, require_role
from blina.services.actors import Actor, Role
from blina.store.tables import AuditEvent, AuditHead, BagPreparation, Course, SymptomReport

__all__ = ["ChainReport", "append_audit", "events_for_patient", "verify_chain"]

GENESIS = "0" * 64


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
) -> AuditEvent:
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one()
    event = AuditEvent(
        seq=head.seq + 1,
        at=at,
        actor_id=None if actor is None else actor.user_id,
        clinic_id=clinic_id
        if clinic_id is not None
        else (None if actor is None else actor.clinic_id),
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        before=_jsonable(before),
        after=_jsonable(after),
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = _hash(event)
    session.add(event)
    head.seq = event.seq
    head.last_hash = event.hash
    session.flush()
    return event


def events_for_patient(session: Session, *, actor: Actor, patient_id: int) -> list[AuditEvent]:
    """A patient's audit trail (admin or physician): the events about the patient, their
    courses, bags and check-ins, oldest first."""
    require_role(actor, Role.ADMIN, Role.PHYSICIAN, doing="read a patient's audit trail")
    patient = patient_for(session, actor, patient_id)
    course_ids = select(Course.id).where(Course.patient_id == patient.id)
    bag_ids = select(BagPreparation.id).where(BagPreparation.course_id.in_(course_ids))
    report_ids = select(SymptomReport.id).where(SymptomReport.patient_id == patient.id)
    subjects = [
        (AuditEvent.subject_type == "patient") & (AuditEvent.subject_id == str(patient.id)),
        (AuditEvent.subject_type == "course")
        & AuditEvent.subject_id.in_(_texts(session, course_ids)),
        (AuditEvent.subject_type == "bag") & AuditEvent.subject_id.in_(_texts(session, bag_ids)),
        (AuditEvent.subject_type == "symptom_report")
        & AuditEvent.subject_id.in_(_texts(session, report_ids)),
    ]
    return list(
        session.execute(
            select(AuditEvent)
            .where(AuditEvent.clinic_id == actor.clinic_id, or_(*subjects))
            .order_by(AuditEvent.seq)
        ).scalars()
    )


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
        if _hash(event) != event.hash:
            return ChainReport(False, count, event.seq, "its content does not match its hash")
        previous = event.hash
        expected_seq += 1
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    if head.seq != count or head.last_hash != previous:
        return ChainReport(False, count, None, "the newest events were removed")
    return ChainReport(True, count, None, "")


def _hash(event: AuditEvent) -> str:
    content = {
        "seq": event.seq,
        "at": event.at.astimezone(UTC).isoformat(),
        "actor_id": event.actor_id,
        "clinic_id": event.clinic_id,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "before": event.before,
        "after": event.after,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256((event.prev_hash + text).encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    """The JSON form stored and hashed (decimals and dates as text)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, sort_keys=True))
