"""Column types that keep clinical values exact on every engine.

SQLite drops the offset of a timezone-aware datetime and reads ``Numeric`` back through
a float; these types refuse naive datetimes, store UTC and hand back aware UTC values,
and store decimals as their canonical text.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Ge, Le
from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from blina.domain.bounds import MAX_INTEGER, MAX_RECORD_ID, MIN_INTEGER

__all__ = ["MAX_RECORD_ID", "ExactDecimal", "RecordId", "StoredInteger", "UTCDateTime"]

# Ids are INTEGER columns: 32-bit on PostgreSQL. An id in an address outside this range
# names no record; it is refused as bad input (422) before any query is built.
RecordId = Annotated[int, Ge(1), Le(MAX_RECORD_ID)]
# Any whole number from outside that a query compares with, or a row stores in, an
# INTEGER column (a version, a count, an audit position).
StoredInteger = Annotated[int, Ge(MIN_INTEGER), Le(MAX_INTEGER)]


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime, stored in UTC, read back aware in UTC. Naive values are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = _in_utc(value)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # SQLite stores the text SQLAlchemy's DATETIME writes ("2026-12-01 09:00:00.000000"),
        # here formatted from a tuple of the fields: a check-in binds seven datetimes, and
        # the generic path's %-formatting of a dict of fields, or isoformat() after
        # replace(), cost several times as much (docs/design/service.md).
        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is not UTC:
                value = _in_utc(value)
            return _SQLITE_TEXT % (
                value.year,
                value.month,
                value.day,
                value.hour,
                value.minute,
                value.second,
                value.microsecond,
            )

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        # Read back in one step: the generic path (a regular expression, then replace())
        # cost many times as much per value (docs/design/service.md).
        return _from_sqlite_text


_SQLITE_TEXT = "%04d-%02d-%02d %02d:%02d:%02d.%06d"


def _from_sqlite_text(value: str | None) -> datetime | None:
    """The aware UTC datetime of SQLite's stored text (written by ``bind_processor``)."""
    return None if value is None else datetime.fromisoformat(value + "+00:00")


def _in_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is refused (its zone is unknown)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: store aware datetimes only")
    return value.astimezone(UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored as its text, so ``Decimal("12.50")`` reads back as ``Decimal("12.50")``."""

    impl = String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"{value!r} is not a finite Decimal")
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)
