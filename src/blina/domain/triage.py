"""Home symptom triage: a check-in becomes a level, the rules that fired, and instructions.

``triage(check_in, context, rules, now=...)`` is pure. The rules are data
(``blina.knowledge`` builds them from ``knowledge/triage.toml``, each rule with its
source); the time is passed in, never read from a clock.

Levels, most urgent first: ``emergency``, ``call-now``, ``same-day``, ``routine``.
Safety over convenience (source ``triage-safety-first``):

- the level is the most urgent level of every rule that fired, so a red flag always wins;
- a severity that is not given counts as the worst, two answers for one symptom keep the
  worse, and with no earlier check-in every symptom counts as new: an unknown or
  contradictory answer never lowers the level;
- the answers are a set: their order never matters;
- the instructions are shown in full: what to do now, what to tell the team, and what
  never to do (flush the line, change the pump settings).

A temperature in Fahrenheit is converted exactly, (F - 32) x 5 / 9, before it is
compared, and the conversion is stated:

>>> Temperature(Decimal("100.4"), TemperatureUnit.F).describe()
'100.4 F = 38.00 C (converted: (F - 32) x 5 / 9)'
>>> sorted(TriageLevel, key=lambda level: level.rank)
[<TriageLevel.ROUTINE: 'routine'>, <TriageLevel.SAME_DAY: 'same-day'>, \
<TriageLevel.CALL_NOW: 'call-now'>, <TriageLevel.EMERGENCY: 'emergency'>]
"""

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

    ``severity`` is None for a yes/no sign, or when the severity is not known.
    """

    symptom: str
    severity: int | None = None


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
    ) -> "CheckIn":
        """A check-in from ``{symptom: severity}`` or ``(symptom, severity)`` pairs."""
        pairs = symptoms.items() if isinstance(symptoms, Mapping) else symptoms
        answers = tuple(SymptomAnswer(symptom, severity) for symptom, severity in pairs)
        return cls(observed_at, answers, temperature, free_text)


@dataclass(frozen=True, slots=True)
class Context:
    """What the course says about the patient now; every field may be unknown (None).

    ``recent`` holds earlier check-ins (the caller chooses how far back); the latest one
    at or before this check-in tells whether a symptom is new, worse or persisting.
    """

    cycle_day: int | None = None
    infusing: bool | None = None
    days_since_start_or_step_up: int | None = None
    age_group: AgeGroup | None = None
    recent: tuple[CheckIn, ...] = ()

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
    """A level's plain-language name, its instructions and whether it alerts the team."""

    level: TriageLevel
    name: str
    alert_care_team: bool
    guidance: Guidance
    source: str


