"""Bag recipes by mass balance: worked examples, every hard stop, and library resolution.

The worked examples use the demo library's invented site values (stabilizer 6 mL for
24/48-h bags, priming 10 mL, 0.01 mL graduations up to 1 mL ...) with the reference's
constants (12.5 mcg/mL, 10 mL/h, 270 mL base saline from 45 kg). The arithmetic is
written out in each test so a reader can check it by hand.
"""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from tests.pharmacy_strategies import (
    BAG_HOURS,
    make_rx,
    make_site,
    make_site_bag,
    resolve,
    with_rate,
)

from blina.domain.checks import CheckLevel
from blina.domain.druglib import (
    BenzylAlcoholLimit,
    CareArea,
    LabelRow,
    Limits,
    SiteLibrary,
    StabilityItem,
    StabilityRule,
    Storage,
    Validation,
)
from blina.domain.errors import InvalidInput
from blina.domain.pharmacy_units import Mcg, McgPerMl, Ml, MlPerHour
from blina.domain.preparation import (
    Origin,
    Recipe,
    Refusal,
    ResolvedLibrary,
    delivered_dose,
    delivered_mcg_per_day,
    prepare_bag,
)
from blina.domain.rounding import (
    MeasurableStep,
    VolumeRounding,
    measurable_step,
    round_factor,
    round_reported,
    round_volume_ml,
    vials_needed,
)
from blina.domain.units import M2, Hours, McgPerDay, McgPerM2PerDay
from blina.interop.json.recipe import recipe_to_dict

DEMO = resolve()


def _recipe(result: Recipe | Refusal) -> Recipe:
    assert isinstance(result, Recipe), [c.reason for c in result.checks.hard]
    return result


def _refusal(result: Recipe | Refusal) -> Refusal:
    assert isinstance(result, Refusal)
    return result


def _bags(*changed: tuple[int, dict[str, object]]) -> tuple:  # type: ignore[type-arg]
    overrides = dict(changed)
    return tuple(make_site_bag(h, **overrides.get(h, {})) for h in BAG_HOURS)


def _row(row_id: str = "24h-28", **overrides: object) -> LabelRow:
    values: dict[str, object] = {
        "id": row_id,
        "bag_hours": 24,
        "saline": Ml(Decimal(270)),
        "stabilizer": Ml(Decimal(6)),
        "drug": Ml(Decimal("2.6")),
        "vials": 1,
        "source": "row-src",
        "dose": McgPerDay(Decimal(28)),
    }
    values.update(overrides)
    return LabelRow(**values)  # type: ignore[arg-type]


def _band(row_id: str, low: str, high: str, drug: str, **overrides: object) -> LabelRow:
    return _row(
        row_id,
        dose=None,
        per_m2=McgPerM2PerDay(Decimal(15)),
        bsa_min=M2(Decimal(low)),
        bsa_max=M2(Decimal(high)),
        drug=Ml(Decimal(drug)),
        **overrides,
    )


# --- worked examples ------------------------------------------------------------------------


def test_prepare_bag_24h_28_mcg_solves_mass_balance_to_measurable_volume() -> None:
    # D = 28 x (270 + 6) / (24 x 12.5 x 10 - 28) = 7728 / 2972 = 2.6003 mL; 0.1 mL steps
    # from 1 to 3 mL give 2.6 mL. Delivered: 12.5 x 2.6 / 278.6 x 10 x 24 = 27.997 mcg/day.
    recipe = _recipe(prepare_bag(prescription=make_rx(dose="28"), library=DEMO))

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
    recipe = _recipe(prepare_bag(prescription=make_rx(dose="9"), library=DEMO))

    assert recipe.drug == Ml(Decimal("0.83"))
    assert round_reported(recipe.delivered.value) == Decimal("8.995")


