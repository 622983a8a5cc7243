"""The background job: escalate overdue alerts, then send pending notifications.

Each run is a transaction on the database, so it survives restarts, and its row locks
(SKIP LOCKED on PostgreSQL, the single writer on SQLite) let several processes run it
without escalating or sending anything twice.
"""

import threading
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.services.alerts import escalate_due
from blina.services.clock import Clock
from blina.services.notify import deliver_pending
from blina.store.session import transaction

__all__ = ["RunReport", "run_once", "start_background_worker"]


@dataclass(frozen=True, slots=True)
class RunReport:
    escalated: int
    sent: int


def run_once(sessions: sessionmaker[Session], *, settings: Settings, clock: Clock) -> RunReport:
    with transaction(sessions) as session:
        escalated = escalate_due(session, now=clock.now())
    sent = deliver_pending(sessions, settings=settings, now=clock.now())
    return RunReport(escalated, sent)


def start_background_worker(
    sessions: sessionmaker[Session], *, settings: Settings, clock: Clock
) -> threading.Event:
    """Run the job every ``worker_interval_seconds`` in a daemon thread; set the returned
    event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(settings.worker_interval_seconds):
            run_once(sessions, settings=settings, clock=clock)

    threading.Thread(target=loop, name="blina-worker", daemon=True).start()
    return stop
