"""Parse command-line text into exact values; bad text is ``InvalidInput`` naming the field."""

from datetime import date, time
from decimal import Decimal, InvalidOperation

from blina.domain.errors import InvalidInput

__all__ = ["parse_date", "parse_decimal", "parse_integer", "parse_time"]


def parse_decimal(field: str, text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput(field, text, "a number") from None
    if not value.is_finite():
        raise InvalidInput(field, text, "a finite number")
    return value


def parse_integer(field: str, text: str) -> int:
    value = parse_decimal(field, text)
    if value != value.to_integral_value():
        raise InvalidInput(field, text, "a whole number")
    return int(value)


def parse_date(field: str, text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(field, text, "a real calendar date, YYYY-MM-DD") from None


def parse_time(field: str, text: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(field, text, "a clock time, HH:MM") from None
