"""The mass balance of a bag: the arithmetic every recipe and every check rests on.

A bag holds drug mass M = c x D (D mL of drug reconstituted at c = 12.5 mcg/mL) in a total
volume V = S + I + D (base saline S, IV Solution Stabilizer I). The pump runs it at rate
r for the bag's duration, so it delivers

    delivered (mcg/day) = M / V x r x 24 h.

Setting that equal to the prescribed dose P and solving for D gives

    D = P x (S + I) / (24 x c x r - P).

The recipe solves with the second formula (``drug_ml_for``); the independent check
recomputes the dose from the volumes as measured with the first
(``delivered_mcg_per_day``), so a slip in solving or rounding shows as a dose outside the
site's tolerance. Both sit here, beside their derivation, and neither calls the other:
the check never runs the code it checks.
"""

from decimal import Decimal

__all__ = [
    "HOURS_PER_DAY",
    "benzyl_alcohol_mg_per_kg_per_day",
    "delivered_mcg_per_day",
    "drug_ml_for",
]

HOURS_PER_DAY = Decimal(24)


def delivered_mcg_per_day(
    *,
    drug_ml: Decimal,
    concentration_mcg_per_ml: Decimal,
    saline_ml: Decimal,
    stabilizer_ml: Decimal,
    rate_ml_per_h: Decimal,
) -> Decimal:
    """mcg/day a bag delivers: drug mass / total volume x rate x 24 h (mass balance).

    The independent second computation: it takes the volumes as measured and never uses
    the formula that solved for them.
    """
    mass = concentration_mcg_per_ml * drug_ml
    volume = saline_ml + stabilizer_ml + drug_ml
    # One division, last: the products are exact, so the only rounding (to the decimal
    # context's precision) never carries a dose that is at most the prescription above it.
    return mass * rate_ml_per_h * HOURS_PER_DAY / volume


def drug_ml_for(
    *,
    dose_mcg_per_day: Decimal,
    saline_ml: Decimal,
    stabilizer_ml: Decimal,
    capacity: Decimal,
) -> Decimal:
    """The exact drug volume (mL) that delivers the dose: P x (S + I) / (24 x c x r - P).

    ``capacity`` is 24 x c x r, the mcg/day one mL of undiluted drug gives at the bag's
    rate. 0 when no volume can deliver the dose (it is at or above the capacity).
    """
    headroom = capacity - dose_mcg_per_day
    if headroom <= 0:
        return Decimal(0)
    return dose_mcg_per_day * (saline_ml + stabilizer_ml) / headroom


def benzyl_alcohol_mg_per_kg_per_day(
    *,
    content_mg_per_ml: Decimal | None,
    saline_ml: Decimal,
    total_ml: Decimal,
    rate_ml_per_h: Decimal,
    weight_kg: Decimal,
) -> Decimal | None:
    """The benzyl alcohol a patient gets from a preserved bag, mg/kg/day: the preserved
    saline's content x its share of the bag x the rate x 24 h / weight (None where the site
    library gives no content)."""
    if content_mg_per_ml is None:
        return None
    return content_mg_per_ml * saline_ml * rate_ml_per_h * HOURS_PER_DAY / (total_ml * weight_kg)
