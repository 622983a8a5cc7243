"""The rule set: every symptom, rule, level and site parameter triage reads, as one value.

``blina.knowledge`` builds the shipped ``TriageRules`` from ``knowledge/triage.toml``
and checks it (``load_knowledge().triage``); tests make variants with
``dataclasses.replace``. Each ``TriageRules`` builds its own ``RuleIndex`` when it is
made, so a variant is indexed like the original.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from blina.domain.body import Range
from blina.domain.triage.index import RuleIndex
from blina.domain.triage.rules import (
    EmergencySign,
    Guidance,
    History,
    Instruction,
    LevelGuide,
    Outcome,
    SameDayEscalation,
    Symptom,
    SymptomArea,
    SymptomGroup,
    SymptomRule,
    TemperatureRule,
    TherapyGuide,
    TriageLevel,
)

__all__ = ["TriageRules"]


@dataclass(frozen=True, slots=True)
class TriageRules:
    """Everything triage needs, as data; ``symptoms`` and ``groups`` in display order.

    ``unknown_severity`` is what a "not sure" counts as (moderate), ``interferes_severity``
    what it counts as with a yes to ``follow_up`` (severe); both cite ``unknown_source``.
    ``repeated_source`` cites the rule for two answers to one symptom (the worse counts).
    ``early_course_days`` and ``acknowledgement_minutes`` are site parameters: the
    reference gives no value. The shipped knowledge names a conservative default window
    (a site parameter, not a clinical fact) and leaves the acknowledgement times None.

    ``areas`` are where the check-in form shows the symptoms (no rule reads them).

    ``therapies`` are the therapies triage knows, by key, each with the instructions added
    to its patients' answers; ``default_therapy`` (one of them) is what a context that
    names no therapy counts as. A rule limited to therapies never names the default, so
    naming a therapy only adds rules (checked when the rules are loaded).

    ``index`` is derived from the rest when the rules are made (see ``RuleIndex``);
    it is neither shown nor compared.
    """

    symptoms: Mapping[str, Symptom]
    groups: Mapping[str, SymptomGroup]
    areas: Mapping[str, SymptomArea]
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
    therapies: Mapping[str, TherapyGuide]
    default_therapy: str
    index: RuleIndex = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = RuleIndex.of(
            symptoms=self.symptoms,
            groups=self.groups,
            rules=self.rules,
            temperature_rules=self.temperature_rules,
            levels=self.levels,
            always=self.always,
            infusing=self.infusing,
            therapies=self.therapies,
            default_therapy=self.default_therapy,
            max_severity=self.max_severity,
            unknown_severity=self.unknown_severity,
            interferes_severity=self.interferes_severity,
        )
        object.__setattr__(self, "index", index)

    @property
    def max_severity(self) -> int:
        return len(self.severity_words) - 1

    def emergency_signs(self) -> tuple[EmergencySign, ...]:
        """The signs that alone make a check-in an emergency, in the symptom list's order:
        each symptom of an emergency rule that fires on it alone, at the rule's lowest
        ``min_severity`` (a yes/no sign: none). Asked first on the check-in form and
        listed under "get help now" on the family's today page."""
        alone = [
            rule for rule in self.rules if rule.level is TriageLevel.EMERGENCY and rule.fires_alone
        ]
        signs = []
        for symptom in self.symptoms.values():
            firing = [rule for rule in alone if symptom.id in rule.symptoms]
            if not firing:
                continue
            rule = min(firing, key=lambda r: r.min_severity or 0)
            severity = rule.min_severity if symptom.has_severity else None
            signs.append(EmergencySign(symptom.id, severity, rule.id, rule.source))
        return tuple(signs)

    def rules_for(
        self, symptom: str, severity: int | None, history: History
    ) -> tuple[SymptomRule, ...]:
        """The rules that fire for ``symptom`` at ``severity`` (as counted: a "not sure"
        already made moderate or severe) with ``history``, before the conditions on the
        rise (``min_rise``), on other symptoms (``with_any``), on the course
        (``early_course``) and on the therapy (``therapies``, ``infusion_window``)."""
        matching = self.index.matching[symptom, severity, history]
        rising = tuple(
            rule
            for _, rule in self.index.rising
            if symptom in rule.symptoms and rule.meets(severity, history)
        )
        return tuple(self.rules[index] for index in matching) + rising
