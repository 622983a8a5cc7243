"""Named rounding rules of the pharmacy bench; each says its rule and where it comes from.

Volumes are rounded only to what the site can measure (its syringe graduations, a site
library parameter); vials are counted up; figures shown to people are rounded for reading
only, never fed back into a calculation.

>>> from decimal import Decimal
>>> round_volume_ml(Decimal("0.8290"), step=Decimal("0.01"), rule=VolumeRounding.NEAREST)
Decimal('0.83')
>>> round_volume_ml(Decimal("5.25"), step=Decimal("0.2"), rule=VolumeRounding.DOWN)
Decimal('5.2')
>>> vials_needed(Decimal("5.7"), per_vial=Decimal("2.8"))
3
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum

__all__ = [
    "MeasurableStep",
    "VolumeRounding",
    "measurable_step",
    "round_factor",
    "round_reported",
    "round_volume_ml",
    "vials_needed",
]

_REPORTED = Decimal("0.001")
_FACTOR = Decimal("0.01")


class VolumeRounding(StrEnum):
    """How a site rounds a computed drug volume to a measurable one (a site library choice).

    ``nearest`` rounds half up to the nearest graduation, as label preparation tables do;
    ``down`` never draws more than the exact volume, so a bag never holds more drug than
    the prescription needs. Either way the delivered dose is recomputed from the rounded
    volume and checked against the site's tolerance.
    """

    NEAREST = "nearest"
    DOWN = "down"


_MODES = {VolumeRounding.NEAREST: ROUND_HALF_UP, VolumeRounding.DOWN: ROUND_DOWN}


@dataclass(frozen=True, slots=True)
class MeasurableStep:
    """Volumes up to ``up_to_ml`` are measured in steps of ``step_ml`` (one syringe size)."""

    up_to_ml: Decimal
    step_ml: Decimal


def measurable_step(volume_ml: Decimal, steps: Sequence[MeasurableStep]) -> Decimal | None:
    """The graduation for ``volume_ml``: the first step whose ``up_to_ml`` covers it.

    ``steps`` are sorted by ``up_to_ml``; None when the volume is beyond the largest.
    """
    for step in steps:
        if volume_ml <= step.up_to_ml:
            return step.step_ml
    return None


def round_volume_ml(volume_ml: Decimal, *, step: Decimal, rule: VolumeRounding) -> Decimal:
    """``volume_ml`` rounded to a whole number of ``step`` graduations by ``rule``.

    Source: the site library's measurable-volume table (site parameter, not a label fact).
    """
    return (volume_ml / step).to_integral_value(rounding=_MODES[rule]) * step


def vials_needed(volume_ml: Decimal, *, per_vial: Decimal) -> int:
    """Whole vials to draw ``volume_ml`` when each vial yields ``per_vial`` mL: counted up."""
    return int((volume_ml / per_vial).to_integral_value(rounding=ROUND_CEILING))


def round_reported(value: Decimal) -> Decimal:
    """A dose or mass shown to people, half up to 0.001; never used in a calculation."""
    return value.quantize(_REPORTED, rounding=ROUND_HALF_UP)


def round_factor(value: Decimal) -> Decimal:
    """A ratio shown to people (an overdose factor, hours), half up to 0.01."""
    return value.quantize(_FACTOR, rounding=ROUND_HALF_UP)
