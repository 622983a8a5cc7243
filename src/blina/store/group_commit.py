"""Group commit: many small units of work from concurrent requests, one transaction.

Phones post check-ins in bursts; each is a few small writes. A single writer thread
takes every unit waiting (up to ``max_batch``), runs them in turn in one transaction and
commits once, then answers each caller. A caller is answered only after the commit, so an
acknowledged unit is durable.

Each unit of a batch runs in a savepoint of its own (``prepared.driver_savepoint``, and
``guard`` for what else a unit leaves behind, such as audit events not yet written): one
that raises is rolled back to its savepoint and answered with its error, alone; the
others go on in the same transaction, and nothing of the batch is run twice (a refused
sign-in or a bad check-in once rolled the whole batch back and replayed every other unit
alone). Only when the transaction itself is lost (the commit fails, or a failing flush
ended it: the disk, the database) does every unit that had succeeded run again alone, in
its own transaction.

The writer's sessions run prepared statements on the driver (``store.prepared``): this
thread is the hot path they are for.

Callers on an event loop ``await run(unit)``: the answers of a batch reach their loop in
one call, so a batch of 30 check-ins wakes the loop once, not 30 times. Other callers
``submit(unit)`` and get a ``concurrent.futures.Future``. The thread runs from
``start()`` to ``close()`` (the app's lifespan).
"""

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from blina.store.prepared import driver_savepoint, run_on_the_driver
from blina.store.session import transaction

__all__ = ["GroupCommit"]

Unit = Callable[[Session], Any]
Waiter = Future[Any] | asyncio.Future[Any]
Guard = Callable[[Session], AbstractContextManager[object]]
T = TypeVar("T")


class GroupCommit:
    """``guard``: around each unit of a batch, inside its savepoint, to undo what the
    savepoint does not (the check-in writer's forgets the audit events a failing unit
    appended)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        max_batch: int = 64,
        guard: Guard = lambda _session: contextlib.nullcontext(),
    ) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._guard = guard
        self._waiting: queue.SimpleQueue[tuple[Unit, Waiter] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the writer thread (again after ``close``); nothing if it runs."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._run, name="blina-group-commit", daemon=True)
        self._thread.start()

    def submit(self, unit: Unit) -> "Future[Any]":
        """Queue ``unit``; the future holds its result once its transaction committed."""
        done: Future[Any] = Future()
        self._waiting.put((unit, done))
        return done

    async def run(self, unit: Callable[[Session], T]) -> T:
        """Queue ``unit`` from the running event loop; its result once its transaction
        committed."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.put((unit, done))
        return await done

    def close(self) -> None:
        """Finish the units already queued, then stop the writer thread (once: an app may
        be shut down twice)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self._waiting.put(None)
        thread.join()

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

    def _commit(self, batch: list[tuple[Unit, Waiter]]) -> None:
        live = [(unit, done) for unit, done in batch if _claim(done)]
        if len(live) == 1:  # no savepoint needed: its transaction is its own
            _answer(self._alone(live))
            return
        answers: list[_Answer] = []
        try:
            with transaction(self._sessions) as session:
                run_on_the_driver(session)
                for unit, done in live:
                    try:
                        with driver_savepoint(session), self._guard(session):
                            result = unit(session)
                    except Exception as error:  # handed to its caller; the others go on
                        answers.append((done, None, error))
                        if not session.is_active:  # a failing flush ended the transaction
                            raise
                    else:
                        answers.append((done, result, None))
        except Exception:  # the transaction is lost: the units that had succeeded run alone
            failed = [answer for answer in answers if answer[2] is not None]
            kept = {id(answer[0]) for answer in failed}
            answers = failed + self._alone([(u, d) for u, d in live if id(d) not in kept])
        _answer(answers)

    def _alone(self, units: list[tuple[Unit, Waiter]]) -> list["_Answer"]:
        """Each unit in a transaction of its own."""
        answers: list[_Answer] = []
        for unit, done in units:
            try:
                with transaction(self._sessions) as session:
                    run_on_the_driver(session)
                    result = unit(session)
            except BaseException as error:  # handed to the caller
                answers.append((done, None, error))
            else:
                answers.append((done, result, None))
        return answers


_Answer = tuple[Waiter, Any, BaseException | None]


def _claim(done: Waiter) -> bool:
    """Whether the caller still waits (a unit whose caller gave up is not run)."""
    if isinstance(done, Future):
        return done.set_running_or_notify_cancel()
    return not done.cancelled()


def _answer(answers: list[_Answer]) -> None:
    """Hand each caller its result or error: event-loop callers in one call per loop."""
    here: list[_Answer] = []
    by_loop: dict[asyncio.AbstractEventLoop, list[_Answer]] = {}
    for answer in answers:
        done = answer[0]
        if isinstance(done, Future):
            here.append(answer)
        else:
            by_loop.setdefault(done.get_loop(), []).append(answer)
    _settle(here)
    for loop, answered in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is left to answer
            loop.call_soon_threadsafe(_settle, answered)


def _settle(answers: list[_Answer]) -> None:
    """Set each future that still waits (an event loop's, on that loop)."""
    for done, result, error in answers:
        if done.done():
            continue
        if error is None:
            done.set_result(result)
        else:
            done.set_exception(error)
