"""One bag duration resolved against a site library: the reference's values, the site's
where the reference has none, a hard stop naming each value neither gives, and a
contradiction of the reference as a problem in the library.
"""

from decimal import Decimal

from tests.pharmacy_strategies import (
    expect_recipe,
    hard_stops,
    make_rx,
    make_site,
    make_site_bags,
    resolve,
    with_rate,
)

from blina.domain.checks import CheckLevel
from blina.domain.pharmacy.recipe import Refusal, prepare_bag
from blina.domain.units import Ml

DEMO = resolve()


def test_prepare_bag_72h_unverified_rate_is_a_hard_stop_without_a_site_entry() -> None:
    """The 72/96-h rate rests on one manufacturer page: never made from that default."""
    refused = prepare_bag(prescription=make_rx(hours=72, dose="28"), library=DEMO)

    assert isinstance(refused, Refusal)
    hard = {c.code: c for c in refused.checks.hard}
    assert set(hard) == {"rate-unverified"}
    assert hard["rate-unverified"].source == "pharm-hcp-2.2-rate-72-96h"
    assert "open question 2" in hard["rate-unverified"].reason
    assert "only from a validated site library that confirms the rate" in (
        hard["rate-unverified"].reason
    )
    soft = {c.code: c for c in refused.checks.soft}
    assert soft["stability-missing"].source == "pharm-label-4-not-retrieved"


def test_prepare_bag_site_confirming_unverified_rate_turns_it_ok() -> None:
    library = resolve(with_rate(make_site(), 96, "1.8"))

    recipe = expect_recipe(prepare_bag(prescription=make_rx(hours=96, dose="9"), library=library))

    confirmed = next(c for c in recipe.checks if c.code == "rate-confirmed-by-site")
    assert confirmed.level is CheckLevel.OK
    assert "rate-unverified" not in recipe.checks.codes()


def test_prepare_bag_missing_stabilizer_is_hard_stop_naming_it() -> None:
    library = resolve(make_site(bags=make_site_bags((72, {"stabilizer": None}))))

    hard = hard_stops(prepare_bag(prescription=make_rx(hours=72, dose="9"), library=library))

    assert hard["missing-iv-solution-stabilizer-volume"] == (
        "no IV Solution Stabilizer volume for a 72-h bag: the reference has none (NOT"
        " RETRIEVED) and the site library 'synthetic site' gives none"
    )


def test_prepare_bag_missing_saline_for_preservative_bag_is_hard_stop() -> None:
    library = resolve(make_site(bags=make_site_bags((168, {"base_saline": None}))))

    hard = hard_stops(prepare_bag(prescription=make_rx(hours=168, dose="9"), library=library))

    assert "missing-base-saline-volume" in hard


def test_prepare_bag_eu_region_without_site_rate_names_every_missing_value() -> None:
    library = resolve(make_site(region="EU"))

    hard = hard_stops(prepare_bag(prescription=make_rx(dose="28"), library=library))

    assert "missing-infusion-rate" in hard
    assert "missing-base-saline" not in hard


def test_resolve_library_site_contradicting_reference_is_a_problem() -> None:
    site = with_rate(
        make_site(bags=make_site_bags((48, {"base_saline": Ml(Decimal(250))}))), 24, "12"
    )

    problems = {p.key_path: p.problem for p in resolve(site).problems}

    assert problems == {
        "bags[0].rate_ml_per_h": (
            "12 mL/h disagrees with the reference's 10 mL/h (pharm-label-2.2-rates)"
        ),
        "bags[1].base_saline_ml": (
            "250 mL disagrees with the reference's 270 mL (pharm-us-2014-3.3-saline)"
        ),
    }


def test_resolve_library_site_without_bags_names_missing_values_per_bag() -> None:
    library = resolve(make_site(bags=()))

    setup = library.bags[168]
    codes = {c.code for c in setup.checks if c.level is CheckLevel.HARD}

    assert codes == {"missing-iv-solution-stabilizer-volume", "missing-base-saline-volume"}
    assert library.bags[24].saline_for(make_rx().weight) is not None
