"""Clinical quantities: exact Decimals, a unit in the type, arithmetic only where it makes sense."""

import dataclasses
from decimal import Decimal

import pytest

from blina.domain.errors import InvalidInput
from blina.domain.units import (
    M2,
    Cm,
    Hours,
    Kg,
    Mcg,
    McgPerDay,
    McgPerM2PerDay,
    McgPerMl,
    Mg,
    MgPerM2,
    Ml,
    MlPerHour,
    Years,
)

QUANTITIES = [
    Kg,
    Cm,
    M2,
    Years,
    Hours,
    Mg,
    McgPerDay,
    McgPerM2PerDay,
    MgPerM2,
    Ml,
    Mcg,
    MlPerHour,
    McgPerMl,
]
UNITS = {
    Kg: "kg",
    Cm: "cm",
    M2: "m2",
    Years: "years",
    Hours: "h",
    Mg: "mg",
    McgPerDay: "mcg/day",
    McgPerM2PerDay: "mcg/m2/day",
    MgPerM2: "mg/m2",
    Ml: "mL",
    Mcg: "mcg",
    MlPerHour: "mL/h",
    McgPerMl: "mcg/mL",
}


@pytest.mark.parametrize("quantity", QUANTITIES, ids=lambda q: q.__name__)
@pytest.mark.parametrize("value", [70.0, 0.1, 70, True, "70"], ids=repr)
def test_quantity_not_a_decimal_is_rejected(quantity: type, value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        quantity(value)
    assert caught.value.field == quantity.__name__
    assert caught.value.value == repr(value)
    assert str(caught.value).endswith("must be an exact Decimal, never a float")


@pytest.mark.parametrize("quantity", QUANTITIES, ids=lambda q: q.__name__)
@pytest.mark.parametrize("value", ["-0.01", "-1", "NaN", "sNaN", "Infinity", "-Infinity"])
def test_quantity_negative_or_not_finite_is_rejected(quantity: type, value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        quantity(Decimal(value))
    assert caught.value.field == quantity.__name__
    assert str(caught.value).endswith("must be a finite number >= 0")


@pytest.mark.parametrize("quantity", QUANTITIES, ids=lambda q: q.__name__)
def test_quantity_zero_and_positive_decimal_are_kept_exactly(quantity: type) -> None:
    assert quantity(Decimal(0)).value == 0
    assert quantity(Decimal("12.50")).value.as_tuple() == Decimal("12.50").as_tuple()


@pytest.mark.parametrize("quantity", QUANTITIES, ids=lambda q: q.__name__)
def test_quantity_str_shows_value_and_unit(quantity: type) -> None:
    assert str(quantity(Decimal("1.5"))) == f"1.5 {UNITS[quantity]}"


def test_quantity_assignment_is_refused() -> None:
    weight = Kg(Decimal(70))

    with pytest.raises(dataclasses.FrozenInstanceError):
        weight.value = Decimal(1)  # type: ignore[misc]


def test_quantity_same_unit_equal_and_hashable() -> None:
    assert Kg(Decimal("70.0")) == Kg(Decimal(70))
    assert len({Kg(Decimal("70.0")), Kg(Decimal(70))}) == 1


def test_quantity_different_units_never_equal() -> None:
    assert Kg(Decimal(70)) != Cm(Decimal(70))


def test_quantity_same_unit_orders_by_value() -> None:
    assert Kg(Decimal(5)) < Kg(Decimal("5.4")) <= Kg(Decimal("5.4"))


def test_quantity_different_units_cannot_be_ordered() -> None:
    with pytest.raises(TypeError):
        _ = Kg(Decimal(5)) < Cm(Decimal(6))  # type: ignore[operator]


def test_quantity_add_same_unit_adds_values() -> None:
    assert McgPerDay(Decimal(9)) + McgPerDay(Decimal(19)) == McgPerDay(Decimal(28))


def test_quantity_add_other_unit_raises_type_error() -> None:
    with pytest.raises(TypeError):
        _ = Kg(Decimal(70)) + Cm(Decimal(175))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("value", "cap", "expected"),
    [("11.70", "28", "11.70"), ("28", "28", "28"), ("28.05", "28", "28")],
    ids=["below-cap", "at-cap", "above-cap"],
)
def test_quantity_capped_at_returns_smaller(value: str, cap: str, expected: str) -> None:
    dose = McgPerDay(Decimal(value)).capped_at(McgPerDay(Decimal(cap)))

    assert dose == McgPerDay(Decimal(expected))
    assert type(dose) is McgPerDay


def test_mcg_per_m2_per_day_times_m2_is_mcg_per_day_exactly() -> None:
    assert McgPerM2PerDay(Decimal(15)) * M2(Decimal("0.78")) == McgPerDay(Decimal("11.70"))


def test_mg_per_m2_times_m2_is_mg_exactly() -> None:
    assert MgPerM2(Decimal(5)) * M2(Decimal("0.78")) == Mg(Decimal("3.90"))


def test_pharmacy_units_multiply_only_where_units_make_sense() -> None:
    assert McgPerMl(Decimal("12.5")) * Ml(Decimal(2)) == Mcg(Decimal("25.0"))
    assert MlPerHour(Decimal("0.6")) * Hours(Decimal(168)) == Ml(Decimal("100.8"))
    assert str(Ml(Decimal(3))) == "3 mL"
    with pytest.raises(InvalidInput):
        Ml(Decimal(-1))
