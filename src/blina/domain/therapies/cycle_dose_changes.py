"""Inotuzumab's dose modifications as the reference has them: a situation -> an action.

The thresholds are data (``knowledge/therapy_inotuzumab.toml``). What the reference does
not give stays a gap on the answer, never a guess:

- how long a hold may last before a dose is omitted, reduced by 25 %, cut to 2 doses a
  cycle or the therapy stopped (the label's duration-of-interruption table) is NOT
  RETRIEVED: every HOLD carries that gap, so blina never reduces a dose itself;
- the rest of the ">= grade 2 non-hematologic" row, and the rest of the third
  hematologic condition ("stable or improved disease on the latest marrow assessment"),
  are NOT RETRIEVED: the answers that meet them say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from blina.domain.errors import InvalidInput
from blina.domain.therapies.model import Gap

__all__ = [
    "Change",
    "ChangeAction",
    "ChangeRules",
    "Counts",
    "ReactionSeverity",
    "for_counts",
    "for_infusion_reaction",
    "for_liver_tests",
    "for_other_toxicity",
    "for_vod",
]


class ChangeAction(StrEnum):
    GIVE = "give"  # no modification from this rule
    HOLD = "hold"  # hold the dose (or the next cycle) until the condition is met
    INTERRUPT = "interrupt"  # interrupt the infusion and treat
    DISCONTINUE = "discontinue"  # permanently


class ReactionSeverity(StrEnum):
    """An infusion reaction's severity as the physician judges it."""

    MILD_OR_MODERATE = "mild-or-moderate"
    SEVERE = "severe"
    LIFE_THREATENING = "life-threatening"


@dataclass(frozen=True, slots=True)
class ChangeRules:
    """The reference's thresholds, each group with its source."""

    anc_min: Decimal  # x 10^9/L
    platelets_min: Decimal  # x 10^9/L
    low_counts_max_days: int  # low counts longer than this, drug-related: discontinue
    hematologic_source: str
    bilirubin_max_x_uln: Decimal
    ast_alt_max_x_uln: Decimal
    non_hematologic_hold_from_grade: int
    non_hematologic_source: str
    general_source: str
    interruption_gap: Gap  # the duration-of-interruption table
    other_toxicity_gap: Gap  # the rest of the >= grade 2 row
    marrow_condition_gap: Gap  # the rest of hematologic condition (3)


@dataclass(frozen=True, slots=True)
class Change:
    action: ChangeAction
    text: str
    source: str
    gaps: tuple[Gap, ...] = ()


@dataclass(frozen=True, slots=True)
class Counts:
    """ANC and platelets in 10^9/L (platelets independent of transfusion)."""

    anc: Decimal
    platelets: Decimal

    def __post_init__(self) -> None:
        for name, value in (("anc", self.anc), ("platelets", self.platelets)):
            if not value.is_finite() or value < 0:
                raise InvalidInput(name, value, "a count >= 0 (x 10^9/L)")


def for_vod(rules: ChangeRules) -> Change:
    """Hepatic VOD/SOS or other severe liver toxicity."""
    return Change(
        ChangeAction.DISCONTINUE,
        "VOD/SOS or other severe liver toxicity: discontinue permanently",
        rules.non_hematologic_source,
    )


def for_liver_tests(
    rules: ChangeRules,
    *,
    bilirubin_x_uln: Decimal,
    ast_alt_x_uln: Decimal,
    gilbert_or_hemolysis: bool = False,
    recovered: bool | None = None,
) -> Change:
    """Before each dose: total bilirubin and AST/ALT as multiples of the upper limit.

    ``recovered`` is False once the physician judges they will not recover.
    """
    bili, trans = rules.bilirubin_max_x_uln, rules.ast_alt_max_x_uln
    both_high = bilirubin_x_uln > bili and ast_alt_x_uln > trans
    if not both_high or gilbert_or_hemolysis:
        why = (
            "explained by Gilbert's syndrome or hemolysis"
            if both_high
            else f"not both above (bilirubin > {bili} x ULN and AST/ALT > {trans} x ULN)"
        )
        return Change(
            ChangeAction.GIVE,
            f"Liver-test rule does not apply: {why}",
            rules.non_hematologic_source,
        )
    if recovered is False:
        return Change(
            ChangeAction.DISCONTINUE,
            "Bilirubin and AST/ALT did not recover: discontinue permanently",
            rules.non_hematologic_source,
        )
    return Change(
        ChangeAction.HOLD,
        f"Hold the dose until bilirubin <= {bili} x ULN and AST/ALT <= {trans} x ULN",
        rules.non_hematologic_source,
        (rules.interruption_gap,),
    )


