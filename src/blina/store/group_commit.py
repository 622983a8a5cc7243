"""Group commit: many small units of work from concurrent requests, one transaction.

Phones post check-ins in bursts; each is a few small writes. A single writer thread
takes every unit waiting (up to ``max_batch``), runs them in turn in one transaction and
commits once, then answers each caller. A caller is answered only after the commit, so an
acknowledged unit is durable.

If any unit raises, or the commit fails, the whole batch is rolled back and every unit
runs again alone, in its own transaction: the failing one fails by itself and nothing of
it is kept, the others succeed as if they had come one at a time.
"""

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from blina.store.session import transaction

__all__ = ["GroupCommit"]

Unit = Callable[[Session], Any]


class GroupCommit:
    def __init__(self, sessions: sessionmaker[Session], *, max_batch: int = 64) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._waiting: queue.SimpleQueue[tuple[Unit, Future[Any]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="blina-group-commit", daemon=True)
        self._thread.start()

    def submit(self, unit: Unit) -> "Future[Any]":
        """Queue ``unit``; the future holds its result once its transaction committed."""
        done: Future[Any] = Future()
        self._waiting.put((unit, done))
        return done

    def close(self) -> None:
        """Finish the units already queued, then stop the writer thread."""
        self._waiting.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._waiting.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    more = self._waiting.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[Unit, "Future[Any]"]]) -> None:
        live = [(unit, done) for unit, done in batch if done.set_running_or_notify_cancel()]
        if len(live) > 1:
            try:
                with transaction(self._sessions) as session:
                    results = [unit(session) for unit, _ in live]
            except Exception:  # every unit runs again alone, below
                pass
            else:
                for (_, done), result in zip(live, results, strict=True):
                    done.set_result(result)
                return
        for unit, done in live:
            try:
                with transaction(self._sessions) as session:
                    result = unit(session)
            except BaseException as error:  # handed to the caller
                done.set_exception(error)
            else:
                done.set_result(result)
