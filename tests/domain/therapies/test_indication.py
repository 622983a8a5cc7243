"""The label's age range for a therapy, checked against the patient's age."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from blina.domain.therapies.indication import AGE_WARNING, AgeIndication, age_warning

CHILDREN = AgeIndication(Decimal("0.5"), Decimal(18), "children 6 months to under 18", "s")
ADULTS = AgeIndication(Decimal(18), None, "adults", "s")
YOUNG = AgeIndication(None, Decimal(25), "up to 25 years of age", "s")


@pytest.mark.parametrize(
    ("indication", "inside", "outside"),
    [
        (CHILDREN, ["0.5", "17.99"], ["0.49", "18"]),
        (ADULTS, ["18", "99"], ["17.99"]),
        (YOUNG, ["0.1", "24.99"], ["25", "40"]),
    ],
)
def test_from_is_the_first_age_inside_and_under_the_first_past_it(
    indication: AgeIndication, inside: list[str], outside: list[str]
) -> None:
    for age in inside:
        assert age_warning(indication, Decimal(age)) is None, age
    for age in outside:
        warning = age_warning(indication, Decimal(age))
        assert warning is not None, age
        assert warning.what == AGE_WARNING
        assert warning.source == "s"


def test_outside_the_warning_names_the_age_and_the_labels_words() -> None:
    warning = age_warning(CHILDREN, Decimal("18.50"))

    assert warning is not None
    assert warning.text == (
        "Age 18.5 years is outside the label's indication (children 6 months to under 18): "
        "use outside it is the physician's decision."
    )


def test_without_an_age_the_plan_says_the_range_was_not_checked() -> None:
    warning = age_warning(ADULTS, None)

    assert warning is not None
    assert warning.text == (
        "Age not given: the label's indication (adults) was not checked against the patient's age."
    )


@pytest.mark.parametrize(
    ("low", "high"), [(None, None), (Decimal(18), Decimal(18)), (Decimal(18), Decimal(1))]
)
def test_a_range_that_holds_no_age_or_no_bound_is_refused(
    low: Decimal | None, high: Decimal | None
) -> None:
    with pytest.raises(ValueError, match=r"from_years|under_years"):
        AgeIndication(low, high, "text", "s")


@given(age=st.decimals(min_value=0, max_value=130, places=2))
def test_a_warning_exactly_when_the_age_is_outside(age: Decimal) -> None:
    for indication in (CHILDREN, ADULTS, YOUNG):
        low = indication.from_years if indication.from_years is not None else Decimal(0)
        high = indication.under_years if indication.under_years is not None else Decimal(131)
        assert (age_warning(indication, age) is None) == (low <= age < high)
