"""The pharmacy worksheet and the bag label in the reader's language (``Words`` for
``blina.interop.worksheet`` and ``blina.interop.bag_label``).

A stored recipe keeps each preparation step as the English sentence it was filled into
("Add 270 mL 0.9% Sodium Chloride Injection, preservative-free to the empty IV bag.").
The step is read back against its template in the knowledge file (the same code), and
the translated template (the clinical catalog, ``{names}`` kept) is filled with the same
figures in the reader's number format and the same kinds in the reader's words. A step
that no longer matches its template (the knowledge file changed since the bag was made)
or whose template has no translation is printed as stored: the sheet never shows a step
the bag was not made by.
"""

import re
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from functools import cache

from blina.interop.worksheet import Words
from blina.knowledge import Knowledge
from blina.web.formatting import Formatter
from blina.web.i18n import Gettext
from blina.web.sentences import Speaker

__all__ = ["step_writer", "worksheet_words"]

_FIELD = re.compile(r"\{(\w+)\}")
_FIGURE = re.compile(r"(\d+(?:\.\d+)?)(?: (mcg/m2/day|mcg/day|m2))?")
_KINDS = frozenset({"water_kind", "saline_kind"})


def worksheet_words(fmt: Formatter, clinical: Gettext, knowledge: Knowledge, zone: tzinfo) -> Words:
    templates = {step.code: step.text for step in knowledge.pharmacy.steps}
    return Words(
        language=fmt.language,
        gettext=fmt.gettext,
        clinical=clinical,
        number=fmt.number,
        unit=fmt.unit,
        moment=lambda at: _stamp(fmt, at, zone),
        step=step_writer(templates, fmt, clinical),
        said=Speaker(fmt, zone=zone).markup,
    )


def _stamp(fmt: Formatter, at: datetime, zone: tzinfo) -> str:
    return fmt.stamp(at, zone)


def step_writer(
    templates: Mapping[str, str], fmt: Formatter, clinical: Gettext
) -> Callable[[str, str], str]:
    """A step (its code, its stored English) in ``fmt``'s language; as stored if its
    template changed or has no translation."""

    def step(code: str, text: str) -> str:
        template = templates.get(code)
        if template is None:
            return text
        found = _pattern(template).fullmatch(text)
        translated = clinical(template)
        if found is None or (translated == template and fmt.language != "en"):
            return text
        values = {name: _value(name, found[name], fmt, clinical) for name in _names(template)}
        return translated.format(**values)

    return step


def _names(template: str) -> set[str]:
    return set(_FIELD.findall(template))


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """``template`` as a pattern: its words literal, each ``{name}`` a group (a name met
    again must repeat what it matched first)."""
    parts, seen, at = [], set(), 0
    for field in _FIELD.finditer(template):
        parts.append(re.escape(template[at : field.start()]))
        name = field[1]
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        at = field.end()
    parts.append(re.escape(template[at:]))
    return re.compile("".join(parts), re.DOTALL)


def _value(name: str, value: str, fmt: Formatter, clinical: Gettext) -> str:
    if name in _KINDS:
        return clinical(value)
    return _figures(value, fmt)


def _figures(text: str, fmt: Formatter) -> str:
    """The figures (and their dose units) in ``text`` in the reader's format:
    "15 mcg/m2/day x 1.1 m2 = 16.5 mcg/day, capped" -> "15 mcg/m²/día x 1,1 m² = ..."."""

    def written(found: re.Match[str]) -> str:
        number = fmt.number(found[1])
        return f"{number} {fmt.unit(found[2])}" if found[2] else number

    text = _FIGURE.sub(written, text)
    return text.replace(", capped", ", " + fmt.gettext("capped"))
