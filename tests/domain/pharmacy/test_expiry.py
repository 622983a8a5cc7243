"""Beyond-use times: the reference's, a site's that replace them, the gaps, and a bag that
would expire while it runs.
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

from blina.domain.pharmacy.recipe import prepare_bag
from blina.domain.pharmacy.reference import StabilityItem, StabilityRule, Storage

DEMO = resolve()


def test_recipe_expiry_24h_bag_counts_infusion_time() -> None:
    recipe = expect_recipe(prepare_bag(prescription=make_rx(dose="28"), library=DEMO))

    expiry = {(e.item, e.storage): e for e in recipe.expiry}

    room = expiry[(StabilityItem.PREPARED_BAG, Storage.ROOM_TEMPERATURE)]
    assert room.hours == 48
    assert room.includes_infusion
    assert room.start_within_hours == 24
    assert room.describe() == (
        "48 h at 23-27 °C including infusion time: hang within 24 h of preparation"
    )
    fridge = expiry[(StabilityItem.PREPARED_BAG, Storage.REFRIGERATED)]
    assert fridge.hours == 192
    assert fridge.start_within_hours is None
    assert fridge.describe() == "192 h at 2-8 °C"
    assert len(expiry) == 4


def test_recipe_expiry_48h_bag_must_be_hung_at_once() -> None:
    recipe = expect_recipe(prepare_bag(prescription=make_rx(hours=48, dose="28"), library=DEMO))

    room = next(e for e in recipe.expiry if e.storage is Storage.ROOM_TEMPERATURE)
    assert room.start_within_hours == 0


def test_prepare_bag_168h_reports_missing_stability_as_soft() -> None:
    recipe = expect_recipe(prepare_bag(prescription=make_rx(hours=168, dose="28"), library=DEMO))

    assert {c.code for c in recipe.checks.soft} == {
        "stability-missing",
        "benzyl-alcohol-not-checked",
    }
    assert recipe.checks.needs_override
    assert {(e.item, e.storage) for e in recipe.expiry} == {
        (StabilityItem.RECONSTITUTED_VIAL, Storage.ROOM_TEMPERATURE),
        (StabilityItem.RECONSTITUTED_VIAL, Storage.REFRIGERATED),
    }


def test_prepare_bag_site_stability_replaces_reference_and_fills_gaps() -> None:
    stability = (
        StabilityRule(
            StabilityItem.PREPARED_BAG,
            Storage.ROOM_TEMPERATURE,
            "20-25 °C",
            Decimal(120),
            True,
            None,
            ("US",),
            "site-stab",
        ),
        StabilityRule(
            StabilityItem.PREPARED_BAG,
            Storage.REFRIGERATED,
            "2-8 °C",
            Decimal(240),
            False,
            None,
            ("US",),
            "site-stab",
        ),
    )
    site = with_rate(
        make_site(
            bags=make_site_bags((24, {"stability": stability}), (96, {"stability": stability}))
        ),
        96,
        "1.8",
    )

    day = expect_recipe(prepare_bag(prescription=make_rx(dose="28"), library=resolve(site)))
    four = expect_recipe(
        prepare_bag(prescription=make_rx(hours=96, dose="28"), library=resolve(site))
    )

    room = next(e for e in day.expiry if e.storage is Storage.ROOM_TEMPERATURE)
    assert room.source == "site-stab"
    assert room.start_within_hours == 96
    assert room.replaces is not None
    assert room.replaces.source == "pharm-us-2014-4-stability"
    assert "stability-missing" not in four.checks.codes()


def test_prepare_bag_bag_expiring_during_infusion_is_hard_stop() -> None:
    short = StabilityRule(
        StabilityItem.PREPARED_BAG,
        Storage.ROOM_TEMPERATURE,
        "23-27 °C",
        Decimal(48),
        True,
        None,
        ("US",),
        "site-stab",
    )
    site = make_site(bags=make_site_bags((96, {"stability": (short,)})))

    hard = hard_stops(prepare_bag(prescription=make_rx(hours=96, dose="9"), library=resolve(site)))

    assert "a 96-h bag would expire while it runs" in hard["bag-expires-during-infusion"]
