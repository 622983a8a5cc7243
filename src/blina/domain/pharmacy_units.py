"""Quantities of the pharmacy bench: volumes, rates, drug mass and concentrations.

Same rules as ``blina.domain.units`` (exact ``Decimal``, never a float, never negative),
with the arithmetic a bag recipe needs and nothing more:

>>> from decimal import Decimal
>>> McgPerMl(Decimal("12.5")) * Ml(Decimal("2.6"))
Mcg(value=Decimal('32.50'))
>>> MlPerHour(Decimal("10")) * Hours(Decimal("24"))
Ml(value=Decimal('240'))
"""

from blina.domain.units import Hours, Quantity

__all__ = ["Mcg", "McgPerMl", "Ml", "MlPerHour"]


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
