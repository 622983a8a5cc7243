"""Invariants of the bag recipe, over every valid input and synthetic site libraries.

A recipe, whenever one is returned, delivers the prescription within the site's
tolerance (checked again here by the independent computation), its total volume is the
sum of its parts, it leaves the site's priming volume, its vials hold its drug volume, it
is never for a patient under a bag's weight floor, and it never comes from an
unvalidated library. Every hard-limit case ends in a refusal with its reason.
"""

import json
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.pharmacy_strategies import (
    PRESERVATIVE_HOURS,
    bag_hours,
    decimals,
    make_rx,
    prescriptions,
    reference,
    resolve,
    site_libraries,
    unvalidated,
    weights_kg,
)

from blina.domain.checks import CheckLevel
from blina.domain.pharmacy.prescription import Prescription
from blina.domain.pharmacy.pump import check_flush, check_pump_program
from blina.domain.pharmacy.recipe import Recipe, Refusal, delivered_dose, prepare_bag
from blina.domain.pharmacy.site_library import SiteLibrary, Validation
from blina.domain.rounding import VolumeRounding
from blina.domain.units import Ml, MlPerHour
from blina.interop.json.recipe import infusion_from_dict, recipe_to_dict
from blina.interop.json.values import dumps

DEMO = resolve()


def _assert_sound(recipe: Recipe, rx: Prescription) -> None:
    site = recipe.site
    dose = rx.dose.value
    assert abs(recipe.delivered.value - dose) * 100 <= site.tolerance_percent * dose
    assert delivered_dose(recipe) == recipe.delivered
    assert recipe.total.value == (
        recipe.saline.value.value + recipe.stabilizer.value.value + recipe.drug.value
    )
    assert recipe.overfill.value >= site.priming.value
    usable = recipe.library.usable_per_vial
    assert usable is not None
    assert recipe.vials * usable.value >= recipe.drug.value
    assert recipe.drug.value > 0
    assert not recipe.checks.blocked
    floor = recipe.bag.reference.min_weight
    assert floor is None or rx.weight.value >= floor.value
    assert recipe.infuse.value == recipe.rate.value.value * recipe.bag.hours


@given(rx=prescriptions())
@settings(max_examples=300)
def test_prepare_bag_demo_library_any_prescription_is_sound_or_refused(rx: Prescription) -> None:
    result = prepare_bag(prescription=rx, library=DEMO)

    if isinstance(result, Recipe):
        _assert_sound(result, rx)
    else:
        assert result.checks.blocked


@given(site=site_libraries(), rx=prescriptions())
@settings(max_examples=300)
def test_prepare_bag_synthetic_library_recipe_is_within_its_tolerance(
    site: SiteLibrary, rx: Prescription
) -> None:
    result = prepare_bag(prescription=rx, library=resolve(site))

    if isinstance(result, Recipe):
        _assert_sound(result, rx)
    else:
        assert result.checks.hard


@given(site=site_libraries(), rx=prescriptions())
def test_prepare_bag_round_down_never_delivers_more_than_prescribed(
    site: SiteLibrary, rx: Prescription
) -> None:
    result = prepare_bag(
        prescription=rx, library=resolve(replace(site, rounding=VolumeRounding.DOWN))
    )

    if isinstance(result, Recipe):
        assert result.delivered.value <= rx.dose.value


@given(validation=unvalidated(), rx=prescriptions())
def test_prepare_bag_unvalidated_library_is_always_refused(
    validation: Validation, rx: Prescription
) -> None:
    library = resolve(replace(DEMO.site, validation=validation))

    result = prepare_bag(prescription=rx, library=library)

    assert isinstance(result, Refusal)
    assert "library-not-validated" in result.checks.codes()


@given(rx=prescriptions(weight=weights_kg("0.5", "5.3"), hours=st.sampled_from(PRESERVATIVE_HOURS)))
def test_prepare_bag_preservative_bag_under_floor_is_always_refused(rx: Prescription) -> None:
    result = prepare_bag(prescription=rx, library=DEMO)

    assert isinstance(result, Refusal)
    assert "under-weight-floor" in {c.code for c in result.checks.hard}


@given(dose=decimals("28.01", "1000", places=2), hours=bag_hours(), weight=weights_kg())
def test_prepare_bag_dose_above_label_cap_is_always_refused(
    dose: Decimal, hours: int, weight: Decimal
) -> None:
    rx = make_rx(hours=hours, weight=str(weight), dose=str(dose))

    result = prepare_bag(prescription=rx, library=DEMO)

    assert isinstance(result, Refusal)
    assert "dose-above-label-cap" in {c.code for c in result.checks.hard}


@given(per_m2=decimals("15.1", "100", places=1), hours=bag_hours())
def test_prepare_bag_dose_per_m2_above_label_is_always_refused(per_m2: Decimal, hours: int) -> None:
    rx = make_rx(hours=hours, weight="30", dose=None, per_m2=str(per_m2), bsa="1.00")

    result = prepare_bag(prescription=rx, library=DEMO)

    assert isinstance(result, Refusal)
    assert "dose-above-label-cap" in {c.code for c in result.checks.hard}


@given(rx=prescriptions(weight=weights_kg("22", "200")), factor=st.sampled_from(("10", "3", "0.5")))
def test_prepare_bag_drug_volume_slip_is_caught_by_the_independent_computation(
    rx: Prescription, factor: str
) -> None:
    result = prepare_bag(prescription=rx, library=DEMO)

    if isinstance(result, Recipe):
        slipped = replace(result, drug=Ml(result.drug.value * Decimal(factor)))
        delivered = delivered_dose(slipped).value
        assert abs(delivered - rx.dose.value) * 100 > result.site.tolerance_percent * rx.dose.value


@given(rx=prescriptions(weight=weights_kg("22", "200")))
def test_recipe_to_dict_round_trips_to_the_same_infusion(rx: Prescription) -> None:
    result = prepare_bag(prescription=rx, library=DEMO)

    if isinstance(result, Recipe):
        text = dumps(recipe_to_dict(result))
        assert infusion_from_dict(json.loads(text, parse_float=Decimal)) == result.infusion


@given(rx=prescriptions(weight=weights_kg("22", "200")), rate=decimals("0.1", "20", places=1))
def test_check_pump_program_any_other_rate_is_hard_with_its_factor(
    rx: Prescription, rate: Decimal
) -> None:
    result = prepare_bag(prescription=rx, library=DEMO)

    if isinstance(result, Recipe):
        infusion = result.infusion
        check = check_pump_program(infusion, rate=MlPerHour(rate), volume=infusion.infuse)
        assert check.dose_factor == rate / infusion.rate.value
        assert check.report.blocked is (rate != infusion.rate.value)


@given(rx=prescriptions(weight=weights_kg("22", "200")), line=decimals("0.1", "30", places=1))
def test_check_flush_bolus_is_concentration_times_volume_and_always_hard(
    rx: Prescription, line: Decimal
) -> None:
    result = prepare_bag(prescription=rx, library=DEMO)

    if isinstance(result, Recipe):
        infusion = result.infusion
        flush = check_flush(
            infusion, line_volume=Ml(line), rule=reference().advisory("do-not-flush")
        )
        assert flush.bolus.value == infusion.drug.value * line / infusion.total.value
        assert flush.equivalent_hours == line / infusion.rate.value
        assert flush.report.level is CheckLevel.HARD
