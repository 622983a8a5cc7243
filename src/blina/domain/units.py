"""Clinical quantities: an exact ``Decimal`` and a unit in the type.

A quantity refuses floats, NaN, infinities and negative values. Arithmetic exists only
where the units make sense, so ``Kg + Cm`` is a type error that mypy reports:

>>> McgPerM2PerDay(Decimal("15")) * M2(Decimal("1.10"))
McgPerDay(value=Decimal('16.50'))
>>> str(McgPerDay(Decimal("28")))
'28 mcg/day'

The pharmacy bench adds volumes, rates, drug mass and concentrations, with the
arithmetic a bag recipe needs and nothing more:

>>> McgPerMl(Decimal("12.5")) * Ml(Decimal("2.6"))
Mcg(value=Decimal('32.50'))
>>> MlPerHour(Decimal("10")) * Hours(Decimal("24"))
Ml(value=Decimal('240'))
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Self

from blina.domain.errors import InvalidInput

__all__ = [
    "M2",
    "Cm",
    "Hours",
    "Kg",
    "Mcg",
    "McgPerDay",
    "McgPerM2PerDay",
    "McgPerMl",
    "Mg",
    "MgPerM2",
    "Ml",
    "MlPerHour",
    "Quantity",
    "Years",
]


@dataclass(frozen=True, slots=True, order=True)
class Quantity:
    value: Decimal
    UNIT: ClassVar[str] = ""

    def __post_init__(self) -> None:
        name = type(self).__name__
        if not isinstance(self.value, Decimal):
            raise InvalidInput(name, repr(self.value), "an exact Decimal, never a float")
        if not self.value.is_finite() or self.value < 0:
            raise InvalidInput(name, self.value, "a finite number >= 0")

    def __str__(self) -> str:
        return f"{self.value} {self.UNIT}"

    def __add__(self, other: Self) -> Self:
        if type(other) is not type(self):
            return NotImplemented
        return type(self)(self.value + other.value)

    def capped_at(self, cap: Self) -> Self:
        """The smaller of this quantity and ``cap``."""
        return self if self.value <= cap.value else cap


class Kg(Quantity):
    __slots__ = ()
    UNIT = "kg"


class Cm(Quantity):
    __slots__ = ()
    UNIT = "cm"


class M2(Quantity):
    __slots__ = ()
    UNIT = "m2"


class Years(Quantity):
    __slots__ = ()
    UNIT = "years"


class Hours(Quantity):
    __slots__ = ()
    UNIT = "h"


class Mg(Quantity):
    __slots__ = ()
    UNIT = "mg"


class McgPerDay(Quantity):
    __slots__ = ()
    UNIT = "mcg/day"


class McgPerM2PerDay(Quantity):
    __slots__ = ()
    UNIT = "mcg/m2/day"

    def __mul__(self, bsa: M2) -> McgPerDay:
        return McgPerDay(self.value * bsa.value)


class MgPerM2(Quantity):
    __slots__ = ()
    UNIT = "mg/m2"

    def __mul__(self, bsa: M2) -> Mg:
        return Mg(self.value * bsa.value)


# --- the pharmacy bench ------------------------------------------------------------------


class Ml(Quantity):
    __slots__ = ()
    UNIT = "mL"


class Mcg(Quantity):
    __slots__ = ()
    UNIT = "mcg"


class MlPerHour(Quantity):
    __slots__ = ()
    UNIT = "mL/h"

    def __mul__(self, duration: Hours) -> Ml:
        return Ml(self.value * duration.value)


class McgPerMl(Quantity):
    __slots__ = ()
    UNIT = "mcg/mL"

    def __mul__(self, volume: Ml) -> Mcg:
        return Mcg(self.value * volume.value)
