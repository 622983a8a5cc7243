"""Invariants of triage() on the shipped rules, for any check-in hypothesis can build.

- adding a symptom never lowers the level;
- a red-flag symptom gives at least call-now, whatever else is reported;
- the order of the answers never matters;
- a "not sure" triages exactly like moderate, or like severe with a yes to the
  follow-up question (issue 15 item 14), and a "not sure" alone never reaches emergency
  services;
- a contradictory answer never lowers the level (a second answer for the same symptom),
  nor does a course field left out;
- without the earlier check-ins the level is never below what they gave, but for the
  change rule (a rise needs an earlier answer to rise from);
- a patient recorded as in hospital gets the same level and alert, and the level's
  in-hospital instructions;
- a worse severity never lowers the level;
- a temperature in F triages exactly like the same temperature in C;
- the JSON-ready form survives a JSON round trip.
"""

import dataclasses
import functools
import json
import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.triage_strategies import (
    NOW,
    answers,
    celsius_tenths,
    check_ins,
    contexts,
    red_flags,
)

from blina.domain.triage.check_in import (
    CheckIn,
    Context,
    SymptomAnswer,
    Temperature,
    TemperatureUnit,
)
from blina.domain.triage.engine import triage
from blina.domain.triage.result import Triage
from blina.domain.triage.rulebook import TriageRules
from blina.domain.triage.rules import TriageLevel
from blina.knowledge import load_knowledge

RULES: TriageRules = load_knowledge().triage
CALL_NOW = TriageLevel.CALL_NOW.rank


def _rank(check_in: CheckIn, context: Context) -> int:
    return triage(check_in, context, RULES, now=NOW).level.rank


def _with(check_in: CheckIn, *extra: SymptomAnswer) -> CheckIn:
    return dataclasses.replace(check_in, answers=check_in.answers + extra)


@given(check_ins(RULES), contexts(RULES), answers(RULES))
def test_adding_a_symptom_never_lowers_the_level(
    check_in: CheckIn, context: Context, extra: SymptomAnswer
) -> None:
    assert _rank(_with(check_in, extra), context) >= _rank(check_in, context)


@given(check_ins(RULES), contexts(RULES), red_flags(RULES))
def test_a_red_flag_gives_at_least_call_now(
    check_in: CheckIn, context: Context, flag: SymptomAnswer
) -> None:
    # A second answer "0" for the same sign would be contradictory; the worse one counts.
    assert _rank(_with(check_in, flag), context) >= CALL_NOW


@given(check_ins(RULES), contexts(RULES), st.randoms(use_true_random=False))
def test_the_order_of_the_answers_never_matters(
    check_in: CheckIn, context: Context, rng: random.Random
) -> None:
    shuffled = list(check_in.answers)
    rng.shuffle(shuffled)
    first = triage(check_in, context, RULES, now=NOW)
    second = triage(dataclasses.replace(check_in, answers=tuple(shuffled)), context, RULES, now=NOW)

    assert second.level is first.level
    assert second.rules == first.rules
    assert second.instructions == first.instructions
    assert second.findings == first.findings


def _as_counted(answer: SymptomAnswer) -> SymptomAnswer:
    """The answer with a "not sure" replaced by the severity it counts as."""
    if answer.severity is not None or not RULES.symptoms[answer.symptom].has_severity:
        return answer
    counted = RULES.interferes_severity if answer.interferes else RULES.unknown_severity
    return SymptomAnswer(answer.symptom, counted)


@given(check_ins(RULES), contexts(RULES))
def test_a_not_sure_triages_like_the_severity_it_counts_as(
    check_in: CheckIn, context: Context
) -> None:
    counted = dataclasses.replace(check_in, answers=tuple(_as_counted(a) for a in check_in.answers))
    first = triage(check_in, context, RULES, now=NOW)
    second = triage(counted, context, RULES, now=NOW)

    assert second.level is first.level
    assert [r.id for r in second.rules] == [r.id for r in first.rules]


@given(check_ins(RULES), contexts(RULES))
def test_a_not_sure_alone_never_calls_emergency_services(
    check_in: CheckIn, context: Context
) -> None:
    # Without a yes to the follow-up, a "not sure" made mild gives the same emergency.
    answers_ = tuple(
        SymptomAnswer(a.symptom, None, False) if a.interferes else a for a in check_in.answers
    )
    unsure = dataclasses.replace(check_in, answers=answers_)
    mild = dataclasses.replace(
        unsure,
        answers=tuple(
            SymptomAnswer(a.symptom, 1)
            if a.severity is None and RULES.symptoms[a.symptom].has_severity
            else a
            for a in answers_
        ),
    )

    if triage(unsure, context, RULES, now=NOW).level is TriageLevel.EMERGENCY:
        assert triage(mild, context, RULES, now=NOW).level is TriageLevel.EMERGENCY


@given(check_ins(RULES), contexts(RULES), answers(RULES), st.data())
def test_a_contradictory_second_answer_never_lowers_the_level(
    check_in: CheckIn, context: Context, answer: SymptomAnswer, data: st.DataObject
) -> None:
    symptom = RULES.symptoms[answer.symptom]
    other = None if not symptom.has_severity else data.draw(st.integers(0, RULES.max_severity))
    alone = _rank(_with(check_in, answer), context)
    other_alone = _rank(_with(check_in, SymptomAnswer(answer.symptom, other)), context)

    both = _rank(_with(check_in, answer, SymptomAnswer(answer.symptom, other)), context)

    assert both >= max(alone, other_alone)


