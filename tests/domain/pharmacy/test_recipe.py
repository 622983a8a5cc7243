"""Bag recipes by mass balance: worked examples, the recipe's figures, and every hard stop
the recipe itself raises.

The worked examples use the demo library's invented site values (stabilizer 6 mL for
24/48-h bags, priming 10 mL, 0.01 mL graduations up to 1 mL ...) with the reference's
constants (12.5 mcg/mL, 10 mL/h, 270 mL base saline from 45 kg). The arithmetic is
written out in each test so a reader can check it by hand.
"""

from dataclasses import replace
from decimal import Decimal

import pytest
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
from blina.domain.errors import InvalidInput
from blina.domain.pharmacy.recipe import Origin, Recipe, Refusal, delivered_dose, prepare_bag
from blina.domain.pharmacy.resolution import ResolvedLibrary
from blina.domain.pharmacy.site_library import BenzylAlcoholLimit
from blina.domain.rounding import MeasurableStep, VolumeRounding, round_reported
from blina.domain.units import Hours, Mcg, McgPerDay, McgPerMl, Ml, MlPerHour
from blina.interop.json.recipe import recipe_to_dict

DEMO = resolve()


def test_prepare_bag_24h_28_mcg_solves_mass_balance_to_measurable_volume() -> None:
    # D = 28 x (270 + 6) / (24 x 12.5 x 10 - 28) = 7728 / 2972 = 2.6003 mL; 0.1 mL steps
    # from 1 to 3 mL give 2.6 mL. Delivered: 12.5 x 2.6 / 278.6 x 10 x 24 = 27.997 mcg/day.
    recipe = expect_recipe(prepare_bag(prescription=make_rx(dose="28"), library=DEMO))

    assert recipe.origin is Origin.DERIVED
    assert recipe.label_row is None
    assert recipe.drug == Ml(Decimal("2.6"))
    assert recipe.saline.value == Ml(Decimal(270))
    assert recipe.saline.source == "pharm-us-2014-3.3-saline"
    assert recipe.stabilizer.value == Ml(Decimal(6))
    assert recipe.total == Ml(Decimal("278.6"))
    assert recipe.infuse == Ml(Decimal(240))
    assert recipe.overfill == Ml(Decimal("38.6"))
    assert recipe.vials == 1
    assert recipe.reconstitution_water == Ml(Decimal(3))
    assert recipe.stabilizer_vials == 1
    assert recipe.rate.value == MlPerHour(Decimal(10))
    assert recipe.duration == Hours(Decimal(24))
    assert recipe.concentration == McgPerMl(Decimal("12.5"))
    assert recipe.drug_mass == Mcg(Decimal("32.50"))
    assert round_reported(recipe.delivered.value) == Decimal("27.997")
    assert round_reported(recipe.deviation_percent) == Decimal("-0.010")
    assert recipe.checks.level is CheckLevel.OK
    assert recipe.saline_kind == "0.9% Sodium Chloride Injection, preservative-free"
    assert recipe.stamp is None
    assert recipe.vial.content == Mcg(Decimal(35))


def test_prepare_bag_24h_9_mcg_rounds_to_hundredths_under_1_ml() -> None:
    # D = 9 x 276 / (3000 - 9) = 0.8305 mL -> 0.83 mL (0.01 mL steps up to 1 mL).
    recipe = expect_recipe(prepare_bag(prescription=make_rx(dose="9"), library=DEMO))

    assert recipe.drug == Ml(Decimal("0.83"))
    assert round_reported(recipe.delivered.value) == Decimal("8.995")


def test_prepare_bag_7_day_28_mcg_needs_eight_vials_of_2_8_ml() -> None:
    # D = 28 x 112.5 / (24 x 12.5 x 0.6 - 28) = 3150 / 152 = 20.72 mL -> 20.5 mL (0.5 mL
    # steps to 30 mL); 20.5 / 2.8 = 7.3 -> 8 vials, 24 mL of water.
    rx = make_rx(hours=168, dose="28", weight="70")

    recipe = expect_recipe(prepare_bag(prescription=rx, library=DEMO))

    assert recipe.drug == Ml(Decimal("20.5"))
    assert recipe.vials == 8
    assert recipe.reconstitution_water == Ml(Decimal(24))
    assert recipe.infuse == Ml(Decimal("100.8"))
    assert recipe.saline.source == "synthetic-site"
    assert recipe.bag.reference.preservative
    assert "benzyl-alcohol" in {a.code for a in recipe.advisories}


