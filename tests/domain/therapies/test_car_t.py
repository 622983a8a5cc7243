"""The CAR-T product calculations: the cell dose band by weight and the tocilizumab dose
(reference other-immunotherapies.md §2, §3.2, §4.2)."""

from dataclasses import replace
from decimal import Decimal

import pytest

from blina.domain.therapies.car_t import (
    BlastBurden,
    CarTProduct,
    CellDoseRule,
    DosePer,
    cell_dose_band,
    format_cells,
    format_cells_as,
    tocilizumab_dose,
)
from blina.domain.units import Kg, Mg
from blina.knowledge import Knowledge


@pytest.fixture(scope="module")
def kymriah(knowledge: Knowledge) -> CarTProduct:
    return knowledge.car_t.product("tisagenlecleucel")


@pytest.fixture(scope="module")
def tecartus(knowledge: Knowledge) -> CarTProduct:
    return knowledge.car_t.product("brexucabtagene")


@pytest.fixture(scope="module")
def aucatzyl(knowledge: Knowledge) -> CarTProduct:
    return knowledge.car_t.product("obecabtagene")


@pytest.mark.parametrize(
    ("weight", "low", "high"),
    [
        # §3.2: <= 50 kg, 0.2-5.0 x 10^6 per kg
        ("10", "2000000", "50000000"),
        ("50", "10000000", "250000000"),
        # > 50 kg: 0.1-2.5 x 10^8 in total, whatever the weight
        ("50.1", "10000000", "250000000"),
        ("120", "10000000", "250000000"),
    ],
    ids=["10kg", "50kg-per-kg", "50.1kg-total", "120kg-total"],
)
def test_cell_dose_band_tisagenlecleucel_per_kg_to_50kg_then_total(
    kymriah: CarTProduct, weight: str, low: str, high: str
) -> None:
    band = cell_dose_band(kymriah.cell_doses, Kg(Decimal(weight)))

    assert (band.low, band.high) == (Decimal(low), Decimal(high))
    assert band.source == "tisagenlecleucel-dose"


def test_cell_dose_band_basis_shows_the_label_band_and_the_weight(kymriah: CarTProduct) -> None:
    per_kg = cell_dose_band(kymriah.cell_doses, Kg(Decimal("38")))
    total = cell_dose_band(kymriah.cell_doses, Kg(Decimal("70")))

    assert (
        per_kg.basis == "0.2\u20135.0 \u00d7 10\u2076 CAR-positive viable T cells/kg \u00d7 38 kg"
    )
    assert total.basis == "0.1\u20132.5 \u00d7 10\u2078 CAR-positive viable T cells in total"


@pytest.mark.parametrize(
    ("weight", "cells", "capped"),
    [("38", "38000000", False), ("100", "100000000", False), ("130", "100000000", True)],
    ids=["38kg", "100kg-at-cap", "130kg-capped"],
)
def test_cell_dose_band_brexucabtagene_one_million_per_kg_capped_at_1e8(
    tecartus: CarTProduct, weight: str, cells: str, capped: bool
) -> None:
    band = cell_dose_band(tecartus.cell_doses, Kg(Decimal(weight)))

    assert band.low == band.high == Decimal(cells)
    assert ("capped at 1 \u00d7 10\u2078" in band.basis) is capped
    assert ("(maximum 1 \u00d7 10\u2078)" in band.basis) is not capped


def test_cell_dose_band_without_a_band_for_the_weight_is_an_error() -> None:
    rule = CellDoseRule(DosePer.KG, Decimal(1), Decimal(2), 6, "s", up_to_kg=Decimal(50))

    with pytest.raises(ValueError, match="no cell dose band covers 60 kg"):
        cell_dose_band((rule,), Kg(Decimal(60)))


def test_cell_dose_rule_covers_excludes_above_and_includes_up_to() -> None:
    rule = CellDoseRule(
        DosePer.TOTAL, Decimal(1), Decimal(2), 6, "s", above_kg=Decimal(10), up_to_kg=Decimal(20)
    )

    assert [rule.covers(Kg(Decimal(w))) for w in ("10", "10.1", "20", "20.1")] == [
        False,
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    ("weight", "dose", "capped"),
    [
        ("12", "144.0", False),  # < 30 kg: 12 mg/kg
        ("29.9", "358.8", False),
        ("30", "240.0", False),  # >= 30 kg: 8 mg/kg
        ("100", "800.0", False),
        ("100.1", "800", True),  # capped at 800 mg
    ],
)
def test_tocilizumab_dose_by_weight_with_the_800mg_cap(
    kymriah: CarTProduct, weight: str, dose: str, capped: bool
) -> None:
    result = tocilizumab_dose(kymriah.tocilizumab, Kg(Decimal(weight)))

    assert result.dose == Mg(Decimal(dose))
    assert ("capped at 800 mg" in result.basis) is capped


def test_split_burden_threshold_is_at_or_below_20_percent(aucatzyl: CarTProduct) -> None:
    split = aucatzyl.split
    assert split is not None

    assert split.burden(Decimal("20")).blasts is BlastBurden.AT_OR_BELOW
    assert split.burden(Decimal("20.1")).blasts is BlastBurden.ABOVE
    assert split.burden(Decimal("0")).first == Decimal(100) * 10**6


def test_lymphodepletion_last_offset_is_the_last_day_of_any_drug(tecartus: CarTProduct) -> None:
    assert tecartus.lymphodepletion.last_offset == 2
    changed = replace(tecartus.lymphodepletion.drugs[1], days_from_start=(5,))
    plan = replace(tecartus.lymphodepletion, drugs=(tecartus.lymphodepletion.drugs[0], changed))

    assert plan.last_offset == 5


def test_format_cells_writes_a_mantissa_and_a_power_of_ten() -> None:
    assert format_cells(Decimal("100000000")) == "1 \u00d7 10\u2078"
    assert format_cells(Decimal("2500000")) == "2.5 \u00d7 10\u2076"
    assert format_cells_as(Decimal("310000000"), 6) == "310 \u00d7 10\u2076"