def test_prepare_bag_7_day_28_mcg_needs_eight_vials_of_2_8_ml() -> None:
    # D = 28 x 112.5 / (24 x 12.5 x 0.6 - 28) = 3150 / 152 = 20.72 mL -> 20.5 mL (0.5 mL
    # steps to 30 mL); 20.5 / 2.8 = 7.3 -> 8 vials, 24 mL of water.
    rx = make_rx(hours=168, dose="28", weight="70")

    recipe = _recipe(prepare_bag(prescription=rx, library=DEMO))

    assert recipe.drug == Ml(Decimal("20.5"))
    assert recipe.vials == 8
    assert recipe.reconstitution_water == Ml(Decimal(24))
    assert recipe.infuse == Ml(Decimal("100.8"))
    assert recipe.saline.source == "synthetic-site"
    assert recipe.bag.reference.preservative
    assert "benzyl-alcohol" in {a.code for a in recipe.advisories}


def test_prepare_bag_child_per_m2_uses_site_saline_under_45_kg() -> None:
    rx = make_rx(hours=24, dose=None, per_m2="15", bsa="0.80", weight="20")

    recipe = _recipe(prepare_bag(prescription=rx, library=DEMO))

    assert recipe.prescription.dose == McgPerDay(Decimal("12.00"))
    assert recipe.saline.source == "synthetic-site"
    assert recipe.saline.value == Ml(Decimal(270))


def test_delivered_dose_recomputes_from_the_recipe_volumes() -> None:
    recipe = _recipe(prepare_bag(prescription=make_rx(dose="28"), library=DEMO))

    assert delivered_dose(recipe) == recipe.delivered
    slipped = replace(recipe, drug=Ml(Decimal(26)))
    assert delivered_dose(slipped).value > 250


def test_delivered_mcg_per_day_is_mass_over_volume_times_rate() -> None:
    # 12.5 x 4 = 50 mcg in 100 mL at 2 mL/h: 0.5 mcg/mL x 48 mL/day = 24 mcg/day.
    delivered = delivered_mcg_per_day(
        drug_ml=Decimal(4),
        concentration_mcg_per_ml=Decimal("12.5"),
        saline_ml=Decimal(90),
        stabilizer_ml=Decimal(6),
        rate_ml_per_h=Decimal(2),
    )

    assert delivered == 24


def test_recipe_steps_in_order_stabilizer_before_drug_with_figures() -> None:
    recipe = _recipe(prepare_bag(prescription=make_rx(dose="28"), library=DEMO))

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


def test_recipe_expiry_24h_bag_counts_infusion_time() -> None:
    recipe = _recipe(prepare_bag(prescription=make_rx(dose="28"), library=DEMO))

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
    recipe = _recipe(prepare_bag(prescription=make_rx(hours=48, dose="28"), library=DEMO))

    room = next(e for e in recipe.expiry if e.storage is Storage.ROOM_TEMPERATURE)
    assert room.start_within_hours == 0


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


def test_prepare_bag_168h_reports_missing_stability_as_soft() -> None:
    recipe = _recipe(prepare_bag(prescription=make_rx(hours=168, dose="28"), library=DEMO))

    assert {c.code for c in recipe.checks.soft} == {
        "stability-missing",
        "benzyl-alcohol-not-checked",
    }
    assert recipe.checks.needs_override
    assert {(e.item, e.storage) for e in recipe.expiry} == {
        (StabilityItem.RECONSTITUTED_VIAL, Storage.ROOM_TEMPERATURE),
        (StabilityItem.RECONSTITUTED_VIAL, Storage.REFRIGERATED),
    }


def test_prepare_bag_site_confirming_unverified_rate_turns_it_ok() -> None:
    library = resolve(with_rate(make_site(), 96, "1.8"))

    recipe = _recipe(prepare_bag(prescription=make_rx(hours=96, dose="9"), library=library))

    confirmed = next(c for c in recipe.checks if c.code == "rate-confirmed-by-site")
    assert confirmed.level is CheckLevel.OK
    assert "rate-unverified" not in recipe.checks.codes()


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
        make_site(bags=_bags((24, {"stability": stability}), (96, {"stability": stability}))),
        96,
        "1.8",
    )

    day = _recipe(prepare_bag(prescription=make_rx(dose="28"), library=resolve(site)))
    four = _recipe(prepare_bag(prescription=make_rx(hours=96, dose="28"), library=resolve(site)))

    room = next(e for e in day.expiry if e.storage is Storage.ROOM_TEMPERATURE)
    assert room.source == "site-stab"
    assert room.start_within_hours == 96
    assert room.replaces is not None
    assert room.replaces.source == "pharm-us-2014-4-stability"
    assert "stability-missing" not in four.checks.codes()


