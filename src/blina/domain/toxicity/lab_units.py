"""Lab values with their units: exact conversion and a plausibility check.

Every measurand (haemoglobin, uric acid, total calcium, ...) has one canonical unit, the
unit its grading thresholds are written in (``knowledge/toxicity.toml``), and the other
units a laboratory may report it in. Each other unit converts by one multiplication with
a factor as its source states it, ``1 <unit> = factor <canonical>`` (1 mg/dL of uric acid
is 59.48 umol/L): the product of two decimals is computed with enough digits to be exact,
so a conversion never rounds and dividing back gives the value as entered.

A value outside the measurand's plausible range is refused. The range is wide on purpose
(survivable extremes): it catches a value typed in one unit and entered in another, not
a clinical limit. The refusal names the other units in which the same number would be
plausible ("did you mean 75 g/L?").

>>> hb = Measurand(
...     "hemoglobin",
...     "haemoglobin",
...     (LabUnit("g/dL", Decimal("1")), LabUnit("g/L", Decimal("0.1"))),
...     Range(Decimal("1"), Decimal("25")),
... )
>>> hb.read("value", Decimal("75"), hb.unit("unit", "g/L")).describe(hb.canonical)
'75 g/L (7.5 g/dL)'
>>> try:
...     hb.read("value", Decimal("75"), hb.unit("unit", "g/dL"))
... except InvalidInput as error:
...     print(error.allowed)
within the plausible range of haemoglobin, >= 1 and <= 25 g/dL; did you mean 75 g/L?
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, Inexact, localcontext
from types import MappingProxyType

from blina.domain.body import Range
from blina.domain.errors import InvalidInput
from blina.domain.sentences import Template
from blina.domain.toxicity import check_not_negative

__all__ = ["LabUnit", "Measurand", "Reading", "plain"]


@dataclass(frozen=True, slots=True)
class LabUnit:
    """``1 code = factor x`` the measurand's canonical unit (1 for the canonical unit
    itself); ``aliases`` are other spellings of the same unit (``µmol/L`` for
    ``umol/L``)."""

    code: str
    factor: Decimal
    aliases: tuple[str, ...] = ()


# A lab value as a finding quotes it (``blina.domain.sentences``).
READING = Template("{value} {unit}")
READING_CONVERTED = Template("{value} {unit} ({canonical} {canonical_unit})")


@dataclass(frozen=True, slots=True)
class Reading:
    """A lab value as entered, in its unit, and the same value in the canonical unit."""

    entered: Decimal
    unit: LabUnit
    canonical: Decimal

    def describe(self, canonical_unit: str) -> str:
        """``75 g/L (7.5 g/dL)``; just ``7.5 g/dL`` when entered in the canonical unit."""
        if self.unit.code == canonical_unit:
            return READING(value=self.entered, unit=canonical_unit)
        return READING_CONVERTED(
            value=self.entered,
            unit=self.unit.code,
            canonical=Decimal(plain(self.canonical)),
            canonical_unit=canonical_unit,
        )


@dataclass(frozen=True, slots=True)
class Measurand:
    """What a lab measures, the units it is reported in (the canonical unit first) and
    its plausible range in the canonical unit."""

    id: str
    name: str
    units: tuple[LabUnit, ...]
    plausible: Range
    by_code: Mapping[str, LabUnit] = field(init=False)

    def __post_init__(self) -> None:
        codes = {alias: unit for unit in self.units for alias in (unit.code, *unit.aliases)}
        object.__setattr__(self, "by_code", MappingProxyType(codes))

    @property
    def canonical(self) -> str:
        return self.units[0].code

    def allowed(self) -> str:
        return f"one of {', '.join(u.code for u in self.units)}"

    def unit(self, field: str, code: str | None) -> LabUnit:
        """The unit named ``code``; ``None`` or an empty code is the canonical unit.

        Raises ``InvalidInput`` naming ``field`` and the allowed units for any other code.
        """
        if not code:
            return self.units[0]
        unit = self.by_code.get(code.strip())
        if unit is None:
            raise InvalidInput(field, code, f"a unit of {self.name}: {self.allowed()}")
        return unit

    def to_canonical(self, value: Decimal, unit: LabUnit) -> Decimal:
        """``value`` (in ``unit``) in the canonical unit, exactly."""
        return _exact_product(value, unit.factor)

    def from_canonical(self, value: Decimal, unit: LabUnit) -> Decimal:
        """``value`` (canonical) in ``unit``: the value as entered when ``value`` came from
        ``to_canonical``; otherwise rounded to the digits of ``value`` and the factor."""
        with localcontext() as context:
            context.prec = _digits(value) + _digits(unit.factor) + 1
            return value / unit.factor

    def read(self, field: str, value: Decimal, unit: LabUnit) -> Reading:
        """Check ``value`` (in ``unit``, one of this measurand's) and convert it to the
        canonical unit.

        Raises ``InvalidInput`` naming ``field`` for a negative or non-finite value, or a
        value outside the plausible range; the latter names the units in which the same
        number would be plausible.
        """
        check_not_negative(field, value)
        canonical = self.to_canonical(value, unit)
        if canonical not in self.plausible:
            raise InvalidInput(field, f"{value} {unit.code}", self._implausible(value, unit))
        return Reading(value, unit, canonical)

    def _implausible(self, value: Decimal, unit: LabUnit) -> str:
        text = (
            f"within the plausible range of {self.name}, "
            f"{self.plausible.describe()} {self.canonical}"
        )
        meant = [
            f"{value} {other.code}"
            for other in self.units
            if other is not unit and self.to_canonical(value, other) in self.plausible
        ]
        if meant:
            text += f"; did you mean {' or '.join(meant)}?"
        return text


def plain(value: Decimal) -> str:
    """A decimal without trailing zeros nor an exponent: ``505.58``, ``1200``."""
    return format(value.normalize(), "f")


def _digits(value: Decimal) -> int:
    return len(value.as_tuple().digits)


def _exact_product(value: Decimal, factor: Decimal) -> Decimal:
    if factor == 1:  # the canonical unit (and mEq/L): no context to set up
        return value
    # A product has at most the digits of both factors: with that precision it is exact
    # (the trap would raise if it were not).
    with localcontext() as context:
        context.prec = _digits(value) + _digits(factor)
        context.traps[Inexact] = True
        return value * factor
