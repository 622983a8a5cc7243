"""Engines and transactions. Nothing is built at import time.

On SQLite, writers are serialized twice: a lock inside the process (so threads queue
in order instead of sleeping in SQLite's busy handler) and ``BEGIN IMMEDIATE`` across
processes. Readers use a plain deferred ``BEGIN`` and never wait for a writer (WAL).
"""

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from pydantic_core import from_json, to_json
from sqlalchemy import Connection, Engine, Executable, Result, create_engine, event
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.errors import InvalidInput

__all__ = [
    "ON_THE_DRIVER",
    "POOL_SIZE",
    "make_engine",
    "make_session_factory",
    "once_per_transaction",
    "read_only",
    "streamed",
    "transaction",
    "writing",
]

# session.info: the session's prepared statements run on the driver (store.prepared).
ON_THE_DRIVER = "blina.prepared.on_the_driver"
# PostgreSQL connections an API process keeps open (and threads that read at once).
POOL_SIZE = 10
_WRITE = "blina_write"
_SQLITE_WRITE_LOCKS: dict[str, threading.Lock] = {}
T = TypeVar("T")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        database = url.split("///", 1)[1] if "///" in url else ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            json_serializer=_json_text,
            json_deserializer=_json_value,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        _SQLITE_WRITE_LOCKS.setdefault(str(engine.url), threading.Lock())
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=POOL_SIZE,
        max_overflow=20,
        json_serializer=_json_text,
        json_deserializer=_json_value,
    )


def _json_text(value: Any) -> str:
    """JSON columns' text, written by pydantic's serializer: the standard library's
    encoder spent about a sixth of the writer's work per check-in, mostly on the stored
    report (docs/design/service.md). Compact, and non-ASCII characters kept as they
    are."""
    return to_json(value).decode()


def _json_value(text: str | bytes) -> Any:
    """JSON columns' values, read by pydantic's parser too: the standard library's
    json.loads wraps its C scanner in Python layers that cost several times as much for a
    check-in's small answers (docs/design/service.md). The same values: objects, arrays,
    strings, integers, floats, booleans and null."""
    return from_json(text)


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" event issues BEGIN
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    writer = connection.get_execution_options().get(_WRITE, False)
    # On the driver itself: through exec_driver_sql, SQLAlchemy's execution path cost
    # more than the statement (every transaction runs it).
    connection.connection.driver_connection.execute(  # type: ignore[union-attr]
        "BEGIN IMMEDIATE" if writer else "BEGIN"
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work that may write: commit at the end, roll back on any error."""
    engine = factory.kw["bind"]
    assert isinstance(engine, Engine)
    # The option reaches the connection before BEGIN (see _sqlite_begin). Given to the
    # session, not through engine.execution_options(): that builds a new engine, and its
    # event dispatch, for every transaction, each one left to the garbage collector.
    writer = factory(execution_options={_WRITE: True})
    with _refused_as_input(), writing(engine), writer as session, session.begin():
        yield session


@contextmanager
def _refused_as_input() -> Iterator[None]:
    """A value the database refuses (PostgreSQL: a NUL character in text, a number out of
    its column's range) is bad input, answered as such, never a server error; the unit of
    work is rolled back as for any error."""
    try:
        yield
    except DataError as error:
        if "NUL" in str(error.orig):
            raise InvalidInput(
                "text", "(a NUL character)", "text without NUL (0x00) characters"
            ) from None
        raise InvalidInput(
            "value", "(refused by the database)", "a value the database can store"
        ) from None


def writing(engine: Engine) -> AbstractContextManager[object]:
    """This process's turn to write to ``engine``'s SQLite file (nothing to wait for on
    PostgreSQL)."""
    return _SQLITE_WRITE_LOCKS.get(str(engine.url)) or nullcontext()


def once_per_transaction(session: Session, key: Hashable, build: Callable[[Session], T]) -> T:
    """``build(session)``, kept in ``session.info`` under ``key`` for the rest of the
    session's transaction, and built again in the next one."""
    kept = session.info.get(key)
    if kept is not None and kept[0] is session.get_transaction():
        return kept[1]  # type: ignore[no-any-return]
    value = build(session)
    # Taken after build(), which may have begun the transaction; a value built with no
    # transaction open is never kept.
    transaction = session.get_transaction()
    if transaction is not None:
        session.info[key] = (transaction, value)
    return value


@contextmanager
def read_only(
    factory: sessionmaker[Session], *, prepared_on_the_driver: bool = False
) -> Iterator[Session]:
    """A unit of work that only reads; never waits for a writer.
    ``prepared_on_the_driver``: its prepared statements run on the driver
    (store.prepared; only for the task list screens poll, docs/design/service.md)."""
    with _refused_as_input(), factory() as session, session.begin():
        if prepared_on_the_driver:
            session.info[ON_THE_DRIVER] = True
        yield session


@contextmanager
def streamed(session: Session, statement: Executable) -> Iterator[Result[*tuple[Any, ...]]]:
    """``statement``'s rows, fetched a thousand at a time (a server-side cursor on
    PostgreSQL) for a read of a whole table; closed when the block ends, also early."""
    result = session.execute(statement.execution_options(yield_per=1000))
    try:
        yield result
    finally:
        result.close()
