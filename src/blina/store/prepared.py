"""Prepared statements: a Core statement compiled once per dialect, run on the driver in
the group-commit writer (and the read of the task list screens poll).

A check-in from home runs a handful of small statements, and the service takes hundreds
of check-ins a second (benches/bench_service.py). SQLAlchemy's execution of a compiled
statement costs several times the query itself on SQLite (docs/design/service.md), and
nearly all of it is spent again on every call. So in the sessions of the group-commit
writer (``run_on_the_driver``) these statements are compiled once for the session's
dialect, then run on the driver's cursor of the session's own connection (inside its
transaction, after the same autoflush), with the conversion of values SQLAlchemy would
apply (each type's bind and result processors).

Everywhere else (a request's ordinary transaction, the direct check-in writer, the CLI)
the same statement runs through SQLAlchemy's Core execution like any other: visible to
its logging and events, and the reference the driver path is tested against. One read
outside the writer keeps the driver: the task list that ward screens poll
(``read_only(..., prepared_on_the_driver=True)``), where the bench measured the ordinary
execution of its three statements beyond the 10% the service may lose
(docs/design/service.md).

Only plain statements qualify: no expanding ``IN`` parameters and, for an insert or an
update, no column default computed in Python (the caller gives every value). Both are
refused when the statement is first compiled for the driver. On the driver a failing
statement raises the driver's own error (sqlite3's or psycopg's), not SQLAlchemy's
wrapper of it.
"""

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Insert, Select, Update

from blina.store.session import ON_THE_DRIVER, once_per_transaction

__all__ = ["Prepared", "driver_savepoint", "run_on_the_driver"]

_Statement = Select[Any] | Insert | Update


class _Compiled:
    """One statement compiled for one dialect."""

    def __init__(self, statement: _Statement, columns: list[str], dialect: Dialect):
        compiled = statement.compile(dialect=dialect, column_keys=columns or None)
        assert isinstance(compiled, SQLCompiler)
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("a prepared insert or update must be given every column's value")
        if any(bind.expanding for bind in compiled.bind_names):
            raise ValueError("a prepared statement cannot expand IN parameters")
        self.dialect = dialect
        self.sql = compiled.string
        # Bind names in order (qmark), or None where the driver takes them by name.
        self.positions = tuple(compiled.positiontup or ()) if dialect.positional else None
        # Values fixed in the statement itself (a literal compared with, LIMIT 1).
        self.defaults = {
            name: bind.effective_value
            for bind, name in compiled.bind_names.items()
            if not bind.required and name not in columns
        }
        # The conversions to apply, by bind name (most types have none).
        processors = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for bind, name in compiled.bind_names.items()
        }
        self.binds = {name: p for name, p in processors.items() if p is not None}
        exported = list(statement.exported_columns)
        self.types = [column.type for column in exported]
        self.row: Callable[..., Any] = _row_type([str(column.key) for column in exported])
        # The columns to convert, by position, from the first result's description (some
        # drivers' processors depend on it); most columns need nothing.
        self.results: list[tuple[int, Callable[[Any], Any]]] | None = None

    def rows(self, cursor: Any) -> list[Any]:
        """The cursor's rows, converted, as named tuples."""
        results = self.results
        if results is None:
            processors = [
                type_.dialect_impl(self.dialect).result_processor(self.dialect, described[1])
                for type_, described in zip(self.types, cursor.description, strict=True)
            ]
            results = self.results = [
                (position, p) for position, p in enumerate(processors) if p is not None
            ]
        fetched = cursor.fetchall()
        make = self.row._make  # type: ignore[attr-defined]
        if not results:
            return [make(raw) for raw in fetched]
        rows = []
        for raw in fetched:
            values = list(raw)
            for position, process in results:
                values[position] = process(values[position])
            rows.append(make(values))
        return rows

    def arguments(self, params: Mapping[str, Any]) -> Any:
        """The driver's parameters for ``params``: converted, in the statement's order."""
        values = {**self.defaults, **params}
        for name, process in self.binds.items():
            values[name] = process(values[name])
        return values if self.positions is None else [values[n] for n in self.positions]


def _row_type(keys: list[str]) -> Callable[..., Any]:
    # Unnamed columns (count(*)) get positional names (_0, _1).
    return namedtuple("Row", keys, rename=True)


