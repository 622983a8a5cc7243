"""What a running app holds: settings, the engine, a clock and the knowledge."""

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services.clock import Clock

__all__ = ["AppState"]


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    knowledge: Knowledge
