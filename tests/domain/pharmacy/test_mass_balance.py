"""The mass balance: the drug volume that delivers a dose, and the dose a bag's volumes
deliver, each with its arithmetic written out so a reader can check it by hand.
"""

from decimal import Decimal

import pytest

from blina.domain.pharmacy.mass_balance import (
    benzyl_alcohol_mg_per_kg_per_day,
    delivered_mcg_per_day,
    drug_ml_for,
)
from blina.domain.rounding import round_reported


def test_delivered_mcg_per_day_is_mass_over_volume_times_rate() -> None:
    # 12.5 x 4 = 50 mcg in 100 mL at 2 mL/h: 0.5 mcg/mL x 48 mL/day = 24 mcg/day.
    delivered = delivered_mcg_per_day(
        drug_ml=Decimal(4),
        concentration_mcg_per_ml=Decimal("12.5"),
        saline_ml=Decimal(90),
        stabilizer_ml=Decimal(6),
        rate_ml_per_h=Decimal(2),
    )

    assert delivered == 24


def test_drug_ml_for_solves_the_mass_balance_for_the_drug_volume() -> None:
    # 28 mcg/day in 270 + 6 mL at 10 mL/h: D = 28 x 276 / (24 x 12.5 x 10 - 28) = 7728 / 2972.
    drug = drug_ml_for(
        dose_mcg_per_day=Decimal(28),
        saline_ml=Decimal(270),
        stabilizer_ml=Decimal(6),
        capacity=Decimal(3000),
    )

    assert drug == Decimal(7728) / Decimal(2972)
    assert round_reported(drug) == Decimal("2.600")


@pytest.mark.parametrize("dose", ["3000", "3001"], ids=["at-capacity", "above-capacity"])
def test_drug_ml_for_a_dose_undiluted_drug_cannot_give_is_zero(dose: str) -> None:
    drug = drug_ml_for(
        dose_mcg_per_day=Decimal(dose),
        saline_ml=Decimal(270),
        stabilizer_ml=Decimal(6),
        capacity=Decimal(3000),
    )

    assert drug == 0


def test_benzyl_alcohol_mg_per_kg_per_day_is_the_saline_share_per_kg_and_day() -> None:
    # 9 mg/mL x 110 mL of 125 mL at 0.6 mL/h for 24 h over 10 kg: 9 x 110 x 14.4 / 1250.
    load = benzyl_alcohol_mg_per_kg_per_day(
        content_mg_per_ml=Decimal(9),
        saline_ml=Decimal(110),
        total_ml=Decimal(125),
        rate_ml_per_h=Decimal("0.6"),
        weight_kg=Decimal(10),
    )

    assert load == Decimal("11.4048")
    assert (
        benzyl_alcohol_mg_per_kg_per_day(
            content_mg_per_ml=None,
            saline_ml=Decimal(110),
            total_ml=Decimal(125),
            rate_ml_per_h=Decimal("0.6"),
            weight_kg=Decimal(10),
        )
        is None
    )
