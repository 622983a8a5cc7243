"""The rule set arranged for lookup: what triage would otherwise work out on every check-in.

Everything that depends only on (symptom, severity, history), on one rule or on the
level is decided here, once per rule set, so that ``triage()`` mostly looks things up
(issue 6 asks for 100,000 decisions a second on one core). A rule on the rise in points
is left to the engine: the rise is not in the key.

The index is derived, never edited: ``TriageRules`` builds it when it is made (and again
for every ``dataclasses.replace``), so it always matches the rules it was built from.
The engine reads only the index and the rules' own fields; ``TriageRules.rules_for``
answers from it too.
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from blina.domain.triage.result import TEMPERATURE, Finding, FiredRule
from blina.domain.triage.rules import (
    Guidance,
    History,
    LevelGuide,
    Symptom,
    SymptomGroup,
    SymptomRule,
    TemperatureRule,
    TherapyGuide,
    TriageLevel,
)

__all__ = ["RuleIndex"]


@dataclass(frozen=True, slots=True)
class RuleIndex:
    """The lookups triage reads, each decided once.

    ``matching``: the symptom rules (by position) that fire for a symptom at a severity
    (as counted) with a history, leaving out the rules on the rise, which are in
    ``rising``. ``finding``: each possible answer as a ``Finding``. ``fired_by`` and
    ``fired_by_temperature``: each rule as fired by one trigger. ``base``: a level's
    instructions with the always-shown and infusing ones, at home or in hospital, for a
    therapy (its own instructions added, the others' left out); ``base_with_group`` the
    same with one group's instructions added, for the symptoms in ``guided_group``.
    ``symptom_order``: the display order. ``crisis``: the symptoms that show the crisis
    line.
    """

    matching: Mapping[tuple[str, int | None, History], tuple[int, ...]]
    rising: tuple[tuple[int, SymptomRule], ...]
    finding: Mapping[tuple[str, int | None, bool | None, History], Finding]
    fired_by: Mapping[tuple[int, str], FiredRule]
    fired_by_temperature: tuple[tuple[TemperatureRule, FiredRule], ...]
    symptom_order: Mapping[str, int]
    guided_group: Mapping[str, SymptomGroup]
    base: Mapping[tuple[str, TriageLevel, bool, bool], Guidance]
    base_with_group: Mapping[tuple[str, TriageLevel, bool, bool, str], Guidance]
    crisis: frozenset[str]

    @classmethod
    def of(
        cls,
        *,
        symptoms: Mapping[str, Symptom],
        groups: Mapping[str, SymptomGroup],
        rules: tuple[SymptomRule, ...],
        temperature_rules: tuple[TemperatureRule, ...],
        levels: Mapping[TriageLevel, LevelGuide],
        always: Guidance,
        infusing: Guidance,
        therapies: Mapping[str, TherapyGuide],
        default_therapy: str,
        max_severity: int,
        unknown_severity: int,
        interferes_severity: int,
    ) -> "RuleIndex":
        """The index of the rule set made of these parts (the fields of ``TriageRules``
        that triage reads through it)."""
        severities: tuple[int | None, ...] = (None, *range(1, max_severity + 1))
        keys = [(s, severity, h) for s in symptoms for severity in severities for h in History]
        answered = [
            (s, severity, interferes, h)
            for s, severity, h in keys
            for interferes in ((None,) if severity is not None else (None, False, True))
        ]

        def counted(symptom: str, severity: int | None, interferes: bool | None) -> int | None:
            # The severity the rules read: as answered; a "not sure" as moderate, or severe
            # with a yes to the follow-up; None for a yes/no sign.
            if severity is not None or not symptoms[symptom].has_severity:
                return severity
            return interferes_severity if interferes else unknown_severity

        guided = {s.id: groups[s.group] for s in symptoms.values() if groups[s.group].guidance}
        own = {key: therapy.guidance for key, therapy in therapies.items()}
        base = {
            (therapy, level, infused, hospital): (
                _level_guidance(guide, hospital)
                + always
                + (infusing if infused else Guidance())
                + own.get(therapy, Guidance())
            ).for_therapy(therapy)
            for therapy in {default_therapy, *therapies}
            for level, guide in levels.items()
            for infused in (False, True)
            for hospital in (False, True)
        }
        return cls(
            matching={
                (s, severity, h): tuple(
                    i
                    for i, rule in enumerate(rules)
                    if rule.min_rise is None and s in rule.symptoms and rule.meets(severity, h)
                )
                for s, severity, h in keys
            },
            rising=tuple((i, rule) for i, rule in enumerate(rules) if rule.min_rise is not None),
            finding={
                (s, severity, interferes, h): Finding(
                    s,
                    symptoms[s].name,
                    symptoms[s].has_severity,
                    severity,
                    h,
                    counted(s, severity, interferes),
                    interferes,
                )
                for s, severity, interferes, h in answered
            },
            fired_by={
                (i, s): FiredRule.of(rule, (s,))
                for i, rule in enumerate(rules)
                for s in rule.symptoms
            },
            fired_by_temperature=tuple(
                (rule, FiredRule.of(rule, (TEMPERATURE,))) for rule in temperature_rules
            ),
            symptom_order={s: i for i, s in enumerate(symptoms)},
            guided_group=guided,
            base=base,
            base_with_group={
                (therapy, level, infused, hospital, group.id): guidance
                + group.guidance.for_therapy(therapy)
                for (therapy, level, infused, hospital), guidance in base.items()
                for group in set(guided.values())
            },
            crisis=frozenset(s.id for s in symptoms.values() if s.crisis_line),
        )


def _level_guidance(guide: LevelGuide, in_hospital: bool) -> Guidance:
    if not in_hospital or not guide.in_hospital:
        return guide.guidance
    return dataclasses.replace(guide.guidance, do_now=guide.in_hospital)
