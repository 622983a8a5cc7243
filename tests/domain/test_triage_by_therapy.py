"""Triage with a therapy named (issue 19): what a therapy adds, and that it adds only.

Invariants, on the shipped rules and any check-in hypothesis can build:

- the level with a therapy named is never less urgent than with none (a therapy adds
  rules, never removes one), and the care team is alerted whenever it was without;
- a rule for some therapies never fires for a patient of another;
- a rule in the window after a CAR-T cell infusion fires on day 0 to the window's last
  day, and when the day is not known, never after;
- the instructions are those for every patient and those for the therapy, never another
  therapy's.

The golden rows against the reference are in tests/knowledge/test_triage_therapies.py.
"""

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from tests.triage_strategies import NOW, check_ins, contexts, therapy_courses

from blina.domain.errors import InvalidInput
from blina.domain.triage.check_in import CheckIn, Context, SymptomAnswer, Temperature
from blina.domain.triage.engine import triage
from blina.domain.triage.result import Triage
from blina.domain.triage.rulebook import TriageRules
from blina.domain.triage.rules import (
    Compare,
    Guidance,
    Instruction,
    RuleHistory,
    SymptomRule,
    TemperatureRule,
    TherapyGuide,
    TriageLevel,
)
from blina.knowledge import load_knowledge

RULES = load_knowledge().triage
CALL = TriageLevel.CALL_NOW
ROUTINE = TriageLevel.ROUTINE
PAST_EARLY_COURSE = 20
"""Days since a start or step-up, past the early-course window (its rules stay quiet)."""

CELL_THERAPIES = sorted(k for k, t in RULES.therapies.items() if t.cell_therapy)
WINDOW_RULES = {r.id for r in (*RULES.rules, *RULES.temperature_rules) if r.infusion_window}
LIMITED = {r.id: r.therapies for r in (*RULES.rules, *RULES.temperature_rules) if r.therapies}


def _with(context: Context, therapy: str | None, days: int | None) -> Context:
    return dataclasses.replace(context, therapy=therapy, days_since_cell_infusion=days)


def _triage(check_in: CheckIn, context: Context) -> Triage:
    return triage(check_in, context, RULES, now=NOW)


def _fired(result: Triage) -> set[str]:
    return {rule.id for rule in result.rules}


# --- properties ---------------------------------------------------------------------------


@given(check_ins(RULES), contexts(RULES), therapy_courses(RULES))
def test_a_therapy_never_lowers_the_level(
    check_in: CheckIn, context: Context, course: tuple[str, int | None]
) -> None:
    without = _triage(check_in, _with(context, None, None))
    named = _triage(check_in, _with(context, *course))

    assert named.level.rank >= without.level.rank
    assert named.alert_care_team >= without.alert_care_team
    # every rule that fired without a therapy fires with one (the temperature's and the
    # symptoms' alike); the escalation of several same-day findings may come on top
    assert _fired(without) - {RULES.no_rule.id} <= _fired(named)


@given(check_ins(RULES), contexts(RULES), therapy_courses(RULES))
def test_a_rule_for_some_therapies_never_fires_for_another(
    check_in: CheckIn, context: Context, course: tuple[str, int | None]
) -> None:
    therapy, _ = course
    result = _triage(check_in, _with(context, *course))

    for rule_id in _fired(result) & set(LIMITED):
        assert therapy in LIMITED[rule_id], rule_id


@given(check_ins(RULES), contexts(RULES))
def test_no_rule_for_a_therapy_fires_when_none_is_named(
    check_in: CheckIn, context: Context
) -> None:
    result = _triage(check_in, _with(context, None, None))

    assert not _fired(result) & set(LIMITED)


@given(check_ins(RULES), contexts(RULES), therapy_courses(RULES))
def test_window_rules_fire_only_inside_the_window(
    check_in: CheckIn, context: Context, course: tuple[str, int | None]
) -> None:
    therapy, days = course
    window = RULES.therapies[therapy].window_days
    result = _triage(check_in, _with(context, therapy, days))

    inside = window is not None and (days is None or days <= window)
    if not inside:
        assert not _fired(result) & WINDOW_RULES


