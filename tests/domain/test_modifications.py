"""``decide``: the label's action for a reaction and grade, with doses for this patient."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

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


def test_decide_neurological_3_adult_partial_text_takes_the_stricter_older_limits(
    rules: ModificationRules,
) -> None:
    """The current text is partial: the 2014 rule's 7-day limit and its recurrence rule act."""
    action = _decide(rules, AR.NEUROLOGICAL, 3, dose_at_onset=_mcg("28"))

    assert action.kind is ActionKind.INTERRUPT
    assert action.min_recovery == timedelta(days=3)
    assert action.max_resolution == timedelta(days=7)
    assert action.restart_dose == _mcg("9")
    assert action.needs_confirmation
    assert action.stricter == (
        "discontinue permanently if it takes more than 7 days to resolve "
        "(US label 2014, us-2014-5.2-neuro)",
        "discontinue permanently if it recurs (US label 2014, us-2014-5.2-neuro)",
    )
    assert any("the stricter rule decides" in r for r in action.reasons)
    assert not any(w.startswith("Stricter") for w in action.warnings)


def test_decide_neurological_3_adult_recurrence_discontinues(rules: ModificationRules) -> None:
    action = _decide(rules, AR.NEUROLOGICAL, 3, earlier_episodes=1)

    assert action.kind is ActionKind.DISCONTINUE
    assert any("has recurred" in r for r in action.reasons)


@pytest.mark.parametrize(
    ("state", "onset"),
    [(ADULT, "9"), (ADULT, "5"), (CHILD, "3.9")],
    ids=["adult-at-9", "adult-below-9", "child-at-5-per-m2"],
)
def test_decide_neurological_3_at_the_lowest_step_discontinues(
    rules: ModificationRules, state: CourseState, onset: str
) -> None:
    action = _decide(rules, AR.NEUROLOGICAL, 3, state, dose_at_onset=_mcg(onset))

    assert action.kind is ActionKind.DISCONTINUE
    assert "already at the rule's restart step" in action.reasons[0]


def test_decide_neurological_3_above_the_lowest_step_restarts(rules: ModificationRules) -> None:
    action = _decide(rules, AR.NEUROLOGICAL, 3, CHILD, dose_at_onset=_mcg("11.7"))

    assert action.kind is ActionKind.INTERRUPT


def test_decide_neurological_3_child_restarts_at_the_childs_lower_step(
    rules: ModificationRules,
) -> None:
    """The < 45 kg column was not retrieved: the older rule, made as strict as the adult
    row, and the child's step of the retrieved < 45 kg CRS row (5 mcg/m2/day, then 15)."""
    action = _decide(rules, AR.NEUROLOGICAL, 3, CHILD)

    assert action.from_older
    assert action.needs_confirmation
    assert action.restart_dose == _mcg("3.90")
    assert action.step_up_dose == _mcg("11.70")
    assert action.step_up_after == timedelta(days=7)
    assert action.max_resolution == timedelta(days=7)
    assert action.source == "us-2014-5.2-neuro"
    assert any("< 45 kg column" in r for r in action.reasons)
    assert any("crs-3-below-45kg" in note for note in action.stricter)
    assert any("label-5.1-neuro" in note for note in action.stricter)


def test_decide_child_step_is_capped_for_a_large_child(rules: ModificationRules) -> None:
    action = _decide(rules, AR.OTHER, 3, HEAVY_CHILD)

    assert action.restart_dose == _mcg("9")
    assert action.step_up_dose == _mcg("28")


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


@pytest.mark.parametrize("state", [ADULT, CHILD], ids=["adult", "child"])
def test_decide_other_4_restarts_no_sooner_or_higher_than_grade_3(
    rules: ModificationRules, state: CourseState
) -> None:
    four = _decide(rules, AR.OTHER, 4, state)
    three = _decide(rules, AR.OTHER, 3, state)

    assert four.kind is ActionKind.CONSIDER_DISCONTINUATION
    assert four.restart_dose == three.restart_dose
    assert four.min_recovery == three.min_recovery == timedelta(days=3)
    assert four.max_resolution == three.max_resolution == timedelta(days=14)
    band = "at-or-above-45kg" if state is ADULT else "below-45kg"
    assert f"a restart follows the grade-3 rule (other-3-{band})" in four.stricter


def test_decide_liver_3_restarts_like_other_grade_3(rules: ModificationRules) -> None:
    liver, other = _decide(rules, AR.LIVER, 3), _decide(rules, AR.OTHER, 3)

    assert liver.kind is ActionKind.INTERRUPT
    assert liver.row_id == "liver"
    assert (liver.restart_dose, liver.min_recovery, liver.max_resolution) == (
        other.restart_dose,
        other.min_recovery,
        other.max_resolution,
    )


def test_decide_liver_4_considers_discontinuation_like_other_grade_4(
    rules: ModificationRules,
) -> None:
    action = _decide(rules, AR.LIVER, 4)

    assert action.kind is ActionKind.CONSIDER_DISCONTINUATION
    assert action.restart_dose == _mcg("9")


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


