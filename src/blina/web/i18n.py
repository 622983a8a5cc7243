"""English and Spanish through Babel message catalogs.

The ``.po`` files under ``locale/`` are compiled in memory when the web app starts (no
build step). The language comes from the ``blina_lang`` cookie (the switch on every page),
else the browser's Accept-Language, else English. A message missing from a catalog falls
back to English (the msgid).
"""

from collections.abc import Callable, Mapping
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

__all__ = [
    "DEFAULT_LANGUAGE",
    "DYNAMIC_MESSAGES",
    "LANGUAGES",
    "LANG_COOKIE",
    "LOCALE_DIR",
    "Gettext",
    "choose_language",
    "gettext_for",
    "translations",
]

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: Mapping[str, str] = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "blina_lang"

Gettext = Callable[[str], str]

# Messages looked up by a value (a timeline segment's kind, a task's kind, an alert's
# level) rather than written as ``_("...")`` literals; the catalog test checks them too.
DYNAMIC_MESSAGES = (
    "hospital",
    "home",
    "treatment-free",
    "between-cycles",
    "bag-change",
    "premedication",
    "admission",
    "discharge",
    "supervision",
    "labs",
    # an alert's level and the outcomes a nurse records when acknowledging it
    "emergency",
    "call-now",
    "same-day",
    "routine",
    "advice-given",
    "patient-called-in",
    "escalated-to-physician",
    "grading-recorded",
    # the grading and course-event forms: CRS, ICANS and adverse-reaction choices, and
    # the label's action
    "none",
    "fluids",
    "one-vasopressor",
    "multiple-vasopressors",
    "low-flow",
    "high-flow",
    "positive-pressure",
    "awake",
    "awakens-spontaneously",
    "awakens-to-voice",
    "awakens-to-touch",
    "unarousable",
    "focal-resolved",
    "generalized-resolved",
    "eeg-resolved",
    "prolonged",
    "repetitive",
    "focal",
    "diffuse",
    "crs",
    "neurological",
    "seizure",
    "liver",
    "pancreatitis",
    "neutropenia",
    "infection",
    "other",
    "overdose",
    "continue",
    "interrupt",
    "consider-discontinuation",
    "discontinue",
)


@cache
def translations(language: str) -> Translations:
    """The compiled catalog for ``language`` (read once per process)."""
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain="messages")


def gettext_for(language: str) -> Gettext:
    found: Gettext = translations(language).gettext
    return found


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    if cookie is not None and cookie in LANGUAGES:
        return cookie
    for tag, _quality in _ranked(accept_language or ""):
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


def _ranked(header: str) -> list[tuple[str, float]]:
    """Accept-Language entries, best first (``es-MX,es;q=0.9,en;q=0.5``)."""
    entries: list[tuple[str, float]] = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            entries.append((tag.strip(), quality))
    return sorted(entries, key=lambda entry: entry[1], reverse=True)
