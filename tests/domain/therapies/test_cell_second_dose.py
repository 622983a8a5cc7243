"""The obecabtagene second-dose rule (reference §5.2, PI Table 2; ICANS rows NOT RETRIEVED)."""

import pytest

from blina.domain.errors import InvalidInput
from blina.domain.therapies.car_t import CarTProduct
from blina.domain.therapies.cell_second_dose import (
    FirstDoseReaction,
    SecondDoseAction,
    decide_second_dose,
)
from blina.knowledge import Knowledge


@pytest.fixture(scope="module")
def aucatzyl(knowledge: Knowledge) -> CarTProduct:
    return knowledge.car_t.product("obecabtagene")


@pytest.mark.parametrize(
    ("crs", "icans", "action", "days"),
    [
        (0, 0, SecondDoseAction.GIVE, (8, 12)),
        (1, 0, SecondDoseAction.GIVE, (8, 12)),  # no row for grade 1: as planned
        (2, 0, SecondDoseAction.MAY_DEFER, (8, 21)),  # postpone up to Day 21
        (3, 0, SecondDoseAction.STOP, (None, None)),
        (4, 0, SecondDoseAction.STOP, (None, None)),
        (0, 1, SecondDoseAction.PHYSICIAN, (8, 12)),  # ICANS rows not retrieved
        (2, 3, SecondDoseAction.PHYSICIAN, (8, 12)),
        (3, 2, SecondDoseAction.STOP, (None, None)),  # CRS >= 3 stops whatever the ICANS
    ],
)
def test_decide_second_dose_follows_the_label_table(
    aucatzyl: CarTProduct,
    crs: int,
    icans: int,
    action: SecondDoseAction,
    days: tuple[int | None, int | None],
) -> None:
    assert aucatzyl.split is not None
    assert aucatzyl.second_dose_rule is not None

    decision = decide_second_dose(
        aucatzyl.split, aucatzyl.second_dose_rule, FirstDoseReaction(crs, icans)
    )

    assert decision.action is action
    assert (decision.earliest_day, decision.latest_day) == days


def test_decide_second_dose_without_a_reaction_is_day_10_plus_minus_2(
    aucatzyl: CarTProduct,
) -> None:
    assert aucatzyl.split is not None
    assert aucatzyl.second_dose_rule is not None

    decision = decide_second_dose(aucatzyl.split, aucatzyl.second_dose_rule, None)

    assert decision.action is SecondDoseAction.GIVE
    assert decision.text == "Second infusion on Day 10 \u00b1 2 days."
    assert decision.source == "obecabtagene-split"


def test_decide_second_dose_texts_cite_the_rule(aucatzyl: CarTProduct) -> None:
    assert aucatzyl.split is not None
    assert aucatzyl.second_dose_rule is not None
    decide = [
        decide_second_dose(aucatzyl.split, aucatzyl.second_dose_rule, FirstDoseReaction(c, i))
        for c, i in ((2, 0), (3, 0), (0, 2))
    ]

    assert "up to Day 21" in decide[0].text
    assert "settle to grade \u2264 1" in decide[0].text
    assert "discontinue" in decide[1].text
    assert "not retrieved" in decide[2].text
    assert {d.source for d in decide} == {"obecabtagene-second-dose"}


@pytest.mark.parametrize(
    ("crs", "icans", "field"),
    [(-1, 0, "crs_grade"), (5, 0, "crs_grade"), (0, 5, "icans_grade"), (True, 0, "crs_grade")],
)
def test_first_dose_reaction_grade_out_of_range_is_refused(
    crs: int, icans: int, field: str
) -> None:
    with pytest.raises(InvalidInput, match=f"{field} .* a whole number from 0 \\(none\\) to 4"):
        FirstDoseReaction(crs, icans)


def test_first_dose_reaction_grade_must_be_whole() -> None:
    with pytest.raises(InvalidInput, match="icans_grade"):
        FirstDoseReaction(0, 1.5)  # type: ignore[arg-type]
