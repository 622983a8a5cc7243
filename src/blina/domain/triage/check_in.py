"""The check-in: what a patient or family reports, and what the course says about them now.

These are the inputs of ``triage()``. Each checks what it can know by itself (a
temperature is an exact, finite ``Decimal``; a cycle day is a whole number); what needs
the rules (a known symptom id, a severity on its scale, a plausible temperature) is
checked by the engine, against the rule set in use.

A temperature in Fahrenheit is converted exactly, (F - 32) x 5 / 9, before it is
compared, and the conversion is stated:

>>> Temperature(Decimal("100.4"), TemperatureUnit.F).describe()
'100.4 F = 38.00 C (converted: (F - 32) x 5 / 9)'
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from blina.domain.body import AgeGroup
from blina.domain.errors import InvalidInput

__all__ = ["CheckIn", "Context", "SymptomAnswer", "Temperature", "TemperatureUnit"]


class TemperatureUnit(StrEnum):
    C = "C"
    F = "F"


# The definition of the Fahrenheit scale, not a clinical number.
_F_ZERO = Decimal(32)
_HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Temperature:
    """A measured temperature as entered: an exact ``Decimal`` and its unit."""

    value: Decimal
    unit: TemperatureUnit = TemperatureUnit.C

    def __post_init__(self) -> None:
        if not isinstance(self.value, Decimal):
            raise InvalidInput(self.field, repr(self.value), "an exact Decimal, never a float")
        if not self.value.is_finite():
            raise InvalidInput(self.field, self.value, "a finite number")

    @property
    def field(self) -> str:
        return "temperature_c" if self.unit is TemperatureUnit.C else "temperature_f"

    @property
    def celsius(self) -> Decimal:
        """The temperature in C; from F exactly, (F - 32) x 5 / 9, never rounded."""
        if self.unit is TemperatureUnit.C:
            return self.value
        return (self.value - _F_ZERO) * 5 / 9

    @property
    def celsius_shown(self) -> Decimal:
        """The temperature in C as shown to people: to 0.01 C, half up (compared unrounded)."""
        return self.celsius.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)

    def describe(self) -> str:
        """The temperature as entered and, from F, the conversion to C (shown to 0.01 C)."""
        if self.unit is TemperatureUnit.C:
            return f"{self.value} C"
        return f"{self.value} F = {self.celsius_shown} C (converted: (F - 32) x 5 / 9)"


@dataclass(frozen=True, slots=True)
class SymptomAnswer:
    """One answer: a symptom id and its PRO-CTCAE severity (0 none ... 4 very severe).

    ``severity`` is None for a yes/no sign, or when the severity is not known ("not
    sure"). ``interferes`` answers the follow-up asked only then ("Is it getting in the
    way of daily activities?"): True, False or None (not answered).
    """

    symptom: str
    severity: int | None = None
    interferes: bool | None = None


@dataclass(frozen=True, slots=True)
class CheckIn:
    """What a patient or family reported at ``observed_at`` (an aware datetime)."""

    observed_at: datetime
    answers: tuple[SymptomAnswer, ...] = ()
    temperature: Temperature | None = None
    free_text: str = ""

    @classmethod
    def of(
        cls,
        *,
        observed_at: datetime,
        symptoms: Mapping[str, int | None] | Iterable[tuple[str, int | None]] = (),
        temperature: Temperature | None = None,
        free_text: str = "",
        interferes: Mapping[str, bool] | None = None,
    ) -> "CheckIn":
        """A check-in from ``{symptom: severity}`` or ``(symptom, severity)`` pairs, and the
        follow-up answers ``{symptom: interferes}`` for the severities left "not sure"."""
        pairs = symptoms.items() if isinstance(symptoms, Mapping) else symptoms
        follow_up = interferes or {}
        answers = tuple(
            SymptomAnswer(symptom, severity, follow_up.get(symptom)) for symptom, severity in pairs
        )
        return cls(observed_at, answers, temperature, free_text)


@dataclass(frozen=True, slots=True)
class Context:
    """What the course says about the patient now; every field may be unknown (None).

    ``recent`` holds earlier check-ins (the caller chooses how far back): a symptom none
    of them reported is new; else the latest one that answered it tells whether it is
    worse or persisting. ``days_since_start_or_step_up`` counts from the latest cycle
    start, step-up or restart. ``in_hospital``: the patient is recorded as in hospital.

    ``therapy``: the therapy the patient is on, a key of the therapy knowledge
    (``"inotuzumab"``, ``"tisagenlecleucel"``, ...); None is the rule set's default
    (blinatumomab, or not known), which is today's rules. A therapy adds its own rules
    and instructions; it never takes away a rule that fires for everyone.
    ``days_since_cell_infusion``: for a CAR-T product, whole days since the (last) cell
    infusion, 0 on its day; None: not known, which counts as within every window after
    the infusion. The engine checks both against the rule set.
    """

    cycle_day: int | None = None
    infusing: bool | None = None
    days_since_start_or_step_up: int | None = None
    age_group: AgeGroup | None = None
    recent: tuple[CheckIn, ...] = ()
    in_hospital: bool | None = None
    therapy: str | None = None
    days_since_cell_infusion: int | None = None

    def __post_init__(self) -> None:
        _check_whole("cycle_day", self.cycle_day, 1)
        _check_whole("days_since_start_or_step_up", self.days_since_start_or_step_up, 0)
        _check_whole("days_since_cell_infusion", self.days_since_cell_infusion, 0)
        if self.therapy is not None and type(self.therapy) is not str:
            raise InvalidInput("therapy", repr(self.therapy), "a therapy key, or left out")


def _check_whole(field_name: str, value: int | None, low: int) -> None:
    if value is None:
        return
    if type(value) is not int or value < low:
        raise InvalidInput(field_name, value, f"a whole number >= {low}")
