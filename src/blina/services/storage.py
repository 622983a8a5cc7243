"""What the outer layers (the API and the web pages) take from storage, and nothing more:
the session a request's unit of work runs in, the units of work themselves, the id types
an address is checked with, and the writers the running app starts.

They import these from here, never from ``blina.store`` (an import-linter contract in
pyproject.toml), so a table, a column or the engine's machinery can change behind the
services without reaching a route. Nothing here is new: each name is the store's own,
handed on.
"""

from typing import TypeAlias

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from blina.store.checkpoints import WalCheckpoints
from blina.store.group_commit import GroupCommit
from blina.store.session import POOL_SIZE, read_only, transaction
from blina.store.types import MAX_RECORD_ID, RecordId, StoredInteger

__all__ = [
    "MAX_RECORD_ID",
    "POOL_SIZE",
    "Engine",
    "GroupCommit",
    "RecordId",
    "Session",
    "Sessions",
    "StoredInteger",
    "WalCheckpoints",
    "read_only",
    "transaction",
]

Sessions: TypeAlias = sessionmaker[Session]
"""Where units of work come from: one per request, opened by ``read_only`` or
``transaction``."""
