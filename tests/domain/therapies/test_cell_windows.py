"""The windows after a CAR-T infusion (reference §2, §3.3, §4.3, §5.3): daily checks the
first week, monitoring at least 2 weeks, the current stay-near and no-driving periods
where retrieved, the superseded pre-June-2025 ones beside them."""

from datetime import date, timedelta

import pytest

from blina.domain.errors import InvalidInput
from blina.domain.therapies.car_t import CarTProduct
from blina.domain.therapies.cell_windows import PHYSICIAN_SOURCE, journey_windows
from blina.knowledge import Knowledge

DAY0 = date(2026, 3, 2)


@pytest.fixture(scope="module")
def products(knowledge: Knowledge) -> dict[str, CarTProduct]:
    return dict(knowledge.car_t.products)


def test_journey_windows_tisagenlecleucel_current_label_periods(
    products: dict[str, CarTProduct],
) -> None:
    windows = journey_windows(products["tisagenlecleucel"], DAY0)

    assert windows.daily_checks == tuple(DAY0 + timedelta(days=n) for n in range(1, 8))
    assert windows.monitor_until == DAY0 + timedelta(days=14)
    assert windows.stay_near_from == DAY0 + timedelta(days=1)
    assert windows.stay_near_until == windows.no_driving_until == DAY0 + timedelta(days=14)
    assert windows.stay_near_source == windows.no_driving_source == "tisagenlecleucel-periods-2025"
    assert windows.superseded_stay_near_until == DAY0 + timedelta(weeks=4)
    assert windows.superseded_no_driving_until == DAY0 + timedelta(weeks=8)


@pytest.mark.parametrize("key", ["brexucabtagene", "obecabtagene"])
def test_journey_windows_current_period_not_retrieved_is_none_with_the_superseded_beside(
    products: dict[str, CarTProduct], key: str
) -> None:
    windows = journey_windows(products[key], DAY0)

    assert windows.stay_near_until is None
    assert windows.no_driving_until is None
    assert windows.stay_near_source is None
    assert windows.superseded_stay_near_until == DAY0 + timedelta(weeks=4)
    assert windows.superseded_no_driving_until == DAY0 + timedelta(weeks=8)
    assert windows.monitor_until == DAY0 + timedelta(days=14)


def test_journey_windows_split_dose_counts_from_the_last_infusion(
    products: dict[str, CarTProduct],
) -> None:
    second = DAY0 + timedelta(days=9)

    windows = journey_windows(products["obecabtagene"], DAY0, last_infusion=second)

    assert windows.daily_checks[0] == DAY0 + timedelta(days=1)
    assert windows.daily_checks[-1] == second + timedelta(days=7)
    assert len(windows.daily_checks) == 16
    assert windows.monitor_until == second + timedelta(days=14)


def test_journey_windows_team_enters_the_period_the_label_lacks(
    products: dict[str, CarTProduct],
) -> None:
    windows = journey_windows(
        products["brexucabtagene"], DAY0, stay_near_days=28, no_driving_days=1
    )

    assert windows.stay_near_until == DAY0 + timedelta(days=28)
    assert windows.no_driving_until == DAY0 + timedelta(days=1)
    assert windows.stay_near_source == windows.no_driving_source == PHYSICIAN_SOURCE


def test_journey_windows_team_may_lengthen_a_label_period(
    products: dict[str, CarTProduct],
) -> None:
    windows = journey_windows(products["tisagenlecleucel"], DAY0, stay_near_days=30)

    assert windows.stay_near_until == DAY0 + timedelta(days=30)
    assert windows.stay_near_source == PHYSICIAN_SOURCE
    assert windows.no_driving_source == "tisagenlecleucel-periods-2025"


@pytest.mark.parametrize(
    ("key", "days", "allowed"),
    [
        ("tisagenlecleucel", 13, "from 14 (not shorter than the current label's period) to 365"),
        ("brexucabtagene", 0, "from 1 to 365"),
        ("brexucabtagene", 366, "from 1 to 365"),
        ("brexucabtagene", True, "from 1 to 365"),
    ],
)
def test_journey_windows_entered_period_out_of_range_is_refused(
    products: dict[str, CarTProduct], key: str, days: int, allowed: str
) -> None:
    with pytest.raises(InvalidInput, match="stay_near_days") as error:
        journey_windows(products[key], DAY0, stay_near_days=days)

    assert allowed in str(error.value)


def test_journey_windows_last_infusion_before_the_first_is_refused(
    products: dict[str, CarTProduct],
) -> None:
    with pytest.raises(InvalidInput, match="last_infusion 2026-03-01 is not allowed"):
        journey_windows(products["obecabtagene"], DAY0, last_infusion=DAY0 - timedelta(days=1))