def test_prepare_bag_with_demo_stamp() -> None:
    library = resolve(make_site(demo=True))

    recipe = _recipe(prepare_bag(prescription=make_rx(), library=library))

    assert recipe.stamp == "demo library: not for clinical use"


# --- hard stops ---------------------------------------------------------------------------------


def _hard(result: Recipe | Refusal) -> dict[str, str]:
    return {c.code: c.reason for c in _refusal(result).checks.hard}


def test_prepare_bag_unknown_bag_hours_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput) as raised:
        prepare_bag(prescription=make_rx(hours=12), library=DEMO)

    assert str(raised.value) == "bag_hours 12 is not allowed: must be one of 24, 48, 72, 96, 168"


def test_prepare_bag_missing_stabilizer_is_hard_stop_naming_it() -> None:
    library = resolve(make_site(bags=_bags((72, {"stabilizer": None}))))

    hard = _hard(prepare_bag(prescription=make_rx(hours=72, dose="9"), library=library))

    assert hard["missing-iv-solution-stabilizer-volume"] == (
        "no IV Solution Stabilizer volume for a 72-h bag: the reference has none (NOT"
        " RETRIEVED) and the site library 'synthetic site' gives none"
    )


def test_prepare_bag_missing_saline_for_preservative_bag_is_hard_stop() -> None:
    library = resolve(make_site(bags=_bags((168, {"base_saline": None}))))

    hard = _hard(prepare_bag(prescription=make_rx(hours=168, dose="9"), library=library))

    assert "missing-base-saline-volume" in hard


def test_prepare_bag_missing_site_saline_under_45_kg_is_hard_stop_but_not_above() -> None:
    library = resolve(make_site(bags=_bags((24, {"base_saline": None}))))
    child = make_rx(dose=None, per_m2="15", bsa="1.0", weight="30")

    hard = _hard(prepare_bag(prescription=child, library=library))
    adult = prepare_bag(prescription=make_rx(dose="28"), library=library)

    assert "no base saline volume for a 24-h bag under 45 kg" in hard["missing-base-saline"]
    assert isinstance(adult, Recipe)


def test_prepare_bag_eu_region_without_site_rate_names_every_missing_value() -> None:
    library = resolve(make_site(region="EU"))

    hard = _hard(prepare_bag(prescription=make_rx(dose="28"), library=library))

    assert "missing-infusion-rate" in hard
    assert "missing-base-saline" not in hard


def test_prepare_bag_eu_region_with_site_rate_uses_eu_vial_and_reports_stability_gap() -> None:
    library = resolve(with_rate(make_site(region="EU"), 24, "10"))

    recipe = _recipe(prepare_bag(prescription=make_rx(dose="28"), library=library))

    assert recipe.vial.content == Mcg(Decimal("38.5"))
    assert recipe.rate.source == "synthetic-site"
    assert recipe.library.usable_per_vial == Ml(Decimal("3.08"))
    assert {c.code for c in recipe.checks.soft} == {"stability-missing"}


def test_prepare_bag_unknown_region_is_hard_stop_missing_vial() -> None:
    library = resolve(with_rate(make_site(region="JP"), 24, "10"))

    hard = _hard(prepare_bag(prescription=make_rx(dose="28"), library=library))

    assert hard["missing-vial"] == (
        "no vial content for region 'JP': the reference gives it for US, EU only"
    )


