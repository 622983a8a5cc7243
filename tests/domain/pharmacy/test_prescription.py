"""A prescription for one bag: built from raw values, then checked against the label, the
bag's weight floors and a care area.

Each check answers ok, soft or hard with its reason and source; a hard limit blocks,
a soft one needs an override reason.
"""

from decimal import Decimal

import pytest
from tests.pharmacy_strategies import dose_rules, make_care_area, make_rx, reference

from blina.domain.checks import CheckLevel
from blina.domain.errors import InvalidInput
from blina.domain.pharmacy.prescription import check_prescription
from blina.domain.pharmacy.reference import ReferenceBag
from blina.domain.pharmacy.site_library import Limits
from blina.domain.units import McgPerDay

RULES = dose_rules()


def _codes(report_checks: object) -> dict[str, CheckLevel]:
    return {c.code: c.level for c in report_checks}  # type: ignore[attr-defined]


def test_prescribe_per_m2_above_cap_is_capped_and_says_so() -> None:
    rx = make_rx(dose=None, per_m2="15", bsa="2.00", weight="44")

    assert rx.dose == McgPerDay(Decimal(28))
    assert rx.capped
    assert rx.describe() == "15 mcg/m2/day x 2.00 m2 = 28 mcg/day, capped"


def test_prescribe_per_m2_below_cap_is_per_m2_times_bsa() -> None:
    rx = make_rx(dose=None, per_m2="5", bsa="0.78", weight="20")

    assert rx.dose == McgPerDay(Decimal("3.90"))
    assert not rx.capped
    assert rx.describe() == "5 mcg/m2/day x 0.78 m2 = 3.90 mcg/day"