@given(check_ins(RULES), contexts(RULES), therapy_courses(RULES))
def test_the_instructions_are_for_everyone_or_for_the_therapy(
    check_in: CheckIn, context: Context, course: tuple[str, int | None]
) -> None:
    therapy, _ = course
    result = _triage(check_in, _with(context, *course))
    shown = [*result.instructions.do_now, *result.instructions.tell_team]
    shown += result.instructions.do_not

    assert all(not i.therapies or therapy in i.therapies for i in shown)
    # the therapy's own instructions are all there
    own = RULES.therapies[therapy].guidance
    assert set(own.tell_team) <= set(result.instructions.tell_team)
    assert set(own.do_not) <= set(result.instructions.do_not)


@given(check_ins(RULES), contexts(RULES))
def test_naming_the_default_therapy_is_naming_none(check_in: CheckIn, context: Context) -> None:
    none = _triage(check_in, _with(context, None, None))
    default = _triage(check_in, _with(context, RULES.default_therapy, None))

    assert default._replace(context=none.context) == none


# --- the window's edges, product by product ----------------------------------------------


@pytest.mark.parametrize("therapy", CELL_THERAPIES)
def test_a_car_t_sign_is_escalated_on_the_window_s_days_only(therapy: str) -> None:
    window = RULES.therapies[therapy].window_days
    assert window is not None
    tremor = CheckIn(NOW, (SymptomAnswer("tremor", 1),))
    base = Context(days_since_start_or_step_up=PAST_EARLY_COURSE, therapy=therapy)

    def level(days: int | None) -> TriageLevel:
        return _triage(tremor, dataclasses.replace(base, days_since_cell_infusion=days)).level

    assert level(0) is CALL
    assert level(window) is CALL
    assert level(None) is CALL  # not known: inside the window
    assert level(window + 1) is ROUTINE
    assert _triage(tremor, dataclasses.replace(base, therapy=None)).level is ROUTINE


@pytest.mark.parametrize("therapy", CELL_THERAPIES)
def test_a_fever_inside_the_window_is_call_now_with_its_car_t_reason(therapy: str) -> None:
    window = RULES.therapies[therapy].window_days
    assert window is not None
    fever = CheckIn(NOW, (), Temperature(Decimal("38.0")))

    inside = _triage(fever, Context(therapy=therapy, days_since_cell_infusion=window))
    after = _triage(fever, Context(therapy=therapy, days_since_cell_infusion=window + 1))

    assert inside.level is CALL
    assert "car-t-fever" in _fired(inside)
    assert after.level is CALL
    assert "car-t-fever" not in _fired(after)
    below = _triage(CheckIn(NOW, (), Temperature(Decimal("37.9"))), Context(therapy=therapy))
    assert "car-t-fever" not in _fired(below)


def test_a_car_t_instruction_replaces_the_blinatumomab_ones() -> None:
    result = _triage(CheckIn(NOW), Context(therapy="tisagenlecleucel"))
    texts = [i.text for i in (*result.instructions.tell_team, *result.instructions.do_not)]

    assert not any("blinatumomab" in text.lower() for text in texts)
    assert any("CAR-T" in text for text in texts)
    default = _triage(CheckIn(NOW), Context())
    assert any("blinatumomab" in i.text for i in default.instructions.do_not)


# --- bad input ---------------------------------------------------------------------------


def test_an_unknown_therapy_is_refused_with_the_keys() -> None:
    with pytest.raises(InvalidInput) as raised:
        _triage(CheckIn(NOW), Context(therapy="aspirin"))

    assert raised.value.field == "therapy"
    assert "one of blinatumomab, brexucabtagene" in str(raised.value)