def test_prepare_bag_unvalidated_library_is_hard_stop() -> None:
    library = resolve(make_site(validation=Validation(("Ann",), date(2026, 1, 1))))

    hard = _hard(prepare_bag(prescription=make_rx(), library=library))

    assert "library-not-validated" in hard


def test_prepare_bag_library_with_problems_is_hard_stop() -> None:
    library = resolve(make_site(bags=(*_bags(), make_site_bag(24))))

    hard = _hard(prepare_bag(prescription=make_rx(), library=library))

    assert hard["library-problem"].startswith(
        "the site library 'synthetic site' has 1 problem(s), first at bags[5].hours"
    )


def test_prepare_bag_outside_tolerance_is_hard_stop() -> None:
    # 1 mcg/day in a 24-h bag: D = 276 / 2999 = 0.092 mL; with 0.1 mL graduations it is
    # 0.1 mL, which delivers 1.0866 mcg/day: +8.7 %, outside 5 %.
    site = make_site(measurable=(MeasurableStep(Decimal(5), Decimal("0.1")),))
    rx = make_rx(dose=None, per_m2="5", bsa="0.20", weight="30")

    hard = _hard(prepare_bag(prescription=rx, library=resolve(site)))

    assert hard["delivered-outside-tolerance"] == (
        "the bag delivers 1.087 mcg/day for 1.00 mcg/day prescribed (+8.656 %; site"
        " tolerance 5 %): outside the site tolerance"
    )


def test_prepare_bag_rounding_to_zero_is_hard_stop() -> None:
    site = make_site(
        measurable=(MeasurableStep(Decimal(5), Decimal(1)),), rounding=VolumeRounding.DOWN
    )

    hard = _hard(prepare_bag(prescription=make_rx(dose="9"), library=resolve(site)))

    assert "delivered-outside-tolerance" in hard


def test_prepare_bag_volume_beyond_measurable_is_hard_stop() -> None:
    site = make_site(measurable=(MeasurableStep(Decimal(1), Decimal("0.01")),))

    hard = _hard(prepare_bag(prescription=make_rx(dose="28"), library=resolve(site)))

    assert hard["drug-volume-not-measurable"] == (
        "the drug volume 2.600 mL is more than the largest volume the site library measures (1 mL)"
    )


@pytest.mark.parametrize("rate", ["0.05", "0.0933"], ids=["below", "exactly-at"])
def test_prepare_bag_dose_beyond_what_drug_can_give_is_hard_stop(rate: str) -> None:
    # A site rate of 0.05 mL/h: undiluted drug gives 24 x 12.5 x 0.05 = 15 mcg/day < 28;
    # at 0.0933 mL/h exactly 27.99 mcg/day, the prescribed dose.
    library = resolve(with_rate(make_site(region="EU"), 24, rate))
    rx = make_rx(dose="28") if rate == "0.05" else make_rx(dose="27.99")

    hard = _hard(prepare_bag(prescription=rx, library=library))

    assert "no drug volume can deliver this dose" in hard["drug-volume-not-measurable"]


def test_prepare_bag_overfill_below_priming_is_hard_stop() -> None:
    site = make_site(priming=Ml(Decimal(40)))

    hard = _hard(prepare_bag(prescription=make_rx(dose="28"), library=resolve(site)))

    assert hard["overfill-below-priming"] == (
        "the bag holds 278.6 mL and infuses 240 mL, leaving 38.6 mL: less than the 40 mL the"
        " site needs to prime the line"
    )


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
    site = make_site(bags=_bags((96, {"stability": (short,)})))

    hard = _hard(prepare_bag(prescription=make_rx(hours=96, dose="9"), library=resolve(site)))

    assert "a 96-h bag would expire while it runs" in hard["bag-expires-during-infusion"]


# --- label rows --------------------------------------------------------------------------------


