"""The sentences the domain writes for people, in English and in a form another language
can be written from.

A decision's reason, a grading's finding or a do-not-hang reason is an English sentence
made of figures, dates and names ("Restart at 9 mcg/day: ..."). The callers (the CLI, the
JSON API, the audit trail, the database) keep using it as the English text it always was;
a page in another language writes the same sentence again from its template and its
parameters, in the reader's words and number format.

So a ``Sentence`` *is* its English text (a ``str``) and carries, beside it, the
``Template`` it was filled from and the parameters it was filled with. A ``Template`` is a
module-level constant of the module that writes the sentence: its English, with
``{name}`` fields, is the msgid of its translation, and a test enumerates every template of
the domain and checks that each has one. Text that goes through ``str`` operations
(``+``, ``join``, an f-string) becomes a plain ``str`` again: it shows in English, never
with a wrong translation.

>>> GRADE = Template("{cause} grade {grade}")
>>> said = GRADE(cause="crs", grade=3)
>>> said, said.template is GRADE, dict(said.params)
('crs grade 3', True, {'cause': 'crs', 'grade': 3})

Parameters are of a few kinds, each with one way of being written:

- ``Sentence``: another sentence (written in the reader's language in turn);
- ``str``: a name or a text of the knowledge files, a source id, an enum value;
- ``int``, ``Decimal``, a ``Quantity`` (a figure and its unit), a ``date``, a
  ``datetime`` (English: ISO 8601), a ``timedelta`` (English: "2 days 6 h");
- a ``tuple`` of the above: a list, in English joined with "; ".
"""

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import TypeAlias

from blina.domain.units import Quantity

__all__ = ["Param", "Sentence", "Template", "duration_words", "english"]

Param: TypeAlias = (
    "Sentence | str | int | Decimal | Quantity | date | datetime | timedelta | tuple[Param, ...]"
)

_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Template:
    """An English sentence with ``{name}`` fields: the words of one kind of sentence."""

    english: str

    def __post_init__(self) -> None:
        for _, name, spec, conversion in string.Formatter().parse(self.english):
            if name is not None and (not name.isidentifier() or spec or conversion):
                raise ValueError(f"template field {{{name}}}: a plain {{name}} only")

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(_FIELD.findall(self.english))

    def __call__(self, **params: Param) -> "Sentence":
        if set(params) != self.fields:
            raise ValueError(f"{self.english!r} takes {sorted(self.fields)}, not {sorted(params)}")
        return Sentence(self, params)


class Sentence(str):
    """An English sentence (the ``str`` itself), its template and its parameters.

    A ``str`` subclass so that every caller that keeps, joins, compares or serialises the
    English text goes on doing so unchanged.
    """

    template: Template
    params: Mapping[str, Param]

    def __new__(cls, template: Template, params: Mapping[str, Param]) -> "Sentence":
        text = template.english.format(**{k: english(v) for k, v in params.items()})
        said = super().__new__(cls, text)
        said.template = template
        said.params = MappingProxyType(dict(params))
        return said

    def __reduce__(self) -> tuple[type["Sentence"], tuple[Template, dict[str, Param]]]:
        return Sentence, (self.template, dict(self.params))


def english(param: Param) -> str:
    """A parameter as the English sentence writes it."""
    if isinstance(param, tuple):
        return "; ".join(english(p) for p in param)
    if isinstance(param, timedelta):
        return duration_words(param)
    if isinstance(param, datetime | date):
        return param.isoformat()
    return str(param)


def duration_words(duration: timedelta) -> str:
    """A duration for people, as the decisions' reasons give it.

    >>> duration_words(timedelta(days=2, hours=6)), duration_words(timedelta(minutes=30))
    ('2 days 6 h', '30 min')
    """
    minutes = int(duration.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if mins or not parts:
        parts.append(f"{mins} min")
    return " ".join(parts)
