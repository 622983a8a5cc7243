"""English and Spanish through Babel message catalogs.

The ``.po`` files under ``locale/`` are compiled in memory when the web app starts (no
build step). The language comes from the ``blina_lang`` cookie (the switch on every page),
else the browser's Accept-Language, else English. A message missing from a catalog falls
back to English (the msgid).

Two domains:

- ``messages``: the pages' own words (``_("...")`` in the templates and in Python);
- ``clinical``: the words that come from the knowledge files and reach a patient, a
  family or a nurse: symptom names, severity words, triage levels, instructions, the
  rules' explanations, precautions and premedication names, the grading scales' cells
  and the label's dose-modification rules; and the templates of the sentences the
  domain writes (``blina.domain.sentences``: a decision's reason, a grading's finding,
  a do-not-hang reason), whose ``{names}`` the page fills in the reader's format
  (``blina.web.sentences``, the ``said`` filter). Templates translate knowledge text
  with ``clinical(text)`` or ``said``; the domain and the JSON API stay English.

A clinical msgid is the English text exactly as the knowledge file has it, not the
entry's stable id, for three reasons:

- safety: when a clinician rewords an instruction in the knowledge file, the old Spanish
  no longer matches and the page falls back to the new English text (and the catalog
  test names the new text as missing). Keyed by id, the page would go on showing a
  translation of advice that no longer exists;
- stored answers: a check-in keeps its triage answer as English text (an instruction is
  text and a source, and one source covers several instructions), and an alert keeps its
  reason as text; the text is the only key those have;
- review: a bilingual clinician reads the English beside the Spanish in one file. Each
  entry's ``#.`` comment says where in the knowledge files the text is used.

English needs no clinical catalog (the msgid is the English); a language without one
gets the English.
"""

from collections.abc import Callable, Mapping
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

__all__ = [
    "CLINICAL_DOMAIN",
    "DEFAULT_LANGUAGE",
    "DYNAMIC_MESSAGES",
    "LANGUAGES",
    "LANG_COOKIE",
    "LOCALE_DIR",
    "Gettext",
    "choose_language",
    "clinical_entries",
    "clinical_gettext_for",
    "clinical_translations",
    "gettext_for",
    "translations",
]

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: Mapping[str, str] = {"en": "English", "es": "Español"}
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "blina_lang"
CLINICAL_DOMAIN = "clinical"

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
    "sent-to-emergency",
    "admitted",
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
    # a task's or a bag slot's state
    "due",
    "done",
    "overdue",
    "blocked",
    "do-not-hang",
    "missed",
    # a bag's status
    "prepared",
    "verified",
    "dispensed",
    "hung",
    "removed",
    "voided",
    "discarded",
    # the decision log's other first words (a re-plan decision's kind)
    "restart",
    "continue-cycle",
    "new-cycle",
    "premedicate",
    "supervise",
    "step-up",
    "refuse",
    "end-course",
    # a user's role (the clinic's users page)
    "patient",
    "caregiver",
    "nurse",
    "pharmacist",
    "physician",
    "admin",
)


@cache
def translations(language: str) -> Translations:
    """The compiled catalog for ``language`` (read once per process)."""
    return _compiled(LOCALE_DIR / language / "LC_MESSAGES" / "messages.po", language, "messages")


@cache
def clinical_translations(language: str) -> NullTranslations:
    """The compiled clinical catalog for ``language``; none (English) if it has none."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{CLINICAL_DOMAIN}.po"
    if not path.is_file():
        return NullTranslations()
    return _compiled(path, language, CLINICAL_DOMAIN)


def _compiled(path: Path, language: str, domain: str) -> Translations:
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain=domain)


def gettext_for(language: str) -> Gettext:
    found: Gettext = translations(language).gettext
    return found


def clinical_gettext_for(language: str) -> Gettext:
    """Knowledge text (English, as in the knowledge file) in ``language``; English if the
    clinical catalog has no entry for it."""
    found: Gettext = clinical_translations(language).gettext
    return found


@cache
def clinical_entries(language: str) -> Mapping[str, str]:
    """msgid -> msgstr of the clinical catalog's translated entries (none is fuzzy): what
    has a translation, even one spelt as the English ("Pancreatitis", "{value} {unit}")."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{CLINICAL_DOMAIN}.po"
    if not path.is_file():
        return {}
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


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
