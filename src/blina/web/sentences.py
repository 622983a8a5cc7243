"""The domain's sentences and the knowledge files' texts in the reader's language.

A sentence the domain writes (``blina.domain.sentences.Sentence``: a decision's reason, a
grading's finding, a do-not-hang reason) is written again from its template, translated
through the clinical catalog (the msgid is the template's English, ``{names}`` kept), and
its parameters, each in the reader's words and number format: a figure "38,5", a dose
"9 mcg/día", a day "lun 7 dic 2026", a length "2 días 6 h", a knowledge text through the
clinical catalog, a status word through the pages' catalog.

A text stored before it reached the page (a recorded grading's findings, a task's
do-not-hang reason) is plain English again. It is read back against the domain's
templates and written from what it was filled with, but only when every part is
understood (a figure, a figure and its unit, a catalog entry, a code or a symbol, a
quoted name, or another sentence read back the same way): a text read otherwise is never guessed at.

Whatever cannot be written in the reader's language is shown in English, marked
``lang="en"`` (screen readers read it in English; the Spanish pages' test finds it).
English pages show the English text exactly as the domain wrote it.
"""

import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

import blina.domain
from blina.domain.sentences import Param, Sentence, Template
from blina.domain.units import Quantity
from blina.web.formatting import STATUS_WORDS, Formatter
from blina.web.i18n import clinical_entries

__all__ = ["Speaker", "domain_templates", "install"]

_FIELD = re.compile(r"\{(\w+)\}")
_FIGURE = re.compile(r"-?\d+(?:\.\d+)?")
_TOKEN = re.compile(r"\S+")
# One token with a character no word has: "label-5.1-crs", "<=", "cells/mm3", "AB12CD34".
_CODE = re.compile(r"(?=\S*[^\w\s])\S+|(?=\S*\d)\S+")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")  # a name as the domain quotes it (repr)
_WORD = re.compile(r"[^\W\d_]{2,}")


