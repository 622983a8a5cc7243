"""Drug-library checks: the prescription, the pump program and a line flush.

Each check answers ok, soft or hard with its reason and source; a hard limit blocks,
a soft one needs an override reason.
"""

from datetime import date
from decimal import Decimal

import pytest
from tests.factories import make_cycle, make_regimen, make_step
from tests.pharmacy_strategies import dose_rules, make_rx, make_site, reference

from blina.domain.checks import CheckLevel
from blina.domain.errors import InvalidInput
from blina.domain.pharmacy.prescription import check_prescription
from blina.domain.pharmacy.pump import Infusion, check_flush, check_pump_program
from blina.domain.pharmacy.reference import ReferenceBag, VialSpec, label_dose_rules
from blina.domain.pharmacy.site_library import DEMO_STAMP, CareArea, Limits, Validation
from blina.domain.units import Kg, Mcg, McgPerDay, McgPerM2PerDay, Ml, MlPerHour

RULES = dose_rules()
SEVEN_DAY = Infusion(
    hours=168,
    rate=MlPerHour(Decimal("0.6")),
    infuse=Ml(Decimal("100.8")),
    drug=Mcg(Decimal("250")),
    total=Ml(Decimal("125")),
    rate_source="rate-src",
)


def _area(**limits: Limits) -> CareArea:
    empty = Limits("x", "area-src")
    return CareArea(
        id="peds",
        name="Pediatric inpatient",
        bag_hours=(24, 48),
        dose=limits.get("dose", empty),
        dose_per_m2=limits.get("dose_per_m2", empty),
        rate=limits.get("rate", empty),
        concentration=limits.get("concentration", empty),
        advisories=(),
        source="area-src",
    )


def _codes(report_checks: object) -> dict[str, CheckLevel]:
    return {c.code: c.level for c in report_checks}  # type: ignore[attr-defined]


# --- label dose rules ----------------------------------------------------------------------


def test_label_dose_rules_shipped_regimens_give_label_caps() -> None:
    assert RULES.max_dose == McgPerDay(Decimal(28))
    assert RULES.max_per_m2 == McgPerM2PerDay(Decimal(15))
    assert RULES.fixed_doses == (Decimal(9), Decimal(28))
    assert RULES.caps == ((Decimal(5), Decimal(9)), (Decimal(15), Decimal(28)))
    assert RULES.weight_threshold == Kg(Decimal(45))
    assert RULES.max_dose_source == "label-1.2-rr"


@pytest.mark.parametrize(
    ("per_m2", "cap"), [("5", "9"), ("15", "28"), ("10", "28")], ids=["5", "15", "unlabelled"]
)
def test_label_dose_rules_cap_for_per_m2_dose_gives_its_cap(per_m2: str, cap: str) -> None:
    assert RULES.cap_for(McgPerM2PerDay(Decimal(per_m2))) == McgPerDay(Decimal(cap))


def test_label_dose_rules_synthetic_regimen_uses_its_highest_cap() -> None:
    steps = (make_step(1, 7, fixed=Decimal(5), per_m2=Decimal(3), cap=Decimal(6)),)
    regimen = make_regimen(
        cycles=[make_cycle(1, infusion_days=7, steps=steps), make_cycle(2)],
        weight_threshold_kg=Decimal(40),
    )

    rules = label_dose_rules([regimen])

    assert rules.max_dose == McgPerDay(Decimal(28))
    assert rules.caps == ((Decimal(3), Decimal(6)), (Decimal(15), Decimal(28)))
    assert rules.weight_threshold == Kg(Decimal(40))


# --- site library validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("validation", "problem"),
    [
        (Validation(("A", "B"), None), "the library has no validation date"),
        (
            Validation(("Ann Lee", " ann lee"), date(2026, 1, 1)),
            "the library was validated by Ann Lee twice, not by two pharmacists",
        ),
        (
            Validation(("Ann Lee",), date(2026, 1, 1)),
            "the library was not validated by two distinct pharmacists",
        ),
        (
            Validation(("Ann Lee", "  "), date(2026, 1, 1)),
            "the library was not validated by two distinct pharmacists",
        ),
        (Validation(("Ann Lee", "Bo Chen"), date(2026, 1, 1)), None),
    ],
    ids=["no-date", "same-twice", "one", "blank-second", "valid"],
)
def test_validation_problem_needs_two_distinct_pharmacists_and_a_date(
    validation: Validation, problem: str | None
) -> None:
    assert validation.problem == problem


def test_validation_describe_names_both_and_the_date() -> None:
    text = Validation(("A", "B"), date(2026, 1, 15)).describe()

    assert text == "validated by A and B on 2026-01-15"


def test_site_library_stamp_and_care_area_lookup() -> None:
    assert make_site(demo=True).stamp == DEMO_STAMP
    assert make_site().stamp is None
    area = _area()
    site = make_site(care_areas=(area,))
    assert site.care_area("peds") is area
    assert site.care_area("icu") is None


def test_reconstitution_usable_per_vial_is_content_over_concentration() -> None:
    ref = reference()

    assert ref.reconstitution.usable_per_vial(ref.vials["US"]) == Ml(Decimal("2.8"))
    assert ref.reconstitution.usable_per_vial(ref.vials["EU"]) == Ml(Decimal("3.08"))
    assert ref.reconstitution.usable_per_vial(VialSpec("X", Mcg(Decimal(25)), "s")) == Ml(
        Decimal(2)
    )


# --- prescribe ----------------------------------------------------------------------------------


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


# --- check_prescription -----------------------------------------------------------------------


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
    area = _area(
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
    area = _area(dose_per_m2=Limits("mcg/m2/day", "m2-src", hard_max=Decimal(1)))

    report = check_prescription(make_rx(dose="28"), rules=RULES, bag=_bag(24), care_area=area)

    assert report.codes() == ("prescription-within-label",)


@pytest.mark.parametrize(
    ("value", "level", "words"),
    [
        ("31", CheckLevel.HARD, "above the hard limit 30"),
        ("1", CheckLevel.HARD, "below the hard limit 2"),
        ("21", CheckLevel.SOFT, "above the soft limit 20"),
        ("4", CheckLevel.SOFT, "below the soft limit 5"),
        ("10", None, ""),
    ],
    ids=["hard-max", "hard-min", "soft-max", "soft-min", "within"],
)
def test_limits_check_reports_the_worst_broken_limit(
    value: str, level: CheckLevel | None, words: str
) -> None:
    limits = Limits(
        "mL/h",
        "lim-src",
        soft_min=Decimal(5),
        soft_max=Decimal(20),
        hard_min=Decimal(2),
        hard_max=Decimal(30),
    )

    check = limits.check(Decimal(value), what="rate", code="c", area="Home")

    if level is None:
        assert check is None
    else:
        assert check is not None
        assert check.level is level
        assert words in check.reason
        assert check.reason.endswith("in Home")
        assert check.source == "lim-src"


# --- the pump ------------------------------------------------------------------------------------


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
    area = _area(
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
        SEVEN_DAY, rate=MlPerHour(Decimal("0.6")), volume=Ml(Decimal("100.8")), care_area=_area()
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


# --- the line -------------------------------------------------------------------------------


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