def test_prepare_bag_fixed_label_row_is_used_as_it_stands() -> None:
    library = resolve(make_site(label_rows=(_row(drug=Ml(Decimal("2.59"))),)))

    recipe = _recipe(prepare_bag(prescription=make_rx(dose="28"), library=library))

    assert recipe.origin is Origin.LABEL_ROW
    assert recipe.label_row == "24h-28"
    assert recipe.drug == Ml(Decimal("2.59"))
    assert recipe.saline.source == "row-src"
    assert recipe.vials == 1


def test_prepare_bag_band_label_row_matches_bsa_inside_the_band() -> None:
    # 3000 x D / (276 + D) mcg/day: 1.44 mL gives 15.571 (15 to 16.35 prescribed within 5 %),
    # 1.58 mL gives 17.076 (16.5 to 17.85).
    rows = (_band("24h-1.0", "1.00", "1.09", "1.44"), _band("24h-1.1", "1.10", "1.19", "1.58"))
    library = resolve(make_site(label_rows=rows))
    inside = make_rx(dose=None, per_m2="15", bsa="1.15", weight="35")
    outside = make_rx(dose=None, per_m2="15", bsa="1.25", weight="35")
    fixed = make_rx(dose="15", weight="35")

    assert _recipe(prepare_bag(prescription=inside, library=library)).label_row == "24h-1.1"
    assert _recipe(prepare_bag(prescription=outside, library=library)).origin is Origin.DERIVED
    # A fixed mcg/day under 45 kg is refused before any row is looked at.
    refused = prepare_bag(prescription=fixed, library=library)
    assert isinstance(refused, Refusal)
    assert "fixed-dose-under-threshold" in refused.checks.codes()


@pytest.mark.parametrize(
    ("row", "key_path", "words"),
    [
        (
            _row("slip", drug=Ml(Decimal(26))),
            'label_rows[0] ("slip").drug_ml',
            "26 mL delivers 258.278 mcg/day, not 28 mcg/day within the site tolerance of 5 %",
        ),
        (
            _row("salt", saline=Ml(Decimal(27))),
            'label_rows[0] ("salt").saline_ml',
            "27 mL disagrees with the reference's 270 mL (pharm-us-2014-3.3-saline)",
        ),
        (
            _row("ivss", stabilizer=Ml(Decimal(60))),
            'label_rows[0] ("ivss").stabilizer_ml',
            "60 mL disagrees with the site's 6 mL for 24-h bags",
        ),
        (
            _row("few", bag_hours=168),
            'label_rows[0] ("few").saline_ml',
            "270 mL disagrees with the site's base saline 110 mL for 168-h bags",
        ),
        (
            _row("hours", bag_hours=12),
            'label_rows[0] ("hours").bag_hours',
            "12 h is not a bag duration the reference knows",
        ),
        (
            _row("both", per_m2=McgPerM2PerDay(Decimal(15))),
            'label_rows[0] ("both")',
            "give dose_mcg_per_day, or dose_mcg_per_m2_per_day with bsa_min_m2 <= bsa_max_m2",
        ),
        (
            _band("flip", "1.2", "1.1", "1.5"),
            'label_rows[0] ("flip")',
            "give dose_mcg_per_day, or dose_mcg_per_m2_per_day",
        ),
        (
            _row("nodose", dose=None),
            'label_rows[0] ("nodose")',
            "give dose_mcg_per_day",
        ),
        (
            _row("fixedband", bsa_min=M2(Decimal(1))),
            'label_rows[0] ("fixedband")',
            "give dose_mcg_per_day",
        ),
        (
            _band("wide", "0.50", "1.00", "1.0"),
            'label_rows[0] ("wide").drug_ml',
            "not 7.50 mcg/day within the site tolerance",
        ),
    ],
    ids=[
        "10x-drug",
        "saline-vs-reference",
        "stabilizer-vs-site",
        "saline-vs-site",
        "unknown-bag",
        "dose-and-per-m2",
        "band-reversed",
        "no-dose",
        "fixed-with-band",
        "band-too-wide",
    ],
)
def test_resolve_library_label_row_problem_names_the_row(
    row: LabelRow, key_path: str, words: str
) -> None:
    library = resolve(make_site(label_rows=(row,)))

    problems = {p.key_path: p.problem for p in library.problems}
    assert words in problems[key_path]