def test_prepare_bag_child_per_m2_uses_site_saline_under_45_kg() -> None:
    rx = make_rx(hours=24, dose=None, per_m2="15", bsa="0.80", weight="20")

    recipe = expect_recipe(prepare_bag(prescription=rx, library=DEMO))

    assert recipe.prescription.dose == McgPerDay(Decimal("12.00"))
    assert recipe.saline.source == "synthetic-site"
    assert recipe.saline.value == Ml(Decimal(270))


def test_prepare_bag_eu_region_with_site_rate_uses_eu_vial_and_reports_stability_gap() -> None:
    library = resolve(with_rate(make_site(region="EU"), 24, "10"))

    recipe = expect_recipe(prepare_bag(prescription=make_rx(dose="28"), library=library))

    assert recipe.vial.content == Mcg(Decimal("38.5"))
    assert recipe.rate.source == "synthetic-site"
    assert recipe.library.usable_per_vial == Ml(Decimal("3.08"))
    assert {c.code for c in recipe.checks.soft} == {"stability-missing"}


def test_delivered_dose_recomputes_from_the_recipe_volumes() -> None:
    recipe = expect_recipe(prepare_bag(prescription=make_rx(dose="28"), library=DEMO))

    assert delivered_dose(recipe) == recipe.delivered
    slipped = replace(recipe, drug=Ml(Decimal(26)))
    assert delivered_dose(slipped).value > 250


def test_recipe_steps_in_order_stabilizer_before_drug_with_figures() -> None:
    recipe = expect_recipe(prepare_bag(prescription=make_rx(dose="28"), library=DEMO))

    steps = recipe.steps
    codes = [s.code for s in steps]

    assert codes == [
        "verify",
        "reconstitute",
        "inspect",
        "saline",
        "stabilizer",
        "drug",
        "line",
        "label",
    ]
    assert [s.number for s in steps] == list(range(1, 9))
    assert steps[3].text == (
        "Add 270 mL 0.9% Sodium Chloride Injection, preservative-free to the empty IV bag."
    )
    assert "Never reconstitute with the IV Solution Stabilizer" in steps[1].text
    assert steps[5].text.startswith("Add 2.6 mL reconstituted blinatumomab")
    assert "10 mL/h for 24 h, volume to be infused 240 mL" in steps[7].text


def test_prepare_bag_with_demo_stamp() -> None:
    library = resolve(make_site(demo=True))

    recipe = expect_recipe(prepare_bag(prescription=make_rx(), library=library))

    assert recipe.stamp == "demo library: not for clinical use"


# --- hard stops -------------------------------------------------------------------------


def test_prepare_bag_unknown_bag_hours_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as raised:
        prepare_bag(prescription=make_rx(hours=12), library=DEMO)

    assert str(raised.value) == "bag_hours 12 is not allowed: must be one of 24, 48, 72, 96, 168"


def test_prepare_bag_missing_site_saline_under_45_kg_is_hard_stop_but_not_above() -> None:
    library = resolve(make_site(bags=make_site_bags((24, {"base_saline": None}))))
    child = make_rx(dose=None, per_m2="15", bsa="1.0", weight="30")

    hard = hard_stops(prepare_bag(prescription=child, library=library))
    adult = prepare_bag(prescription=make_rx(dose="28"), library=library)

    assert "no base saline volume for a 24-h bag under 45 kg" in hard["missing-base-saline"]
    assert isinstance(adult, Recipe)


def test_prepare_bag_outside_tolerance_is_hard_stop() -> None:
    # 1 mcg/day in a 24-h bag: D = 276 / 2999 = 0.092 mL; with 0.1 mL graduations it is
    # 0.1 mL, which delivers 1.0866 mcg/day: +8.7 %, outside 5 %.
    site = make_site(measurable=(MeasurableStep(Decimal(5), Decimal("0.1")),))
    rx = make_rx(dose=None, per_m2="5", bsa="0.20", weight="30")

    hard = hard_stops(prepare_bag(prescription=rx, library=resolve(site)))

    assert hard["delivered-outside-tolerance"] == (
        "the bag delivers 1.087 mcg/day for 1.00 mcg/day prescribed (+8.656 %; site"
        " tolerance 5 %): outside the site tolerance"
    )


def test_prepare_bag_rounding_to_zero_is_hard_stop() -> None:
    site = make_site(
        measurable=(MeasurableStep(Decimal(5), Decimal(1)),), rounding=VolumeRounding.DOWN
    )

    hard = hard_stops(prepare_bag(prescription=make_rx(dose="9"), library=resolve(site)))

    assert "delivered-outside-tolerance" in hard


def test_prepare_bag_volume_beyond_measurable_is_hard_stop() -> None:
    site = make_site(measurable=(MeasurableStep(Decimal(1), Decimal("0.01")),))

    hard = hard_stops(prepare_bag(prescription=make_rx(dose="28"), library=resolve(site)))

    assert hard["drug-volume-not-measurable"] == (
        "the drug volume 2.600 mL is more than the largest volume the site library measures (1 mL)"
    )


