"""What a running app holds: settings, the engine, a clock, the knowledge, and the
threads that write, started and stopped with the app (``start``, ``close``: its
lifespan)."""

import threading
from dataclasses import dataclass, field

from anyio import CapacityLimiter

from blina.api.cache import ResponseCache
from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services.audit_key import audit_key_of, use_audit_key
from blina.services.check_ins import WRITERS, CheckInWriter
from blina.services.clock import Clock
from blina.services.denials import DenialLog
from blina.services.login_limits import LoginLimits
from blina.services.storage import POOL_SIZE, Engine, Sessions, WalCheckpoints
from blina.services.worker import start_background_worker

__all__ = ["AppState"]


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    engine: Engine
    sessions: Sessions
    clock: Clock
    knowledge: Knowledge
    # Which writer stores check-ins from phones (services.check_ins.WRITERS).
    check_in_writer: str = "group-commit"
    # Whether the app runs the background job (escalations, notifications) while it
    # runs: `blina serve` does; tests run the job by hand.
    background_job: bool = False
    check_ins: CheckInWriter = field(init=False)
    # Large lists polled by many screens (the clinic's task list), kept while unchanged:
    # eight lists, each with its tag and its compressed body.
    responses: ResponseCache = field(init=False)
    # The threads that read for those screens: few on SQLite, whose reads are work in
    # this process under one interpreter lock (many threads at once spent several times
    # the CPU per kept task list: docs/design/service.md); on PostgreSQL, whose reads
    # wait on the network, as many as the connection pool holds.
    readers: CapacityLimiter = field(init=False)
    # On SQLite, the log is checkpointed by a thread of its own, not inside the commits
    # (store.checkpoints); None on PostgreSQL.
    checkpoints: WalCheckpoints | None = field(init=False)
    # Failed logins per address and per username, and the turns at hashing passwords.
    logins: LoginLimits = field(init=False)
    # Refused requests (403), counted and audited by a thread of its own once a minute
    # (services.denials): a request never waits for the audit write.
    denials: DenialLog = field(init=False)
    # The lifespans running (a server runs one; test clients may overlap), and the
    # background job's stop signal while it runs.
    _running: list[int] = field(init=False, default_factory=lambda: [0])
    _job: list[threading.Event] = field(init=False, default_factory=list)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        use_audit_key(self.sessions, audit_key_of(self.settings))  # every session signs
        writer = WRITERS[self.check_in_writer](
            self.sessions, knowledge=self.knowledge, clock=self.clock
        )
        object.__setattr__(self, "check_ins", writer)
        object.__setattr__(self, "denials", DenialLog(self.sessions, clock=self.clock))
        sqlite = self.engine.dialect.name == "sqlite"
        object.__setattr__(self, "checkpoints", WalCheckpoints(self.engine) if sqlite else None)
        object.__setattr__(self, "responses", ResponseCache(size=24))
        object.__setattr__(self, "readers", CapacityLimiter(2 if sqlite else POOL_SIZE))
        object.__setattr__(self, "logins", LoginLimits(self.settings))

    def start(self) -> None:
        """Start the threads, at the first of the lifespans running at once (test clients
        may overlap; a server runs one)."""
        with self._lock:
            self._running[0] += 1
            if self._running[0] == 1:
                self._start()

    def close(self) -> None:
        """At the end of the last lifespan running: stop the background job, write the
        check-ins already queued and the refusals counted, then checkpoint what is left."""
        with self._lock:
            self._running[0] = max(0, self._running[0] - 1)
            if self._running[0] == 0:
                self._close()

    def _start(self) -> None:
        if self.checkpoints is not None:
            self.checkpoints.start()  # before the first connection
        self.denials.start()
        self.check_ins.start()
        if self.background_job:
            self._job.append(
                start_background_worker(self.sessions, settings=self.settings, clock=self.clock)
            )

    def _close(self) -> None:
        while self._job:
            self._job.pop().set()
        self.check_ins.close()
        self.denials.close()
        if self.checkpoints is not None:
            self.checkpoints.close()