@pytest.mark.parametrize("therapy", [None, "rituximab", "inotuzumab"])
def test_days_since_a_cell_infusion_need_a_cell_therapy(therapy: str | None) -> None:
    with pytest.raises(InvalidInput) as raised:
        _triage(CheckIn(NOW), Context(therapy=therapy, days_since_cell_infusion=3))

    assert raised.value.field == "days_since_cell_infusion"
    assert "cell therapy (brexucabtagene, obecabtagene, tisagenlecleucel)" in str(raised.value)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"days_since_cell_infusion": -1}, "days_since_cell_infusion"),
        ({"days_since_cell_infusion": True}, "days_since_cell_infusion"),
        ({"therapy": 7}, "therapy"),
    ],
)
def test_context_refuses_a_bad_therapy_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        Context(**fields)  # type: ignore[arg-type]

    assert raised.value.field == field


def test_to_dict_echoes_the_therapy_and_the_days() -> None:
    context = Context(therapy="obecabtagene", days_since_cell_infusion=2)

    data = _triage(CheckIn(NOW), context).to_dict()["context"]

    assert (data["therapy"], data["days_since_cell_infusion"]) == ("obecabtagene", 2)


# --- the rule objects ---------------------------------------------------------------------


def test_a_rule_applies_to_its_therapies_and_in_its_window() -> None:
    anyone = SymptomRule("a", CALL, frozenset({"x"}), "r", "s")
    some = dataclasses.replace(anyone, therapies=frozenset({"t"}))
    windowed = dataclasses.replace(some, infusion_window=True)

    assert anyone.applies_to("u", False)
    assert anyone.fires_alone
    assert some.applies_to("t", False)
    assert not some.applies_to("u", True)
    assert windowed.applies_to("t", True)
    assert not windowed.applies_to("t", False)
    assert not some.fires_alone
    assert not windowed.fires_alone
    assert not dataclasses.replace(anyone, infusion_window=True).fires_alone
    assert anyone.history is RuleHistory.ANY


def test_a_temperature_rule_applies_to_its_therapies_and_in_its_window() -> None:
    rule = TemperatureRule("t", CALL, Compare.AT_OR_ABOVE, Decimal("38.0"), "r", "s")
    windowed = dataclasses.replace(rule, therapies=frozenset({"c"}), infusion_window=True)

    assert rule.applies_to("any", False)
    assert windowed.applies_to("c", True)
    assert not windowed.applies_to("c", False)
    assert not windowed.applies_to("d", True)


def test_a_therapy_without_a_window_is_never_in_one() -> None:
    guide = TherapyGuide("x", "X", False, Guidance(), "s")

    assert not guide.in_window(None)
    assert not guide.in_window(0)


def test_guidance_for_a_therapy_keeps_the_shared_and_its_own_instructions() -> None:
    shared = Instruction("all", "s")
    mine = Instruction("mine", "s", frozenset({"a"}))
    theirs = Instruction("theirs", "s", frozenset({"b"}))
    guidance = Guidance((shared, mine), (theirs,), (mine, theirs))

    assert guidance.for_therapy("a") == Guidance((shared, mine), (), (mine,))
    assert guidance.for_therapy("b") == Guidance((shared,), (theirs,), (theirs,))


def test_several_guided_groups_keep_only_the_therapy_s_instructions(
    rules: TriageRules,
) -> None:
    # Two groups with instructions (self-harm and pump-line) take the slow path.
    mine = Instruction("For a only.", "s", frozenset({"rituximab"}))
    groups = dict(rules.groups)
    pump = groups["pump-line"]
    groups["pump-line"] = dataclasses.replace(pump, guidance=pump.guidance + Guidance((mine,)))
    site = dataclasses.replace(rules, groups=groups)
    check_in = CheckIn(NOW, (SymptomAnswer("pump-alarm"), SymptomAnswer("suicidal-thoughts")))

    for_rituximab = triage(check_in, Context(therapy="rituximab"), site, now=NOW)
    for_none = triage(check_in, Context(), site, now=NOW)

    assert mine in for_rituximab.instructions.do_now
    assert mine not in for_none.instructions.do_now


@pytest.fixture(scope="module")
def rules() -> TriageRules:
    return RULES
