"""Notifications through an outbox: queued in the alert's transaction, sent afterwards by
the worker over SMTP (email) and HTTP POST (webhook), at least once."""

import json
import smtplib
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.store.session import transaction
from blina.store.tables import Notification

__all__ = ["AlertNotice", "Contact", "deliver_pending", "queue_notifications"]

_MAX_ATTEMPTS = 5


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
    """Send every pending notification; a failure is retried on the next run (up to 5 tries)."""
    sent = 0
    with transaction(sessions) as session:
        pending = session.execute(
            select(Notification)
            .where(Notification.status == "pending")
            .order_by(Notification.created_at, Notification.id)
            .with_for_update(skip_locked=True)
        ).scalars()
        for note in list(pending):
            note.attempts += 1
            try:
                _send(note, settings)
            except (OSError, smtplib.SMTPException) as error:
                note.last_error = str(error)[:1000]
                if note.attempts >= _MAX_ATTEMPTS:
                    note.status = "failed"
                continue
            note.status = "sent"
            note.sent_at = now
            sent += 1
    return sent


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
