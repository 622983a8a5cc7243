"""The pump and the line: a pump program and a line flush against the bag they are for.

A rate that is not the bag's is a hard stop with its dose factor; a flush is always a
hard stop, with the bolus it would push.
"""

from decimal import Decimal

import pytest
from tests.pharmacy_strategies import make_care_area, reference

from blina.domain.checks import CheckLevel
from blina.domain.errors import InvalidInput
from blina.domain.pharmacy.pump import Infusion, check_flush, check_pump_program
from blina.domain.pharmacy.site_library import Limits
from blina.domain.units import Mcg, McgPerDay, Ml, MlPerHour

SEVEN_DAY = Infusion(
    hours=168,
    rate=MlPerHour(Decimal("0.6")),
    infuse=Ml(Decimal("100.8")),
    drug=Mcg(Decimal("250")),
    total=Ml(Decimal("125")),
    rate_source="rate-src",
)


def _codes(report_checks: object) -> dict[str, CheckLevel]:
    return {c.code: c.level for c in report_checks}  # type: ignore[attr-defined]


def test_check_pump_program_matching_rate_and_volume_is_ok() -> None:
    result = check_pump_program(
        SEVEN_DAY, rate=MlPerHour(Decimal("0.6")), volume=Ml(Decimal("100.8"))
    )

    assert result.report.level is CheckLevel.OK
    assert result.report.codes() == ("rate-matches-bag",)
    assert result.dose_factor == 1
    assert result.programmed_hours == 168
    assert result.programmed_dose == McgPerDay(Decimal("28.8"))


def test_check_pump_program_seven_day_bag_at_24h_rate_is_hard_with_overdose_factor() -> None:
    result = check_pump_program(SEVEN_DAY, rate=MlPerHour(Decimal(10)), volume=Ml(Decimal(240)))

    assert result.report.blocked
    rate = result.report.hard[0]
    assert rate.code == "rate-does-not-match-bag"
    assert rate.source == "rate-src"
    assert "an overdose of 16.67 times the prescribed dose" in rate.reason
    assert "(480.000 instead of 28.800 mcg/day)" in rate.reason
    assert result.dose_factor.quantize(Decimal("0.0001")) == Decimal("16.6667")
    assert result.programmed_dose == McgPerDay(Decimal(480))
    assert result.programmed_hours == 24
    assert "volume-above-bag" in result.report.codes()


def test_check_pump_program_slower_rate_is_hard_underdose() -> None:
    result = check_pump_program(
        SEVEN_DAY, rate=MlPerHour(Decimal("0.3")), volume=Ml(Decimal("100.8"))
    )

    assert "an underdose of 0.50 times" in result.report.hard[0].reason


def test_check_pump_program_smaller_volume_is_soft() -> None:
    result = check_pump_program(SEVEN_DAY, rate=MlPerHour(Decimal("0.6")), volume=Ml(Decimal(50)))

    assert result.report.level is CheckLevel.SOFT
    assert result.report.soft[0].code == "volume-below-bag"
    assert "would stop before 168 h" in result.report.soft[0].reason


def test_check_pump_program_care_area_rate_and_concentration_limits() -> None:
    area = make_care_area(
        rate=Limits("mL/h", "rate-src", hard_max=Decimal("0.5")),
        concentration=Limits("mcg/mL", "conc-src", soft_max=Decimal(1)),
    )

    result = check_pump_program(
        SEVEN_DAY, rate=MlPerHour(Decimal("0.6")), volume=Ml(Decimal("100.8")), care_area=area
    )

    assert _codes(result.report) == {
        "rate-matches-bag": CheckLevel.OK,
        "care-area-rate": CheckLevel.HARD,
        "care-area-concentration": CheckLevel.SOFT,
    }


def test_check_pump_program_care_area_within_limits_adds_nothing() -> None:
    result = check_pump_program(
        SEVEN_DAY,
        rate=MlPerHour(Decimal("0.6")),
        volume=Ml(Decimal("100.8")),
        care_area=make_care_area(),
    )

    assert result.report.codes() == ("rate-matches-bag",)


@pytest.mark.parametrize(
    ("rate", "volume", "field"),
    [("0", "100", "rate_ml_per_h"), ("1", "0", "volume_ml")],
    ids=["rate-zero", "volume-zero"],
)
def test_check_pump_program_zero_raises_invalid_input(rate: str, volume: str, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_pump_program(SEVEN_DAY, rate=MlPerHour(Decimal(rate)), volume=Ml(Decimal(volume)))

    assert raised.value.field == field


def test_check_flush_gives_bolus_and_hours_and_is_hard() -> None:
    rule = reference().advisory("do-not-flush")

    result = check_flush(SEVEN_DAY, line_volume=Ml(Decimal(3)), rule=rule)

    assert result.bolus == Mcg(Decimal(6))
    assert result.equivalent_hours == 5
    check = result.report.hard[0]
    assert check.code == "do-not-flush"
    assert check.source == "pharm-label-2.1-do-not-flush"
    assert check.reason == (
        "do not flush: 3 mL of this line holds 6.000 mcg, pushed at once; the pump gives"
        " that over 5.00 h"
    )


def test_check_flush_zero_volume_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as raised:
        check_flush(SEVEN_DAY, line_volume=Ml(Decimal(0)), rule=reference().advisory("pump"))

    assert raised.value.field == "line_volume_ml"


def test_infusion_concentration_and_daily_dose() -> None:
    assert SEVEN_DAY.concentration.value == 2
    assert SEVEN_DAY.daily_dose_at(MlPerHour(Decimal(1))) == McgPerDay(Decimal(48))
