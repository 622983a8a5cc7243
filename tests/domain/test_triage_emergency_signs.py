"""TriageRules.emergency_signs(): the signs the family is asked about first (issue 18).

Which signs are emergencies is the rule set's: each sign, reported alone at its severity,
with or without an earlier check-in and at any point of the course, is an emergency; and
every emergency rule that fires on one symptom alone gives its signs."""

import dataclasses
from datetime import UTC, datetime

import pytest

from blina.domain.triage.check_in import CheckIn, Context, SymptomAnswer
from blina.domain.triage.engine import triage
from blina.domain.triage.rulebook import TriageRules
from blina.domain.triage.rules import EmergencySign, RuleHistory, TriageLevel
from blina.knowledge import Knowledge

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def rules(knowledge: Knowledge) -> TriageRules:
    return knowledge.triage


def _alone(rules: TriageRules, sign: EmergencySign, *, persisting: bool, days: int) -> TriageLevel:
    answer = SymptomAnswer(sign.symptom, sign.severity)
    recent = (CheckIn(NOW.replace(hour=1), (answer,)),) if persisting else ()
    context = Context(days_since_start_or_step_up=days, recent=recent)
    return triage(CheckIn(NOW, (answer,)), context, rules, now=NOW).level


@pytest.mark.parametrize("persisting", [False, True])
@pytest.mark.parametrize("days", [0, 30])
def test_each_sign_alone_is_an_emergency(rules: TriageRules, persisting: bool, days: int) -> None:
    signs = rules.emergency_signs()
    assert signs
    for sign in signs:
        assert _alone(rules, sign, persisting=persisting, days=days) is TriageLevel.EMERGENCY, sign


def test_the_signs_are_the_emergency_rules_that_fire_alone(rules: TriageRules) -> None:
    signs = rules.emergency_signs()
    by_rule = {
        rule.id: rule.symptoms
        for rule in rules.rules
        if rule.level is TriageLevel.EMERGENCY and rule.fires_alone
    }
    assert by_rule
    assert {sign.symptom for sign in signs} == set().union(*by_rule.values())
    for sign in signs:
        assert sign.symptom in by_rule[sign.rule]
        rule = next(r for r in rules.rules if r.id == sign.rule)
        assert sign.source == rule.source
        graded = rules.symptoms[sign.symptom].has_severity
        assert sign.severity == (rule.min_severity if graded else None)
    # in the symptom list's order, each once
    order = list(rules.symptoms)
    assert [s.symptom for s in signs] == sorted((s.symptom for s in signs), key=order.index)


def test_a_rule_with_a_condition_beyond_the_sign_gives_no_sign(rules: TriageRules) -> None:
    # the allergic-with-breathing rule needs a second symptom: none of its own signs
    with_any = [r for r in rules.rules if r.level is TriageLevel.EMERGENCY and r.with_any]
    assert with_any
    conditioned = [
        dataclasses.replace(rule, history=RuleHistory.NEW)
        if rule.level is TriageLevel.EMERGENCY
        else rule
        for rule in rules.rules
    ]
    assert dataclasses.replace(rules, rules=tuple(conditioned)).emergency_signs() == ()


def test_a_sign_in_two_rules_takes_the_lower_severity(rules: TriageRules) -> None:
    chest = next(r for r in rules.rules if r.id == "severe-chest-pain")
    lower = dataclasses.replace(chest, id="any-chest-pain", min_severity=2)
    variant = dataclasses.replace(rules, rules=(*rules.rules, lower))
    found = {s.symptom: s for s in variant.emergency_signs()}
    assert (found["chest-pain"].severity, found["chest-pain"].rule) == (2, "any-chest-pain")
    assert found["bleeding"].severity == 3


def test_a_yes_no_sign_in_an_emergency_rule_has_no_severity(rules: TriageRules) -> None:
    signs = {s.symptom: s for s in rules.emergency_signs()}
    assert signs["seizure"].severity is None
    assert not rules.symptoms["seizure"].has_severity
