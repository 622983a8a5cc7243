"""The obecabtagene second-dose rule: after CRS or ICANS following the Day 1 infusion.

The label's table (PI Table 2, source ``obecabtagene-second-dose``): CRS grade 2 after
the first dose, consider postponing the second infusion up to Day 21 so CRS can settle
to grade <= 1; CRS grade >= 3, discontinue (no second dose). The ICANS rows were NOT
RETRIEVED: after ICANS of any grade blina neither defers nor stops by itself, it keeps
the Day 10 +/- 2 window and asks the physician (``PHYSICIAN``). Grades are those of
blina's ASTCT graders (0 = none).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from blina.domain.errors import InvalidInput
from blina.domain.sentences import Template
from blina.domain.therapies.car_t import SecondDoseRule, SplitDose

__all__ = ["FirstDoseReaction", "SecondDoseAction", "SecondDoseDecision", "decide_second_dose"]

_TOP_GRADE = 4


class SecondDoseAction(StrEnum):
    GIVE = "give"  # on Day 10 +/- 2, as planned
    MAY_DEFER = "may-defer"  # CRS grade 2: may be postponed up to Day 21
    STOP = "stop"  # CRS grade >= 3: discontinue, no second dose
    PHYSICIAN = "physician"  # ICANS: the label's rows were not retrieved


@dataclass(frozen=True, slots=True)
class FirstDoseReaction:
    """The worst CRS and ICANS grades (ASTCT, 0 = none) after the first infusion."""

    crs_grade: int
    icans_grade: int

    def __post_init__(self) -> None:
        for field, grade in (("crs_grade", self.crs_grade), ("icans_grade", self.icans_grade)):
            if (
                isinstance(grade, bool)
                or not isinstance(grade, int)
                or not 0 <= grade <= _TOP_GRADE
            ):
                raise InvalidInput(field, grade, f"a whole number from 0 (none) to {_TOP_GRADE}")


@dataclass(frozen=True, slots=True)
class SecondDoseDecision:
    """What the rule allows for the second infusion: the label days it may fall on
    (None when it is stopped), and the reason in one sentence."""

    action: SecondDoseAction
    earliest_day: int | None
    latest_day: int | None
    text: str
    source: str


# The second infusion's decisions (``blina.domain.sentences``).
CRS_STOPS = Template("CRS grade {grade} after the first infusion: discontinue, no second infusion.")
ICANS_PHYSICIAN = Template(
    "ICANS grade {grade} after the first infusion: the label's ICANS rows were not retrieved; "
    "the physician decides from the current PI whether to give the second infusion (Day {day} "
    "\u00b1 {tolerance}) or withhold it."
)
CRS_MAY_DEFER = Template(
    "CRS grade {grade} after the first infusion: consider postponing the second infusion up to "
    "Day {day} so CRS can settle to grade \u2264 {settle}."
)
SECOND_ON_TIME = Template("Second infusion on Day {day} \u00b1 {tolerance} days.")


def decide_second_dose(
    split: SplitDose, rule: SecondDoseRule, reaction: FirstDoseReaction | None
) -> SecondDoseDecision:
    """The second infusion's window after ``reaction`` to the first (None: no reaction).

    >>> from decimal import Decimal
    >>> split = SplitDose(Decimal(410), 6, 1, 10, 2, Decimal(20), (), "s")
    >>> rule = SecondDoseRule(2, 21, 1, 3, "r")
    >>> decide_second_dose(split, rule, FirstDoseReaction(2, 0)).latest_day
    21
    >>> decide_second_dose(split, rule, FirstDoseReaction(3, 0)).action
    <SecondDoseAction.STOP: 'stop'>
    """
    earliest = split.second_day - split.tolerance_days
    on_time = split.second_day + split.tolerance_days
    crs = 0 if reaction is None else reaction.crs_grade
    if crs >= rule.stop_from_crs_grade:
        text = CRS_STOPS(grade=crs)
        return SecondDoseDecision(SecondDoseAction.STOP, None, None, text, rule.source)
    if reaction is not None and reaction.icans_grade > 0:
        text = ICANS_PHYSICIAN(
            grade=reaction.icans_grade, day=split.second_day, tolerance=split.tolerance_days
        )
        return SecondDoseDecision(SecondDoseAction.PHYSICIAN, earliest, on_time, text, rule.source)
    if crs >= rule.defer_crs_grade:
        text = CRS_MAY_DEFER(grade=crs, day=rule.defer_up_to_day, settle=rule.settle_to_crs_grade)
        return SecondDoseDecision(
            SecondDoseAction.MAY_DEFER, earliest, rule.defer_up_to_day, text, rule.source
        )
    text = SECOND_ON_TIME(day=split.second_day, tolerance=split.tolerance_days)
    return SecondDoseDecision(SecondDoseAction.GIVE, earliest, on_time, text, split.source)
