"""SQLite's write-ahead log, copied back into the database file by a thread of its own.

By default SQLite checkpoints inside the commit that takes the log past 1,000 pages:
that commit copies the pages and waits for the disk. Under check-ins from 32 phones
(benches/bench_service.py), one group commit in twenty took many times as long as the
others, and the check-ins waiting on those commits made the slowest percent of answers
(docs/design/service.md has the figures). Here commits never checkpoint
(``wal_autocheckpoint=0``): a commit wakes this thread, which waits ``interval`` and then
runs one PASSIVE checkpoint (it never waits for a reader or a writer) for every commit of
that time. An idle service runs none.

Under a steady stream of writes a passive checkpoint never quite catches up, and SQLite
starts the log over only once one has: the file would grow without end. So when the log
holds more than ``catch_up`` pages, the thread runs a second checkpoint during this
process's turn to write, for the few pages written meanwhile; the next transaction then
starts the log over.
"""

import sqlite3
import threading
from typing import Any

from sqlalchemy import Connection, Engine, event

from blina.store.session import writing

__all__ = ["WalCheckpoints"]


class WalCheckpoints:
    """Checkpoints for ``engine`` (SQLite), from ``start()`` (before the engine's first
    connection) to ``close()``."""

    def __init__(self, engine: Engine, *, interval: float = 0.5, catch_up: int = 1000) -> None:
        self._engine = engine
        self._interval = interval
        self._catch_up = catch_up
        self._due = threading.Event()
        self._stop = threading.Event()
        self.runs = 0  # checkpoints run by the thread (tests read it)
        self._on_commit = self._committed  # one bound method, to remove what was added
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Leave the checkpoints to a thread of their own (again after ``close``);
        nothing if it runs."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        event.listen(self._engine, "connect", _leave_checkpoints_to_the_thread)
        event.listen(self._engine, "commit", self._on_commit)
        self._thread = threading.Thread(target=self._run, name="blina-wal-checkpoints", daemon=True)
        self._thread.start()

    def checkpoint(self) -> None:
        """Copy what the log holds into the database file, as far as readers allow;
        during this process's turn to write if the log is still long."""
        if self._passive() > self._catch_up:
            with writing(self._engine):
                self._passive()

    def _passive(self) -> int:
        """One PASSIVE checkpoint; the pages the log holds since it last started over."""
        # On the driver, outside any transaction (a checkpoint is no part of one).
        connection = self._engine.raw_connection()
        try:
            _busy, logged, _copied = connection.driver_connection.execute(  # type: ignore[union-attr]
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).fetchone()
        finally:
            connection.close()
        return int(logged)

    def close(self) -> None:
        """Stop the thread, then checkpoint what is left (once: an app may be shut down
        twice)."""
        if self._thread is None or self._stop.is_set():
            return
        self._stop.set()
        self._due.set()
        self._thread.join()
        self._due.clear()
        event.remove(self._engine, "commit", self._on_commit)
        event.remove(self._engine, "connect", _leave_checkpoints_to_the_thread)
        self.checkpoint()

    def _committed(self, _connection: Connection) -> None:
        self._due.set()

    def _run(self) -> None:
        # The stop is checked before each wait: ``close`` may set it (and wake this
        # thread) just before the wake-up below is cleared after a checkpoint.
        while not self._stop.is_set():
            self._due.wait()  # a commit is under way
            # The interval first: the commit lands meanwhile, and those that follow it
            # are checkpointed together.
            if self._stop.wait(self._interval):
                return
            self._due.clear()
            try:
                self.checkpoint()
            except sqlite3.Error:  # the disk or a lock refused it: the next commit asks again
                continue
            self.runs += 1


def _leave_checkpoints_to_the_thread(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