@pytest.mark.parametrize("rate", ["0.05", "0.0933"], ids=["below", "exactly-at"])
def test_prepare_bag_dose_beyond_what_drug_can_give_is_hard_stop(rate: str) -> None:
    # A site rate of 0.05 mL/h: undiluted drug gives 24 x 12.5 x 0.05 = 15 mcg/day < 28;
    # at 0.0933 mL/h exactly 27.99 mcg/day, the prescribed dose.
    library = resolve(with_rate(make_site(region="EU"), 24, rate))
    rx = make_rx(dose="28") if rate == "0.05" else make_rx(dose="27.99")

    hard = hard_stops(prepare_bag(prescription=rx, library=library))

    assert "no drug volume can deliver this dose" in hard["drug-volume-not-measurable"]


def test_prepare_bag_overfill_below_priming_is_hard_stop() -> None:
    site = make_site(priming=Ml(Decimal(40)))

    hard = hard_stops(prepare_bag(prescription=make_rx(dose="28"), library=resolve(site)))

    assert hard["overfill-below-priming"] == (
        "the bag holds 278.6 mL and infuses 240 mL, leaving 38.6 mL: less than the 40 mL the"
        " site needs to prime the line"
    )


# --- benzyl alcohol from preserved saline (a site's content and limit: no label gives one) ----


def _preserved_site(limit: str | None, content: str | None = "9") -> ResolvedLibrary:
    amount = None if content is None else Decimal(content)
    site = make_site(bags=make_site_bags((168, {"benzyl_alcohol_mg_per_ml": amount})))
    if limit is not None:
        site = replace(
            site, benzyl_alcohol=BenzylAlcoholLimit(Decimal(limit), Decimal(80), "site-ba")
        )
    return resolve(site)


def test_prepare_bag_benzyl_alcohol_load_is_mass_balance_per_kg_and_day() -> None:
    recipe = expect_recipe(
        prepare_bag(prescription=make_rx(hours=168, dose="28"), library=_preserved_site("10"))
    )

    expected = (
        Decimal(9)
        * recipe.saline.value.value
        * Decimal("0.6")
        * 24
        / (recipe.total.value * Decimal(70))
    )
    assert recipe.benzyl_alcohol == expected
    ok = next(c for c in recipe.checks if c.code == "benzyl-alcohol-within-limit")
    assert ok.level is CheckLevel.OK
    assert ok.source == "site-ba"
    assert recipe_to_dict(recipe)["benzyl_alcohol_mg_per_kg_per_day"] is not None


def test_prepare_bag_benzyl_alcohol_above_the_site_limit_is_a_hard_stop_for_an_infant() -> None:
    infant = make_rx(hours=168, weight="6", dose=None, per_m2="15", bsa="0.33")

    refused = prepare_bag(prescription=infant, library=_preserved_site("10"))

    assert isinstance(refused, Refusal)
    stop = next(c for c in refused.checks.hard if c.code == "benzyl-alcohol-above-limit")
    assert "is above the site's limit of 10 mg/kg/day" in stop.reason


def test_prepare_bag_benzyl_alcohol_near_the_site_limit_is_soft() -> None:
    recipe = expect_recipe(
        prepare_bag(prescription=make_rx(hours=168, dose="28"), library=_preserved_site("1.8"))
    )

    # About 1.53 mg/kg/day for 70 kg: 85 % of 1.8, past the 80 % the site warns from.
    near = next(c for c in recipe.checks.soft if c.code == "benzyl-alcohol-near-limit")
    assert "% of the site's limit of 1.8 mg/kg/day" in near.reason


@pytest.mark.parametrize(
    ("limit", "content"), [(None, "9"), ("10", None)], ids=["no-limit", "no-content"]
)
def test_prepare_bag_benzyl_alcohol_not_checked_without_site_values(
    limit: str | None, content: str | None
) -> None:
    recipe = expect_recipe(
        prepare_bag(
            prescription=make_rx(hours=168, dose="28"), library=_preserved_site(limit, content)
        )
    )

    assert "benzyl-alcohol-not-checked" in {c.code for c in recipe.checks.soft}
    assert (recipe.benzyl_alcohol is None) is (content is None)


def test_prepare_bag_preservative_free_bag_has_no_benzyl_alcohol() -> None:
    recipe = expect_recipe(prepare_bag(prescription=make_rx(), library=_preserved_site("10")))

    assert recipe.benzyl_alcohol is None
    assert not any(c.code.startswith("benzyl-alcohol") for c in recipe.checks)
