"""Alerts from home check-ins: raised, acknowledged, and escalated when nobody answers.

An alert of level call-now or emergency goes to the first contact of the clinic's chain.
If it is not acknowledged within the clinic's time for its level, the escalation job
moves it to the next contact. Times are site parameters (the clinical reference gives
none); where a clinic has set no time for a level, every contact is told at once rather
than waiting for a time nobody chose. The schedule lives on the alert row, so a restart
loses nothing; the job locks the rows it escalates, so several processes never escalate
the same alert twice.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, bindparam, case, insert, or_, select, update
from sqlalchemy.orm import Session, aliased

from blina.domain.errors import InvalidInput
from blina.domain.triage.result import Triage
from blina.domain.triage.rules import TriageLevel
from blina.services.access import patient_for, require_role
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.errors import Conflict, NotFound
from blina.services.notify import AlertNotice, Contact, queue_notifications
from blina.services.records import AlertRecord, copy_of
from blina.store.prepared import Prepared
from blina.store.session import once_per_transaction
from blina.store.tables import (
    Alert,
    AlertPolicy,
    ClinicContact,
    Notification,
    Patient,
    User,
    table_of,
)

__all__ = [
    "OUTCOMES",
    "WHAT_WAS_DONE_MAX",
    "SentTo",
    "acknowledge_alert",
    "acknowledged_alerts",
    "alert_notifications",
    "escalate_due",
    "list_alerts",
    "lock_patient",
    "raise_alert",
]

OUTCOMES = (
    "advice-given",
    "patient-called-in",
    "escalated-to-physician",
    "grading-recorded",
    "sent-to-emergency",
    "admitted",
)
_MAX_NOTE = 2000
# The acknowledger's line for the hand-over: a sentence or two, not a clinical note (the
# note and the patient's record hold those).
WHAT_WAS_DONE_MAX = 280
_URGENCY = [TriageLevel.EMERGENCY, TriageLevel.CALL_NOW, TriageLevel.SAME_DAY, TriageLevel.ROUTINE]


def lock_patient(session: Session, patient_id: int) -> None:
    """Lock the patient's row for the rest of the transaction: taken by an alerting
    check-in before it writes anything (see ``reports.submit_report``); ``raise_alert``
    requires it. Always asks the database, even for a patient locked earlier in the
    transaction (rolling back a group commit's savepoint releases the row), and notes
    the patient as locked for ``raise_alert`` to check."""
    _LOCK_PATIENT.first(session, {"patient_id": patient_id})
    _locked_patients(session).add(patient_id)


def _locked_patients(session: Session) -> set[int]:
    return once_per_transaction(session, _PATIENT_LOCKED, lambda _: set())


def raise_alert(
    session: Session,
    *,
    now: datetime,
    patient_id: int,
    clinic_id: int,
    report_id: int,
    triage: Triage,
) -> int | None:
    """The id of the alert for a triaged check-in, or None when the care team is not
    alerted. While the patient has an open alert, the check-in joins it (``_join``).

    Precondition, when the care team is alerted: the caller took ``lock_patient`` for
    this patient in this transaction, before it wrote the report (whose foreign key
    shares the patient's row; locking only here would deadlock two alerting check-ins of
    one patient on PostgreSQL). Under that lock two check-ins of one patient at once find
    the same open alert (or the second finds the first one's), never open two. It does
    not lock again: it refuses (RuntimeError) when ``lock_patient`` was not called.
    """
    if not triage.alert_care_team:
        return None
    if patient_id not in _locked_patients(session):
        raise RuntimeError(
            f"raise_alert for patient {patient_id} without lock_patient in this transaction"
        )
    reason = triage.rules[0].reason if triage.rules else str(triage.level)
    level = str(triage.level)
    opened = _OPEN_ALERT.first(session, {"patient_id": patient_id})
    if opened is not None:
        _join(session, opened, now=now, clinic_id=clinic_id, report_id=report_id, triage=triage)
        return int(opened.id)
    told, next_at = _step(session, clinic_id, level, 0, now)
    alert_id: int = _RAISE.scalar(
        session,
        {
            "patient_id": patient_id,
            "symptom_report_id": report_id,
            "level": level,
            "reason": reason,
            "status": "open",
            "created_at": now,
            "escalation_step": 0,
            "next_escalation_at": next_at,
            "check_ins": 1,
            "latest_report_id": report_id,
        },
    )
    for contact in told:
        queue_notifications(
            session,
            alert=AlertNotice(alert_id, patient_id, level, reason, 0),
            contact=contact,
            now=now,
        )
    append_audit(
        session,
        at=now,
        actor=None,
        clinic_id=clinic_id,
        action="alert.raise",
        subject_type="alert",
        subject_id=alert_id,
        after={"patient_id": patient_id, "level": level, "reason": reason},
    )
    return alert_id


def _join(
    session: Session,
    opened: Any,
    *,
    now: datetime,
    clinic_id: int,
    report_id: int,
    triage: Triage,
) -> None:
    """A further alerting check-in of a patient whose alert is open: counted on it, and
    its newest. A more urgent one raises the alert's level and tells the chain again from
    its first contact, at the new level's times; a less urgent one changes nothing else
    (the chain is already on it)."""
    level = triage.level
    values: dict[str, object] = {
        "alert_id": opened.id,
        "check_ins": opened.check_ins + 1,
        "latest_report_id": report_id,
    }
    if _URGENCY.index(level) < _URGENCY.index(TriageLevel(opened.level)):
        reason = triage.rules[0].reason if triage.rules else str(level)
        told, next_at = _step(session, clinic_id, str(level), 0, now)
        values |= {"level": str(level), "reason": reason, "next_escalation_at": next_at}
        _RAISE_LEVEL.run(session, values)
        for contact in told:
            queue_notifications(
                session,
                alert=AlertNotice(opened.id, opened.patient_id, str(level), reason, 0),
                contact=contact,
                now=now,
            )
    else:
        _JOIN.run(session, values)
    append_audit(
        session,
        at=now,
        actor=None,
        clinic_id=clinic_id,
        action="alert.join",
        subject_type="alert",
        subject_id=opened.id,
        after={
            "report_id": report_id,
            "check_ins": values["check_ins"],
            "level": str(values.get("level", opened.level)),
        },
    )


def acknowledge_alert(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    alert_id: int,
    outcome: str,
    note: str = "",
    what_was_done: str | None = None,
) -> AlertRecord:
    """A nurse or physician takes the alert and records what was done; escalation stops.
    ``what_was_done`` is the short line for the hand-over: the pages always ask for it;
    None (an API client of before it was asked) leaves it unsaid."""
    require_role(actor, Role.NURSE, Role.PHYSICIAN, doing="acknowledge an alert")
    if outcome not in OUTCOMES:
        raise InvalidInput("outcome", outcome, f"one of {', '.join(OUTCOMES)}")
    if len(note) > _MAX_NOTE:
        raise InvalidInput("note", f"({len(note)} characters)", f"at most {_MAX_NOTE} characters")
    done = _what_was_done(what_was_done)
    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    patient = patient_for(session, actor, alert.patient_id)
    if alert.status != "open":
        raise Conflict(f"alert {alert_id} was already acknowledged")
    alert.status = "acknowledged"
    alert.acknowledged_by = actor.user_id
    alert.acknowledged_at = now
    alert.outcome = f"{outcome}: {note}".strip().rstrip(":")
    alert.what_was_done = done
    alert.next_escalation_at = None
    append_audit(
        session,
        at=now,
        actor=actor,
        action="alert.acknowledge",
        subject_type="alert",
        subject_id=alert.id,
        before={"status": "open"},
        after={"status": "acknowledged", "outcome": alert.outcome, "what_was_done": done},
    )
    taker = session.get(User, actor.user_id)
    return _record(alert, patient, None if taker is None else taker.display_name)


def _what_was_done(given: str | None) -> str | None:
    """The hand-over line as kept (spaces trimmed), or refused naming its bounds."""
    if given is None:
        return None
    done = " ".join(given.split())
    if not 1 <= len(done) <= WHAT_WAS_DONE_MAX:
        shown = f"({len(done)} characters)" if done else "(empty)"
        raise InvalidInput(
            "what_was_done", shown, f"1 to {WHAT_WAS_DONE_MAX} characters saying what was done"
        )
    return done


def _record(alert: Alert, patient: Patient, acknowledged_by: str | None) -> AlertRecord:
    return copy_of(
        AlertRecord,
        alert,
        patient_code=patient.code,
        patient_name=patient.display_name,
        acknowledged_by_name=acknowledged_by,
    )


def list_alerts(session: Session, *, actor: Actor, status: str = "open") -> list[AlertRecord]:
    """The clinic's alerts, most urgent first, then oldest first."""
    _require_alert_reader(actor, "see the clinic's alerts")
    urgency = case(
        {str(level): rank for rank, level in enumerate(_URGENCY)},
        value=Alert.level,
        else_=len(_URGENCY),
    )
    query = (
        select(Alert, Patient, _ACKNOWLEDGER.display_name)
        .join(Patient, Patient.id == Alert.patient_id)
        .outerjoin(_ACKNOWLEDGER, _ACKNOWLEDGER.id == Alert.acknowledged_by)
        .where(Patient.clinic_id == actor.clinic_id, Alert.status == status)
        .order_by(urgency, Alert.created_at, Alert.id)
    )
    return [_record(alert, patient, name) for alert, patient, name in session.execute(query)]


_ACKNOWLEDGER = aliased(User)


def acknowledged_alerts(
    session: Session, *, actor: Actor, before: int | None = None, limit: int
) -> list[AlertRecord]:
    """The clinic's acknowledged alerts, the latest acknowledgement first (then the
    highest id): at most ``limit``, of those after the alert ``before`` in that order (the
    last of the previous page; None, or an alert not on the list: the first page). An
    acknowledgement never changes, so a page once read keeps its rows while new ones
    arrive at the top."""
    _require_alert_reader(actor, "see the clinic's alerts")
    query = (
        select(Alert, Patient, _ACKNOWLEDGER.display_name)
        .join(Patient, Patient.id == Alert.patient_id)
        .outerjoin(_ACKNOWLEDGER, _ACKNOWLEDGER.id == Alert.acknowledged_by)
        .where(
            Patient.clinic_id == actor.clinic_id,
            Alert.status == "acknowledged",
            Alert.acknowledged_at.is_not(None),
        )
        .order_by(Alert.acknowledged_at.desc(), Alert.id.desc())
        .limit(limit)
    )
    cursor = None if before is None else _acknowledged_at(session, actor, before)
    if cursor is not None:
        query = query.where(
            or_(
                Alert.acknowledged_at < cursor,
                and_(Alert.acknowledged_at == cursor, Alert.id < before),
            )
        )
    return [_record(alert, patient, name) for alert, patient, name in session.execute(query)]


def _acknowledged_at(session: Session, actor: Actor, alert_id: int) -> datetime | None:
    found: datetime | None = session.execute(
        select(Alert.acknowledged_at)
        .join(Patient, Patient.id == Alert.patient_id)
        .where(
            Alert.id == alert_id,
            Patient.clinic_id == actor.clinic_id,
            Alert.status == "acknowledged",
        )
    ).scalar()
    return found


def _require_alert_reader(actor: Actor, doing: str) -> None:
    require_role(actor, Role.NURSE, Role.PHYSICIAN, Role.PHARMACIST, Role.ADMIN, doing=doing)


@dataclass(frozen=True, slots=True)
class SentTo:
    """One notification of an alert: to whom, where, and how it went. ``status`` is
    pending, sending, sent or failed (for good, ``last_error`` says why)."""

    id: int
    contact_name: str
    channel: str
    where: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None


def alert_notifications(session: Session, *, actor: Actor, alert_id: int) -> list[SentTo]:
    """Whom an alert was sent to, oldest first, as the contacts were then (the chain may
    have changed since)."""
    require_role(
        actor,
        Role.NURSE,
        Role.PHYSICIAN,
        Role.PHARMACIST,
        Role.ADMIN,
        doing="see whom an alert was sent to",
    )
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"alert {alert_id} not found")
    try:
        patient_for(session, actor, alert.patient_id)
    except NotFound:
        raise NotFound(f"alert {alert_id} not found") from None
    notes = session.execute(
        select(Notification)
        .where(Notification.alert_id == alert_id)
        .order_by(Notification.created_at, Notification.id)
    ).scalars()
    return [
        SentTo(
            note.id,
            note.contact_name,
            note.channel,
            _where(note.channel, note.target),
            note.status,
            note.attempts,
            note.last_error,
            note.created_at,
            note.sent_at,
            note.next_attempt_at,
        )
        for note in notes
    ]


def _where(channel: str, target: str) -> str:
    """An e-mail address whole; a webhook's scheme and host only: its path often carries
    the receiver's secret key (a chat's incoming-webhook token)."""
    if channel == "email":
        return target
    try:
        parts = urlsplit(target)
    except ValueError:  # stored before addresses were checked
        return "(not a valid address)"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def escalate_due(session: Session, *, now: datetime) -> int:
    """Move every open alert whose time has passed to the next contact; how many moved."""
    due = session.execute(
        select(Alert, Patient.clinic_id)
        .join(Patient, Patient.id == Alert.patient_id)
        .where(Alert.status == "open", Alert.next_escalation_at <= now)
        .order_by(Alert.next_escalation_at)
        .with_for_update(skip_locked=True, of=Alert)
    )
    moved = 0
    for alert, clinic_id in list(due):
        alert.escalation_step += 1
        _notify_step(session, alert, clinic_id, now)
        append_audit(
            session,
            at=now,
            actor=None,
            clinic_id=clinic_id,
            action="alert.escalate",
            subject_type="alert",
            subject_id=alert.id,
            after={
                "step": alert.escalation_step,
                "next_escalation_at": _iso(alert.next_escalation_at),
            },
        )
        moved += 1
    return moved


def _notify_step(session: Session, alert: Alert, clinic_id: int, now: datetime) -> None:
    """Tell the contact(s) for the alert's current step and schedule the next one."""
    told, alert.next_escalation_at = _step(
        session, clinic_id, alert.level, alert.escalation_step, now
    )
    notice = AlertNotice(
        alert.id, alert.patient_id, alert.level, alert.reason, alert.escalation_step
    )
    for contact in told:
        queue_notifications(session, alert=notice, contact=contact, now=now)


def _step(
    session: Session, clinic_id: int, level: str, step: int, now: datetime
) -> tuple[list[Contact], datetime | None]:
    """Who is told at escalation ``step`` of an alert of ``level``, and when the next
    step is due (None: no further step)."""
    contacts, minutes_by_level = _chain(session, clinic_id)
    minutes = minutes_by_level.get(level)
    if minutes is None:
        # No time chosen for this level: nobody should wait on it, so everyone is told now.
        return (contacts if step == 0 else []), None
    more = step + 1 < len(contacts)
    return contacts[step : step + 1], (now + timedelta(minutes=minutes) if more else None)


# Built once: every alert raised runs them.
_ALERTS = table_of(Alert)
_RAISE = Prepared(
    insert(_ALERTS).returning(_ALERTS.c.id),
    columns=[
        "patient_id",
        "symptom_report_id",
        "level",
        "reason",
        "status",
        "created_at",
        "escalation_step",
        "next_escalation_at",
        "check_ins",
        "latest_report_id",
    ],
)
_JOIN = Prepared(
    update(_ALERTS)
    .where(_ALERTS.c.id == bindparam("alert_id"))
    .values(check_ins=bindparam("check_ins"), latest_report_id=bindparam("latest_report_id"))
)
_RAISE_LEVEL = Prepared(
    update(_ALERTS)
    .where(_ALERTS.c.id == bindparam("alert_id"))
    .values(
        check_ins=bindparam("check_ins"),
        latest_report_id=bindparam("latest_report_id"),
        level=bindparam("level"),
        reason=bindparam("reason"),
        escalation_step=0,
        next_escalation_at=bindparam("next_escalation_at"),
    )
)
_PATIENTS = table_of(Patient)
_PATIENT_LOCKED = "alerts.patients-locked"  # session.info key: this transaction's
_LOCK_PATIENT = Prepared(
    select(_PATIENTS.c.id).where(_PATIENTS.c.id == bindparam("patient_id")).with_for_update()
)
_OPEN_ALERT = Prepared(
    select(_ALERTS.c.id, _ALERTS.c.patient_id, _ALERTS.c.level, _ALERTS.c.check_ins)
    .where(_ALERTS.c.patient_id == bindparam("patient_id"), _ALERTS.c.status == "open")
    .order_by(_ALERTS.c.id)
    .limit(1)
    .with_for_update()
)
_CONTACT_TABLE = table_of(ClinicContact)
_CONTACTS = Prepared(
    select(_CONTACT_TABLE.c.name, _CONTACT_TABLE.c.email, _CONTACT_TABLE.c.webhook_url)
    .where(_CONTACT_TABLE.c.clinic_id == bindparam("clinic_id"))
    .order_by(_CONTACT_TABLE.c.position)
)
_POLICIES = table_of(AlertPolicy)
_MINUTES = Prepared(
    select(_POLICIES.c.level, _POLICIES.c.minutes).where(
        _POLICIES.c.clinic_id == bindparam("clinic_id")
    )
)
_CHAIN = "blina.escalation_chain"  # session.info, with the clinic id: its chain once read


def _chain(session: Session, clinic_id: int) -> tuple[list[Contact], dict[str, int]]:
    """The clinic's contacts in order and its minutes per level, read once per
    transaction (a group commit raises many alerts in one)."""

    def read(session: Session) -> tuple[list[Contact], dict[str, int]]:
        contacts: list[Contact] = _CONTACTS.all(session, {"clinic_id": clinic_id})
        minutes: dict[str, int] = {
            row.level: row.minutes for row in _MINUTES.all(session, {"clinic_id": clinic_id})
        }
        return contacts, minutes

    return once_per_transaction(session, (_CHAIN, clinic_id), read)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
