"""A site library resolved against the reference: the demo values resolve with no problem;
every problem names its key path in the site file; a library that is not validated, has
a problem, or has no vial for its region stops every bag.
"""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from tests.pharmacy_strategies import (
    BAG_HOURS,
    hard_stops,
    make_rx,
    make_site,
    make_site_bag,
    make_site_bags,
    resolve,
    with_rate,
)

from blina.domain.pharmacy.recipe import prepare_bag
from blina.domain.pharmacy.site_library import CareArea, Limits, Validation
from blina.domain.rounding import MeasurableStep

DEMO = resolve()


def test_resolve_library_demo_values_have_no_problem() -> None:
    assert DEMO.problems == ()
    assert set(DEMO.bags) == set(BAG_HOURS)


def test_resolve_library_unknown_and_duplicate_site_bags_are_problems() -> None:
    site = make_site(
        bags=(make_site_bag(24), make_site_bag(24), replace(make_site_bag(48), hours=12))
    )

    problems = {p.key_path: p.problem for p in resolve(site).problems}

    assert problems == {
        "bags[1].hours": "24-h bags are given twice",
        "bags[2].hours": (
            "12 h is not a bag duration the reference knows: one of 24, 48, 72, 96, 168"
        ),
    }


def test_resolve_library_measurable_steps_out_of_order_are_a_problem() -> None:
    steps = (
        MeasurableStep(Decimal(3), Decimal("0.1")),
        MeasurableStep(Decimal(1), Decimal("0.01")),
    )

    problem = resolve(make_site(measurable=steps)).problems[0]

    assert problem.key_path == "site.measurable[1].up_to_ml"
    assert problem.problem == "1 mL must be more than the row before (3 mL)"


def test_resolve_library_care_area_problems_name_their_key() -> None:
    bad = Limits("mcg/day", "s", soft_max=Decimal(30), hard_max=Decimal(28))
    area = CareArea(
        "home",
        "Home",
        (48, 12),
        bad,
        Limits("x", "s"),
        Limits("x", "s"),
        Limits("x", "s", hard_min=Decimal(1), soft_min=Decimal(2)),
        (),
        "s",
    )

    problems = {p.key_path: p.problem for p in resolve(make_site(care_areas=(area, area))).problems}

    assert problems == {
        "care_areas[0].bag_hours": "12 h is not a bag duration the reference knows",
        "care_areas[0].dose_mcg_per_day": (
            "limits must run hard_min <= soft_min <= soft_max <= hard_max"
        ),
        "care_areas[1].id": "care area 'home' appears twice",
        "care_areas[1].bag_hours": "12 h is not a bag duration the reference knows",
        "care_areas[1].dose_mcg_per_day": (
            "limits must run hard_min <= soft_min <= soft_max <= hard_max"
        ),
    }


def test_resolve_library_valid_care_area_has_no_problem() -> None:
    limits = Limits("mcg/day", "s", soft_min=Decimal(9), hard_max=Decimal(28))
    area = CareArea("adult", "Adult", (24, 48), limits, limits, limits, limits, (), "s")

    assert resolve(make_site(care_areas=(area,))).problems == ()


def test_prepare_bag_unknown_region_is_hard_stop_missing_vial() -> None:
    library = resolve(with_rate(make_site(region="JP"), 24, "10"))

    hard = hard_stops(prepare_bag(prescription=make_rx(dose="28"), library=library))

    assert hard["missing-vial"] == (
        "no vial content for region 'JP': the reference gives it for US, EU only"
    )


def test_prepare_bag_unvalidated_library_is_hard_stop() -> None:
    library = resolve(make_site(validation=Validation(("Ann",), date(2026, 1, 1))))

    hard = hard_stops(prepare_bag(prescription=make_rx(), library=library))

    assert "library-not-validated" in hard


def test_prepare_bag_library_with_problems_is_hard_stop() -> None:
    library = resolve(make_site(bags=(*make_site_bags(), make_site_bag(24))))

    hard = hard_stops(prepare_bag(prescription=make_rx(), library=library))

    assert hard["library-problem"].startswith(
        "the site library 'synthetic site' has 1 problem(s), first at bags[5].hours"
    )
