"""The background job: escalate overdue alerts, then send pending notifications.

Each run is a transaction on the database, so it survives restarts, and its row locks
(SKIP LOCKED on PostgreSQL, the single writer on SQLite) let several processes run it
without escalating or sending anything twice. Nothing a run meets stops the next one: an
error is logged and the job tries again at its next run (issue 16: one malformed address
once ended the thread, and with it every clinic's notifications).
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.services.alerts import escalate_due
from blina.services.clock import Clock
from blina.services.notify import deliver_pending
from blina.store.session import transaction

__all__ = ["RunReport", "heartbeat_file", "run_once", "start_background_worker"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunReport:
    escalated: int
    sent: int


def run_once(sessions: sessionmaker[Session], *, settings: Settings, clock: Clock) -> RunReport:
    """Escalate, then send. Each job fails on its own (logged, counted as 0): an alert that
    cannot be escalated never holds back the messages already queued."""

    def escalate() -> int:
        with transaction(sessions) as session:
            return escalate_due(session, now=clock.now())

    escalated = _logged("escalating overdue alerts", escalate)
    sent = _logged(
        "sending notifications",
        lambda: deliver_pending(sessions, settings=settings, now=clock.now()),
    )
    _beat(heartbeat_file(settings), clock.now())
    return RunReport(escalated, sent)


def heartbeat_file(settings: Settings) -> Path:
    """Written after every run, by whichever process runs the job (``blina serve`` or
    ``blina worker``): the readiness check and the metrics read its time."""
    return settings.data_dir / "worker-heartbeat"


def _beat(path: Path, now: datetime) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(now.isoformat(), encoding="utf-8")
    except OSError:
        _log.exception("blina worker: cannot write its heartbeat to %s", path)


def _logged(doing: str, job: Callable[[], int]) -> int:
    try:
        return job()
    except Exception:
        _log.exception("blina worker: %s failed; tried again at the next run", doing)
        return 0


def start_background_worker(
    sessions: sessionmaker[Session], *, settings: Settings, clock: Clock
) -> threading.Event:
    """Run the job every ``worker_interval_seconds`` in a daemon thread; set the returned
    event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(settings.worker_interval_seconds):
            try:
                run_once(sessions, settings=settings, clock=clock)
            except Exception:  # the thread is every clinic's notifications: it never ends
                _log.exception("blina worker: a run failed; the next one starts as planned")

    threading.Thread(target=loop, name="blina-worker", daemon=True).start()
    return stop
