"""Group commit: many small units of work from concurrent requests, one transaction.

Phones post check-ins in bursts; each is a few small writes. A single writer thread
takes every unit waiting (up to ``max_batch``), runs them in turn in one transaction and
commits once, then answers each caller. A caller is answered only after the commit, so an
acknowledged unit is durable.

If any unit raises, or the commit fails, the whole batch is rolled back and every unit
runs again alone, in its own transaction: the failing one fails by itself and nothing of
it is kept, the others succeed as if they had come one at a time.

Callers on an event loop ``await run(unit)``: the answers of a batch reach their loop in
one call, so a batch of 30 check-ins wakes the loop once, not 30 times. Other callers
``submit(unit)`` and get a ``concurrent.futures.Future``.
"""

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from blina.store.session import transaction

__all__ = ["GroupCommit"]

Unit = Callable[[Session], Any]
Waiter = Future[Any] | asyncio.Future[Any]
T = TypeVar("T")


class GroupCommit:
    def __init__(self, sessions: sessionmaker[Session], *, max_batch: int = 64) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._waiting: queue.SimpleQueue[tuple[Unit, Waiter] | None] = queue.SimpleQueue()
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

    def _commit(self, batch: list[tuple[Unit, Waiter]]) -> None:
        live = [(unit, done) for unit, done in batch if _claim(done)]
        if len(live) > 1:
            try:
                with transaction(self._sessions) as session:
                    results = [unit(session) for unit, _ in live]
            except Exception:  # every unit runs again alone, below
                pass
            else:
                _answer(
                    [(done, result, None) for (_, done), result in zip(live, results, strict=True)]
                )
                return
        answers: list[_Answer] = []
        for unit, done in live:
            try:
                with transaction(self._sessions) as session:
                    result = unit(session)
            except BaseException as error:  # handed to the caller
                answers.append((done, None, error))
            else:
                answers.append((done, result, None))
        _answer(answers)


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
