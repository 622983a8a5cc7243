"""The label's age range for a therapy, checked against the patient's age.

A plan outside the labelled ages is still planned (the physician may treat off label),
but it says so first among its warnings; a plan made without the patient's age says the
range was not checked. Ages are decimal years: ``from_years`` is the first age inside
the indication, ``under_years`` the first age past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from blina.domain.sentences import Template
from blina.domain.therapies.model import PlanWarning

__all__ = ["AGE_NOT_GIVEN", "AGE_OUTSIDE", "AGE_WARNING", "AgeIndication", "age_warning"]

AGE_WARNING = "indication-age"  # the warning's key, as pages and tests find it
AGE_NOT_GIVEN = Template(
    "Age not given: the label's indication ({indication}) was not checked against the "
    "patient's age."
)
AGE_OUTSIDE = Template(
    "Age {age} years is outside the label's indication ({indication}): use outside it is "
    "the physician's decision."
)


@dataclass(frozen=True, slots=True)
class AgeIndication:
    """The ages a therapy's label indicates it for, in the label's own words (``text``)."""

    from_years: Decimal | None
    under_years: Decimal | None
    text: str
    source: str

    def __post_init__(self) -> None:
        if self.from_years is None and self.under_years is None:
            raise ValueError("an age indication needs from_years, under_years or both")
        if (
            self.from_years is not None
            and self.under_years is not None
            and self.from_years >= self.under_years
        ):
            raise ValueError("from_years must be below under_years")

    def holds(self, age_years: Decimal) -> bool:
        above = self.from_years is None or age_years >= self.from_years
        below = self.under_years is None or age_years < self.under_years
        return above and below


def age_warning(indication: AgeIndication, age_years: Decimal | None) -> PlanWarning | None:
    """None when the age is inside the indication; else the warning the plan shows first."""
    if age_years is None:
        said = AGE_NOT_GIVEN(indication=indication.text)
        return PlanWarning(AGE_WARNING, said, indication.source)
    if indication.holds(age_years):
        return None
    age = Decimal(f"{age_years.normalize():f}")  # 18.50 as 18.5, 100 as 100 (not 1E+2)
    said = AGE_OUTSIDE(age=age, indication=indication.text)
    return PlanWarning(AGE_WARNING, said, indication.source)
