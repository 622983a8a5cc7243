"""The notification outbox: claimed, sent with no transaction open, recorded; at least once."""

import smtplib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from tests.services.test_alerts import FEVER_AND_CONFUSION, NOW, _clinic

from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services import notify
from blina.services.notify import deliver_pending
from blina.services.reports import submit_report
from blina.store.session import transaction
from blina.store.tables import Notification

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
    _, family, patient = _clinic(sessions, minutes=None)
    _check_in(sessions, knowledge, family, patient, "first")
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

    _check_in(sessions, knowledge, family, patient, "while-sending")  # not blocked
    assert not release.is_set()
    release.set()
    worker.join(10)

    assert _statuses(sessions) == [("sent", 1)] * 3 + [("pending", 0)] * 3


def test_a_failed_send_is_retried_then_given_up_after_five_tries(
    sessions: sessionmaker[Session], knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    _alert(sessions, knowledge)

    def refused(note: Notification, settings: Settings) -> None:
        raise smtplib.SMTPRecipientsRefused({note.target: (550, b"no such mailbox")})

    monkeypatch.setattr(notify, "_send", refused)
    assert deliver_pending(sessions, settings=SETTINGS, now=NOW) == 0
    assert _statuses(sessions) == [("pending", 1)] * 3
    for _ in range(4):
        deliver_pending(sessions, settings=SETTINGS, now=NOW)

    assert _statuses(sessions) == [("failed", 5)] * 3
    with sessions() as session:
        errors = session.execute(select(Notification.last_error)).scalars().all()
    assert all("no such mailbox" in (error or "") for error in errors)


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
