"""The label's age range for a therapy, checked against the patient's age.

A plan outside the labelled ages is still planned (the physician may treat off label),
but it says so first among its warnings; a plan made without the patient's age says the
range was not checked. Ages are decimal years: ``from_years`` is the first age inside
the indication, ``under_years`` the first age past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from blina.domain.therapies.model import PlanWarning

__all__ = ["AGE_WARNING", "AgeIndication", "age_warning"]

AGE_WARNING = "indication-age"  # the warning's key, as pages and tests find it


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
        text = (
            f"Age not given: the label's indication ({indication.text}) was not checked "
            "against the patient's age."
        )
        return PlanWarning(AGE_WARNING, text, indication.source)
    if indication.holds(age_years):
        return None
    text = (
        f"Age {age_years.normalize():f} years is outside the label's indication "
        f"({indication.text}): use outside it is the physician's decision."
    )
    return PlanWarning(AGE_WARNING, text, indication.source)