@cache
def domain_templates() -> tuple[tuple[str, Template], ...]:
    """(where, template) of every module-level ``Template`` of ``blina.domain``."""
    found: dict[Template, str] = {}
    for module_info in pkgutil.walk_packages(blina.domain.__path__, "blina.domain."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if isinstance(value, Template):
                found.setdefault(value, f"{module_info.name}.{name}")
    return tuple(sorted(((where, t) for t, where in found.items()), key=lambda e: e[0]))


class _NotUnderstood(Exception):
    """A stored text, or a part of one, that no template and no catalog entry explains."""


class Speaker:
    """Sentences and texts in ``fmt``'s language, through the clinical catalog's
    ``entries`` (msgid -> msgstr; the language's catalog when not given)."""

    def __init__(
        self,
        fmt: Formatter,
        entries: Mapping[str, str] | None = None,
        zone: tzinfo | None = None,
    ) -> None:
        self.fmt = fmt
        self.entries = clinical_entries(fmt.language) if entries is None else entries
        self.zone = zone

    @property
    def english(self) -> bool:
        return self.fmt.language == "en"

    def markup(self, text: object) -> Markup:
        """``text`` for a page: in the reader's language, else its English marked so."""
        if text is None:
            return Markup("")
        if self.english:
            return escape(str(text))
        try:
            return escape(self.words(text))
        except _NotUnderstood:
            return Markup('<span lang="en">%s</span>') % str(text)

    def words_or_stored(self, text: str) -> str:
        """``text`` in the reader's language, else as it is (plain text, no markup)."""
        try:
            return self.words(text)
        except _NotUnderstood:
            return text

    def words(self, text: object) -> str:
        """``text`` in the reader's language; ``_NotUnderstood`` when it cannot be."""
        if self.english:
            return str(text)
        if isinstance(text, Sentence):
            return self._sentence(text)
        if isinstance(text, Enum):
            return self._word(str(text.value))
        found = self._text(str(text))
        if found is None:
            raise _NotUnderstood(str(text))
        return found

    # --- a live sentence ------------------------------------------------------------------

    def _sentence(self, said: Sentence) -> str:
        translated = self._template(said.template)
        if translated is None:
            raise _NotUnderstood(said.template.english)
        return translated.format(**{k: self._param(v) for k, v in said.params.items()})

    def _param(self, param: Param) -> str:
        fmt = self.fmt
        if isinstance(param, Sentence):
            return self._sentence(param)
        if isinstance(param, tuple):
            return "; ".join(self._param(p) for p in param)
        if isinstance(param, Enum):
            return self._word(str(param.value))
        if isinstance(param, Quantity):
            return fmt.quantity(param)
        if isinstance(param, timedelta):
            return fmt.duration(param)
        if isinstance(param, datetime):
            return fmt.moment(param, self.zone or param.tzinfo or UTC)
        if isinstance(param, date):
            return fmt.date(param)
        if isinstance(param, Decimal):
            return fmt.number(param)
        if isinstance(param, int):
            return str(param)
        found = self._text(param)
        return param if found is None else found

    def _template(self, template: Template) -> str | None:
        """The template's translation; a template of figures and symbols only (no word)
        is the same in every language."""
        english = template.english
        if english in self.entries:
            return self.entries[english]
        return english if not _WORD.search(_FIELD.sub("", english)) else None

    def _word(self, value: str) -> str:
        if value in STATUS_WORDS:
            return self.fmt.status(value)
        translated = self.fmt.gettext(value)
        return translated if translated != value else self.entries.get(value, value)

    # --- a stored text --------------------------------------------------------------------

    def _text(self, text: str) -> str | None:
        """A knowledge text, a status word or a stored sentence in the reader's language;
        None when it is none of those."""
        if text in self.entries:
            return self.entries[text]
        if text in STATUS_WORDS:
            return self.fmt.status(text)
        for pattern, template in _patterns():
            found = pattern.fullmatch(text)
            if found is None:
                continue
            words = self._template(template)
            if words is None:
                continue
            try:
                values = {name: self._part(value) for name, value in found.groupdict().items()}
            except _NotUnderstood:
                continue
            return words.format(**values)
        return None

    def _part(self, value: str) -> str:
        """A part of a stored sentence, understood, or ``_NotUnderstood``."""
        if _FIGURE.fullmatch(value):
            return self.fmt.number(value)
        figure, _, unit = value.partition(" ")
        if unit and _FIGURE.fullmatch(figure) and _TOKEN.fullmatch(unit):
            return self.fmt.quantity(figure, unit)
        found = self._text(value)
        if found is not None:
            return found
        if _CODE.fullmatch(value) or _QUOTED.fullmatch(value):  # a code, a unit, a 'name'
            return value
        raise _NotUnderstood(value)


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], Template], ...]:
    """Each template as a pattern (its words literal, each field a group; a field met
    again repeats what it matched first), the ones with the most words first."""
    found = []
    for _, template in domain_templates():
        text = template.english
        parts, seen, at = [], set(), 0
        for field in _FIELD.finditer(text):
            parts.append(re.escape(text[at : field.start()]))
            name = field[1]
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
            seen.add(name)
            at = field.end()
        parts.append(re.escape(text[at:]))
        literal = len(_FIELD.sub("", text))
        if literal:  # "{dose}" alone would read any text as itself, forever
            found.append((literal, re.compile("".join(parts), re.DOTALL), template))
    found.sort(key=lambda entry: entry[0], reverse=True)
    return tuple((pattern, template) for _, pattern, template in found)


# --- Jinja -------------------------------------------------------------------------------


def _said(context: Context, text: Any, zone: tzinfo | None = None) -> Markup:
    return Speaker(context["fmt"], zone=zone).markup(text)


def install(env: Environment) -> Environment:
    """``{{ text|said }}`` (``{{ text|said(zone) }}``: moments in the clinic's zone)."""
    said: Callable[..., Markup] = pass_context(_said)
    env.filters["said"] = said
    return env
