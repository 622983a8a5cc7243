"""Body size: plausibility ranges, BSA by Mosteller, and the adult / pediatric split."""

from decimal import Decimal

import pytest

from blina.domain.body import AgeGroup, BodyRules, Range, bsa_mosteller, measure_body
from blina.domain.errors import InvalidInput
from blina.domain.units import M2, Cm, Kg

QUANTUM = Decimal("0.01")


@pytest.mark.parametrize(
    ("weight_kg", "height_cm", "expected_m2"),
    [
        ("70", "170", "1.82"),  # sqrt(3.3056) = 1.8181
        ("20", "110", "0.78"),  # sqrt(0.6111) = 0.7817
        ("70", "175", "1.84"),  # sqrt(3.4028) = 1.8447
        ("3.5", "50", "0.22"),  # sqrt(0.0486) = 0.2205
        ("25.7049", "100", "0.85"),  # sqrt(0.714025) = 0.845 exactly: half-up, not half-even
    ],
)
def test_bsa_mosteller_known_values_round_half_up_to_quantum(
    weight_kg: str, height_cm: str, expected_m2: str
) -> None:
    weight, height = Kg(Decimal(weight_kg)), Cm(Decimal(height_cm))

    bsa = bsa_mosteller(weight=weight, height=height, quantum=QUANTUM)

    assert bsa == M2(Decimal(expected_m2))
    assert bsa.value.as_tuple().exponent == -2


def test_measure_body_child_derives_bsa_and_pediatric_group(body_rules: BodyRules) -> None:
    body = measure_body(
        weight_kg=Decimal(20), height_cm=Decimal(110), age_years=Decimal(6), rules=body_rules
    )

    assert body.weight == Kg(Decimal(20))
    assert body.height == Cm(Decimal(110))
    assert body.bsa == M2(Decimal("0.78"))
    assert body.age_group is AgeGroup.PEDIATRIC


def test_measure_body_without_height_has_no_bsa(body_rules: BodyRules) -> None:
    body = measure_body(
        weight_kg=Decimal(70), height_cm=None, age_years=Decimal(40), rules=body_rules
    )

    assert body.height is None
    assert body.bsa is None


@pytest.mark.parametrize(
    ("age_years", "group"),
    [("17.99", AgeGroup.PEDIATRIC), ("18", AgeGroup.ADULT), ("120", AgeGroup.ADULT)],
)
def test_measure_body_adult_from_18_years(
    body_rules: BodyRules, age_years: str, group: AgeGroup
) -> None:
    body = measure_body(
        weight_kg=Decimal(60),
        height_cm=Decimal(170),
        age_years=Decimal(age_years),
        rules=body_rules,
    )

    assert body.age_group is group


@pytest.mark.parametrize(
    ("weight_kg", "height_cm", "age_years"),
    [
        ("0.01", "30", "40"),
        ("350", "250", "40"),
        ("70", "30", "120"),
    ],
    ids=["lowest", "highest", "oldest"],
)
def test_measure_body_values_on_the_bounds_are_accepted(
    body_rules: BodyRules, weight_kg: str, height_cm: str, age_years: str
) -> None:
    body = measure_body(
        weight_kg=Decimal(weight_kg),
        height_cm=Decimal(height_cm),
        age_years=Decimal(age_years),
        rules=body_rules,
    )

    assert body.weight.value == Decimal(weight_kg)


def test_measure_body_one_month_old_is_accepted(body_rules: BodyRules) -> None:
    body = measure_body(
        weight_kg=Decimal("4.2"),
        height_cm=Decimal(54),
        age_years=Decimal(1) / Decimal(12),
        rules=body_rules,
    )

    assert body.age_group is AgeGroup.PEDIATRIC


WEIGHT_RANGE = "must be > 0 and <= 350"
HEIGHT_RANGE = "must be >= 30 and <= 250"
AGE_RANGE = "must be at least 1 month(s) (0.08 years) and <= 120 years"


OUT_OF_RANGE = [
    ("weight_kg", WEIGHT_RANGE, ["0", "-1", "350.01", "NaN", "Infinity"]),
    ("height_cm", HEIGHT_RANGE, ["29.9", "250.1", "-Infinity"]),
    ("age_years", AGE_RANGE, ["0.07", "0", "120.01", "sNaN"]),
]


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        pytest.param(field, value, allowed, id=f"{field}={value}")
        for field, allowed, values in OUT_OF_RANGE
        for value in values
    ],
)
def test_measure_body_out_of_range_raises_naming_field_and_range(
    body_rules: BodyRules, field: str, value: str, allowed: str
) -> None:
    measurements = {"weight_kg": Decimal(60), "height_cm": Decimal(170), "age_years": Decimal(30)}
    measurements[field] = Decimal(value)

    with pytest.raises(InvalidInput) as caught:
        measure_body(**measurements, rules=body_rules)
    assert caught.value.field == field
    assert str(caught.value) == f"{field} {value} is not allowed: {allowed}"


def test_range_describe_uses_text_when_given() -> None:
    assert Range(Decimal(1), Decimal(2), text="one to two").describe() == "one to two"


@pytest.mark.parametrize(
    ("low_inclusive", "expected"), [(True, ">= 1 and <= 2"), (False, "> 1 and <= 2")]
)
def test_range_describe_states_bounds(low_inclusive: bool, expected: str) -> None:
    assert Range(Decimal(1), Decimal(2), low_inclusive).describe() == expected


@pytest.mark.parametrize(
    ("low_inclusive", "value", "inside"),
    [
        (True, "1", True),
        (False, "1", False),
        (False, "1.001", True),
        (True, "2", True),
        (True, "2.001", False),
        (True, "0.999", False),
    ],
)
def test_range_contains_respects_inclusive_low_and_high(
    low_inclusive: bool, value: str, inside: bool
) -> None:
    assert (Decimal(value) in Range(Decimal(1), Decimal(2), low_inclusive)) is inside


def test_measure_body_one_month_entered_as_0_08_years_is_accepted(body_rules: BodyRules) -> None:
    body = measure_body(
        weight_kg=Decimal("4.2"), height_cm=Decimal(54), age_years=Decimal("0.08"), rules=body_rules
    )

    assert body.age.value == Decimal("0.08")


def test_measure_body_float_weight_raises_invalid_input(body_rules: BodyRules) -> None:
    with pytest.raises(InvalidInput) as caught:
        measure_body(
            weight_kg=60.5,  # type: ignore[arg-type]
            height_cm=Decimal(170),
            age_years=Decimal(30),
            rules=body_rules,
        )
    assert caught.value.field == "weight_kg"
    assert "never a float" in str(caught.value)