@dataclass(frozen=True, slots=True)
class Symptom:
    """A symptom a check-in can report: a stable kebab-case id and a plain-language name.

    ``has_severity``: answered on the 0-4 severity scale (else a yes/no sign).
    ``red_flag``: always at least call-now, whatever the history.
    """

    id: str
    name: str
    group: str
    has_severity: bool
    red_flag: bool
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

    ``min_severity``: only at this severity or worse (an unknown severity always meets
    it). ``history``: only for these histories. ``with_any``: only if one of these is
    reported too. ``early_course``: only within the site's window after a start or
    step-up (never when the site set none).
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

    ``early_course_days`` and ``acknowledgement_minutes`` are site parameters: the
    reference gives no value, so the shipped knowledge leaves them None.
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
    _base: Mapping[tuple[TriageLevel, bool], Guidance] = field(
        init=False, repr=False, compare=False
    )
    _symptom_order: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _guided_group: Mapping[str, SymptomGroup] = field(init=False, repr=False, compare=False)
    _base_with_group: Mapping[tuple[TriageLevel, bool, str], Guidance] = field(
        init=False, repr=False, compare=False
    )
    _finding: Mapping[tuple[str, int | None, History], "Finding"] = field(
        init=False, repr=False, compare=False
    )
    _fired_by: Mapping[tuple[int, str], "FiredRule"] = field(init=False, repr=False, compare=False)
    _fired_by_temperature: tuple[tuple["TemperatureRule", "FiredRule"], ...] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Everything that depends only on (symptom, severity, history), on one rule or on
        # the level is decided here, once, so that triage itself mostly looks things up.
        severities: tuple[int | None, ...] = (None, *range(1, self.max_severity + 1))
        keys = [(s, severity, h) for s in self.symptoms for severity in severities for h in History]
        guided = {
            s.id: self.groups[s.group]
            for s in self.symptoms.values()
            if self.groups[s.group].guidance
        }
        base = {
            (level, infusing): guide.guidance
            + self.always
            + (self.infusing if infusing else Guidance())
            for level, guide in self.levels.items()
            for infusing in (False, True)
        }
        derived: dict[str, object] = {
            "_matching": {
                (s, severity, h): tuple(
                    i
                    for i, rule in enumerate(self.rules)
                    if s in rule.symptoms and _meets(rule, severity, h)
                )
                for s, severity, h in keys
            },
            "_finding": {
                (s, severity, h): Finding(
                    s, self.symptoms[s].name, self.symptoms[s].has_severity, severity, h
                )
                for s, severity, h in keys
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
                (level, infusing, group.id): guidance + group.guidance
                for (level, infusing), guidance in base.items()
                for group in set(guided.values())
            },
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    @property
    def max_severity(self) -> int:
        return len(self.severity_words) - 1

    def rules_for(
        self, symptom: str, severity: int | None, history: History
    ) -> tuple[SymptomRule, ...]:
        """The rules that fire for ``symptom`` at ``severity`` with ``history``, before the
        conditions on other symptoms (``with_any``) and on the course (``early_course``)."""
        return tuple(self.rules[index] for index in self._matching[symptom, severity, history])


def _fired(rule: "SymptomRule | TemperatureRule", triggers: tuple[str, ...]) -> "FiredRule":
    return FiredRule(rule.id, rule.level, rule.reason, rule.source, triggers, rule.also_source)


def _meets(rule: SymptomRule, severity: int | None, history: History) -> bool:
    if rule.min_severity is not None and severity is not None and severity < rule.min_severity:
        return False
    if rule.history is RuleHistory.ANY:
        return True
    persisting = history is History.PERSISTING
    return persisting if rule.history is RuleHistory.PERSISTING else not persisting


# --- the result ------------------------------------------------------------------------


class Finding(NamedTuple):
    """A reported symptom as triaged. ``severity`` None with ``has_severity``: not given."""

    symptom: str
    name: str
    has_severity: bool
    severity: int | None
    history: History


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
    ``to_dict()`` is the JSON-ready form (every value a str, int, bool, None, list or
    dict; decimals as exact text).

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

    def to_dict(self) -> dict[str, Any]:
        temperature = self.temperature
        context = self.context
        return {
            "level": str(self.level),
            "alert": self.alert_care_team,
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
        The course now: cycle day, infusing, days since a start or step-up, age group,
        earlier check-ins. Unknown fields never lower the level.
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
        temperature outside the plausible range, a naive time, or a check-in dated
        after ``now``.
    """
    _check_time(check_in.observed_at, now)
    answers = _merge(check_in.answers, rules)
    previous = _previous(check_in.observed_at, context.recent, rules) if context.recent else None
    findings = _findings(answers, previous, rules)
    fired = _symptom_rules(findings, context, rules)
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


def _merge(answers: tuple[SymptomAnswer, ...], rules: TriageRules) -> dict[str, int | None]:
    """One severity per symptom: the worse of repeated answers (unknown is the worst)."""
    catalogue = rules.symptoms
    top = rules.max_severity
    merged: dict[str, int | None] = {}
    for answer in answers:
        symptom_id, severity = answer.symptom, answer.severity
        symptom = catalogue.get(symptom_id)
        if symptom is None:
            raise InvalidInput("symptom", symptom_id, "one of the known symptom ids")
        if severity is not None and (
            not symptom.has_severity or type(severity) is not int or not 0 <= severity <= top
        ):
            _refuse_severity(symptom, severity, rules)
        if symptom_id in merged:
            merged[symptom_id] = _worse(merged[symptom_id], severity)
        else:
            merged[symptom_id] = severity
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


def _worse(first: int | None, second: int | None) -> int | None:
    if first is None or second is None:
        return None
    return max(first, second)


def _notes(
    check_in: CheckIn,
    answers: dict[str, int | None],
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
    for finding in findings:
        if finding.severity is None and finding.has_severity:
            notes.append(
                f"{finding.name}: no severity given, so it counts as the worst "
                f"({rules.severity_words[-1]})."
            )
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
    shown = ", ".join("not given" if s is None else str(s) for s in given)
    return f"{symptom.name}: answered more than once ({shown}); the worse answer counts."


def _in_order(symptoms: Iterable[str], rules: TriageRules) -> list[str]:
    order = rules._symptom_order
    return sorted(symptoms, key=order.__getitem__)


def _previous(
    observed_at: datetime, recent: tuple[CheckIn, ...], rules: TriageRules
) -> dict[str, int | None] | None:
    """The answers of the latest earlier check-in (merged, worse kept), or None."""
    latest: datetime | None = None
    chosen: list[CheckIn] = []
    for earlier in recent:
        at = earlier.observed_at
        if at.utcoffset() is None:
            raise InvalidInput(
                "recent.observed_at", at.isoformat(), "a date-time with a UTC offset"
            )
        if at > observed_at:
            continue
        if latest is None or at > latest:
            latest, chosen = at, [earlier]
        elif at == latest:
            chosen.append(earlier)
    if latest is None:
        return None
    answers: dict[str, int | None] = {}
    for earlier in chosen:
        for answer in earlier.answers:
            # An id no longer in the symptom list is left out: the symptom then counts as new.
            if answer.symptom not in rules.symptoms:
                continue
            if answer.symptom in answers:
                answers[answer.symptom] = _worse(answers[answer.symptom], answer.severity)
            else:
                answers[answer.symptom] = answer.severity
    return answers


def _findings(
    answers: dict[str, int | None], previous: dict[str, int | None] | None, rules: TriageRules
) -> tuple[Finding, ...]:
    """The reported symptoms (severity 0 is 'none', not reported), in display order."""
    items = list(answers.items())
    if len(items) > 1:
        order = rules._symptom_order
        items.sort(key=lambda item: order[item[0]])
    catalogue = rules.symptoms
    cached = rules._finding
    return tuple(
        cached[
            symptom_id,
            severity,
            History.NEW
            if previous is None
            else _history(catalogue[symptom_id], severity, previous),
        ]
        for symptom_id, severity in items
        if severity != 0
    )


def _history(symptom: Symptom, severity: int | None, previous: dict[str, int | None]) -> History:
    if symptom.id not in previous:
        return History.NEW
    before = previous[symptom.id]
    if symptom.has_severity:
        if before == 0:
            return History.NEW
        if severity is None or before is None or severity > before:
            return History.WORSE
    return History.PERSISTING


def _symptom_rules(
    findings: tuple[Finding, ...], context: Context, rules: TriageRules
) -> list[FiredRule]:
    matching = rules._matching
    triggers: dict[int, list[str]] = {}
    for finding in findings:
        for index in matching[finding.symptom, finding.severity, finding.history]:
            found = triggers.get(index)
            if found is None:
                triggers[index] = [finding.symptom]
            else:
                found.append(finding.symptom)
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
    if not groups:
        return rules._base[level, infusing]
    if len(groups) == 1:
        return rules._base_with_group[level, infusing, groups[0].id]
    guidance = rules._base[level, infusing]
    for group in groups:
        guidance += group.guidance
    return guidance


def _check_whole(field_name: str, value: int | None, low: int) -> None:
    if value is None:
        return
    if type(value) is not int or value < low:
        raise InvalidInput(field_name, value, f"a whole number >= {low}")
