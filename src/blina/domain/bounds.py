"""The bounds every number, date and text from outside keeps, checked before any arithmetic.

One place for every door: the API's models, the web forms and the CLI read a value
through these functions (or, in the API, through pydantic types built on them and on
these constants), so a value refused at one door is refused at all of them, in the same
words. A value that passes is safe to compute with and to store; whether it is
clinically plausible is the domain's own question (``knowledge/body.toml`` and the
rest), asked afterwards with a message of its own.

- Numbers are written with the ASCII digits 0-9 only (Python's ``int()`` and
  ``Decimal()`` also read superscripts, Arabic-Indic and fullwidth digits), in at most
  ``MAX_NUMBER_TEXT`` characters; a decimal is finite, smaller than 10**12 in absolute
  value and has at most ``MAX_DECIMAL_PLACES`` decimal places. Its exponent and digits
  are read from its structure, never computed with: ``1e999999`` is refused at once.
- Whole numbers fit the database's INTEGER columns (32-bit signed on PostgreSQL; every
  integer column, ids included, is one).
- Dates and date-times fall between ``EARLIEST_DATE`` and ``LATEST_DATE`` (a date-time
  by its own calendar date), far from the ends of Python's calendar, so that a plan
  built from them, or their conversion to UTC, never overflows.
- Text holds no NUL character: PostgreSQL cannot store one, and no name, code or note
  needs one.

>>> parse_decimal("weight_kg", " 70.5 ")
Decimal('70.5')
>>> parse_decimal("dose", "1e999999")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
blina.domain.errors.InvalidInput: dose 1E+999999 is not allowed: must be a finite number smaller ...
>>> parse_integer("cycles", "²")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
blina.domain.errors.InvalidInput: cycles ² is not allowed: must be a whole number from ... 0-9
"""

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from blina.domain.errors import InvalidInput

__all__ = [
    "EARLIEST_DATE",
    "EARLIEST_OBSERVATION",
    "LATEST_DATE",
    "MAX_DECIMAL_PLACES",
    "MAX_INTEGER",
    "MAX_MAGNITUDE",
    "MAX_NUMBER_TEXT",
    "MAX_RECORD_ID",
    "MIN_INTEGER",
    "check_date",
    "check_decimal",
    "check_integer",
    "check_moment",
    "check_text",
    "decimal_allowed",
    "integer_allowed",
    "parse_date",
    "parse_decimal",
    "parse_integer",
    "parse_moment",
    "parse_time",
]

# A number as typed: more characters than this is no clinical value (the longest allowed
# decimal, sign, 12 + 12 digits and a point, is 26).
MAX_NUMBER_TEXT = 40
# |value| < 10**12: ten thousand times the largest value blina reads (platelets, about
# 10**6 per microlitre), and with 12 decimal places still 24 digits, inside the default
# decimal context's 28, so sums and products of two such values stay exact enough.
MAX_MAGNITUDE = 12
MAX_DECIMAL_PLACES = 12
# INTEGER columns: 32-bit signed on PostgreSQL (store/tables.py has no BIGINT).
MIN_INTEGER = -(2**31)
MAX_INTEGER = 2**31 - 1
MAX_RECORD_ID = MAX_INTEGER
# No course, dose or check-in is dated before 1900 or after 2200; a plan that starts on
# LATEST_DATE still ends two centuries before Python's calendar does (year 9999).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)
# A check-in observes a symptom of this century: blinatumomab was first given in 2001.
EARLIEST_OBSERVATION = date(2000, 1, 1)

_DIGITS = "0-9"
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")


def decimal_allowed() -> str:
    """What a decimal must be, in the words of every refusal.

    >>> decimal_allowed()
    'a finite number smaller than 1000000000000 in size, with at most 12 decimal places'
    """
    return (
        f"a finite number smaller than {10**MAX_MAGNITUDE} in size, "
        f"with at most {MAX_DECIMAL_PLACES} decimal places"
    )


def integer_allowed(low: int = MIN_INTEGER, high: int = MAX_INTEGER) -> str:
    """What a whole number must be.

    >>> integer_allowed(1, 9)
    'a whole number from 1 to 9'
    """
    return f"a whole number from {low} to {high}"


def check_decimal(field: str, value: Decimal) -> Decimal:
    """``value`` if it is finite, smaller than 10**12 in size and has at most 12 decimal
    places; its digits and exponent are read, never computed with.

    Raises
    ------
    InvalidInput
        naming ``field``, the value and the allowed range.

    Examples
    --------
    >>> check_decimal("volume_ml", Decimal("250.00"))
    Decimal('250.00')
    """
    if not value.is_finite():
        raise InvalidInput(field, value, decimal_allowed())
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # a finite Decimal's exponent is a number
    # adjusted() is the exponent of the leading digit: 12 for 1E+12 (and for 0E+12).
    if exponent < -MAX_DECIMAL_PLACES or value.adjusted() >= MAX_MAGNITUDE:
        raise InvalidInput(field, value, decimal_allowed())
    return value


def parse_decimal(field: str, text: str) -> Decimal:
    """The decimal that ``text`` writes with ASCII digits (surrounding blanks ignored),
    within the bounds of ``check_decimal``.

    >>> parse_decimal("temperature", "٣٨")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    blina.domain.errors.InvalidInput: temperature ٣٨ is not allowed: must be a number written ...
    """
    written = text.strip()
    if len(written) > MAX_NUMBER_TEXT or not _DECIMAL_TEXT.fullmatch(written):
        raise InvalidInput(
            field, _shown(text), f"a number written with the digits {_DIGITS}, such as 70 or 70.5"
        )
    try:
        value = Decimal(written)
    except InvalidOperation:  # an exponent beyond the decimal context's (1e99999999999999999999)
        raise InvalidInput(field, _shown(text), decimal_allowed()) from None
    return check_decimal(field, value)