def for_infusion_reaction(rules: ChangeRules, severity: ReactionSeverity) -> Change:
    if severity is ReactionSeverity.MILD_OR_MODERATE:
        return Change(
            ChangeAction.INTERRUPT,
            "Interrupt the infusion and treat; by severity consider stopping the infusion "
            "or giving steroids/antihistamines",
            rules.non_hematologic_source,
        )
    return Change(
        ChangeAction.DISCONTINUE,
        f"{severity.value.capitalize()} infusion reaction: discontinue permanently",
        rules.non_hematologic_source,
    )


def for_other_toxicity(rules: ChangeRules, grade: int) -> Change:
    """Any other non-hematologic toxicity, by its CTCAE grade (1-4)."""
    if grade not in range(1, 5):
        raise InvalidInput("grade", grade, "1, 2, 3 or 4")
    if grade < rules.non_hematologic_hold_from_grade:
        return Change(
            ChangeAction.GIVE,
            f"Grade {grade}: below grade {rules.non_hematologic_hold_from_grade}, no hold",
            rules.non_hematologic_source,
        )
    return Change(
        ChangeAction.HOLD,
        f"Grade {grade}: hold until recovery to grade 1 or the pre-treatment grade",
        rules.non_hematologic_source,
        (rules.other_toxicity_gap, rules.interruption_gap),
    )


def for_counts(
    rules: ChangeRules,
    *,
    within_cycle: bool,
    baseline: Counts,
    now: Counts,
    low_days: int = 0,
    drug_related: bool = False,
) -> Change:
    """Neutrophils and platelets. Within a cycle (days 8 and 15) no dose is held for them;
    at the start of the next cycle the rule depends on the counts before treatment."""
    if low_days < 0:
        raise InvalidInput("low_days", low_days, ">= 0")
    if within_cycle:
        return Change(
            ChangeAction.GIVE,
            "Within a cycle doses are not held for neutropenia or thrombocytopenia",
            rules.general_source,
        )
    good_anc = baseline.anc >= rules.anc_min
    good_platelets = baseline.platelets >= rules.platelets_min
    if good_anc and good_platelets:
        return _from_good_baseline(rules, now, low_days, drug_related)
    return _from_low_baseline(rules, baseline, now)


def _from_good_baseline(
    rules: ChangeRules, now: Counts, low_days: int, drug_related: bool
) -> Change:
    low = [
        text
        for text, is_low in (
            (f"ANC >= {rules.anc_min}", now.anc < rules.anc_min),
            (f"platelets >= {rules.platelets_min}", now.platelets < rules.platelets_min),
        )
        if is_low
    ]
    if not low:
        return Change(
            ChangeAction.GIVE, "Counts recovered: start the cycle", rules.hematologic_source
        )
    if drug_related and low_days > rules.low_counts_max_days:
        return Change(
            ChangeAction.DISCONTINUE,
            f"Low counts for {low_days} days (> {rules.low_counts_max_days}), drug-related: "
            "discontinue",
            rules.hematologic_source,
        )
    return Change(
        ChangeAction.HOLD,
        f"Hold the next cycle until {' and '.join(low)} (x 10^9/L)",
        rules.hematologic_source,
        (rules.interruption_gap,),
    )


def _from_low_baseline(rules: ChangeRules, baseline: Counts, now: Counts) -> Change:
    back = now.anc >= baseline.anc and now.platelets >= baseline.platelets
    above = now.anc >= rules.anc_min and now.platelets >= rules.platelets_min
    if back or above:
        why = "back to the prior cycle's baseline" if back else "above both thresholds"
        return Change(ChangeAction.GIVE, f"Counts {why}: start the cycle", rules.hematologic_source)
    return Change(
        ChangeAction.HOLD,
        f"Hold the next cycle until ANC and platelets are back to the prior cycle's baseline, "
        f"or ANC >= {rules.anc_min} and platelets >= {rules.platelets_min} (x 10^9/L), or "
        "the latest marrow assessment shows stable or improved disease (the physician decides)",
        rules.hematologic_source,
        (rules.marrow_condition_gap, rules.interruption_gap),
    )
