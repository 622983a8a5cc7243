"""Home symptom triage: a check-in becomes a level, the rules that fired, and instructions.

``triage(check_in, context, rules, now=...)`` is pure. The rules are data
(``blina.knowledge`` builds them from ``knowledge/triage.toml``, each rule with its
source); the time is passed in, never read from a clock.

Levels, most urgent first: ``emergency``, ``call-now``, ``same-day``, ``routine``.
Safety over convenience (source ``triage-safety-first``):

- the level is the most urgent level of every rule that fired, so a red flag always wins;
- a severity left as "not sure" is missing, not the worst (PRO-CTCAE, source
  ``triage-not-sure``): it counts as moderate, and a yes to the one follow-up question
  ("Is it getting in the way of daily activities?") makes it severe; a "not sure" alone
  never reaches emergency services (the loader checks every emergency rule for it);
- two answers for one symptom keep the worse, and with no earlier check-in every symptom
  counts as new;
- a symptom is new when no earlier check-in in ``Context.recent`` reported it (or the
  latest that answered it said none); otherwise it is worse or persisting against that
  latest answer, and its rise in points is what the change rule reads (source
  ``triage-change-alert``);
- the answers are a set: their order never matters;
- the instructions are shown in full: what to do now, what to tell the team, and what
  never to do (flush the line, change the pump settings); a patient recorded as in
  hospital is told to call the nurse, not an ambulance (source ``triage-in-hospital``).

A temperature in Fahrenheit is converted exactly, (F - 32) x 5 / 9, before it is
compared, and the conversion is stated:

>>> Temperature(Decimal("100.4"), TemperatureUnit.F).describe()
'100.4 F = 38.00 C (converted: (F - 32) x 5 / 9)'
>>> sorted(TriageLevel, key=lambda level: level.rank)
[<TriageLevel.ROUTINE: 'routine'>, <TriageLevel.SAME_DAY: 'same-day'>, \
<TriageLevel.CALL_NOW: 'call-now'>, <TriageLevel.EMERGENCY: 'emergency'>]
"""

import dataclasses
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any, NamedTuple, NoReturn

from blina.domain.body import AgeGroup, Range
from blina.domain.errors import InvalidInput

__all__ = [
    "CheckIn",
    "Compare",
    "Context",
    "Finding",
    "FiredRule",
    "Guidance",
    "History",
    "Instruction",
    "LevelGuide",
    "Outcome",
    "RuleHistory",
    "SameDayEscalation",
    "Symptom",
    "SymptomAnswer",
    "SymptomGroup",
    "SymptomRule",
    "Temperature",
    "TemperatureRule",
    "TemperatureUnit",
    "Triage",
    "TriageLevel",
    "TriageRules",
    "triage",
]

TEMPERATURE = "temperature"
"""The trigger named by a temperature rule (symptom ids are kebab-case words)."""


class TriageLevel(StrEnum):
    """How soon to act; ``rank`` orders them (routine 0 ... emergency 3)."""

    EMERGENCY = "emergency"
    CALL_NOW = "call-now"
    SAME_DAY = "same-day"
    ROUTINE = "routine"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    TriageLevel.ROUTINE: 0,
    TriageLevel.SAME_DAY: 1,
    TriageLevel.CALL_NOW: 2,
    TriageLevel.EMERGENCY: 3,
}


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


_COMPARE: Mapping[Compare, Callable[[Decimal, Decimal], bool]] = {
    Compare.ABOVE: operator.gt,
    Compare.AT_OR_ABOVE: operator.ge,
    Compare.BELOW: operator.lt,
    Compare.AT_OR_BELOW: operator.le,
}


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

    def describe(self) -> str:
        """The temperature as entered and, from F, the conversion to C (shown to 0.01 C)."""
        if self.unit is TemperatureUnit.C:
            return f"{self.value} C"
        shown = self.celsius.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)
        return f"{self.value} F = {shown} C (converted: (F - 32) x 5 / 9)"


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
    """

    cycle_day: int | None = None
    infusing: bool | None = None
    days_since_start_or_step_up: int | None = None
    age_group: AgeGroup | None = None
    recent: tuple[CheckIn, ...] = ()
    in_hospital: bool | None = None

    def __post_init__(self) -> None:
        _check_whole("cycle_day", self.cycle_day, 1)
        _check_whole("days_since_start_or_step_up", self.days_since_start_or_step_up, 0)


# --- the rules, as data ----------------------------------------------------------------


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
    """

    id: str
    name: str
    group: str
    has_severity: bool
    red_flag: bool
    source: str
    crisis_line: bool = False


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
        return _COMPARE[self.compare](celsius, self.threshold_c)


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


