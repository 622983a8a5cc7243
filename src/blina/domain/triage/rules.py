"""The rules, as data: levels, symptoms, instructions and the kinds of rule.

``blina.knowledge`` builds every one of these from ``knowledge/triage.toml``, each with
its source; ``TriageRules`` (in ``rulebook``) holds them all. Nothing here reads a
check-in: a rule says when it fires, the engine decides whether it did.

Levels, most urgent first: ``emergency``, ``call-now``, ``same-day``, ``routine``;
``rank`` orders them:

>>> sorted(TriageLevel, key=lambda level: level.rank)
[<TriageLevel.ROUTINE: 'routine'>, <TriageLevel.SAME_DAY: 'same-day'>, \
<TriageLevel.CALL_NOW: 'call-now'>, <TriageLevel.EMERGENCY: 'emergency'>]
"""

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "Compare",
    "EmergencySign",
    "Guidance",
    "History",
    "Instruction",
    "LevelGuide",
    "Outcome",
    "RuleHistory",
    "SameDayEscalation",
    "Symptom",
    "SymptomArea",
    "SymptomGroup",
    "SymptomRule",
    "TemperatureRule",
    "TherapyGuide",
    "TriageLevel",
]


class TriageLevel(StrEnum):
    """How soon to act; ``rank`` orders them (routine 0 ... emergency 3)."""

    EMERGENCY = "emergency"
    CALL_NOW = "call-now"
    SAME_DAY = "same-day"
    ROUTINE = "routine"

    @property
    def rank(self) -> int:
        return RANK[self]


RANK: Mapping[TriageLevel, int] = {
    TriageLevel.ROUTINE: 0,
    TriageLevel.SAME_DAY: 1,
    TriageLevel.CALL_NOW: 2,
    TriageLevel.EMERGENCY: 3,
}
"""``TriageLevel.rank`` as a table: the engine reads it directly, a property call fewer per
rule that fired."""


class History(StrEnum):
    """A reported symptom against the latest earlier check-in."""

    NEW = "new"
    WORSE = "worse"
    PERSISTING = "persisting"


class RuleHistory(StrEnum):
    """Which histories a rule fires for."""

    ANY = "any"
    NEW = "new"
    NEW_OR_WORSE = "new-or-worse"
    PERSISTING = "persisting"


class Compare(StrEnum):
    """How a temperature rule compares the temperature (in C) with its threshold."""

    ABOVE = ">"
    AT_OR_ABOVE = ">="
    BELOW = "<"
    AT_OR_BELOW = "<="


COMPARE: Mapping[Compare, Callable[[Decimal, Decimal], bool]] = {
    Compare.ABOVE: operator.gt,
    Compare.AT_OR_ABOVE: operator.ge,
    Compare.BELOW: operator.lt,
    Compare.AT_OR_BELOW: operator.le,
}
"""``TemperatureRule.applies`` as a table: the engine reads it directly, a method call fewer
per temperature rule."""


@dataclass(frozen=True, slots=True)
class Instruction:
    """One plain-language instruction and its source id.

    ``therapies``: shown only to the patients of these therapies (``TherapyGuide`` ids;
    empty: to every patient). The rule set's default therapy stands for a context that
    names none.
    """

    text: str
    source: str
    therapies: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Guidance:
    """Instructions in three parts: what to do now, what to tell the team, what not to do."""

    do_now: tuple[Instruction, ...] = ()
    tell_team: tuple[Instruction, ...] = ()
    do_not: tuple[Instruction, ...] = ()

    def __add__(self, other: "Guidance") -> "Guidance":
        return Guidance(
            self.do_now + other.do_now,
            self.tell_team + other.tell_team,
            self.do_not + other.do_not,
        )

    def __bool__(self) -> bool:
        return bool(self.do_now or self.tell_team or self.do_not)

    def for_therapy(self, therapy: str) -> "Guidance":
        """The instructions shown to a patient of ``therapy``: those for every therapy and
        those for this one, in their order."""

        def shown(items: tuple[Instruction, ...]) -> tuple[Instruction, ...]:
            return tuple(i for i in items if not i.therapies or therapy in i.therapies)

        return Guidance(shown(self.do_now), shown(self.tell_team), shown(self.do_not))


@dataclass(frozen=True, slots=True)
class LevelGuide:
    """A level's plain-language name, its instructions and whether it alerts the team.

    ``in_hospital``: what to do now instead, for a patient recorded as in hospital (empty:
    the same as at home).
    """

    level: TriageLevel
    name: str
    alert_care_team: bool
    guidance: Guidance
    source: str
    in_hospital: tuple[Instruction, ...] = ()


