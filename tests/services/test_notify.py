"""The notification outbox: claimed, sent with no transaction open, recorded; at least
once; each message on its own, so one that cannot be sent never holds back the others."""

import logging
import smtplib
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services import notify
from blina.services.alerts import alert_notifications
from blina.services.notify import deliver_pending
from blina.services.patients import create_patient
from blina.services.reports import submit_report
from blina.store.session import transaction
from blina.store.tables import ClinicContact, Notification
from tests.api.test_crash_safety import _free_port
from tests.api.test_escalation import Inbox
from tests.services.test_alerts import FEVER_AND_CONFUSION, NOW, _clinic

SETTINGS = Settings()


def _alert(sessions: sessionmaker[Session], knowledge: Knowledge, key: str = "night") -> None:
    """A clinic whose three contacts all get an email (no times set), and one alert."""
    _, family, patient = _clinic(sessions, minutes=None)
    _check_in(sessions, knowledge, family, patient, key)


def _check_in(
    sessions: sessionmaker[Session], knowledge: Knowledge, family: object, patient: int, key: str
) -> None:
    with transaction(sessions) as session:
        submit_report(
            session,
            actor=family,  # type: ignore[arg-type]
            now=NOW,
            knowledge=knowledge,
            patient_id=patient,
            idempotency_key=key,
            check_in=FEVER_AND_CONFUSION,
        )


def _statuses(sessions: sessionmaker[Session]) -> list[tuple[str, int]]:
    with sessions() as session:
        rows = session.execute(
            select(Notification.status, Notification.attempts).order_by(Notification.id)
        )
        return [(status, attempts) for status, attempts in rows]


