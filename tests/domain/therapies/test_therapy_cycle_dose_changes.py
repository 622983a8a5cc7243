"""Inotuzumab's dose modifications (other-immunotherapies.md §1.3), situation by situation.

Every HOLD carries the duration-of-interruption gap: blina never reduces a dose itself.
"""

from decimal import Decimal

import pytest

from blina.domain.errors import InvalidInput
from blina.domain.therapies.cycle_dose_changes import (
    ChangeAction,
    ChangeRules,
    Counts,
    ReactionSeverity,
    for_counts,
    for_infusion_reaction,
    for_liver_tests,
    for_other_toxicity,
    for_vod,
)
from blina.domain.therapies.cycle_doses import CycleDoseFacts
from blina.knowledge import Knowledge

D = Decimal
GIVE, HOLD = ChangeAction.GIVE, ChangeAction.HOLD
INTERRUPT, STOP = ChangeAction.INTERRUPT, ChangeAction.DISCONTINUE
GOOD = Counts(anc=D("2"), platelets=D("120"))


@pytest.fixture(scope="module")
def rules(knowledge: Knowledge) -> ChangeRules:
    facts = knowledge.therapies["inotuzumab"]
    assert isinstance(facts, CycleDoseFacts)
    return facts.changes


def test_vod_discontinues_permanently(rules: ChangeRules) -> None:
    change = for_vod(rules)

    assert change.action is STOP
    assert change.source == "inotuzumab-1.3-non-hematologic"


@pytest.mark.parametrize(
    ("bilirubin", "ast_alt", "action"),
    [
        (D("1.6"), D("2.6"), HOLD),
        (D("1.5"), D("2.6"), GIVE),  # bilirubin not above 1.5 x ULN
        (D("1.6"), D("2.5"), GIVE),  # AST/ALT not above 2.5 x ULN
        (D("1.0"), D("1.0"), GIVE),
    ],
)
def test_liver_tests_hold_only_when_both_are_above(
    rules: ChangeRules, bilirubin: Decimal, ast_alt: Decimal, action: ChangeAction
) -> None:
    change = for_liver_tests(rules, bilirubin_x_uln=bilirubin, ast_alt_x_uln=ast_alt)

    assert change.action is action
    assert (rules.interruption_gap in change.gaps) is (action is HOLD)


def test_liver_tests_hold_text_names_the_recovery_limits(rules: ChangeRules) -> None:
    change = for_liver_tests(rules, bilirubin_x_uln=D("2"), ast_alt_x_uln=D("3"))

    assert "bilirubin <= 1.5 x ULN and AST/ALT <= 2.5 x ULN" in change.text


def test_liver_tests_from_gilbert_or_hemolysis_do_not_hold(rules: ChangeRules) -> None:
    change = for_liver_tests(
        rules, bilirubin_x_uln=D("2"), ast_alt_x_uln=D("3"), gilbert_or_hemolysis=True
    )

    assert change.action is GIVE
    assert "Gilbert" in change.text


def test_liver_tests_that_do_not_recover_discontinue(rules: ChangeRules) -> None:
    change = for_liver_tests(rules, bilirubin_x_uln=D("2"), ast_alt_x_uln=D("3"), recovered=False)

    assert change.action is STOP


@pytest.mark.parametrize(
    ("severity", "action"),
    [
        (ReactionSeverity.MILD_OR_MODERATE, INTERRUPT),
        (ReactionSeverity.SEVERE, STOP),
        (ReactionSeverity.LIFE_THREATENING, STOP),
    ],
)
def test_infusion_reaction_interrupts_or_discontinues(
    rules: ChangeRules, severity: ReactionSeverity, action: ChangeAction
) -> None:
    assert for_infusion_reaction(rules, severity).action is action


