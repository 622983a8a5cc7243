"""What this process allows of logins: failed attempts per source address and per username
(moving windows of one minute, kept in memory by the ``limits`` package), and the turns
at hashing a password.

An argon2 check takes about 180 ms of CPU, on four threads of its own, and 64 MiB.
Unbounded, a flood of bogus logins took every core and, at 64 at once, grew a process to
2 GiB (issue 16). So checks run on a few threads of their own, one per core, a few more
callers wait their turn, and the others are told at once to try again. The hashing
threads run at a lower CPU priority (Linux nice 10, which argon2's threads inherit): the
threads that answer requests and write to the database get the cores first, and hashing
takes what is left. What must hold across processes, an account's run of failures and
its pause, is kept in the database (``accounts.log_in``).
"""

import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from typing import TypeVar

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from blina.config import Settings
from blina.services.errors import LoginBusy, LoginThrottled

__all__ = ["LoginLimits"]

T = TypeVar("T")

# Callers waiting for a turn at hashing, per slot: at about 180 ms a check, the last of them
# waits under a second.
_WAITING_PER_SLOT = 4
# The hashing threads' nice value is the process's plus this (Linux: 0 by default, 19
# the lowest priority; at nice 10 a thread weighs about a tenth of one at nice 0).
_LOWER_BY = 10
# A username longer than any account's (120) names no account: its window need not
# keep the whole of it.
_USERNAME_KEY = 200


class LoginLimits:
    """One per running app. ``slots``: checks at once (default: the cores); ``waiting``:
    callers beyond those that may wait for a turn (default: four per slot)."""

    def __init__(
        self, settings: Settings, *, slots: int | None = None, waiting: int | None = None
    ) -> None:
        slots = slots or os.cpu_count() or 1
        waiting = _WAITING_PER_SLOT * slots if waiting is None else waiting
        self._hashing = ThreadPoolExecutor(
            slots, thread_name_prefix="blina-hashing", initializer=_at_low_priority
        )
        self._places = threading.Semaphore(slots + waiting)
        self._windows = MovingWindowRateLimiter(MemoryStorage())
        self._per_source = RateLimitItemPerMinute(
            settings.login_failures_per_source, namespace="login-source"
        )
        self._per_username = RateLimitItemPerMinute(
            settings.login_failures_per_username, namespace="login-username"
        )

    def check(self, *, source: str, username: str) -> None:
        """Raise ``LoginThrottled`` while ``source`` or ``username`` has used up its failed
        attempts. Every username has its window, known or not: the answer tells nothing
        of which exist."""
        for item, key in (
            (self._per_source, source),
            (self._per_username, username[:_USERNAME_KEY]),
        ):
            if not self._windows.test(item, key):
                reset = self._windows.get_window_stats(item, key).reset_time
                raise LoginThrottled(
                    "too many failed logins: try again later",
                    retry_after=max(1, math.ceil(reset - time.time())),
                )

    @contextmanager
    def admitted(self) -> Iterator[None]:
        """A place among the callers hashing or waiting to; ``LoginBusy`` when all are
        taken (nothing waits without bound)."""
        if not self._places.acquire(blocking=False):
            raise LoginBusy("too many logins at once: try again in a moment", retry_after=1)
        try:
            yield
        finally:
            self._places.release()

    def in_turn(self, check: Callable[[], T]) -> T:
        """``check()`` (a password check) run on a hashing thread, once one is free; called
        inside ``admitted()``."""
        return self._hashing.submit(check).result()

    def failed(self, *, source: str, username: str) -> None:
        self._windows.hit(self._per_source, source)
        self._windows.hit(self._per_username, username[:_USERNAME_KEY])

    def succeeded(self, *, username: str) -> None:
        """The account's holder is in: the failures naming it are forgotten."""
        self._windows.clear(self._per_username, username[:_USERNAME_KEY])


def _at_low_priority() -> None:
    """This thread, and the threads it starts, yield the cores to the others. Linux keeps
    a nice value per thread; elsewhere the thread id is no process id, so nothing is
    changed."""
    if sys.platform == "linux":
        thread = threading.get_native_id()
        with suppress(OSError):
            niceness = os.getpriority(os.PRIO_PROCESS, thread) + _LOWER_BY
            os.setpriority(os.PRIO_PROCESS, thread, min(niceness, 19))