def test_a_hanging_mail_server_never_holds_the_database(
    sessions: sessionmaker[Session], knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff, family, patient = _clinic(sessions, minutes=None)
    _check_in(sessions, knowledge, family, patient, "first")
    # Another patient's check-in comes while the mail server hangs (the same patient's
    # would join the open alert and send nothing new).
    with transaction(sessions) as session:
        other = create_patient(session, actor=staff, now=NOW, code="P2", display_name="q").id
    sending = threading.Event()
    release = threading.Event()

    def hanging_send(note: Notification, settings: Settings) -> None:
        sending.set()
        assert release.wait(10)

    monkeypatch.setattr(notify, "_send", hanging_send)
    worker = threading.Thread(
        target=deliver_pending, args=(sessions,), kwargs={"settings": SETTINGS, "now": NOW}
    )
    worker.start()
    assert sending.wait(10)

    _check_in(sessions, knowledge, staff, other, "while-sending")  # not blocked
    assert not release.is_set()
    release.set()
    worker.join(10)

    assert _statuses(sessions) == [("sent", 1)] * 3 + [("pending", 0)] * 3


def test_a_failed_send_waits_twice_as_long_before_each_retry_then_fails_for_good(
    sessions: sessionmaker[Session],
    knowledge: Knowledge,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _alert(sessions, knowledge)

    def refused(note: Notification, settings: Settings) -> None:
        raise smtplib.SMTPRecipientsRefused({note.target: (550, b"no such mailbox")})

    monkeypatch.setattr(notify, "_send", refused)
    assert deliver_pending(sessions, settings=SETTINGS, now=NOW) == 0
    assert _statuses(sessions) == [("pending", 1)] * 3
    # Tried again 1, 2, 4 and 8 minutes after each failure, not before.
    for tries, minutes in enumerate((1, 3, 7, 15), start=2):
        too_soon = NOW + timedelta(minutes=minutes, seconds=-1)
        deliver_pending(sessions, settings=SETTINGS, now=too_soon)
        assert _statuses(sessions) == [("pending", tries - 1)] * 3
        with caplog.at_level(logging.ERROR, logger="blina.services.notify"):
            deliver_pending(sessions, settings=SETTINGS, now=NOW + timedelta(minutes=minutes))

    assert _statuses(sessions) == [("failed", 5)] * 3
    with sessions() as session:
        errors = session.execute(select(Notification.last_error)).scalars().all()
    assert all(
        "SMTPRecipientsRefused" in (e or "") and "no such mailbox" in (e or "") for e in errors
    )
    assert [r.getMessage().split(" by email ")[1] for r in caplog.records] == [
        "failed for good after 5 tries: "
        f"SMTPRecipientsRefused: {{'{name}@clinic.test': (550, b'no such mailbox')}}"
        for name in ("on-call-nurse", "haematologist", "unit-head")
    ]


@pytest.mark.parametrize(("claimed_minutes_ago", "taken_again"), [(11, True), (9, False)])
def test_a_claim_lost_with_its_worker_is_taken_again_after_the_lease(
    sessions: sessionmaker[Session],
    knowledge: Knowledge,
    monkeypatch: pytest.MonkeyPatch,
    claimed_minutes_ago: int,
    taken_again: bool,
) -> None:
    _alert(sessions, knowledge)
    with transaction(sessions) as session:  # a worker claimed them, then died
        session.execute(
            update(Notification).values(
                status="sending",
                attempts=1,
                claimed_at=NOW - timedelta(minutes=claimed_minutes_ago),
            )
        )
    monkeypatch.setattr(notify, "_send", lambda note, settings: None)

    sent = deliver_pending(sessions, settings=SETTINGS, now=NOW)

    assert sent == (3 if taken_again else 0)
    expected = ("sent", 2) if taken_again else ("sending", 1)
    assert _statuses(sessions) == [expected] * 3


def test_a_claim_lost_on_the_last_try_fails_for_good_and_is_not_sent_again(
    sessions: sessionmaker[Session], knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    _alert(sessions, knowledge)
    with transaction(sessions) as session:  # its worker died on it, five times
        session.execute(
            update(Notification).values(
                status="sending", attempts=5, claimed_at=NOW - timedelta(minutes=11)
            )
        )
    sent: list[str] = []
    monkeypatch.setattr(notify, "_send", lambda note, settings: sent.append(note.target))

    assert deliver_pending(sessions, settings=SETTINGS, now=NOW) == 0

    assert sent == []
    assert _statuses(sessions) == [("failed", 5)] * 3
    with sessions() as session:
        errors = set(session.execute(select(Notification.last_error)).scalars())
    assert errors == {"its worker stopped while sending it, on the last of 5 tries"}


@pytest.fixture
def mail() -> Iterator[tuple[Inbox, Settings]]:
    """A real SMTP server on loopback, and settings that send to it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, Settings(smtp_host="127.0.0.1", smtp_port=controller.port)
    controller.stop()


def test_a_contact_whose_address_cannot_be_used_fails_alone_and_the_others_are_sent(
    sessions: sessionmaker[Session], knowledge: Knowledge, mail: tuple[Inbox, Settings]
) -> None:
    """Issue 16: a webhook of ``http://[`` (or an address with a line break) stored before
    addresses were checked ended the worker thread, and every clinic's notifications."""
    inbox, settings = mail
    nurse, family, patient = _clinic(sessions, minutes=None)
    with transaction(sessions) as session:  # stored directly: no check on the way in
        clinic_id = session.execute(select(ClinicContact.clinic_id)).scalars().first()
        for position, (name, email, hook) in enumerate(
            [
                ("broken hook", None, "http://["),
                ("injected", "x@clinic.test\r\nBcc: everyone@clinic.test", None),
            ],
            start=4,
        ):
            session.add(
                ClinicContact(
                    clinic_id=clinic_id, position=position, name=name, email=email, webhook_url=hook
                )
            )
    _check_in(sessions, knowledge, family, patient, "night")

    assert deliver_pending(sessions, settings=settings, now=NOW) == 3

    with sessions() as session:
        notes = session.execute(select(Notification).order_by(Notification.id)).scalars().all()
    assert [(n.contact_name, n.status, n.attempts, n.last_error) for n in notes] == [
        ("on-call nurse", "sent", 1, None),
        ("haematologist", "sent", 1, None),
        ("unit head", "sent", 1, None),
        ("broken hook", "failed", 1, "ValueError: Invalid IPv6 URL"),
        (
            "injected",
            "failed",
            1,
            "ValueError: Header values may not contain linefeed or carriage return characters",
        ),
    ]
    assert sorted(rcpt for rcpts, _ in inbox.messages for rcpt in rcpts) == [
        "haematologist@clinic.test",
        "on-call-nurse@clinic.test",
        "unit-head@clinic.test",
    ]
    # Failed for good: the next runs leave them alone.
    assert deliver_pending(sessions, settings=settings, now=NOW + timedelta(days=1)) == 0
    assert len(inbox.messages) == 3
    with sessions() as session:  # and the care team sees it on the alert
        shown = alert_notifications(session, actor=nurse, alert_id=notes[0].alert_id)
    assert [(n.contact_name, n.where, n.status) for n in shown[3:]] == [
        ("broken hook", "(not a valid address)", "failed"),
        ("injected", "x@clinic.test\r\nBcc: everyone@clinic.test", "failed"),
    ]
