"""What a running app holds: settings, the engine, a clock, the knowledge, and the
threads that write."""

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from blina.api.cache import ResponseCache
from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services.clock import Clock
from blina.store.group_commit import GroupCommit

__all__ = ["AppState"]


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    knowledge: Knowledge
    # Check-ins from phones are written by group commit: one writer thread, one
    # transaction for all the check-ins waiting (see store.group_commit).
    group_commit: GroupCommit = field(init=False)
    # Large lists polled by many screens (the clinic's task list), kept while unchanged.
    responses: ResponseCache = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "group_commit", GroupCommit(self.sessions))
        object.__setattr__(self, "responses", ResponseCache())