@given(check_ins(RULES), contexts(RULES))
def test_an_unknown_course_never_lowers_the_level(check_in: CheckIn, context: Context) -> None:
    known = _rank(check_in, context)

    assert _rank(check_in, dataclasses.replace(context, infusing=None)) >= known
    assert _rank(check_in, dataclasses.replace(context, age_group=None)) >= known
    assert _rank(check_in, dataclasses.replace(context, cycle_day=None)) >= known
    assert _rank(check_in, dataclasses.replace(context, in_hospital=None)) >= known


@given(check_ins(RULES), contexts(RULES))
def test_without_earlier_check_ins_only_the_change_rule_is_lost(
    check_in: CheckIn, context: Context
) -> None:
    with_history = triage(check_in, context, RULES, now=NOW)
    without = triage(check_in, dataclasses.replace(context, recent=()), RULES, now=NOW)
    kept = [rule.level.rank for rule in with_history.rules if rule.id != "side-effect-rose"]

    assert without.level.rank >= max(kept, default=0)


@given(check_ins(RULES), contexts(RULES))
def test_in_hospital_keeps_the_level_and_says_call_the_nurse(
    check_in: CheckIn, context: Context
) -> None:
    home = triage(check_in, dataclasses.replace(context, in_hospital=False), RULES, now=NOW)
    ward = triage(check_in, dataclasses.replace(context, in_hospital=True), RULES, now=NOW)
    guide = RULES.levels[ward.level]

    assert (ward.level, ward.alert_care_team, ward.rules) == (
        home.level,
        home.alert_care_team,
        home.rules,
    )
    assert ward.instructions.do_now[: len(guide.in_hospital or guide.guidance.do_now)] == (
        guide.in_hospital or guide.guidance.do_now
    )
    assert home.instructions.do_now[: len(guide.guidance.do_now)] == guide.guidance.do_now


@given(check_ins(RULES), contexts(RULES))
def test_the_crisis_line_is_shown_exactly_for_thoughts_of_self_harm(
    check_in: CheckIn, context: Context
) -> None:
    result = triage(check_in, context, RULES, now=NOW)
    self_harm = {f.symptom for f in result.findings} & {"suicidal-thoughts", "self-harm-danger"}

    assert result.crisis_line is bool(self_harm)


@functools.cache
def _site(window: int) -> TriageRules:
    return dataclasses.replace(RULES, early_course_days=window)


@given(check_ins(RULES), contexts(RULES), st.integers(0, 10))
def test_an_unknown_day_count_never_lowers_the_level_when_a_site_sets_a_window(
    check_in: CheckIn, context: Context, window: int
) -> None:
    site = _site(window)
    unknown = dataclasses.replace(context, days_since_start_or_step_up=None)

    assert triage(check_in, unknown, site, now=NOW).level.rank >= (
        triage(check_in, context, site, now=NOW).level.rank
    )


@given(check_ins(RULES), contexts(RULES), st.data())
def test_a_worse_severity_never_lowers_the_level(
    check_in: CheckIn, context: Context, data: st.DataObject
) -> None:
    counted = [_as_counted(a) for a in check_in.answers]
    graded = [i for i, a in enumerate(counted) if a.severity is not None]
    if not graded:
        return
    index = data.draw(st.sampled_from(graded))
    severity = counted[index].severity
    assert severity is not None
    worse = data.draw(st.integers(severity, RULES.max_severity))
    raised = [*counted[:index], SymptomAnswer(counted[index].symptom, worse), *counted[index + 1 :]]

    assert _rank(dataclasses.replace(check_in, answers=tuple(raised)), context) >= _rank(
        dataclasses.replace(check_in, answers=tuple(counted)), context
    )


@given(check_ins(RULES), contexts(RULES), celsius_tenths())
def test_fahrenheit_triages_like_the_same_temperature_in_celsius(
    check_in: CheckIn, context: Context, celsius: Decimal
) -> None:
    in_c = Temperature(celsius, TemperatureUnit.C)
    in_f = Temperature(celsius * 9 / 5 + 32, TemperatureUnit.F)
    as_c = triage(dataclasses.replace(check_in, temperature=in_c), context, RULES, now=NOW)
    as_f = triage(dataclasses.replace(check_in, temperature=in_f), context, RULES, now=NOW)

    assert in_f.celsius == in_c.celsius
    assert as_f.level is as_c.level
    assert as_f.rules == as_c.rules


@settings(max_examples=50)
@given(check_ins(RULES), contexts(RULES))
def test_to_dict_survives_a_json_round_trip(check_in: CheckIn, context: Context) -> None:
    data = triage(check_in, context, RULES, now=NOW).to_dict()

    assert json.loads(json.dumps(data)) == data
    assert data["alert"] is (data["level"] in ("call-now", "emergency"))


@given(check_ins(RULES), contexts(RULES))
def test_every_fired_rule_is_at_most_the_level_and_names_a_source(
    check_in: CheckIn, context: Context
) -> None:
    result: Triage = triage(check_in, context, RULES, now=NOW)

    assert result.rules
    assert result.rules[0].level is result.level
    assert all(rule.level.rank <= result.level.rank for rule in result.rules)
    assert all(rule.source for rule in result.rules)


@pytest.mark.parametrize("symptom", sorted(s.id for s in RULES.symptoms.values() if s.red_flag))
def test_each_red_flag_alone_and_persisting_is_at_least_call_now(symptom: str) -> None:
    severity = 1 if RULES.symptoms[symptom].has_severity else None
    answer = SymptomAnswer(symptom, severity)
    earlier = CheckIn(NOW, (answer,))
    # A sign asked only of some therapies' patients is a red flag for each of them.
    for therapy in sorted(RULES.symptoms[symptom].therapies) or [None]:
        context = Context(recent=(earlier,), therapy=therapy)

        assert _rank(CheckIn(NOW, (answer,)), context) >= CALL_NOW, therapy
