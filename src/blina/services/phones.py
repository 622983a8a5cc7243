"""Phone numbers to call back: a patient's (or their family's) and a user's own.

blina does not dial and does not parse numbers by country: a number is kept as it was
given, trimmed, so long as it can be read aloud and typed into a phone: at most
``PHONE_MAX`` characters, only digits, spaces and ``+ - ( ) .``, and at least
``PHONE_MIN_DIGITS`` digits (no shorter number reaches a person from outside a switch).
Empty means no number.
"""

import re

from blina.domain.errors import InvalidInput

__all__ = ["PHONE_ALLOWED", "PHONE_MAX", "PHONE_MIN_DIGITS", "check_phone", "dialable"]

PHONE_MAX = 32
PHONE_MIN_DIGITS = 6
PHONE_ALLOWED = (
    f"empty, or at most {PHONE_MAX} characters of digits, spaces and + - ( ) ., "
    f"with at least {PHONE_MIN_DIGITS} digits"
)
_CHARACTERS = re.compile(r"[0-9 +\-().]*")


def check_phone(field: str, given: str | None) -> str | None:
    """``given`` trimmed, if it may be a phone number; None when empty (no number); else
    a refusal naming ``field`` and what is allowed."""
    text = (given or "").strip()
    if not text:
        return None
    digits = sum(1 for c in text if c.isascii() and c.isdigit())
    if len(text) > PHONE_MAX or not _CHARACTERS.fullmatch(text) or digits < PHONE_MIN_DIGITS:
        raise InvalidInput(field, given, PHONE_ALLOWED)
    return text


def dialable(phone: str) -> str:
    """The number as a ``tel:`` link takes it: its leading + and its digits."""
    digits = "".join(c for c in phone if c.isdigit())
    return f"+{digits}" if phone.startswith("+") else digits