def test_resolve_library_label_row_short_of_vials_is_a_problem() -> None:
    row = _row("vials", bag_hours=168, saline=Ml(Decimal(110)), stabilizer=Ml(Decimal("2.5")))
    row = replace(row, drug=Ml(Decimal("20.5")), vials=7)

    problem = resolve(make_site(label_rows=(row,))).problems[0]

    assert problem.key_path == 'label_rows[0] ("vials").vials'
    assert problem.problem == "7 vial(s) cannot give 20.5 mL: 8 vials of 2.8 mL are needed"


def test_resolve_library_label_row_without_priming_room_is_a_problem() -> None:
    site = make_site(priming=Ml(Decimal(40)), label_rows=(_row("prime"),))

    problem = resolve(site).problems[-1]

    assert problem.key_path == 'label_rows[0] ("prime")'
    assert "less than the 40 mL the site needs to prime the line" in problem.problem


def test_resolve_library_label_row_for_bag_without_rate_is_a_problem() -> None:
    site = make_site(region="EU", label_rows=(_row("eu"),))

    problem = resolve(site).problems[0]

    assert problem.problem == "no infusion rate for 24-h bags"


def test_resolve_library_duplicate_rows_and_overlapping_bands_are_problems() -> None:
    rows = (
        _row("a"),
        _row("a"),
        _row("b"),
        _band("c", "1.00", "1.09", "1.44"),
        _band("d", "1.05", "1.10", "1.5"),
    )

    problems = {p.key_path: p.problem for p in resolve(make_site(label_rows=rows)).problems}

    assert problems == {
        'label_rows[1] ("a").id': "row id 'a' appears twice",
        'label_rows[2] ("b")': "a second row for 28 mcg/day in 24-h bags",
        'label_rows[4] ("d")': "its BSA band overlaps another row for the same dose",
    }


# --- resolving site values against the reference -----------------------------------------------


def test_resolve_library_demo_values_have_no_problem() -> None:
    assert DEMO.problems == ()
    assert set(DEMO.bags) == set(BAG_HOURS)


def test_resolve_library_site_contradicting_reference_is_a_problem() -> None:
    site = with_rate(make_site(bags=_bags((48, {"base_saline": Ml(Decimal(250))}))), 24, "12")

    problems = {p.key_path: p.problem for p in resolve(site).problems}

    assert problems == {
        "bags[0].rate_ml_per_h": (
            "12 mL/h disagrees with the reference's 10 mL/h (pharm-label-2.2-rates)"
        ),
        "bags[1].base_saline_ml": (
            "250 mL disagrees with the reference's 270 mL (pharm-us-2014-3.3-saline)"
        ),
    }


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


def test_resolve_library_site_without_bags_names_missing_values_per_bag() -> None:
    library = resolve(make_site(bags=()))

    setup = library.bags[168]
    codes = {c.code for c in setup.checks if c.level is CheckLevel.HARD}

    assert codes == {"missing-iv-solution-stabilizer-volume", "missing-base-saline-volume"}
    assert library.bags[24].saline_for(make_rx().weight) is not None


# --- rounding rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("volume", "step", "rule", "expected"),
    [
        ("0.8305", "0.01", VolumeRounding.NEAREST, "0.83"),
        ("0.835", "0.01", VolumeRounding.NEAREST, "0.84"),
        ("0.839", "0.01", VolumeRounding.DOWN, "0.83"),
        ("5.25", "0.2", VolumeRounding.NEAREST, "5.2"),
        ("5.3", "0.2", VolumeRounding.NEAREST, "5.4"),
        ("20.72", "0.5", VolumeRounding.NEAREST, "20.5"),
        ("20.75", "0.5", VolumeRounding.NEAREST, "21.0"),
    ],
)
def test_round_volume_ml_rounds_to_whole_graduations(
    volume: str, step: str, rule: VolumeRounding, expected: str
) -> None:
    rounded = round_volume_ml(Decimal(volume), step=Decimal(step), rule=rule)

    assert rounded == Decimal(expected)