@pytest.mark.parametrize(("grade", "action"), [(1, GIVE), (2, HOLD), (3, HOLD), (4, HOLD)])
def test_other_non_hematologic_toxicity_holds_from_grade_2(
    rules: ChangeRules, grade: int, action: ChangeAction
) -> None:
    change = for_other_toxicity(rules, grade)

    assert change.action is action
    if action is HOLD:
        assert change.gaps == (rules.other_toxicity_gap, rules.interruption_gap)
        assert "grade 1 or the pre-treatment grade" in change.text


@pytest.mark.parametrize("grade", [0, 5])
def test_other_toxicity_grade_outside_1_to_4_is_refused(rules: ChangeRules, grade: int) -> None:
    with pytest.raises(InvalidInput, match="grade"):
        for_other_toxicity(rules, grade)


def test_counts_within_a_cycle_never_hold(rules: ChangeRules) -> None:
    low = Counts(anc=D("0.1"), platelets=D("5"))

    change = for_counts(rules, within_cycle=True, baseline=GOOD, now=low, low_days=40)

    assert change.action is GIVE
    assert change.source == "inotuzumab-1.3-general"


@pytest.mark.parametrize(
    ("now", "action", "names"),
    [
        (Counts(D("1"), D("50")), GIVE, ""),
        (Counts(D("0.9"), D("50")), HOLD, "ANC >= 1"),
        (Counts(D("1"), D("49")), HOLD, "platelets >= 50"),
        (Counts(D("0.5"), D("10")), HOLD, "ANC >= 1 and platelets >= 50"),
    ],
)
def test_counts_from_a_good_baseline_hold_the_next_cycle_until_recovered(
    rules: ChangeRules, now: Counts, action: ChangeAction, names: str
) -> None:
    change = for_counts(rules, within_cycle=False, baseline=GOOD, now=now)

    assert change.action is action
    assert names in change.text


@pytest.mark.parametrize(
    ("days", "drug_related", "action"),
    [(28, True, HOLD), (29, True, STOP), (29, False, HOLD)],
)
def test_low_counts_over_28_days_drug_related_discontinue(
    rules: ChangeRules, days: int, drug_related: bool, action: ChangeAction
) -> None:
    low = Counts(anc=D("0.5"), platelets=D("120"))

    change = for_counts(
        rules, within_cycle=False, baseline=GOOD, now=low, low_days=days, drug_related=drug_related
    )

    assert change.action is action


@pytest.mark.parametrize(
    ("baseline", "now", "action"),
    [
        (Counts(D("0.5"), D("120")), Counts(D("0.5"), D("120")), GIVE),  # back to baseline
        (Counts(D("0.5"), D("20")), Counts(D("1.2"), D("60")), GIVE),  # above both thresholds
        (Counts(D("0.5"), D("20")), Counts(D("0.4"), D("60")), HOLD),
        (Counts(D("2"), D("40")), Counts(D("2"), D("30")), HOLD),  # platelets low at baseline
    ],
)
def test_counts_from_a_low_baseline_need_baseline_or_thresholds(
    rules: ChangeRules, baseline: Counts, now: Counts, action: ChangeAction
) -> None:
    change = for_counts(rules, within_cycle=False, baseline=baseline, now=now, low_days=60)

    assert change.action is action
    if action is HOLD:
        assert rules.marrow_condition_gap in change.gaps
        assert "the physician decides" in change.text


def test_counts_low_baseline_give_text_says_why(rules: ChangeRules) -> None:
    back = for_counts(
        rules, within_cycle=False, baseline=Counts(D("0.5"), D("20")), now=Counts(D("0.6"), D("20"))
    )

    assert "back to the prior cycle's baseline" in back.text


def test_counts_negative_low_days_refused(rules: ChangeRules) -> None:
    with pytest.raises(InvalidInput, match="low_days"):
        for_counts(rules, within_cycle=False, baseline=GOOD, now=GOOD, low_days=-1)


@pytest.mark.parametrize(("anc", "platelets"), [(D("-1"), D("1")), (D("1"), D("NaN"))])
def test_counts_must_be_finite_and_not_negative(anc: Decimal, platelets: Decimal) -> None:
    with pytest.raises(InvalidInput):
        Counts(anc=anc, platelets=platelets)