def run_on_the_driver(session: Session) -> None:
    """Let ``session``'s prepared statements run on the driver (the group-commit
    writer's sessions; see the module's docstring)."""
    session.info[_ON_THE_DRIVER] = True


class Prepared:
    """``statement``, compiled on first use for each dialect when it runs on the driver.

    ``columns``: for an insert, the columns the caller gives (every one of them). Rows
    come back as tuples with the statement's column keys as attributes.
    """

    def __init__(self, statement: _Statement, *, columns: Sequence[str] = ()) -> None:
        self.statement = statement
        self._columns = list(columns)
        self._by_dialect: dict[str, _Compiled] = {}

    def all(self, session: Session, params: Mapping[str, Any]) -> list[Any]:
        """Every row, in the session's transaction."""
        if _ON_THE_DRIVER not in session.info:
            return list(_connection(session).execute(self.statement, params))
        driver, compiled = self._prepare(session)
        cursor = driver.execute(compiled.sql, compiled.arguments(params))
        try:
            return compiled.rows(cursor)
        finally:
            cursor.close()

    def run(self, session: Session, params: Mapping[str, Any]) -> None:
        """Run the statement (one that returns no rows) once."""
        if _ON_THE_DRIVER not in session.info:
            _connection(session).execute(self.statement, params)
            return
        driver, compiled = self._prepare(session)
        driver.execute(compiled.sql, compiled.arguments(params)).close()

    def many(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement (one that returns no rows) once for each of ``rows``."""
        if _ON_THE_DRIVER not in session.info:
            _connection(session).execute(self.statement, list(rows))
            return
        driver, compiled = self._prepare(session)
        cursor = driver.cursor()
        try:
            cursor.executemany(compiled.sql, [compiled.arguments(row) for row in rows])
        finally:
            cursor.close()

    def first(self, session: Session, params: Mapping[str, Any]) -> Any:
        """The first row, or None."""
        rows = self.all(session, params)
        return rows[0] if rows else None

    def scalar(self, session: Session, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None."""
        rows = self.all(session, params)
        return rows[0][0] if rows else None

    def _prepare(self, session: Session) -> tuple[Any, _Compiled]:
        """The driver's connection of the session's transaction, and the statement
        compiled for its dialect."""
        if session.autoflush:
            session.flush()
        driver, dialect = once_per_transaction(session, _DRIVER, _driver)
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            compiled = self._by_dialect[dialect.name] = _Compiled(
                self.statement, self._columns, dialect
            )
        return driver, compiled


@contextmanager
def driver_savepoint(session: Session) -> Iterator[None]:
    """A savepoint on the driver around one unit of a shared transaction (the group
    commit's): if the unit raises, what it wrote is rolled back and its objects leave the
    session; the transaction goes on.

    SQLAlchemy's own (``Session.begin_nested``) snapshots and restores the session's
    objects, several times the cost of the two statements here (docs/design/service.md).
    Instead the unit's objects are flushed inside its savepoint, and after a rollback
    every object leaves the session (``expunge_all``: the earlier units' are written, and
    no later unit reads them through the session). An error that the session itself
    rolled back (a failing flush ends its transaction) passes through: the caller's
    transaction is lost, and with it the batch."""
    driver, _ = once_per_transaction(session, _DRIVER, _driver)
    driver.execute("SAVEPOINT blina_unit")
    try:
        yield
        session.flush()
    except BaseException:
        if session.is_active:
            driver.execute("ROLLBACK TO SAVEPOINT blina_unit")
            driver.execute("RELEASE SAVEPOINT blina_unit")
            session.expunge_all()
        raise
    driver.execute("RELEASE SAVEPOINT blina_unit")


def _connection(session: Session) -> Connection:
    """The connection of the session's transaction, after the session's autoflush (as
    ``session.execute`` would): Core statements need nothing of the ORM's execution."""
    if session.autoflush:
        session.flush()
    return session.connection()


def _driver(session: Session) -> tuple[Any, Dialect]:
    """The driver connection (sqlite3's or psycopg's) of the session's transaction, and
    its dialect: kept for the statements after the first (the session's own look-up of
    its connection costs more than some of them)."""
    connection = session.connection()
    return connection.connection.driver_connection, connection.dialect


_DRIVER = "blina.prepared.driver"
_ON_THE_DRIVER = ON_THE_DRIVER