@dataclass(frozen=True, slots=True)
class Symptom:
    """A symptom a check-in can report: a stable kebab-case id and a plain-language name.

    ``has_severity``: answered on the 0-4 severity scale (else a yes/no sign).
    ``red_flag``: always at least call-now, whatever the history.
    ``crisis_line``: the answer shows the clinic's crisis line.
    ``area``: the part of the body the check-in form shows it under (a ``SymptomArea``);
    only a way of showing the list, which no rule reads.
    ``therapies``: a sign asked only of the patients of these therapies (empty: of
    everyone); the check-in form may leave it out for the others, and its ``red_flag``
    holds for these therapies.
    """

    id: str
    name: str
    group: str
    has_severity: bool
    red_flag: bool
    source: str
    crisis_line: bool = False
    area: str = ""
    therapies: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class SymptomArea:
    """A part of the body, in plain words, under which the check-in form lists symptoms."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class TherapyGuide:
    """A therapy triage knows: a key of the therapy knowledge (``therapy_*.toml``,
    ``car_t.toml``), its name, the instructions added to every answer for its patients,
    and for a cell therapy (a CAR-T product) ``window_days``: the days after the cell
    infusion within which the rules with ``infusion_window`` fire (its monitoring period,
    with its own source)."""

    id: str
    name: str
    cell_therapy: bool
    guidance: Guidance
    source: str
    window_days: int | None = None
    window_source: str | None = None

    def in_window(self, days_since_infusion: int | None) -> bool:
        """Whether ``days_since_infusion`` is inside the window: from day 0 (the
        infusion) to ``window_days`` inclusive, or not known (an unknown course field
        never lowers the level); never for a therapy without a window.

        >>> car_t = TherapyGuide("car-t", "CAR-T", True, Guidance(), "s", window_days=14)
        >>> car_t.in_window(14), car_t.in_window(15), car_t.in_window(None)
        (True, False, True)
        """
        if self.window_days is None:
            return False
        return days_since_infusion is None or days_since_infusion <= self.window_days


@dataclass(frozen=True, slots=True)
class EmergencySign:
    """A sign that alone makes a check-in an emergency: ``symptom`` reported at
    ``severity`` (None for a yes/no sign) fires ``rule``, whatever else was reported and
    whatever the history. The family is asked about these first (``TriageRules.
    emergency_signs``)."""

    symptom: str
    severity: int | None
    rule: str
    source: str


@dataclass(frozen=True, slots=True)
class SymptomGroup:
    """A group of symptoms and the extra instructions shown when one of them is reported."""

    id: str
    name: str
    guidance: Guidance
    source: str


@dataclass(frozen=True, slots=True)
class SymptomRule:
    """Fires for each reported symptom in ``symptoms`` that meets every condition.

    ``min_severity`` / ``max_severity``: only at a severity in that range (a "not sure"
    counts as moderate, or severe with a yes to the follow-up). ``history``: only for
    these histories. ``min_rise``: only when the severity rose by at least this many
    points since the latest earlier answer for the symptom (none reported: no rise).
    ``with_any``: only if one of these is reported too. ``early_course``: only within the
    site's window after a start, step-up or restart (never when the site set none).
    ``therapies``: only for the patients of these therapies (empty: for everyone).
    ``infusion_window``: only inside the therapy's window after the cell infusion (see
    ``TherapyGuide.in_window``).
    """

    id: str
    level: TriageLevel
    symptoms: frozenset[str]
    reason: str
    source: str
    min_severity: int | None = None
    history: RuleHistory = RuleHistory.ANY
    with_any: frozenset[str] = frozenset()
    early_course: bool = False
    also_source: str | None = None
    max_severity: int | None = None
    min_rise: int | None = None
    therapies: frozenset[str] = frozenset()
    infusion_window: bool = False

    @property
    def fires_alone(self) -> bool:
        """Fires on one of its symptoms alone, at its ``min_severity``: no condition on
        the history, a rise, other symptoms, the therapy or the course, and no upper
        bound."""
        return (
            self.history is RuleHistory.ANY
            and not self.with_any
            and not self.early_course
            and self.min_rise is None
            and self.max_severity is None
            and not self.therapies
            and not self.infusion_window
        )

    def applies_to(self, therapy: str, in_window: bool) -> bool:
        """Whether the rule is in force for a patient of ``therapy`` (the default therapy
        when the context names none), ``in_window`` saying whether the day is inside the
        therapy's window after the cell infusion."""
        return (not self.therapies or therapy in self.therapies) and (
            in_window or not self.infusion_window
        )

    def meets(self, severity: int | None, history: History) -> bool:
        """The conditions on one symptom alone: its severity (as counted) and its history.

        The rest (the rise, the other symptoms, the course) needs the whole check-in and
        is left to the engine."""
        if severity is not None:
            if self.min_severity is not None and severity < self.min_severity:
                return False
            if self.max_severity is not None and severity > self.max_severity:
                return False
        if self.history is RuleHistory.ANY:
            return True
        if self.history is RuleHistory.NEW:
            return history is History.NEW
        persisting = history is History.PERSISTING
        return persisting if self.history is RuleHistory.PERSISTING else not persisting


@dataclass(frozen=True, slots=True)
class TemperatureRule:
    """Fires when the temperature in C ``compare``s true against ``threshold_c``;
    ``therapies`` and ``infusion_window`` limit it as a ``SymptomRule``'s do."""

    id: str
    level: TriageLevel
    compare: Compare
    threshold_c: Decimal
    reason: str
    source: str
    also_source: str | None = None
    therapies: frozenset[str] = frozenset()
    infusion_window: bool = False

    def applies(self, celsius: Decimal) -> bool:
        return COMPARE[self.compare](celsius, self.threshold_c)

    def applies_to(self, therapy: str, in_window: bool) -> bool:
        """As ``SymptomRule.applies_to``."""
        return (not self.therapies or therapy in self.therapies) and (
            in_window or not self.infusion_window
        )


@dataclass(frozen=True, slots=True)
class SameDayEscalation:
    """``min_findings`` or more distinct same-day findings raise the check-in to ``level``."""

    id: str
    min_findings: int
    level: TriageLevel
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """The rule reported when nothing fired."""

    id: str
    reason: str
    source: str
