"""Every message the pages use is in the English and the Spanish catalog."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from blina.interop import worksheet
from blina.web import formatting, i18n

WEB = Path(i18n.__file__).parent
# The pharmacy worksheet and the bag label are written through the pages' catalog too.
INTEROP = Path(worksheet.__file__).parent
_MESSAGE = re.compile(r"""(?:\b_|gettext)\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def used_messages() -> set[str]:
    found = {*i18n.DYNAMIC_MESSAGES, *worksheet.DYNAMIC_MESSAGES}
    found.update(formatting.STATUS_WORDS.values(), formatting.UNIT_WORDS.values())
    interop = [*INTEROP.glob("templates/*.html"), INTEROP / "worksheet.py"]
    for source in [*WEB.rglob("*.html"), *WEB.rglob("*.py"), *interop]:
        for match in _MESSAGE.finditer(source.read_text()):
            found.add(match.group(1) if match.group(1) is not None else match.group(2))
    return found - {"..."}  # the docstring's example


def test_the_pages_use_messages() -> None:
    assert len(used_messages()) > 50


@pytest.mark.parametrize("language", list(i18n.LANGUAGES))
def test_every_message_is_translated(language: str) -> None:
    with (i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    translated = {m.id: m.string for m in catalog if m.id}
    missing = sorted(m for m in used_messages() if not translated.get(m))
    assert not missing, f"{language}: no translation for {missing}"
    for message in used_messages():
        assert set(_PLACEHOLDER.findall(translated[message])) == set(
            _PLACEHOLDER.findall(message)
        ), message


def test_a_missing_translation_falls_back_to_english() -> None:
    assert i18n.gettext_for("es")("a message no catalog has") == "a message no catalog has"


@pytest.mark.parametrize(
    ("cookie", "header", "chosen"),
    [
        (None, "es-ES,es;q=0.9,en;q=0.8", "es"),
        (None, "fr-FR,fr;q=0.9", "en"),
        (None, "fr;q=0.9,es;q=0.5", "es"),
        ("en", "es", "en"),
        ("xx", "es", "es"),
        (None, None, "en"),
    ],
)
def test_language_choice(cookie: str | None, header: str | None, chosen: str) -> None:
    assert i18n.choose_language(cookie, header) == chosen
