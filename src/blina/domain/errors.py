"""The one exception tree of blina.

- ``BlinaError``: every error blina raises on purpose.

  - ``InvalidInput(field, value, allowed)``: a value from a user is outside what is
    allowed; also a ``ValueError``. The message names the field, the value and the
    allowed range, and every edge (CLI, API, web) shows it unchanged.
  - ``UnknownId(kind, value, known)``: an id that names nothing (an indication, a
    regimen); also a ``LookupError``.
  - ``KnowledgeError(file, key_path, problem)``: a knowledge file is malformed. Raised
    at load, never later.

Safety verdicts are not exceptions: a hard stop is a correct answer with its reason.
"""

from collections.abc import Iterable

__all__ = ["BlinaError", "InvalidInput", "KnowledgeError", "UnknownId"]


class BlinaError(Exception):
    """Base of every error blina raises on purpose."""


class InvalidInput(BlinaError, ValueError):
    """A user-supplied value is not allowed.

    >>> str(InvalidInput("weight_kg", "0", "> 0 and <= 350"))
    'weight_kg 0 is not allowed: must be > 0 and <= 350'
    """

    def __init__(self, field: str, value: object, allowed: str) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(f"{field} {value} is not allowed: must be {allowed}")


class UnknownId(BlinaError, LookupError):
    """An id that names nothing blina knows.

    >>> str(UnknownId("indication", "x", ["a", "b"]))
    'indication x is not known: must be one of a, b'
    """

    def __init__(self, kind: str, value: str, known: Iterable[str]) -> None:
        self.kind = kind
        self.value = value
        self.known = tuple(known)
        super().__init__(f"{kind} {value} is not known: must be one of {', '.join(self.known)}")


class KnowledgeError(BlinaError):
    """A knowledge file is malformed; names the file and the key path."""

    def __init__(self, file: str, key_path: str, problem: str) -> None:
        self.file = file
        self.key_path = key_path
        self.problem = problem
        super().__init__(f"{file}: {key_path}: {problem}")