@dataclass(frozen=True, slots=True)
class TriageRules:
    """Everything triage needs, as data; ``symptoms`` and ``groups`` in display order.

    ``unknown_severity`` is what a "not sure" counts as (moderate), ``interferes_severity``
    what it counts as with a yes to ``follow_up`` (severe); both cite ``unknown_source``.
    ``repeated_source`` cites the rule for two answers to one symptom (the worse counts).
    ``early_course_days`` and ``acknowledgement_minutes`` are site parameters: the
    reference gives no value. The shipped knowledge names a conservative default window
    (a site parameter, not a clinical fact) and leaves the acknowledgement times None.
    """

    symptoms: Mapping[str, Symptom]
    groups: Mapping[str, SymptomGroup]
    rules: tuple[SymptomRule, ...]
    temperature_rules: tuple[TemperatureRule, ...]
    levels: Mapping[TriageLevel, LevelGuide]
    always: Guidance
    infusing: Guidance
    pediatric_note: Instruction
    no_rule: Outcome
    same_day_escalation: SameDayEscalation
    severity_words: tuple[str, ...]
    severity_source: str
    unknown_source: str
    unknown_severity: int
    interferes_severity: int
    follow_up: str
    repeated_source: str
    temperature_c: Range
    temperature_f: Range
    plausibility_source: str
    early_course_days: int | None
    early_course_source: str
    acknowledgement_minutes: Mapping[TriageLevel, int | None]
    acknowledgement_source: str
    _matching: Mapping[tuple[str, int | None, History], tuple[int, ...]] = field(
        init=False, repr=False, compare=False
    )
    _rising: tuple[tuple[int, SymptomRule], ...] = field(init=False, repr=False, compare=False)
    _base: Mapping[tuple[TriageLevel, bool, bool], Guidance] = field(
        init=False, repr=False, compare=False
    )
    _symptom_order: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _guided_group: Mapping[str, SymptomGroup] = field(init=False, repr=False, compare=False)
    _base_with_group: Mapping[tuple[TriageLevel, bool, bool, str], Guidance] = field(
        init=False, repr=False, compare=False
    )
    _finding: Mapping[tuple[str, int | None, bool | None, History], "Finding"] = field(
        init=False, repr=False, compare=False
    )
    _crisis: frozenset[str] = field(init=False, repr=False, compare=False)
    _fired_by: Mapping[tuple[int, str], "FiredRule"] = field(init=False, repr=False, compare=False)
    _fired_by_temperature: tuple[tuple["TemperatureRule", "FiredRule"], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Everything that depends only on (symptom, severity, history), on one rule or on
        # the level is decided here, once, so that triage itself mostly looks things up.
        # A rule on the rise in points is left to triage: the rise is not in the key.
        severities: tuple[int | None, ...] = (None, *range(1, self.max_severity + 1))
        keys = [(s, severity, h) for s in self.symptoms for severity in severities for h in History]
        answered = [
            (s, severity, interferes, h)
            for s, severity, h in keys
            for interferes in ((None,) if severity is not None else (None, False, True))
        ]
        guided = {
            s.id: self.groups[s.group]
            for s in self.symptoms.values()
            if self.groups[s.group].guidance
        }
        base = {
            (level, infusing, hospital): _level_guidance(guide, hospital)
            + self.always
            + (self.infusing if infusing else Guidance())
            for level, guide in self.levels.items()
            for infusing in (False, True)
            for hospital in (False, True)
        }
        derived: dict[str, object] = {
            "_matching": {
                (s, severity, h): tuple(
                    i
                    for i, rule in enumerate(self.rules)
                    if rule.min_rise is None and s in rule.symptoms and _meets(rule, severity, h)
                )
                for s, severity, h in keys
            },
            "_rising": tuple(
                (i, rule) for i, rule in enumerate(self.rules) if rule.min_rise is not None
            ),
            "_finding": {
                (s, severity, interferes, h): Finding(
                    s,
                    self.symptoms[s].name,
                    self.symptoms[s].has_severity,
                    severity,
                    h,
                    self._counted(s, severity, interferes),
                    interferes,
                )
                for s, severity, interferes, h in answered
            },
            "_fired_by": {
                (i, s): _fired(rule, (s,))
                for i, rule in enumerate(self.rules)
                for s in rule.symptoms
            },
            "_fired_by_temperature": tuple(
                (rule, _fired(rule, (TEMPERATURE,))) for rule in self.temperature_rules
            ),
            "_symptom_order": {s: i for i, s in enumerate(self.symptoms)},
            "_guided_group": guided,
            "_base": base,
            "_base_with_group": {
                (level, infusing, hospital, group.id): guidance + group.guidance
                for (level, infusing, hospital), guidance in base.items()
                for group in set(guided.values())
            },
            "_crisis": frozenset(s.id for s in self.symptoms.values() if s.crisis_line),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @property
    def max_severity(self) -> int:
        return len(self.severity_words) - 1

    def _counted(self, symptom: str, severity: int | None, interferes: bool | None) -> int | None:
        """The severity the rules read: as answered; a "not sure" as moderate, or severe
        with a yes to the follow-up; None for a yes/no sign."""
        if severity is not None or not self.symptoms[symptom].has_severity:
            return severity
        return self.interferes_severity if interferes else self.unknown_severity

    def rules_for(
        self, symptom: str, severity: int | None, history: History
    ) -> tuple[SymptomRule, ...]:
        """The rules that fire for ``symptom`` at ``severity`` (as counted: a "not sure"
        already made moderate or severe) with ``history``, before the conditions on the
        rise (``min_rise``), on other symptoms (``with_any``) and on the course
        (``early_course``)."""
        matching = self._matching[symptom, severity, history]
        rising = tuple(
            rule
            for _, rule in self._rising
            if symptom in rule.symptoms and _meets(rule, severity, history)
        )
        return tuple(self.rules[index] for index in matching) + rising


def _level_guidance(guide: LevelGuide, in_hospital: bool) -> Guidance:
    if not in_hospital or not guide.in_hospital:
        return guide.guidance
    return dataclasses.replace(guide.guidance, do_now=guide.in_hospital)


def _fired(rule: "SymptomRule | TemperatureRule", triggers: tuple[str, ...]) -> "FiredRule":
    return FiredRule(rule.id, rule.level, rule.reason, rule.source, triggers, rule.also_source)


def _meets(rule: SymptomRule, severity: int | None, history: History) -> bool:
    if severity is not None:
        if rule.min_severity is not None and severity < rule.min_severity:
            return False
        if rule.max_severity is not None and severity > rule.max_severity:
            return False
    if rule.history is RuleHistory.ANY:
        return True
    if rule.history is RuleHistory.NEW:
        return history is History.NEW
    persisting = history is History.PERSISTING
    return persisting if rule.history is RuleHistory.PERSISTING else not persisting


# --- the result ------------------------------------------------------------------------


class Finding(NamedTuple):
    """A reported symptom as triaged. ``severity`` None with ``has_severity``: "not sure";
    ``counted_as`` is the severity the rules read (None for a yes/no sign), and
    ``interferes`` the answer to the follow-up question."""

    symptom: str
    name: str
    has_severity: bool
    severity: int | None
    history: History
    counted_as: int | None = None
    interferes: bool | None = None


class FiredRule(NamedTuple):
    """A rule that fired: why, its source, and what triggered it (symptom ids or
    ``"temperature"``)."""

    id: str
    level: TriageLevel
    reason: str
    source: str
    triggers: tuple[str, ...]
    also_source: str | None = None


class Triage(NamedTuple):
    """The answer to a check-in, ready for a person, a service and storage.

    ``alert_care_team`` says whether the care team is alerted (call-now and emergency);
    ``crisis_line`` whether the answer shows the clinic's crisis line (thoughts of
    self-harm); ``to_dict()`` is the JSON-ready form (every value a str, int, bool,
    None, list or dict; decimals as exact text).

    Immutable like every domain value, but a ``NamedTuple`` rather than a frozen
    dataclass: the frozen dataclass's ``__init__`` alone took a fifth of a triage, and
    issue 6 asks for 100,000 decisions a second on one core.
    """

    level: TriageLevel
    alert_care_team: bool
    rules: tuple[FiredRule, ...]
    instructions: Guidance
    findings: tuple[Finding, ...]
    temperature: Temperature | None
    context: Context
    observed_at: datetime
    notes: tuple[str, ...] = ()
    free_text: str = ""
    crisis_line: bool = False

    def to_dict(self) -> dict[str, Any]:
        temperature = self.temperature
        context = self.context
        return {
            "level": str(self.level),
            "alert": self.alert_care_team,
            "crisis_line": self.crisis_line,
            "rules": [
                {
                    "id": rule.id,
                    "level": str(rule.level),
                    "reason": rule.reason,
                    "source": rule.source,
                    "also_source": rule.also_source,
                    "triggers": list(rule.triggers),
                }
                for rule in self.rules
            ],
            "instructions": {
                "do_now": _instructions(self.instructions.do_now),
                "tell_team": _instructions(self.instructions.tell_team),
                "do_not": _instructions(self.instructions.do_not),
            },
            "symptoms": [
                {
                    "id": finding.symptom,
                    "name": finding.name,
                    "severity_applies": finding.has_severity,
                    "severity": finding.severity,
                    "counted_as": finding.counted_as,
                    "interferes": finding.interferes,
                    "history": str(finding.history),
                }
                for finding in self.findings
            ],
            "temperature": None
            if temperature is None
            else {
                "value": str(temperature.value),
                "unit": str(temperature.unit),
                "celsius": str(temperature.celsius.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)),
                "as_entered": temperature.describe(),
            },
            "context": {
                "cycle_day": context.cycle_day,
                "infusing": context.infusing,
                "days_since_start_or_step_up": context.days_since_start_or_step_up,
                "age_group": None if context.age_group is None else str(context.age_group),
                "recent_check_ins": len(context.recent),
                "in_hospital": context.in_hospital,
            },
            "observed_at": self.observed_at.isoformat(),
            "notes": list(self.notes),
            "free_text": self.free_text,
        }


def _instructions(items: tuple[Instruction, ...]) -> list[dict[str, str]]:
    return [{"text": item.text, "source": item.source} for item in items]


# --- triage --------------------------------------------------------------------------


def triage(check_in: CheckIn, context: Context, rules: TriageRules, *, now: datetime) -> Triage:
    """Triage one check-in.

    Parameters
    ----------
    check_in
        The answers, the temperature (C or F) and the time they were observed.
    context
        The course now: cycle day, infusing, days since a start, step-up or restart, age
        group, in hospital, earlier check-ins. An unknown course field never lowers the
        level; without earlier check-ins every symptom is new.
    rules
        The triage rules (``load_knowledge().triage``).
    now
        The current instant (aware); a check-in may not be later.

    Returns
    -------
    Triage
        The level, every rule that fired (most urgent first) with its source, the
        instructions in full, and whether the care team is alerted.

    Raises
    ------
    InvalidInput
        An unknown symptom, a severity outside 0-4 (or given for a yes/no sign), a
        follow-up answer given with a severity, a temperature outside the plausible
        range, a naive time, or a check-in dated after ``now``.
    """
    _check_time(check_in.observed_at, now)
    answers = _merge(check_in.answers, rules)
    previous = _previous(check_in.observed_at, context.recent, rules) if context.recent else {}
    findings, rises = _findings(answers, previous, rules)
    fired = _symptom_rules(findings, rises, context, rules)
    if check_in.temperature is not None:
        fired += _temperature_rules(check_in.temperature, rules)
    fired = _escalate(fired, rules)
    if fired:
        # Stable: within a level, rules keep their order in the file.
        fired.sort(key=_by_rank, reverse=True)
        level = fired[0].level
    else:
        outcome = rules.no_rule
        level = TriageLevel.ROUTINE
        fired = [FiredRule(outcome.id, level, outcome.reason, outcome.source, ())]
    return Triage(
        level=level,
        alert_care_team=rules.levels[level].alert_care_team,
        rules=tuple(fired),
        instructions=_guidance(level, findings, context, rules),
        findings=findings,
        temperature=check_in.temperature,
        context=context,
        observed_at=check_in.observed_at,
        notes=_notes(check_in, answers, findings, context, rules),
        free_text=check_in.free_text,
        crisis_line=any(finding.symptom in rules._crisis for finding in findings),
    )


def _by_rank(rule: FiredRule) -> int:
    return _RANK[rule.level]


def _check_time(observed_at: datetime, now: datetime) -> None:
    if now.utcoffset() is None:
        raise InvalidInput("now", now.isoformat(), "a date-time with a UTC offset")
    if observed_at.utcoffset() is None:
        raise InvalidInput("observed_at", observed_at.isoformat(), "a date-time with a UTC offset")
    if observed_at > now:
        raise InvalidInput(
            "observed_at", observed_at.isoformat(), f"no later than now ({now.isoformat()})"
        )


_Answer = tuple[int | None, bool | None]
"""A symptom's answer: its severity (None: not sure, or a yes/no sign) and follow-up."""


def _merge(answers: tuple[SymptomAnswer, ...], rules: TriageRules) -> dict[str, _Answer]:
    """One answer per symptom: the worse of repeated answers, as counted."""
    catalogue = rules.symptoms
    top = rules.max_severity
    merged: dict[str, _Answer] = {}
    for answer in answers:
        symptom_id, severity, interferes = answer.symptom, answer.severity, answer.interferes
        symptom = catalogue.get(symptom_id)
        if symptom is None:
            raise InvalidInput("symptom", symptom_id, "one of the known symptom ids")
        if severity is not None and (
            not symptom.has_severity or type(severity) is not int or not 0 <= severity <= top
        ):
            _refuse_severity(symptom, severity, rules)
        if interferes is not None and (
            severity is not None or not symptom.has_severity or type(interferes) is not bool
        ):
            _refuse_follow_up(symptom, interferes, rules)
        given = (severity, interferes)
        merged[symptom_id] = (
            given if symptom_id not in merged else _worse(rules, merged[symptom_id], given)
        )
    return merged


def _refuse_severity(symptom: Symptom, severity: object, rules: TriageRules) -> NoReturn:
    field_name = f"{symptom.id} severity"
    if not symptom.has_severity:
        raise InvalidInput(field_name, severity, "left out (a yes/no sign has no severity)")
    words, top = rules.severity_words, rules.max_severity
    raise InvalidInput(
        field_name,
        severity,
        f"a whole number from 0 ({words[0]}) to {top} ({words[top]}), or left out if not known",
    )


def _refuse_follow_up(symptom: Symptom, interferes: object, rules: TriageRules) -> NoReturn:
    field_name = f"{symptom.id} interferes"
    if not symptom.has_severity:
        raise InvalidInput(field_name, interferes, "left out (a yes/no sign has no severity)")
    if type(interferes) is not bool:
        raise InvalidInput(field_name, interferes, "true or false, or left out")
    raise InvalidInput(
        field_name, interferes, "left out when a severity is given (it answers a 'not sure')"
    )


def _worse(rules: TriageRules, first: _Answer, second: _Answer) -> _Answer:
    """The worse of two answers as counted; on a tie, a severity given beats a "not sure",
    and of two "not sure" the follow-up answered (yes before no) is kept."""
    if first[0] is None and second[0] is None:
        answered = {first[1], second[1]}
        return (None, True if True in answered else False if False in answered else None)
    first_count = first[0] if first[0] is not None else _unknown(rules, first[1])
    second_count = second[0] if second[0] is not None else _unknown(rules, second[1])
    if first_count != second_count:
        return first if first_count > second_count else second
    return first if first[0] is not None else second


def _unknown(rules: TriageRules, interferes: bool | None) -> int:
    return rules.interferes_severity if interferes else rules.unknown_severity


def _notes(
    check_in: CheckIn,
    answers: dict[str, _Answer],
    findings: tuple[Finding, ...],
    context: Context,
    rules: TriageRules,
) -> tuple[str, ...]:
    notes: list[str] = []
    if len(answers) != len(check_in.answers):
        notes += (
            _repeated_note(rules.symptoms[s], check_in.answers, rules)
            for s in _in_order(answers, rules)
            if sum(1 for a in check_in.answers if a.symptom == s) > 1
        )
    words = rules.severity_words
    for finding in findings:
        if finding.severity is None and finding.has_severity:
            note = (
                f"{finding.name}: not sure how bad, so it counts as {words[rules.unknown_severity]}"
            )
            if finding.interferes:
                note += (
                    "; it gets in the way of daily activities, so it counts as "
                    f"{words[rules.interferes_severity]}"
                )
            notes.append(note + ".")
    if context.age_group is AgeGroup.PEDIATRIC:
        notes.append(rules.pediatric_note.text)
    if check_in.free_text and not check_in.free_text.isspace():
        notes.append("The note is passed to the care team as written; the rules do not read it.")
    return tuple(notes)


def _repeated_note(symptom: Symptom, answers: tuple[SymptomAnswer, ...], rules: TriageRules) -> str:
    given = sorted(
        {a.severity for a in answers if a.symptom == symptom.id},
        key=lambda severity: rules.max_severity + 1 if severity is None else severity,
    )
    shown = ", ".join("not sure" if s is None else str(s) for s in given)
    return f"{symptom.name}: answered more than once ({shown}); the worse answer counts."


def _in_order(symptoms: Iterable[str], rules: TriageRules) -> list[str]:
    order = rules._symptom_order
    return sorted(symptoms, key=order.__getitem__)


def _previous(
    observed_at: datetime, recent: tuple[CheckIn, ...], rules: TriageRules
) -> dict[str, int | None]:
    """Each symptom's latest earlier answer, as counted (answers at the same instant
    merged, the worse kept; a yes/no sign as None). Check-ins later than this one are
    left out."""
    latest: dict[str, datetime] = {}
    answers: dict[str, int | None] = {}
    catalogue = rules.symptoms
    for earlier in recent:
        at = earlier.observed_at
        if at.utcoffset() is None:
            raise InvalidInput(
                "recent.observed_at", at.isoformat(), "a date-time with a UTC offset"
            )
        if at > observed_at:
            continue
        for answer in earlier.answers:
            symptom = catalogue.get(answer.symptom)
            # An id no longer in the symptom list is left out: the symptom then counts as new.
            if symptom is None:
                continue
            counted = (
                None
                if not symptom.has_severity
                else answer.severity
                if answer.severity is not None
                else _unknown(rules, answer.interferes)
            )
            seen = latest.get(symptom.id)
            if seen is None or at > seen:
                latest[symptom.id] = at
                answers[symptom.id] = counted
            elif at == seen and counted is not None:
                before = answers[symptom.id]
                answers[symptom.id] = counted if before is None else max(before, counted)
    return answers


def _findings(
    answers: dict[str, _Answer], previous: dict[str, int | None], rules: TriageRules
) -> tuple[tuple[Finding, ...], dict[str, int]]:
    """The reported symptoms (severity 0 is 'none', not reported), in display order, and
    the rise in points of those that rose from an earlier answer."""
    items = list(answers.items())
    if len(items) > 1:
        order = rules._symptom_order
        items.sort(key=lambda item: order[item[0]])
    cached = rules._finding
    findings: list[Finding] = []
    rises: dict[str, int] = {}
    for symptom_id, (severity, interferes) in items:
        if severity == 0:
            continue
        history = History.NEW
        if symptom_id in previous:
            counted = cached[symptom_id, severity, interferes, History.NEW].counted_as
            history, rise = _history(counted, previous[symptom_id])
            if rise is not None:
                rises[symptom_id] = rise
        findings.append(cached[symptom_id, severity, interferes, history])
    return tuple(findings), rises


def _history(counted: int | None, before: int | None) -> tuple[History, int | None]:
    """The history against the latest earlier answer, and the rise in points (None when
    the severity did not rise, or for a yes/no sign)."""
    if counted is None or before is None:
        return History.PERSISTING, None
    rise = counted - before
    if before == 0:
        return History.NEW, rise
    if rise > 0:
        return History.WORSE, rise
    return History.PERSISTING, None


def _symptom_rules(
    findings: tuple[Finding, ...], rises: dict[str, int], context: Context, rules: TriageRules
) -> list[FiredRule]:
    matching = rules._matching
    triggers: dict[int, list[str]] = {}
    for finding in findings:
        for index in matching[finding.symptom, finding.counted_as, finding.history]:
            found = triggers.get(index)
            if found is None:
                triggers[index] = [finding.symptom]
            else:
                found.append(finding.symptom)
    if rises:
        for index, rule in rules._rising:
            assert rule.min_rise is not None
            rose = [
                f.symptom
                for f in findings
                if f.symptom in rule.symptoms
                and rises.get(f.symptom, 0) >= rule.min_rise
                and _meets(rule, f.counted_as, f.history)
            ]
            if rose:
                triggers[index] = rose
    fired: list[FiredRule] = []
    all_rules = rules.rules
    for index in sorted(triggers):
        rule = all_rules[index]
        if rule.with_any and all(f.symptom not in rule.with_any for f in findings):
            continue
        if rule.early_course and not _in_early_course(context, rules):
            continue
        symptoms = triggers[index]
        if len(symptoms) == 1:
            fired.append(rules._fired_by[index, symptoms[0]])
        else:
            fired.append(_fired(rule, tuple(symptoms)))
    return fired


def _in_early_course(context: Context, rules: TriageRules) -> bool:
    window = rules.early_course_days
    if window is None:
        return False
    days = context.days_since_start_or_step_up
    return days is None or days <= window


def _temperature_rules(temperature: Temperature, rules: TriageRules) -> list[FiredRule]:
    allowed = rules.temperature_c if temperature.unit is TemperatureUnit.C else rules.temperature_f
    if temperature.value not in allowed:
        raise InvalidInput(temperature.field, temperature.value, allowed.describe())
    celsius = temperature.celsius
    return [
        fired
        for rule, fired in rules._fired_by_temperature
        if _COMPARE[rule.compare](celsius, rule.threshold_c)
    ]


def _escalate(fired: list[FiredRule], rules: TriageRules) -> list[FiredRule]:
    """UKONS: more than one same-day finding (distinct triggers) raises the level."""
    triggers: set[str] = set()
    for rule in fired:
        if rule.level is TriageLevel.SAME_DAY:
            triggers.update(rule.triggers)
    escalation = rules.same_day_escalation
    if len(triggers) < escalation.min_findings:
        return fired
    order = rules._symptom_order
    ordered = tuple(sorted(triggers, key=lambda t: order.get(t, len(order))))
    return [
        *fired,
        FiredRule(escalation.id, escalation.level, escalation.reason, escalation.source, ordered),
    ]


def _guidance(
    level: TriageLevel, findings: tuple[Finding, ...], context: Context, rules: TriageRules
) -> Guidance:
    guided = rules._guided_group
    groups: list[SymptomGroup] = []
    for finding in findings:
        group = guided.get(finding.symptom)
        if group is not None and group not in groups:
            groups.append(group)
    infusing = context.infusing is not False
    hospital = context.in_hospital is True
    if not groups:
        return rules._base[level, infusing, hospital]
    if len(groups) == 1:
        return rules._base_with_group[level, infusing, hospital, groups[0].id]
    guidance = rules._base[level, infusing, hospital]
    for group in groups:
        guidance += group.guidance
    return guidance


def _check_whole(field_name: str, value: int | None, low: int) -> None:
    if value is None:
        return
    if type(value) is not int or value < low:
        raise InvalidInput(field_name, value, f"a whole number >= {low}")
