"""A CAR-T journey's inputs, as the treating team records them, and their checks.

``Journey`` holds what blina does not know from knowledge: the patient's dates (the
infusion, the leukapheresis, the product ready, the bridging the physician chose, the
lymphodepletion start), the weight and BSA, and for obecabtagene the marrow blasts and
what happened after the first infusion. ``check_journey`` refuses a journey the product
does not take or whose dates are out of order (source ``car-t-physician-choice`` for the
recorded dates; the product's own sources for its windows, checked by the planner).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from blina.domain.errors import InvalidInput
from blina.domain.therapies.car_t import CarTProduct
from blina.domain.therapies.cell_second_dose import FirstDoseReaction
from blina.domain.units import M2, Kg

__all__ = ["Bridging", "Journey", "check_after", "check_before", "check_journey"]


@dataclass(frozen=True, slots=True)
class Bridging:
    """Bridging therapy as the physician records it: no drug facts of blina's own."""

    description: str
    start: date


@dataclass(frozen=True, slots=True)
class Journey:
    """One patient's CAR-T journey inputs; a re-plan is a new ``Journey`` (``replace``).

    ``first_infusion`` is day 0 (obecabtagene: Day 1). ``weight`` and ``bsa`` are the
    measured patient (``body.measure_body``); ``bsa`` is required where the product's
    lymphodepletion is dosed per m2 (not for obecabtagene, whose doses were not
    retrieved). The obecabtagene fields
    (``marrow_blasts_percent``, ``second_dose_on``, ``first_dose_reaction``,
    ``second_dose_withheld``) are refused for the single-infusion products.
    """

    first_infusion: date
    weight: Kg
    bsa: M2 | None = None
    leukapheresis_on: date | None = None
    product_ready_on: date | None = None
    bridging: Bridging | None = None
    lymphodepletion_start: date | None = None
    marrow_blasts_percent: Decimal | None = None
    second_dose_on: date | None = None
    first_dose_reaction: FirstDoseReaction | None = None
    second_dose_withheld: bool = False
    stay_near_days: int | None = None
    no_driving_days: int | None = None


def check_journey(product: CarTProduct, journey: Journey) -> None:
    """Refuse a journey the product does not take or whose dates are out of order:
    ``InvalidInput`` naming the field and what is allowed."""
    split_only = {
        "marrow_blasts_percent": journey.marrow_blasts_percent is not None,
        "second_dose_on": journey.second_dose_on is not None,
        "first_dose_reaction": journey.first_dose_reaction is not None,
        "second_dose_withheld": journey.second_dose_withheld,
    }
    if product.split is None:
        for field, given in split_only.items():
            if given:
                raise InvalidInput(field, "given", f"left out: {product.key} is one infusion")
    else:
        blasts = journey.marrow_blasts_percent
        if blasts is None or not blasts.is_finite() or not 0 <= blasts <= 100:
            raise InvalidInput(
                "marrow_blasts_percent", blasts, "a percentage from 0 to 100 (the marrow sample)"
            )
    if product.lymphodepletion.drugs and journey.bsa is None:
        raise InvalidInput(
            "bsa",
            None,
            f"given (from the height) for {product.key}: lymphodepletion is dosed in mg/m2",
        )
    check_before("leukapheresis_on", journey.leukapheresis_on, journey.first_infusion)
    ready = journey.product_ready_on
    check_before("product_ready_on", ready, journey.first_infusion + timedelta(days=1))
    check_after("product_ready_on", ready, journey.leukapheresis_on)
    if journey.bridging is not None:
        if not journey.bridging.description.strip():
            raise InvalidInput("bridging", "''", "a description of the therapy the physician chose")
        check_before("bridging_start", journey.bridging.start, journey.first_infusion)
        check_after("bridging_start", journey.bridging.start, journey.leukapheresis_on)


def check_before(field: str, value: date | None, limit: date) -> None:
    """``value``, when given, must fall before ``limit``."""
    if value is not None and value >= limit:
        raise InvalidInput(field, value, f"a date before {limit}")


def check_after(field: str, value: date | None, limit: date | None) -> None:
    """``value``, when given, must not fall before the leukapheresis ``limit``, if any."""
    if value is not None and limit is not None and value < limit:
        raise InvalidInput(field, value, f"a date on or after the leukapheresis, {limit}")
