"""The background job never stops: a run that raises is logged and the next one starts;
a failing escalation never holds back the notifications already queued (issue 16)."""

import logging
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services import notify, worker
from blina.services.clock import Clock, FixedClock
from blina.services.reports import submit_report
from blina.services.worker import RunReport, run_once, start_background_worker
from blina.store.session import transaction
from blina.store.tables import Notification
from tests.services.test_alerts import FEVER_AND_CONFUSION, NOW, _clinic


def test_the_worker_thread_survives_a_run_that_raises(
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []
    third_run = threading.Event()

    def flaky_run(
        sessions: sessionmaker[Session], *, settings: Settings, clock: Clock
    ) -> RunReport:
        runs.append(len(runs))
        if len(runs) < 3:
            raise ValueError("Invalid IPv6 URL")
        third_run.set()
        return RunReport(0, 0)

    monkeypatch.setattr(worker, "run_once", flaky_run)
    with caplog.at_level(logging.ERROR, logger="blina.services.worker"):
        stop = start_background_worker(
            sessions, settings=Settings(worker_interval_seconds=0.01), clock=FixedClock(NOW)
        )
        try:
            assert third_run.wait(10)
        finally:
            stop.set()

    failures = [r for r in caplog.records if r.exc_info]
    assert len(failures) == 2
    assert "Invalid IPv6 URL" in caplog.text


def test_a_failing_escalation_never_holds_back_the_queued_notifications(
    sessions: sessionmaker[Session],
    knowledge: Knowledge,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, family, patient = _clinic(sessions, minutes=None)
    with transaction(sessions) as session:
        submit_report(
            session,
            actor=family,
            now=NOW,
            knowledge=knowledge,
            patient_id=patient,
            idempotency_key="night",
            check_in=FEVER_AND_CONFUSION,
        )

    def broken(session: Session, *, now: object) -> int:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(worker, "escalate_due", broken)
    monkeypatch.setattr(notify, "_send", lambda note, settings: None)
    with caplog.at_level(logging.ERROR, logger="blina.services.worker"):
        report = run_once(sessions, settings=Settings(), clock=FixedClock(NOW))

    assert report == RunReport(escalated=0, sent=3)
    assert "escalating overdue alerts failed" in caplog.text
    assert "date value out of range" in caplog.text
    with sessions() as session:
        assert set(session.execute(select(Notification.status)).scalars()) == {"sent"}
