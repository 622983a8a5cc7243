"""Dates, times, numbers, units, durations, time zones and status words in the reader's
language, through Babel (CLDR): "lun 7 dic 09:00", "38,0 °C", "9 mcg/día", "2 días 6 h",
"hora de España (Madrid)".

One ``Formatter`` per request (``render`` makes it from the page's language) and one set
of Jinja filters that read it from the template's context, registered in one place
(``install``):

=================  ==========================================  =========================
filter             English                                     Spanish
=================  ==========================================  =========================
``day``            Mon 7 Dec                                   lun 7 dic
``date``           Mon 7 Dec 2026                              lun 7 dic 2026
``time``           09:00                                       09:00
``moment``         Mon 7 Dec 09:00                             lun 7 dic 09:00
``stamp``          2026-12-07 09:00 (a form, a printed sheet)  07/12/2026 09:00
``number``         38.0, 12,345.5                              38,0, 12.345,5
``quantity``       9 mcg/day, 38.0 °C                          9 mcg/día, 38,0 °C
``unit``           mcg/day                                     mcg/día
``duration``       24 h, 2 days 6 h, 7 h 52 min                24 h, 2 días 6 h
``temperature``    38.0 °C, 100.4 °F = 38.00 °C (...)          38,0 °C
``status``         active, do-not-hang                         activo, no colocar
``task_words``     a clinic task (``blina.web.task_words``)    its Spanish words
``zone_name``      Spain (Madrid) Time                         hora de España (Madrid)
=================  ==========================================  =========================

A number keeps the decimals it was given (a temperature entered as 38.0 is shown "38,0",
never "38"): the precision of a clinical figure is part of it.

A stored value (a bag's status, a task's state, an alert's level, a course's status) is
turned into words through ``STATUS_WORDS``: the value's msgid in the pages' catalog, the
one mapping every page uses (a test checks that every value of every enum has its entry
in both catalogs). A value with no entry is shown as stored.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, get_timezone_location, get_timezone_name
from babel.numbers import format_decimal
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from blina.domain.course_state import BagStatus, CoursePhase, SlotStatus
from blina.domain.modifications import ActionKind
from blina.domain.replanning.decisions import CourseStatus, DecisionKind, DecisionLevel
from blina.domain.triage.rules import TriageLevel
from blina.services.actors import Role
from blina.services.alerts import OUTCOMES
from blina.services.invitations import InvitationState
from blina.services.tasks import TASK_KINDS, TASK_STATES
from blina.services.treatments import END_OUTCOMES
from blina.web.i18n import Gettext, gettext_for
from blina.web.task_words import task_words

__all__ = [
    "DAY_PATTERN",
    "STATUS_VALUES",
    "STATUS_WORDS",
    "UNIT_WORDS",
    "Formatter",
    "formatter_for",
    "install",
]

DAY_PATTERN = "EEE d MMM"  # "Mon 7 Dec", "lun 7 dic"
_STAMP = {"en": "yyyy-MM-dd HH:mm", "es": "dd/MM/yyyy HH:mm"}

# Every stored value a page shows as a word, by where it comes from.
STATUS_VALUES: Mapping[str, tuple[str, ...]] = {
    "course status": (*(s.value for s in CourseStatus), *END_OUTCOMES),
    "course phase": tuple(p.value for p in CoursePhase),
    "bag status": tuple(s.value for s in BagStatus),
    "slot status": tuple(s.value for s in SlotStatus),
    "task state": TASK_STATES,
    "task kind": TASK_KINDS,
    "where a span is spent": ("hospital", "home", "treatment-free", "between-cycles"),
    "alert level": tuple(level.value for level in TriageLevel),
    "alert outcome": OUTCOMES,
    "decision": tuple(k.value for k in DecisionKind),
    "label action": tuple(k.value for k in ActionKind),
    "decision level": tuple(level.value for level in DecisionLevel),
    "invitation": tuple(s.value for s in InvitationState),
    "role": tuple(r.value for r in Role),
}
# The msgid of each value: the value itself (the catalogs key a stored word by it), but an
# invitation's state, whose msgid says what it is ("pending" alone is ambiguous).
STATUS_WORDS: Mapping[str, str] = {
    **{value: value for values in STATUS_VALUES.values() for value in values},
    **{s.value: f"invitation state: {s.value}" for s in InvitationState},
}

# Units whose Spanish differs (the msgid is the unit as the domain writes it); the others
# (mL, mg, kg, h, min, mcg/mL, mL/h, °C) are the same symbols in both languages.
UNIT_WORDS: Mapping[str, str] = {
    "mcg/day": "mcg/day",
    "mcg/m2/day": "mcg/m2/day",
    "mg/kg/day": "mg/kg/day",
    "years": "years",
    "m2": "m2",
}
_UNIT_ALIASES = {"C": "°C", "F": "°F"}


@dataclass(frozen=True, slots=True)
class Formatter:
    """Dates, numbers, units, durations and words in ``language`` (``en`` or ``es``)."""

    language: str
    gettext: Gettext

    # --- dates and times --------------------------------------------------------------
    def day(self, at: date | datetime, zone: tzinfo | None = None) -> str:
        """The weekday, day and month: "Mon 7 Dec", "lun 7 dic"."""
        return format_date(_local_date(at, zone), DAY_PATTERN, locale=self.language)

    def date(self, at: date | datetime, zone: tzinfo | None = None) -> str:
        """A day with its year: "Mon 7 Dec 2026", "lun 7 dic 2026"."""
        return format_date(_local_date(at, zone), f"{DAY_PATTERN} y", locale=self.language)

    def time(self, at: datetime, zone: tzinfo) -> str:
        return format_datetime(at.astimezone(zone), "HH:mm", locale=self.language)

    def moment(self, at: datetime, zone: tzinfo) -> str:
        """ "Mon 7 Dec 09:00", "lun 7 dic 09:00" in ``zone``."""
        return format_datetime(at.astimezone(zone), f"{DAY_PATTERN} HH:mm", locale=self.language)

    def stamp(self, at: datetime, zone: tzinfo) -> str:
        """A moment written on a form or a printed sheet: all digits, the reader's order."""
        pattern = _STAMP.get(self.language, _STAMP["en"])
        return format_datetime(at.astimezone(zone), pattern, locale=self.language)

    def zone_name(self, zone: tzinfo | str) -> str:
        """A time zone in words ("Spain (Madrid) Time", "hora de España (Madrid)"); UTC by
        its name (it has no place)."""
        found = ZoneInfo(zone) if isinstance(zone, str) else zone
        if str(found) in ("UTC", "Etc/UTC"):
            moment = datetime(2000, 1, 1, tzinfo=found)  # a name needs a moment, any will do
            return get_timezone_name(moment, "long", locale=self.language)
        return get_timezone_location(found, locale=self.language)

    # --- numbers, units and durations -------------------------------------------------
    def number(self, value: Decimal | int | float | str) -> str:
        """``value`` with the reader's decimal sign and grouping, its decimals kept."""
        exact = _decimal(value)
        if exact is None:
            return str(value)
        places = max(0, -int(exact.as_tuple().exponent))
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return format_decimal(exact, format=pattern, locale=self.language)

    def unit(self, unit: str) -> str:
        unit = _UNIT_ALIASES.get(unit, unit)
        return self.gettext(UNIT_WORDS[unit]) if unit in UNIT_WORDS else unit

    def quantity(self, value: Any, unit: str | None = None) -> str:
        """A figure and its unit: a domain quantity, a number and ``unit``, or the text a
        view model made of one ("28 mcg/day"); any other text is shown as it is."""
        if unit is None:
            if hasattr(value, "UNIT") and hasattr(value, "value"):
                value, unit = value.value, value.UNIT
            elif hasattr(value, "unit") and hasattr(value, "value"):  # a Temperature
                value, unit = value.value, str(value.unit)
            else:
                figure, _, unit = str(value).partition(" ")
                if not unit or _decimal(figure) is None:
                    return str(value)
                value = figure
        return f"{self.number(value)} {self.unit(unit)}"

    def duration(self, span: timedelta | Decimal | int | float | str) -> str:
        """A length of time: up to 48 h in hours ("24 h", "7 h 52 min"), longer in days and
        hours ("2 days 6 h", "2 días 6 h")."""
        if isinstance(span, timedelta):
            minutes = int(span.total_seconds() // 60)
        else:
            hours = _decimal(span)
            if hours is None:
                return str(span)
            minutes = int((hours * 60).to_integral_value())
        hours_total, rest = divmod(minutes, 60)
        if not hours_total:
            return f"{rest} min"
        if hours_total <= 48:
            text = f"{hours_total} h"
            return f"{text} {rest} min" if rest else text
        days, hours_left = divmod(hours_total, 24)
        if days == 1:
            words = self.gettext("1 day")
        else:
            words = self.gettext("%(days)s days") % {"days": days}
        return f"{words} {hours_left} h" if hours_left else words

    def temperature(self, reading: Any) -> str:
        """A temperature as entered (``Temperature``), from F with its conversion to C."""
        if str(reading.unit) == "C":
            return self.quantity(reading.value, "C")
        return self.gettext("%(f)s = %(c)s (converted: (F - 32) x 5 / 9)") % {
            "f": self.quantity(reading.value, "F"),
            "c": self.quantity(reading.celsius_shown, "C"),
        }

    # --- words --------------------------------------------------------------------------
    def status(self, value: object) -> str:
        """A stored status, state, level or kind in words; unknown values as stored."""
        text = str(value)
        return self.gettext(STATUS_WORDS[text]) if text in STATUS_WORDS else text


def formatter_for(language: str) -> Formatter:
    return Formatter(language, gettext_for(language))


def _local_date(at: date | datetime, zone: tzinfo | None) -> date:
    if isinstance(at, datetime):
        return (at.astimezone(zone) if zone is not None else at).date()
    return at


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | str):
        try:
            found = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return found if found.is_finite() else None
    return None


# --- Jinja -------------------------------------------------------------------------------

FILTERS = (
    "day",
    "date",
    "time",
    "moment",
    "stamp",
    "zone_name",
    "number",
    "unit",
    "quantity",
    "duration",
    "temperature",
    "status",
)


def _filter(name: str) -> Callable[..., str]:
    @pass_context
    def apply(context: Context, value: Any, *args: Any) -> str:
        fmt: Formatter = context["fmt"]
        method: Callable[..., str] = getattr(fmt, name)
        return method(value, *args)

    apply.__name__ = name
    return apply


@pass_context
def _task_words(context: Context, task: Any) -> str:
    return task_words(task, context["fmt"], context["clinical"])


def install(env: Environment) -> Environment:
    """Register the filters on ``env``; a template reads the ``fmt`` it is rendered with
    (and ``clinical``, the knowledge files' words, for ``task_words``)."""
    for name in FILTERS:
        env.filters[name] = _filter(name)
    env.filters["task_words"] = _task_words
    return env
