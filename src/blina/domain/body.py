"""Body size: weight, height, age, BSA, and the age group that picks premedication rules.

The plausibility ranges, the BSA rounding and the age that separates adult from
pediatric rules are knowledge data (``knowledge/body.toml``); callers pass them in as
``BodyRules``.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from blina.domain.errors import InvalidInput
from blina.domain.units import M2, Cm, Kg, Years

__all__ = ["AgeGroup", "BodyRules", "BodySize", "Range", "bsa_mosteller", "measure_body"]


class AgeGroup(StrEnum):
    ADULT = "adult"
    PEDIATRIC = "pediatric"


@dataclass(frozen=True, slots=True)
class Range:
    """An allowed interval; ``low_inclusive`` says whether ``low`` itself is allowed.

    ``text`` replaces the generated description where a bound reads better in other
    words (an age of 1 month is not an exact number of years).
    """

    low: Decimal
    high: Decimal
    low_inclusive: bool = True
    text: str | None = None

    def __contains__(self, value: Decimal) -> bool:
        above_low = value >= self.low if self.low_inclusive else value > self.low
        return above_low and value <= self.high

    def describe(self) -> str:
        if self.text is not None:
            return self.text
        low = ">=" if self.low_inclusive else ">"
        return f"{low} {self.low} and <= {self.high}"


@dataclass(frozen=True, slots=True)
class BodyRules:
    """Plausibility ranges, BSA rounding and the adult age, each with its source id."""

    weight_kg: Range
    height_cm: Range
    age_years: Range
    bsa_quantum_m2: Decimal
    adult_from_age_years: Decimal
    source: str
    bsa_source: str
    adult_age_source: str
    adult_age_note: str | None = None  # where the label gives no age of its own


@dataclass(frozen=True, slots=True)
class BodySize:
    """A measured patient. ``bsa`` is None when no height was given; ``age_group_note``
    says where the age separating the groups comes from when the label gives none."""

    weight: Kg
    height: Cm | None
    age: Years
    bsa: M2 | None
    age_group: AgeGroup
    age_group_note: str | None = None


def bsa_mosteller(*, weight: Kg, height: Cm, quantum: Decimal) -> M2:
    """Body surface area by Mosteller: sqrt(height_cm x weight_kg / 3600), in m2.

    Rounded half-up to ``quantum`` (0.01 m2 in ``knowledge/body.toml``).
    Source: Mosteller RD, N Engl J Med 1987;317:1098 (source id ``mosteller-1987``).

    >>> bsa_mosteller(weight=Kg(Decimal("70")), height=Cm(Decimal("170")), quantum=Decimal("0.01"))
    M2(value=Decimal('1.82'))
    """
    exact = (height.value * weight.value / Decimal(3600)).sqrt()
    return M2(exact.quantize(quantum, rounding=ROUND_HALF_UP))


def measure_body(
    *, weight_kg: Decimal, height_cm: Decimal | None, age_years: Decimal, rules: BodyRules
) -> BodySize:
    """Check each measurement against ``rules`` and derive BSA and age group.

    Raises ``InvalidInput`` naming the field, the value and the allowed range.
    """
    _check("weight_kg", weight_kg, rules.weight_kg)
    if height_cm is not None:
        _check("height_cm", height_cm, rules.height_cm)
    _check("age_years", age_years, rules.age_years)
    weight = Kg(weight_kg)
    height = None if height_cm is None else Cm(height_cm)
    bsa = (
        None
        if height is None
        else bsa_mosteller(weight=weight, height=height, quantum=rules.bsa_quantum_m2)
    )
    group = AgeGroup.ADULT if age_years >= rules.adult_from_age_years else AgeGroup.PEDIATRIC
    return BodySize(
        weight=weight,
        height=height,
        age=Years(age_years),
        bsa=bsa,
        age_group=group,
        age_group_note=rules.adult_age_note,
    )


def _check(field: str, value: Decimal, allowed: Range) -> None:
    if not isinstance(value, Decimal):
        raise InvalidInput(field, repr(value), "an exact Decimal, never a float")
    if not value.is_finite() or value not in allowed:
        raise InvalidInput(field, value, allowed.describe())
