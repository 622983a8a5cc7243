"""Parse command-line text into exact values; bad text is ``InvalidInput`` naming the field.

The parsers are ``blina.domain.bounds``'s, the API's and the web forms' too: ASCII digits
only, a decimal's size and places checked before any arithmetic, a whole number that an
INTEGER column holds, a date from 1900 to 2200.
"""

from blina.domain.bounds import parse_date, parse_decimal, parse_integer, parse_time

__all__ = ["parse_date", "parse_decimal", "parse_integer", "parse_time"]
