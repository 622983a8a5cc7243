"""Dates, numbers, units, durations, zones and status words in English and in Spanish."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po
from jinja2 import DictLoader, Environment

from blina.domain.triage.check_in import Temperature, TemperatureUnit
from blina.domain.units import McgPerDay, Ml
from blina.web.formatting import STATUS_VALUES, STATUS_WORDS, UNIT_WORDS, formatter_for, install
from blina.web.i18n import LANGUAGES, LOCALE_DIR

MADRID = ZoneInfo("Europe/Madrid")
AT = datetime(2026, 12, 7, 8, 5, tzinfo=UTC)  # Monday 09:05 in Madrid

EN = formatter_for("en")
ES = formatter_for("es")


def test_days_and_moments_in_each_language() -> None:
    assert EN.day(AT, MADRID) == "Mon 7 Dec"
    assert ES.day(AT, MADRID) == "lun 7 dic"
    assert ES.day(date(2026, 12, 7)) == "lun 7 dic"
    assert EN.date(date(2026, 12, 7)) == "Mon 7 Dec 2026"
    assert ES.date(AT, MADRID) == "lun 7 dic 2026"
    assert EN.moment(AT, MADRID) == "Mon 7 Dec 09:05"
    assert ES.moment(AT, MADRID) == "lun 7 dic 09:05"
    assert ES.time(AT, MADRID) == "09:05"
    assert EN.stamp(AT, MADRID) == "2026-12-07 09:05"
    assert ES.stamp(AT, MADRID) == "07/12/2026 09:05"


def test_a_day_is_the_clinic_s_day_not_utc_s() -> None:
    late = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)  # already Tuesday in Madrid
    assert ES.day(late, MADRID) == "mar 8 dic"
    assert EN.day(late, ZoneInfo("America/Chicago")) == "Mon 7 Dec"


@pytest.mark.parametrize(
    ("value", "en", "es"),
    [
        (Decimal("38.0"), "38.0", "38,0"),
        (Decimal("38"), "38", "38"),
        (Decimal("0.233"), "0.233", "0,233"),
        (Decimal("12345.5"), "12,345.5", "12.345,5"),
        (9, "9", "9"),
        ("28.50", "28.50", "28,50"),
        ("n/a", "n/a", "n/a"),
        (Decimal("NaN"), "NaN", "NaN"),
        (True, "True", "True"),
    ],
)
def test_numbers_keep_their_decimals_with_the_reader_s_sign(
    value: object, en: str, es: str
) -> None:
    assert EN.number(value) == en  # type: ignore[arg-type]
    assert ES.number(value) == es  # type: ignore[arg-type]


def test_quantities_and_units() -> None:
    assert ES.quantity(McgPerDay(Decimal("9"))) == "9 mcg/día"
    assert EN.quantity(McgPerDay(Decimal("9"))) == "9 mcg/day"
    assert ES.quantity(Ml(Decimal("2.6"))) == "2,6 mL"
    assert ES.quantity(Temperature(Decimal("38.0"), TemperatureUnit.C)) == "38,0 °C"
    assert ES.quantity("28 mcg/day") == "28 mcg/día"
    assert ES.quantity(Decimal("12.5"), "mcg/mL") == "12,5 mcg/mL"
    assert ES.quantity(Decimal("15"), "mcg/m2/day") == "15 mcg/m²/día"
    assert ES.quantity("no infusion") == "no infusion"
    assert ES.quantity("") == ""
    assert ES.unit("mg/kg/day") == "mg/kg/día"
    assert ES.unit("C") == "°C"
    assert ES.unit("mL/h") == "mL/h"


@pytest.mark.parametrize(
    ("span", "en", "es"),
    [
        (Decimal("24"), "24 h", "24 h"),
        (48, "48 h", "48 h"),
        (Decimal("7.8667"), "7 h 52 min", "7 h 52 min"),
        (timedelta(hours=54), "2 days 6 h", "2 días 6 h"),
        (timedelta(hours=24 * 7), "7 days", "7 días"),
        (timedelta(hours=49), "2 days 1 h", "2 días 1 h"),
        (timedelta(days=1, hours=25), "2 days 1 h", "2 días 1 h"),
        ("x", "x", "x"),
    ],
)
def test_durations(span: object, en: str, es: str) -> None:
    assert EN.duration(span) == en  # type: ignore[arg-type]
    assert ES.duration(span) == es  # type: ignore[arg-type]


def test_a_single_day_is_singular() -> None:
    assert ES.duration(timedelta(hours=73)) == "3 días 1 h"
    assert formatter_for("es").gettext("1 day") == "1 día"


def test_time_zones_in_words() -> None:
    assert ES.zone_name(MADRID) == "hora de España (Madrid)"
    assert EN.zone_name("America/Chicago") == "United States (Chicago) Time"
    assert ES.zone_name("UTC") == "tiempo universal coordinado"
    assert "UTC" not in ES.zone_name("UTC")


def test_status_words() -> None:
    assert ES.status("active") == "activo"
    assert ES.status("do-not-hang") == "no colocar"
    assert ES.status("call-now") != "call-now"
    assert ES.status("pending") == "pendiente"
    assert ES.status("something new") == "something new"


def _catalog(language: str) -> dict[str, str]:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return {m.id: m.string for m in read_po(po) if m.id and m.string}  # type: ignore[misc]


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_every_stored_value_and_unit_has_words_in_each_catalog(language: str) -> None:
    catalog = _catalog(language)
    values = {value for group in STATUS_VALUES.values() for value in group}
    assert values <= set(STATUS_WORDS)
    missing = sorted(
        word for word in [*STATUS_WORDS.values(), *UNIT_WORDS.values()] if word not in catalog
    )
    assert not missing, f"{language}: {missing}"


def test_spanish_status_words_are_spanish() -> None:
    """A Spanish entry equal to the English word is a word left untranslated, except
    the few that are the same in both languages."""
    same = {"hospital", "info"}
    catalog = _catalog("es")
    untranslated = sorted(
        value
        for value, msgid in STATUS_WORDS.items()
        if catalog[msgid] == value and value not in same
    )
    assert not untranslated


def test_the_filters_read_the_page_s_formatter() -> None:
    env = install(
        Environment(
            loader=DictLoader(
                {
                    "t": "{{ at|moment(zone) }} · {{ t|quantity }} · {{ h|duration }}"
                    " · {{ s|status }} · {{ zone|zone_name }} · {{ 2.5|number }}"
                    " · {{ at|day(zone) }} · {{ at|time(zone) }} · {{ 'mcg/day'|unit }}"
                    " · {{ at|date(zone) }} · {{ at|stamp(zone) }}"
                }
            )
        )
    )
    values = {"at": AT, "zone": MADRID, "t": Temperature(Decimal("38.0")), "h": 54, "s": "hung"}
    assert env.get_template("t").render(fmt=ES, **values) == (
        "lun 7 dic 09:05 · 38,0 °C · 2 días 6 h · colocada · hora de España (Madrid) · 2,5"
        " · lun 7 dic · 09:05 · mcg/día · lun 7 dic 2026 · 07/12/2026 09:05"
    )
    assert env.get_template("t").render(fmt=EN, **values).startswith("Mon 7 Dec 09:05 · 38.0 °C")
