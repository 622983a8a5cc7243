"""``decide``: the label's action for a reaction and grade, with doses for this patient."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from blina.domain.errors import InvalidInput
from blina.domain.modifications import (
    Action,
    ActionKind,
    AdverseReaction,
    Corticosteroid,
    CourseState,
    DoseRule,
    ModificationRow,
    ModificationRules,
    Rule,
    WeightBand,
    decide,
)
from blina.domain.units import M2, Kg, McgPerDay, McgPerM2PerDay, Mg, MgPerM2
from blina.knowledge import Knowledge

AR = AdverseReaction
THRESHOLD = Kg(Decimal("45"))
ADULT = CourseState(weight=Kg(Decimal("70")), bsa=M2(Decimal("1.84")), weight_threshold=THRESHOLD)
CHILD = CourseState(weight=Kg(Decimal("20")), bsa=M2(Decimal("0.78")), weight_threshold=THRESHOLD)
# Under 45 kg with a large BSA: every per-m2 dose reaches its cap.
HEAVY_CHILD = CourseState(
    weight=Kg(Decimal("44")), bsa=M2(Decimal("1.90")), weight_threshold=THRESHOLD
)


@pytest.fixture(scope="module")
def rules(knowledge: Knowledge) -> ModificationRules:
    return knowledge.toxicity.modifications


def _decide(
    rules: ModificationRules, reaction: AR, grade: int, state: CourseState = ADULT, **change: object
) -> Action:
    if change:
        state = replace(state, **change)  # type: ignore[arg-type]
    return decide(reaction=reaction, grade=grade, state=state, rules=rules)


def _mcg(value: str) -> McgPerDay:
    return McgPerDay(Decimal(value))


def test_decide_crs_3_adult_interrupts_restarts_9_steps_to_28(rules: ModificationRules) -> None:
    action = _decide(rules, AR.CRS, 3)

    assert action.kind is ActionKind.INTERRUPT
    assert action.row_id == "crs-3-at-or-above-45kg"
    assert action.restart_dose == _mcg("9")
    assert action.step_up_dose == _mcg("28")
    assert action.step_up_after == timedelta(days=7)
    assert action.corticosteroid_dose == Mg(Decimal("8"))
    assert action.source == "label-5.1-crs"
    assert not action.from_older
    assert not action.needs_confirmation
    assert action.warnings[0].startswith("Older label (US label 2014, us-2014-5.2-crs)")


def test_decide_crs_3_child_doses_per_m2(rules: ModificationRules) -> None:
    action = _decide(rules, AR.CRS, 3, CHILD)

    assert action.row_id == "crs-3-below-45kg"
    assert action.restart_dose == _mcg("3.90")
    assert action.step_up_dose == _mcg("11.70")
    assert action.corticosteroid_dose == Mg(Decimal("3.90"))
    assert action.older is None


def test_decide_crs_3_child_large_bsa_doses_capped(rules: ModificationRules) -> None:
    action = _decide(rules, AR.CRS, 3, HEAVY_CHILD)

    assert action.restart_dose == _mcg("9")
    assert action.step_up_dose == _mcg("28")
    assert action.corticosteroid_dose == Mg(Decimal("8"))


@pytest.mark.parametrize("state", [ADULT, CHILD], ids=["adult", "child"])
def test_decide_crs_4_discontinues_with_dexamethasone(
    rules: ModificationRules, state: CourseState
) -> None:
    action = _decide(rules, AR.CRS, 4, state)

    assert action.kind is ActionKind.DISCONTINUE
    assert action.corticosteroid_dose is not None
    assert action.restart_dose is None


@pytest.mark.parametrize("grade", [1, 2], ids=["grade-1", "grade-2"])
def test_decide_below_grade_3_no_row_no_label_action(rules: ModificationRules, grade: int) -> None:
    action = _decide(rules, AR.CRS, grade)

    assert action.kind is ActionKind.CONTINUE
    assert action.row_id is None
    assert action.source == "label-5-no-row"
    assert "no row below grade 3" in action.reasons[-1]


def test_decide_first_seizure_follows_the_neurological_row(rules: ModificationRules) -> None:
    action = _decide(rules, AR.SEIZURE, 3, seizures=1)

    assert action.kind is ActionKind.INTERRUPT
    assert action.reaction is AR.SEIZURE
    assert action.row_id == "neurological-3-at-or-above-45kg"
    assert action.reasons[0].startswith("Seizure 1 of the course: more than 1 means")


def test_decide_seizure_count_0_counts_this_seizure(rules: ModificationRules) -> None:
    assert _decide(rules, AR.SEIZURE, 3, seizures=0).kind is ActionKind.INTERRUPT


@pytest.mark.parametrize("grade", [1, 3, 4], ids=["g1", "g3", "g4"])
def test_decide_second_seizure_discontinues_permanently(
    rules: ModificationRules, grade: int
) -> None:
    action = _decide(rules, AR.SEIZURE, grade, seizures=2)

    assert action.kind is ActionKind.DISCONTINUE
    assert action.row_id == "seizure"
    assert action.source == "label-5.1-neuro"


def test_decide_neurological_3_adult_partial_rule_needs_confirmation(
    rules: ModificationRules,
) -> None:
    action = _decide(rules, AR.NEUROLOGICAL, 3)

    assert action.kind is ActionKind.INTERRUPT
    assert action.min_recovery == timedelta(days=3)
    assert action.max_resolution is None
    assert action.needs_confirmation
    assert any("NOT RETRIEVED" in r for r in action.reasons)
    assert any("more than 7 days to resolve" in w for w in action.warnings)
    assert any("discontinue permanently if the reaction recurs" in w for w in action.warnings)


def test_decide_neurological_3_adult_recurrence_warns_older_discontinues(
    rules: ModificationRules,
) -> None:
    action = _decide(rules, AR.NEUROLOGICAL, 3, earlier_episodes=1)

    assert action.kind is ActionKind.INTERRUPT
    assert any("has recurred; it says discontinue" in w for w in action.warnings)


def test_decide_neurological_3_child_applies_older_rule_without_a_dose(
    rules: ModificationRules,
) -> None:
    action = _decide(rules, AR.NEUROLOGICAL, 3, CHILD)

    assert action.from_older
    assert action.needs_confirmation
    assert action.restart_dose is None
    assert action.max_resolution == timedelta(days=7)
    assert action.source == "us-2014-5.2-neuro"
    assert any("< 45 kg column" in r for r in action.reasons)


def test_decide_neurological_3_child_recurrence_discontinues(rules: ModificationRules) -> None:
    action = _decide(rules, AR.NEUROLOGICAL, 3, CHILD, earlier_episodes=1)

    assert action.kind is ActionKind.DISCONTINUE
    assert any("has recurred" in r for r in action.reasons)


def test_decide_neurological_4_discontinues_from_the_older_label(rules: ModificationRules) -> None:
    action = _decide(rules, AR.NEUROLOGICAL, 4)

    assert action.kind is ActionKind.DISCONTINUE
    assert action.from_older


def test_decide_other_3_adult_older_rule_limits_resolution_to_14_days(
    rules: ModificationRules,
) -> None:
    action = _decide(rules, AR.OTHER, 3)

    assert action.kind is ActionKind.INTERRUPT
    assert action.from_older
    assert action.max_resolution == timedelta(days=14)
    assert action.restart_dose == _mcg("9")


def test_decide_other_4_considers_discontinuation(rules: ModificationRules) -> None:
    assert _decide(rules, AR.OTHER, 4).kind is ActionKind.CONSIDER_DISCONTINUATION


@pytest.mark.parametrize(
    ("reaction", "grade", "row"),
    [
        (AR.INFECTION, 3, "other-3-at-or-above-45kg"),
        (AR.INFECTION, 4, "other-4"),
        (AR.PANCREATITIS, 4, "other-4"),
    ],
    ids=["infection-3", "infection-4", "pancreatitis-4"],
)
def test_decide_no_own_row_from_grade_3_falls_back_to_other(
    rules: ModificationRules, reaction: AR, grade: int, row: str
) -> None:
    action = _decide(rules, reaction, grade)

    assert action.row_id == row
    assert action.reaction is reaction
    assert "'other clinically relevant adverse reaction' row applies" in action.reasons[0]


def test_decide_pancreatitis_3_adult_restarts_9_steps_to_28(rules: ModificationRules) -> None:
    action = _decide(rules, AR.PANCREATITIS, 3)

    assert (action.restart_dose, action.step_up_dose) == (_mcg("9"), _mcg("28"))
    assert action.source == "uk-dhpc-pancreatitis"


def test_decide_pancreatitis_3_child_has_no_restart_dose(rules: ModificationRules) -> None:
    action = _decide(rules, AR.PANCREATITIS, 3, CHILD)

    assert action.restart_dose is None
    assert action.needs_confirmation


@pytest.mark.parametrize(("grade", "kind"), [(2, ActionKind.CONTINUE), (3, ActionKind.INTERRUPT)])
def test_decide_liver_interrupts_from_grade_3(
    rules: ModificationRules, grade: int, kind: ActionKind
) -> None:
    assert _decide(rules, AR.LIVER, grade).kind is kind


def test_decide_neutropenia_interrupts_at_any_grade_if_prolonged(rules: ModificationRules) -> None:
    action = _decide(rules, AR.NEUTROPENIA, 1)

    assert action.kind is ActionKind.INTERRUPT
    assert "prolonged" in action.reasons[0]


def test_decide_overdose_restart_not_before_12_hours(rules: ModificationRules) -> None:
    action = _decide(rules, AR.OVERDOSE, 2)

    assert action.min_restart_after == timedelta(hours=12)
    assert action.restart_dose is None


def test_decide_onset_at_restart_dose_warns(rules: ModificationRules) -> None:
    action = _decide(rules, AR.CRS, 3, dose_at_onset=_mcg("9"))

    assert any("does not lower it" in w for w in action.warnings)
    assert not any(
        "does not lower" in w for w in _decide(rules, AR.CRS, 3, dose_at_onset=_mcg("28")).warnings
    )


@pytest.mark.parametrize("grade", [0, 5], ids=["grade-0", "grade-5-death"])
def test_decide_grade_outside_1_to_4_is_invalid(rules: ModificationRules, grade: int) -> None:
    with pytest.raises(InvalidInput, match=f"grade {grade} is not allowed: must be >= 1 and <= 4"):
        _decide(rules, AR.CRS, grade)


@pytest.mark.parametrize(("grade", "what"), [(3, "restart dose"), (4, "dexamethasone")])
def test_decide_per_m2_dose_without_bsa_names_height(
    rules: ModificationRules, grade: int, what: str
) -> None:
    with pytest.raises(InvalidInput, match=f"height_cm \\(missing\\).*{what}"):
        _decide(rules, AR.CRS, grade, CHILD, bsa=None)


# --- synthetic tables: rules no label has ---------------------------------------------------


def _rule(**change: object) -> Rule:
    values: dict[str, object] = {
        "edition": "synthetic",
        "kind": ActionKind.INTERRUPT,
        "text": "synthetic",
        "source": "synthetic",
    }
    values.update(change)
    return Rule(**values)  # type: ignore[arg-type]


def _table(*rows: ModificationRow, knowledge_rules: ModificationRules) -> ModificationRules:
    return ModificationRules(rows=rows, interruptions=knowledge_rules.interruptions)


def _row(
    reaction: AR, rule: Rule, grades: frozenset[int] = frozenset({1, 2, 3, 4})
) -> ModificationRow:
    return ModificationRow("synthetic", reaction, grades, WeightBand.ANY, rule, None, None)


def test_decide_seizure_row_without_a_limit_applies_as_written(rules: ModificationRules) -> None:
    table = _table(
        _row(AR.SEIZURE, _rule(kind=ActionKind.DISCONTINUE, text="stop")),
        _row(AR.NEUROLOGICAL, _rule(text="neuro")),
        knowledge_rules=rules,
    )

    action = decide(reaction=AR.SEIZURE, grade=3, state=ADULT, rules=table)

    assert action.kind is ActionKind.DISCONTINUE
    assert action.reasons[0].startswith("seizure grade 3: stop")


def test_decide_seizure_without_seizure_row_uses_its_own_row(rules: ModificationRules) -> None:
    table = _table(knowledge_rules=rules)

    assert (
        decide(reaction=AR.SEIZURE, grade=2, state=ADULT, rules=table).kind is ActionKind.CONTINUE
    )


@pytest.mark.parametrize(
    ("state", "expected"),
    [(ADULT, "12"), (CHILD, "7.80"), (HEAVY_CHILD, "19.00")],
    ids=["adult-fixed", "child-per-m2", "heavy-child-uncapped"],
)
def test_decide_dose_rule_with_fixed_and_per_m2_picks_by_weight(
    rules: ModificationRules, state: CourseState, expected: str
) -> None:
    dose = DoseRule(fixed=_mcg("12"), per_m2=McgPerM2PerDay(Decimal("10")), cap=None)
    steroid = Corticosteroid("dex", "IV", None, MgPerM2(Decimal("10")), None, 8, 3, None, "t")
    table = _table(
        _row(AR.OTHER, _rule(restart=dose, corticosteroid=steroid)), knowledge_rules=rules
    )

    action = decide(reaction=AR.OTHER, grade=3, state=state, rules=table)

    assert action.restart_dose == _mcg(expected)
    assert action.corticosteroid_dose == Mg(Decimal("10") * state.bsa.value)  # type: ignore[union-attr]


def test_course_state_below_threshold_is_strictly_below(rules: ModificationRules) -> None:
    at = CourseState(weight=Kg(Decimal("45")), bsa=None, weight_threshold=THRESHOLD)

    assert not at.below_threshold
    assert _decide(rules, AR.CRS, 3, at).restart_dose == _mcg("9")
