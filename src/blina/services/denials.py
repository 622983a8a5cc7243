"""Refused requests: counted as they come, audited off the request's path.

A denial (403) used to append its own audit event inside the request, on the event loop
for the API: under a flood of refusals one patient wrote about 400 events a second, and
each 403 stalled every request for about 1.7 s (issue 16). Now a request only counts its
refusal in memory (a dictionary update under a lock); a thread of its own appends one
event per actor, request line and minute, with the count, once that minute has closed
(and whatever is left at shutdown).

Counts are kept in memory and appended once, rather than one event appended and then
updated: an event in the hash chain is never changed after it is written. The price is
that refusals counted and not yet written are lost if the process is killed (a clean
shutdown writes them). A flood of many different request lines in one minute is written
early, before the minute closes, once ``max_open`` counts are held: memory stays bounded,
and a line may then have two events for that minute.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from blina.services.actors import Actor
from blina.services.audit import append_denial
from blina.services.clock import Clock
from blina.store.session import transaction

__all__ = ["DenialLog"]

_log = logging.getLogger(__name__)
_MINUTE = timedelta(minutes=1)


@dataclass(slots=True)
class _Count:
    first: datetime
    last: datetime
    count: int
    reason: str


# (actor, request line, minute, via)
_Key = tuple[Actor | None, str, datetime, str | None]


class DenialLog:
    """Refusals of ``clock``'s minutes, appended to the trail through ``sessions``."""

    def __init__(
        self, sessions: sessionmaker[Session], *, clock: Clock, max_open: int = 10_000
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._max_open = max_open
        self._lock = threading.Lock()
        self._open: dict[_Key, _Count] = {}
        self._early = threading.Event()  # too many counts held: write them all now
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread that writes (again after ``close``); nothing if it runs.
        Until then refusals are counted, and written by ``flush`` or ``close``."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="blina-denials", daemon=True)
        self._thread.start()

    def record(
        self,
        *,
        at: datetime,
        actor: Actor | None,
        request_line: str,
        reason: str,
        via: str | None = None,
    ) -> None:
        """Count one refusal; never waits for the database."""
        key = (actor, request_line, at.replace(second=0, microsecond=0), via)
        with self._lock:
            held = self._open.get(key)
            if held is None:
                self._open[key] = _Count(at, at, 1, reason)
                if len(self._open) >= self._max_open:
                    self._early.set()
            else:
                held.count += 1
                held.last = max(held.last, at)

    def flush(self, *, everything: bool = False) -> int:
        """Append the counts of the minutes that have closed (``everything``: of every
        minute); how many events. The counts stay held if the write fails."""
        now_minute = self._clock.now().replace(second=0, microsecond=0)
        with self._lock:
            due = {
                key: held for key, held in self._open.items() if everything or key[2] < now_minute
            }
            for key in due:
                del self._open[key]
        if not due:
            return 0
        try:
            with transaction(self._sessions) as session:
                for (actor, request_line, _minute, via), held in sorted(
                    due.items(), key=lambda item: item[1].first
                ):
                    after: dict[str, object] = {
                        "reason": held.reason,
                        "count": held.count,
                        "last_at": held.last.isoformat(),
                    }
                    if via is not None:
                        after["via"] = via
                    append_denial(
                        session,
                        at=held.first,
                        actor=actor,
                        request_line=request_line,
                        after=after,
                    )
        except Exception:
            self._hold_again(due)
            raise
        return len(due)

    def _hold_again(self, due: dict[_Key, _Count]) -> None:
        with self._lock:
            for key, held in due.items():
                kept = self._open.setdefault(key, held)
                if kept is not held:
                    kept.count += held.count
                    kept.first = min(kept.first, held.first)
                    kept.last = max(kept.last, held.last)

    def close(self) -> None:
        """Stop the thread, then write every count held (once: an app may be shut down
        twice)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._early.set()
        if self._thread is not None:
            self._thread.join()
        self._early.clear()
        self.flush(everything=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            # Just after the next minute begins by the clock (or at once when too many
            # counts are held).
            now = self._clock.now()
            into_minute = now - now.replace(second=0, microsecond=0)
            self._early.wait((_MINUTE - into_minute).total_seconds() + 0.5)
            if self._stop.is_set():
                return
            early = self._early.is_set()
            self._early.clear()
            try:
                self.flush(everything=early)
            except Exception:  # the database refused: held, and tried again next minute
                _log.exception("refused requests could not be audited; trying again")