def test_prescribe_fixed_dose_describes_itself() -> None:
    assert make_rx(dose="9").describe() == "9 mcg/day"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"dose": "28", "per_m2": "15"}, "dose_mcg_per_m2_per_day"),
        ({"dose": "28", "bsa": "5.01"}, "bsa_m2"),
        ({"dose": None}, "dose_mcg_per_day"),
        ({"dose": None, "per_m2": "15"}, "bsa_m2"),
        ({"dose": None, "per_m2": "15", "bsa": "0"}, "bsa_m2"),
        ({"dose": None, "per_m2": "15", "bsa": "5.01"}, "bsa_m2"),
        ({"dose": None, "per_m2": "15", "bsa": "NaN"}, "bsa_m2"),
        ({"dose": None, "per_m2": "0", "bsa": "1"}, "dose_mcg_per_m2_per_day"),
        ({"dose": "0"}, "dose_mcg_per_day"),
        ({"dose": "-1"}, "dose_mcg_per_day"),
        ({"dose": "Infinity"}, "dose_mcg_per_day"),
        ({"weight": "0"}, "weight_kg"),
    ],
    ids=[
        "dose-and-per-m2",
        "dose-and-bsa-too-big",
        "no-dose",
        "per-m2-no-bsa",
        "bsa-zero",
        "bsa-too-big",
        "bsa-nan",
        "per-m2-zero",
        "dose-zero",
        "dose-negative",
        "dose-infinite",
        "weight-zero",
    ],
)
def test_prescribe_bad_combination_raises_invalid_input_naming_field(
    kwargs: dict[str, str | None], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        make_rx(**kwargs)  # type: ignore[arg-type]

    assert raised.value.field == field


def _bag(hours: int) -> ReferenceBag:
    return reference().bags[hours]


def test_check_prescription_labelled_adult_dose_is_ok() -> None:
    report = check_prescription(make_rx(dose="28"), rules=RULES, bag=_bag(24))

    assert report.level is CheckLevel.OK
    assert report.codes() == ("prescription-within-label",)


def test_check_prescription_above_label_cap_is_hard_stop() -> None:
    report = check_prescription(make_rx(dose="30"), rules=RULES, bag=_bag(24))

    assert _codes(report) == {
        "dose-above-label-cap": CheckLevel.HARD,
        "dose-not-labelled": CheckLevel.SOFT,
    }
    assert report.hard[0].reason == "30 mcg/day is above the label's maximum 28 mcg/day"
    assert report.hard[0].source == "label-1.2-rr"


def test_check_prescription_unlabelled_fixed_dose_is_soft() -> None:
    report = check_prescription(make_rx(dose="20"), rules=RULES, bag=_bag(24))

    assert _codes(report) == {"dose-not-labelled": CheckLevel.SOFT}


def test_check_prescription_fixed_dose_under_45_kg_is_a_hard_stop() -> None:
    report = check_prescription(make_rx(dose="9", weight="30"), rules=RULES, bag=_bag(24))

    assert _codes(report) == {"fixed-dose-under-threshold": CheckLevel.HARD}
    assert report.hard[0].source == "label-1.1-dosing-principle"
    assert "prescribe mcg/m2/day" in report.hard[0].reason


def test_check_prescription_fixed_dose_for_an_infant_names_the_dose_per_m2() -> None:
    """28 mcg/day at 5.4 kg and 0.29 m2 is about 97 mcg/m2/day: 6.4 times the label's 15."""
    rx = make_rx(dose="28", weight="5.4", bsa="0.29")

    report = check_prescription(rx, rules=RULES, bag=_bag(24))

    stop = next(c for c in report.hard if c.code == "fixed-dose-under-threshold")
    assert "28 mcg/day at 0.29 m2 is 97 mcg/m2/day, 6.4 times the label's maximum 15" in (
        stop.reason
    )


def test_check_prescription_per_m2_at_or_above_45_kg_is_soft_dose_basis() -> None:
    rx = make_rx(dose=None, per_m2="15", bsa="1.8", weight="45")

    report = check_prescription(rx, rules=RULES, bag=_bag(24))

    assert _codes(report) == {"dose-basis": CheckLevel.SOFT}


def test_check_prescription_per_m2_above_label_is_hard_stop() -> None:
    rx = make_rx(dose=None, per_m2="20", bsa="1.0", weight="30")

    report = check_prescription(rx, rules=RULES, bag=_bag(24))

    assert _codes(report) == {"dose-above-label-cap": CheckLevel.HARD}
    assert "20 mcg/m2/day is above the label's maximum 15 mcg/m2/day" in report.hard[0].reason


def test_check_prescription_unlabelled_per_m2_is_soft() -> None:
    rx = make_rx(dose=None, per_m2="10", bsa="1.0", weight="30")

    assert _codes(check_prescription(rx, rules=RULES, bag=_bag(24))) == {
        "dose-not-labelled": CheckLevel.SOFT
    }


def test_check_prescription_labelled_child_dose_is_ok() -> None:
    rx = make_rx(dose=None, per_m2="15", bsa="1.0", weight="30")

    assert check_prescription(rx, rules=RULES, bag=_bag(48)).level is CheckLevel.OK


@pytest.mark.parametrize(
    ("hours", "weight", "expected"),
    [
        (72, "5.3", {"under-weight-floor": CheckLevel.HARD}),
        (96, "5.39", {"under-weight-floor": CheckLevel.HARD}),
        (168, "5.3", {"under-weight-floor": CheckLevel.HARD}),
        (168, "5.4", {"under-older-weight-floor": CheckLevel.SOFT}),
        (168, "21.9", {"under-older-weight-floor": CheckLevel.SOFT}),
        (168, "22", {}),
        (72, "5.4", {}),
        (24, "3", {}),
    ],
    ids=["72h-5.3", "96h-5.39", "7d-5.3", "7d-5.4", "7d-21.9", "7d-22", "72h-5.4", "24h-3"],
)
def test_check_prescription_weight_floors_newest_hard_older_soft(
    hours: int, weight: str, expected: dict[str, CheckLevel]
) -> None:
    rx = make_rx(hours=hours, dose=None, per_m2="5", bsa="0.3", weight=weight)

    codes = _codes(check_prescription(rx, rules=RULES, bag=_bag(hours)))

    assert {k: v for k, v in codes.items() if "floor" in k} == expected


def test_check_prescription_under_floor_names_weight_floor_and_source() -> None:
    rx = make_rx(hours=72, dose=None, per_m2="5", bsa="0.3", weight="5")

    hard = check_prescription(rx, rules=RULES, bag=_bag(72)).hard[0]

    assert hard.source == "ashp-2025-preservative-weight"
    assert "not recommended below 5.4 kg" in hard.reason
    assert "weighs 5 kg" in hard.reason


def test_check_prescription_care_area_bag_and_dose_limits() -> None:
    area = make_care_area(
        dose=Limits("mcg/day", "dose-src", soft_max=Decimal(9), hard_max=Decimal(20)),
        dose_per_m2=Limits("mcg/m2/day", "m2-src", soft_max=Decimal(10)),
    )
    rx = make_rx(hours=72, dose=None, per_m2="15", bsa="1.0", weight="30")

    report = check_prescription(rx, rules=RULES, bag=_bag(72), care_area=area)

    codes = _codes(report)
    assert codes["bag-not-allowed-in-care-area"] is CheckLevel.HARD
    assert codes["care-area-dose"] is CheckLevel.SOFT
    assert codes["care-area-dose-per-m2"] is CheckLevel.SOFT
    assert "72-h bags are not in the Pediatric inpatient library (allowed: 24, 48 h)" in (
        report.hard[0].reason
    )


def test_check_prescription_care_area_fixed_dose_skips_per_m2_limits() -> None:
    area = make_care_area(dose_per_m2=Limits("mcg/m2/day", "m2-src", hard_max=Decimal(1)))

    report = check_prescription(make_rx(dose="28"), rules=RULES, bag=_bag(24), care_area=area)

    assert report.codes() == ("prescription-within-label",)


def test_check_prescription_seven_day_bag_under_the_weight_floor_is_a_hard_stop() -> None:
    """Moved down from the API's tests (test_flows, the bag calculator): 9 mcg/day in a
    168-h bag for 5 kg."""
    report = check_prescription(
        make_rx(hours=168, dose="9", weight="5"), rules=RULES, bag=_bag(168)
    )

    assert report.level is CheckLevel.HARD
    assert any("5.4 kg" in check.reason for check in report.hard)