def test_decide_pancreatitis_3_child_restarts_at_the_childs_lower_step(
    rules: ModificationRules,
) -> None:
    action = _decide(rules, AR.PANCREATITIS, 3, CHILD)

    assert action.restart_dose == _mcg("3.90")
    assert action.step_up_dose == _mcg("11.70")
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


def test_decide_complete_current_text_acts_and_a_stricter_older_is_only_shown(
    rules: ModificationRules,
) -> None:
    """The principle's other side: where the current text is complete it acts as written."""
    older = _rule(edition="older", max_resolution_days=7, recurrence_discontinues=True)
    row = ModificationRow(
        "synthetic", AR.OTHER, frozenset({3}), WeightBand.ANY, _rule(), None, older
    )
    table = _table(row, knowledge_rules=rules)

    first = decide(reaction=AR.OTHER, grade=3, state=ADULT, rules=table)
    again = decide(
        reaction=AR.OTHER, grade=3, state=replace(ADULT, earlier_episodes=1), rules=table
    )

    assert (first.kind, first.max_resolution, first.stricter) == (ActionKind.INTERRUPT, None, ())
    assert (
        "Stricter in the older label: discontinue permanently if the reaction takes more"
        in (first.warnings[1])
    )
    assert first.warnings[2].endswith("discontinue permanently if the reaction recurs.")
    assert again.kind is ActionKind.INTERRUPT
    assert again.warnings[2].endswith("the reaction has recurred; it says discontinue.")


def test_decide_child_row_without_an_adult_row_or_grade_3_path(rules: ModificationRules) -> None:
    """A child's row with no adult companion, and a grade 4 "consider" with no grade-3 row
    to restart by: the row acts with the child's step."""
    consider = _rule(kind=ActionKind.CONSIDER_DISCONTINUATION, gaps=("partial",))
    row = ModificationRow(
        "synthetic", AR.PANCREATITIS, frozenset({4}), WeightBand.BELOW, consider, None, None
    )
    table = _table(row, knowledge_rules=rules)

    action = decide(reaction=AR.PANCREATITIS, grade=4, state=CHILD, rules=table)

    assert action.kind is ActionKind.CONSIDER_DISCONTINUATION
    assert action.restart_dose == _mcg("3.90")
    assert len(action.stricter) == 1


# --- the principle: a partial text never decides less carefully than its companions ---------

_ONSETS = st.sampled_from([None, "3.9", "9", "11.7", "15", "28"])


@settings(max_examples=300)
@given(
    index=st.integers(min_value=0, max_value=100),
    grade=st.integers(min_value=1, max_value=4),
    child=st.booleans(),
    earlier=st.integers(min_value=0, max_value=2),
    onset=_ONSETS,
)
def test_a_partial_row_is_never_less_careful_than_its_stricter_companion(
    knowledge: Knowledge, index: int, grade: int, child: bool, earlier: int, onset: str | None
) -> None:
    """For every row whose current text is partial (gaps, or NOT RETRIEVED) and every
    patient: the decision is at least as restrictive as the companion rule alone would
    give (the older label's rule; for the child column, the adult row), on every axis."""
    rules = knowledge.toxicity.modifications
    partial = [
        r for r in rules.rows if (r.current is None or r.current.gaps) and r.grades & {grade}
    ]
    assume(partial)
    row = partial[index % len(partial)]
    state = replace(
        CHILD if child else ADULT,
        earlier_episodes=earlier,
        dose_at_onset=None if onset is None else _mcg(onset),
    )
    assume(rules.row(row.reaction, grade, state.below_threshold) is row)
    action = decide(reaction=row.reaction, grade=grade, state=state, rules=rules)
    companions = [r for r in (row.older,) if r is not None and row.current is not None]
    if row.weight_band is WeightBand.BELOW:
        adult = rules.row(row.reaction, grade, below=False)
        if adult is not None:
            companions.append(adult.acting)
    severity = list(ActionKind)
    for companion in companions:
        alone = ModificationRow(
            "alone", row.reaction, frozenset({grade}), WeightBand.ANY, companion, None, None
        )
        table = ModificationRules(rows=(alone,), interruptions=rules.interruptions)
        baseline = decide(reaction=row.reaction, grade=grade, state=state, rules=table)
        assert severity.index(action.kind) >= severity.index(baseline.kind) or (
            baseline.kind is ActionKind.CONSIDER_DISCONTINUATION
            and action.kind is ActionKind.DISCONTINUE
        )
        if action.kind is ActionKind.DISCONTINUE:
            continue
        if baseline.max_resolution is not None:
            assert action.max_resolution is not None
            assert action.max_resolution <= baseline.max_resolution
        if baseline.min_recovery is not None:
            assert action.min_recovery is not None
            assert action.min_recovery >= baseline.min_recovery
        if baseline.restart_dose is not None:
            assert action.restart_dose is not None
            assert action.restart_dose.value <= baseline.restart_dose.value
    if state.below_threshold and action.kind is not ActionKind.DISCONTINUE:
        # A child never restarts above the child's step.
        assert action.restart_dose is not None
        assert action.restart_dose.value <= Decimal(9)