def check_integer(
    field: str, value: int, *, low: int = MIN_INTEGER, high: int = MAX_INTEGER
) -> int:
    """``value`` if ``low <= value <= high`` (by default, what an INTEGER column holds).

    >>> check_integer("grade", 5, low=0, high=4)
    Traceback (most recent call last):
    ...
    blina.domain.errors.InvalidInput: grade 5 is not allowed: must be a whole number from 0 to 4
    """
    if not low <= value <= high:
        raise InvalidInput(field, value, integer_allowed(low, high))
    return value


def parse_integer(field: str, text: str, *, low: int = MIN_INTEGER, high: int = MAX_INTEGER) -> int:
    """The whole number that ``text`` writes with ASCII digits, from ``low`` to ``high``.

    >>> parse_integer("bag_hours", " 24 ")
    24
    """
    written = text.strip()
    if len(written) > MAX_NUMBER_TEXT or not _INTEGER_TEXT.fullmatch(written):
        raise InvalidInput(
            field, _shown(text), f"{integer_allowed(low, high)}, written with the digits {_DIGITS}"
        )
    return check_integer(field, int(written), low=low, high=high)


def _dates_allowed(earliest: date, latest: date) -> str:
    return f"from {earliest.isoformat()} to {latest.isoformat()}"


def check_date(
    field: str, day: date, *, earliest: date = EARLIEST_DATE, latest: date = LATEST_DATE
) -> date:
    """``day`` if it falls from ``earliest`` to ``latest``.

    >>> check_date("start", date(9999, 12, 31))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    blina.domain.errors.InvalidInput: start 9999-12-31 is not allowed: must be a date from ...
    """
    if not earliest <= day <= latest:
        raise InvalidInput(field, day.isoformat(), f"a date {_dates_allowed(earliest, latest)}")
    return day


def parse_date(
    field: str, text: str, *, earliest: date = EARLIEST_DATE, latest: date = LATEST_DATE
) -> date:
    """The calendar date ``text`` writes as YYYY-MM-DD, from ``earliest`` to ``latest``.

    >>> parse_date("start", "2026-12-10")
    datetime.date(2026, 12, 10)
    """
    written = text.strip()
    allowed = f"a date (YYYY-MM-DD) {_dates_allowed(earliest, latest)}"
    if len(written) > MAX_NUMBER_TEXT or not written.isascii():
        raise InvalidInput(field, _shown(text), allowed)
    try:
        day = date.fromisoformat(written)
    except ValueError:
        raise InvalidInput(field, _shown(text), allowed) from None
    return check_date(field, day, earliest=earliest, latest=latest)


def check_moment(
    field: str, at: datetime, *, earliest: date = EARLIEST_DATE, latest: date = LATEST_DATE
) -> datetime:
    """``at`` if its calendar date (in its own offset, or naive) falls from ``earliest``
    to ``latest``: far enough from the calendar's ends that a conversion to UTC or to a
    clinic's zone cannot overflow.

    >>> check_moment("at", datetime(1, 1, 1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    blina.domain.errors.InvalidInput: at 0001-01-01T00:00:00 is not allowed: must be a date ...
    """
    if not earliest <= at.date() <= latest:
        raise InvalidInput(
            field, at.isoformat(), f"a date and time {_dates_allowed(earliest, latest)}"
        )
    return at


def parse_moment(
    field: str, text: str, *, earliest: date = EARLIEST_DATE, latest: date = LATEST_DATE
) -> datetime:
    """The date and time ``text`` writes in ISO 8601 (with or without an offset: the
    caller decides what a naive one means), within the bounds of ``check_moment``.

    >>> parse_moment("at", "2026-12-10T08:00+01:00").isoformat()
    '2026-12-10T08:00:00+01:00'
    """
    written = text.strip()
    allowed = f"a date and time (ISO 8601) {_dates_allowed(earliest, latest)}"
    if len(written) > MAX_NUMBER_TEXT or not written.isascii():
        raise InvalidInput(field, _shown(text), allowed)
    try:
        at = datetime.fromisoformat(written)
    except ValueError:
        raise InvalidInput(field, _shown(text), allowed) from None
    return check_moment(field, at, earliest=earliest, latest=latest)


def parse_time(field: str, text: str) -> time:
    """The clock time ``text`` writes as HH:MM (or HH:MM:SS).

    >>> parse_time("start_time", "09:00")
    datetime.time(9, 0)
    """
    written = text.strip()
    if len(written) > MAX_NUMBER_TEXT or not written.isascii():
        raise InvalidInput(field, _shown(text), "a clock time, HH:MM")
    try:
        return time.fromisoformat(written)
    except ValueError:
        raise InvalidInput(field, _shown(text), "a clock time, HH:MM") from None


def check_text(field: str, text: str) -> str:
    """``text`` if it holds no NUL character.

    >>> check_text("note", "a\\x00b")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    blina.domain.errors.InvalidInput: note a\\x00b is not allowed: must be text without NUL ...
    """
    if "\x00" in text:
        raise InvalidInput(field, _shown(text), "text without NUL (0x00) characters")
    return text


def _shown(text: str) -> str:
    """``text`` as a refusal shows it: a NUL written out, and cut after
    ``MAX_NUMBER_TEXT`` characters (a refused value may be a megabyte long)."""
    cut = text if len(text) <= MAX_NUMBER_TEXT else f"{text[:MAX_NUMBER_TEXT]}..."
    return cut.replace("\x00", "\\x00")
