"""Notifications through an outbox: queued in the alert's transaction, sent afterwards by
the worker over SMTP (email) and HTTP POST (webhook), at least once.

Each message is sent on its own: whatever one raises is kept on it as its reason, and the
others still go out in the same run (one contact's malformed address once stopped every
clinic's notifications, issue 16). A failure of the network or of the peer is tried again
later, each wait twice the one before, five tries in all; a message that cannot be sent as
it stands (an address the mail library or urllib refuses) fails for good at once. A
message failed for good is logged as an error and shows as such on its alert.
"""

import json
import logging
import smtplib
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.store.session import transaction
from blina.store.tables import Notification

__all__ = ["AlertNotice", "Contact", "deliver_pending", "queue_notifications"]

_MAX_ATTEMPTS = 5
_FIRST_WAIT = timedelta(minutes=1)  # then 2, 4 and 8: the last try about 15 min after the first
_PER_RUN = 50  # sent per run: a run's claims must all be sent well within the lease
_LEASE = timedelta(minutes=10)  # a worker's send timeout is 10 s per message
# Failures that may pass by the next try: the network, the mail server, the receiver's
# HTTP answer (urllib's errors are OSErrors, and so are smtplib's since Python 3.4).
_PASSING = (OSError, smtplib.SMTPException)

_log = logging.getLogger(__name__)


class Contact(Protocol):
    """A contact of the clinic's escalation chain, as far as a notification needs it."""

    name: str
    email: str | None
    webhook_url: str | None


@dataclass(frozen=True, slots=True)
class AlertNotice:
    """What a notification says about its alert."""

    id: int
    patient_id: int
    level: str
    reason: str
    escalation_step: int


def queue_notifications(
    session: Session, *, alert: AlertNotice, contact: Contact, now: datetime
) -> None:
    subject = f"blina {alert.level} alert #{alert.id}: {alert.reason}"[:300]
    body = (
        f"A home check-in raised a {alert.level} alert (#{alert.id}) "
        f"for patient {alert.patient_id}.\n"
        f"Reason: {alert.reason}\n"
        f"Escalation step {alert.escalation_step + 1}. Acknowledge it in blina when you take it.\n"
    )
    for channel, target in (("email", contact.email), ("webhook", contact.webhook_url)):
        if target:
            session.add(
                Notification(
                    alert_id=alert.id,
                    contact_name=contact.name,
                    channel=channel,
                    target=target,
                    subject=subject,
                    body=body,
                    status="pending",
                    attempts=0,
                    last_error=None,
                    created_at=now,
                    sent_at=None,
                    next_attempt_at=None,
                )
            )


@dataclass(frozen=True, slots=True)
class _Failure:
    reason: str
    passing: bool  # another try may succeed


def deliver_pending(sessions: sessionmaker[Session], *, settings: Settings, now: datetime) -> int:
    """Send the notifications that are due, at least once; how many were sent.

    Claimed in one short transaction, sent with no transaction open, recorded in another:
    a slow or dead mail server must never hold the database (on SQLite every check-in
    would wait for it). A claim older than the lease was lost with its worker and is
    taken again, as a try of its own.
    """
    claimed = _claim(sessions, now)
    if not claimed:
        return 0
    outcomes = {note.id: _attempt(note, settings) for note in claimed}
    with transaction(sessions) as session:
        for note_id, failure in outcomes.items():
            _record(session.get_one(Notification, note_id), failure, now)
    return sum(failure is None for failure in outcomes.values())


def _claim(sessions: sessionmaker[Session], now: datetime) -> list[Notification]:
    """The notifications this run sends, marked as sending: each one a try. A lost claim
    that was already the last try is not sent again: it failed for good."""
    with transaction(sessions) as session:
        due = session.execute(
            select(Notification)
            .where(
                (
                    (Notification.status == "pending")
                    & or_(
                        Notification.next_attempt_at.is_(None),
                        Notification.next_attempt_at <= now,
                    )
                )
                | ((Notification.status == "sending") & (Notification.claimed_at < now - _LEASE))
            )
            .order_by(Notification.created_at, Notification.id)
            .limit(_PER_RUN)
            .with_for_update(skip_locked=True)
        ).scalars()
        claimed = []
        for note in due:
            if note.attempts >= _MAX_ATTEMPTS:
                why = f"its worker stopped while sending it, on the last of {_MAX_ATTEMPTS} tries"
                _record(note, _Failure(why, passing=False), now)
                continue
            note.status = "sending"
            note.claimed_at = now
            note.next_attempt_at = None
            note.attempts += 1
            claimed.append(note)
        return claimed


def _attempt(note: Notification, settings: Settings) -> _Failure | None:
    """Send one notification; why it failed, or None. Never raises: one message must
    never keep the others from going out."""
    try:
        _send(note, settings)
    except _PASSING as error:
        return _Failure(_reason(error), passing=True)
    except Exception as error:  # the message itself: sent again, it fails again
        return _Failure(_reason(error), passing=False)
    return None


def _record(note: Notification, failure: _Failure | None, now: datetime) -> None:
    note.claimed_at = None
    if failure is None:
        note.status = "sent"
        note.sent_at = now
        return
    note.last_error = failure.reason
    if failure.passing and note.attempts < _MAX_ATTEMPTS:
        note.status = "pending"
        note.next_attempt_at = now + _FIRST_WAIT * 2 ** (note.attempts - 1)
        return
    note.status = "failed"
    _log.error(
        "notification %s of alert %s to %s by %s failed for good after %s tries: %s",
        note.id,
        note.alert_id,
        note.contact_name,
        note.channel,
        note.attempts,
        failure.reason,
    )


def _reason(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


def _send(note: Notification, settings: Settings) -> None:
    if note.channel == "email":
        message = EmailMessage()
        message["From"] = settings.smtp_from
        message["To"] = note.target
        message["Subject"] = note.subject
        message.set_content(note.body)
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)
        return
    payload = json.dumps(
        {"alert_id": note.alert_id, "subject": note.subject, "text": note.body}
    ).encode()
    request = urllib.request.Request(
        note.target, data=payload, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
