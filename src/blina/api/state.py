"""What a running app holds: settings, the engine, a clock, the knowledge, and the
threads that write."""

from dataclasses import dataclass, field

from anyio import CapacityLimiter

from blina.api.cache import ResponseCache
from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services.audit_key import audit_key_of, use_audit_key
from blina.services.clock import Clock
from blina.services.denials import DenialLog
from blina.services.login_limits import LoginLimits
from blina.services.storage import POOL_SIZE, Engine, GroupCommit, Sessions, WalCheckpoints

__all__ = ["AppState"]


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    engine: Engine
    sessions: Sessions
    clock: Clock
    knowledge: Knowledge
    # Check-ins from phones are written by group commit: one writer thread, one
    # transaction for all the check-ins waiting (see store.group_commit).
    group_commit: GroupCommit = field(init=False)
    # Large lists polled by many screens (the clinic's task list), kept while unchanged:
    # eight lists, each with its tag and its compressed body.
    responses: ResponseCache = field(init=False)
    # The threads that read for those screens: few on SQLite, whose reads are work in
    # this process under one interpreter lock (32 threads at once spent 2.3 ms of CPU per
    # kept task list, 2 threads 0.8 ms); on PostgreSQL, whose reads wait on the network,
    # as many as the connection pool holds.
    readers: CapacityLimiter = field(init=False)
    # On SQLite, the log is checkpointed by a thread of its own, not inside the commits
    # (store.checkpoints); None on PostgreSQL.
    checkpoints: WalCheckpoints | None = field(init=False)
    # Failed logins per address and per username, and the turns at hashing passwords.
    logins: LoginLimits = field(init=False)
    # Refused requests (403), counted and audited by a thread of its own once a minute
    # (services.denials): a request never waits for the audit write.
    denials: DenialLog = field(init=False)

    def __post_init__(self) -> None:
        use_audit_key(self.sessions, audit_key_of(self.settings))  # every session signs
        object.__setattr__(self, "denials", DenialLog(self.sessions, clock=self.clock))
        sqlite = self.engine.dialect.name == "sqlite"
        object.__setattr__(self, "checkpoints", WalCheckpoints(self.engine) if sqlite else None)
        object.__setattr__(self, "group_commit", GroupCommit(self.sessions))
        object.__setattr__(self, "responses", ResponseCache(size=24))
        object.__setattr__(self, "readers", CapacityLimiter(2 if sqlite else POOL_SIZE))
        object.__setattr__(self, "logins", LoginLimits(self.settings))

    def close(self) -> None:
        """Write the refusals counted and the check-ins already queued, then checkpoint
        what is left."""
        self.denials.close()
        self.group_commit.close()
        if self.checkpoints is not None:
            self.checkpoints.close()
