"""Notifications through an outbox: queued in the alert's transaction, sent afterwards by
the worker over SMTP (email) and HTTP POST (webhook), at least once."""

import json
import smtplib
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.store.session import transaction
from blina.store.tables import Notification

__all__ = ["AlertNotice", "Contact", "deliver_pending", "queue_notifications"]

_MAX_ATTEMPTS = 5
_PER_RUN = 50  # sent per run: a run's claims must all be sent well within the lease
_LEASE = timedelta(minutes=10)  # a worker's send timeout is 10 s per message


class Contact(Protocol):
    """A contact of the clinic's escalation chain, as far as a notification needs it."""

    id: int
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
                    contact_id=contact.id,
                    channel=channel,
                    target=target,
                    subject=subject,
                    body=body,
                    status="pending",
                    attempts=0,
                    last_error=None,
                    created_at=now,
                    sent_at=None,
                )
            )


def deliver_pending(sessions: sessionmaker[Session], *, settings: Settings, now: datetime) -> int:
    """Send the pending notifications, at least once; how many were sent.

    Claimed in one short transaction, sent with no transaction open, recorded in another:
    a slow or dead mail server must never hold the database (on SQLite every check-in
    would wait for it). A failure is retried on the next run, up to 5 tries; a claim
    older than the lease was lost with its worker and is taken again.
    """
    with transaction(sessions) as session:
        claimed = list(
            session.execute(
                select(Notification)
                .where(
                    (Notification.status == "pending")
                    | (
                        (Notification.status == "sending")
                        & (Notification.claimed_at < now - _LEASE)
                    )
                )
                .order_by(Notification.created_at, Notification.id)
                .limit(_PER_RUN)
                .with_for_update(skip_locked=True)
            ).scalars()
        )
        for note in claimed:
            note.status = "sending"
            note.claimed_at = now
            note.attempts += 1
    errors: dict[int, str | None] = {}
    for note in claimed:
        try:
            _send(note, settings)
        except (OSError, smtplib.SMTPException) as error:
            errors[note.id] = str(error)[:1000]
        else:
            errors[note.id] = None
    if not claimed:
        return 0
    with transaction(sessions) as session:
        for note_id, problem in errors.items():
            note = session.get_one(Notification, note_id)
            note.claimed_at = None
            if problem is None:
                note.status = "sent"
                note.sent_at = now
            else:
                note.last_error = problem
                note.status = "failed" if note.attempts >= _MAX_ATTEMPTS else "pending"
    return sum(problem is None for problem in errors.values())


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