def test_measurable_step_picks_first_syringe_that_holds_the_volume() -> None:
    steps = (
        MeasurableStep(Decimal(1), Decimal("0.01")),
        MeasurableStep(Decimal(3), Decimal("0.1")),
    )

    assert measurable_step(Decimal(1), steps) == Decimal("0.01")
    assert measurable_step(Decimal("1.01"), steps) == Decimal("0.1")
    assert measurable_step(Decimal("3.01"), steps) is None


@pytest.mark.parametrize(
    ("volume", "vials"), [("2.8", 1), ("2.81", 2), ("5.6", 2), ("0.01", 1), ("0", 0)]
)
def test_vials_needed_counts_up(volume: str, vials: int) -> None:
    assert vials_needed(Decimal(volume), per_vial=Decimal("2.8")) == vials


def test_round_reported_and_round_factor_are_half_up() -> None:
    assert round_reported(Decimal("27.99712")) == Decimal("27.997")
    assert round_reported(Decimal("0.0005")) == Decimal("0.001")
    assert round_factor(Decimal("16.665")) == Decimal("16.67")


def test_pharmacy_units_multiply_only_where_units_make_sense() -> None:
    assert McgPerMl(Decimal("12.5")) * Ml(Decimal(2)) == Mcg(Decimal("25.0"))
    assert MlPerHour(Decimal("0.6")) * Hours(Decimal(168)) == Ml(Decimal("100.8"))
    assert str(Ml(Decimal(3))) == "3 mL"
    with pytest.raises(InvalidInput):
        Ml(Decimal(-1))


def test_site_library_is_frozen() -> None:
    site: SiteLibrary = make_site()

    with pytest.raises(AttributeError):
        site.name = "other"  # type: ignore[misc]


def test_resolve_library_valid_care_area_has_no_problem() -> None:
    limits = Limits("mcg/day", "s", soft_min=Decimal(9), hard_max=Decimal(28))
    area = CareArea("adult", "Adult", (24, 48), limits, limits, limits, limits, (), "s")

    assert resolve(make_site(care_areas=(area,))).problems == ()


def test_resolve_library_row_without_known_vial_is_checked_but_not_counted() -> None:
    site = with_rate(make_site(region="JP", label_rows=(_row("jp"),)), 24, "10")

    library = resolve(site)

    assert library.problems == ()
    assert library.usable_per_vial is None
    assert "missing-vial" in _hard(prepare_bag(prescription=make_rx(), library=library))


# --- benzyl alcohol from preserved saline (a site's content and limit: no label gives one) ----


def _preserved_site(limit: str | None, content: str | None = "9") -> ResolvedLibrary:
    amount = None if content is None else Decimal(content)
    site = make_site(bags=_bags((168, {"benzyl_alcohol_mg_per_ml": amount})))
    if limit is not None:
        site = replace(
            site, benzyl_alcohol=BenzylAlcoholLimit(Decimal(limit), Decimal(80), "site-ba")
        )
    return resolve(site)


def test_prepare_bag_benzyl_alcohol_load_is_mass_balance_per_kg_and_day() -> None:
    recipe = _recipe(
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
    recipe = _recipe(
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
    recipe = _recipe(
        prepare_bag(
            prescription=make_rx(hours=168, dose="28"), library=_preserved_site(limit, content)
        )
    )

    assert "benzyl-alcohol-not-checked" in {c.code for c in recipe.checks.soft}
    assert (recipe.benzyl_alcohol is None) is (content is None)


def test_prepare_bag_preservative_free_bag_has_no_benzyl_alcohol() -> None:
    recipe = _recipe(prepare_bag(prescription=make_rx(), library=_preserved_site("10")))

    assert recipe.benzyl_alcohol is None
    assert not any(c.code.startswith("benzyl-alcohol") for c in recipe.checks)
