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
    """One plain-language instruction and its source id."""

    text: str
    source: str


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
    """

    id: str
    name: str
    group: str
    has_severity: bool
    red_flag: bool
    source: str
    crisis_line: bool = False
    area: str = ""


@dataclass(frozen=True, slots=True)
class SymptomArea:
    """A part of the body, in plain words, under which the check-in form lists symptoms."""

    id: str
    name: str


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

    @property
    def fires_alone(self) -> bool:
        """Fires on one of its symptoms alone, at its ``min_severity``: no condition on
        the history, a rise, other symptoms or the course, and no upper bound."""
        return (
            self.history is RuleHistory.ANY
            and not self.with_any
            and not self.early_course
            and self.min_rise is None
            and self.max_severity is None
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
    """Fires when the temperature in C ``compare``s true against ``threshold_c``."""

    id: str
    level: TriageLevel
    compare: Compare
    threshold_c: Decimal
    reason: str
    source: str
    also_source: str | None = None

    def applies(self, celsius: Decimal) -> bool:
        return COMPARE[self.compare](celsius, self.threshold_c)


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
