"""Fixed preparation rows copied from the label: used as they stand when they match the
prescription, and each checked at load by the same computation as every recipe.
"""

from dataclasses import replace
from decimal import Decimal

import pytest
from tests.pharmacy_strategies import (
    expect_recipe,
    hard_stops,
    make_band_row,
    make_label_row,
    make_rx,
    make_site,
    resolve,
    with_rate,
)

from blina.domain.pharmacy.recipe import Origin, Refusal, prepare_bag
from blina.domain.pharmacy.site_library import LabelRow
from blina.domain.units import M2, McgPerM2PerDay, Ml


def test_prepare_bag_fixed_label_row_is_used_as_it_stands() -> None:
    library = resolve(make_site(label_rows=(make_label_row(drug=Ml(Decimal("2.59"))),)))

    recipe = expect_recipe(prepare_bag(prescription=make_rx(dose="28"), library=library))

    assert recipe.origin is Origin.LABEL_ROW
    assert recipe.label_row == "24h-28"
    assert recipe.drug == Ml(Decimal("2.59"))
    assert recipe.saline.source == "row-src"
    assert recipe.vials == 1


def test_prepare_bag_band_label_row_matches_bsa_inside_the_band() -> None:
    # 3000 x D / (276 + D) mcg/day: 1.44 mL gives 15.571 (15 to 16.35 prescribed within 5 %),
    # 1.58 mL gives 17.076 (16.5 to 17.85).
    rows = (
        make_band_row("24h-1.0", "1.00", "1.09", "1.44"),
        make_band_row("24h-1.1", "1.10", "1.19", "1.58"),
    )
    library = resolve(make_site(label_rows=rows))
    inside = make_rx(dose=None, per_m2="15", bsa="1.15", weight="35")
    outside = make_rx(dose=None, per_m2="15", bsa="1.25", weight="35")
    fixed = make_rx(dose="15", weight="35")

    assert expect_recipe(prepare_bag(prescription=inside, library=library)).label_row == "24h-1.1"
    assert (
        expect_recipe(prepare_bag(prescription=outside, library=library)).origin is Origin.DERIVED
    )
    # A fixed mcg/day under 45 kg is refused before any row is looked at.
    refused = prepare_bag(prescription=fixed, library=library)
    assert isinstance(refused, Refusal)
    assert "fixed-dose-under-threshold" in refused.checks.codes()


@pytest.mark.parametrize(
    ("row", "key_path", "words"),
    [
        (
            make_label_row("slip", drug=Ml(Decimal(26))),
            'label_rows[0] ("slip").drug_ml',
            "26 mL delivers 258.278 mcg/day, not 28 mcg/day within the site tolerance of 5 %",
        ),
        (
            make_label_row("salt", saline=Ml(Decimal(27))),
            'label_rows[0] ("salt").saline_ml',
            "27 mL disagrees with the reference's 270 mL (pharm-us-2014-3.3-saline)",
        ),
        (
            make_label_row("ivss", stabilizer=Ml(Decimal(60))),
            'label_rows[0] ("ivss").stabilizer_ml',
            "60 mL disagrees with the site's 6 mL for 24-h bags",
        ),
        (
            make_label_row("few", bag_hours=168),
            'label_rows[0] ("few").saline_ml',
            "270 mL disagrees with the site's base saline 110 mL for 168-h bags",
        ),
        (
            make_label_row("hours", bag_hours=12),
            'label_rows[0] ("hours").bag_hours',
            "12 h is not a bag duration the reference knows",
        ),
        (
            make_label_row("both", per_m2=McgPerM2PerDay(Decimal(15))),
            'label_rows[0] ("both")',
            "give dose_mcg_per_day, or dose_mcg_per_m2_per_day with bsa_min_m2 <= bsa_max_m2",
        ),
        (
            make_band_row("flip", "1.2", "1.1", "1.5"),
            'label_rows[0] ("flip")',
            "give dose_mcg_per_day, or dose_mcg_per_m2_per_day",
        ),
        (
            make_label_row("nodose", dose=None),
            'label_rows[0] ("nodose")',
            "give dose_mcg_per_day",
        ),
        (
            make_label_row("fixedband", bsa_min=M2(Decimal(1))),
            'label_rows[0] ("fixedband")',
            "give dose_mcg_per_day",
        ),
        (
            make_band_row("wide", "0.50", "1.00", "1.0"),
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
    row = make_label_row(
        "vials", bag_hours=168, saline=Ml(Decimal(110)), stabilizer=Ml(Decimal("2.5"))
    )
    row = replace(row, drug=Ml(Decimal("20.5")), vials=7)

    problem = resolve(make_site(label_rows=(row,))).problems[0]

    assert problem.key_path == 'label_rows[0] ("vials").vials'
    assert problem.problem == "7 vial(s) cannot give 20.5 mL: 8 vials of 2.8 mL are needed"


def test_resolve_library_label_row_without_priming_room_is_a_problem() -> None:
    site = make_site(priming=Ml(Decimal(40)), label_rows=(make_label_row("prime"),))

    problem = resolve(site).problems[-1]

    assert problem.key_path == 'label_rows[0] ("prime")'
    assert "less than the 40 mL the site needs to prime the line" in problem.problem


def test_resolve_library_label_row_for_bag_without_rate_is_a_problem() -> None:
    site = make_site(region="EU", label_rows=(make_label_row("eu"),))

    problem = resolve(site).problems[0]

    assert problem.problem == "no infusion rate for 24-h bags"


def test_resolve_library_duplicate_rows_and_overlapping_bands_are_problems() -> None:
    rows = (
        make_label_row("a"),
        make_label_row("a"),
        make_label_row("b"),
        make_band_row("c", "1.00", "1.09", "1.44"),
        make_band_row("d", "1.05", "1.10", "1.5"),
    )

    problems = {p.key_path: p.problem for p in resolve(make_site(label_rows=rows)).problems}

    assert problems == {
        'label_rows[1] ("a").id': "row id 'a' appears twice",
        'label_rows[2] ("b")': "a second row for 28 mcg/day in 24-h bags",
        'label_rows[4] ("d")': "its BSA band overlaps another row for the same dose",
    }


def test_resolve_library_row_without_known_vial_is_checked_but_not_counted() -> None:
    site = with_rate(make_site(region="JP", label_rows=(make_label_row("jp"),)), 24, "10")

    library = resolve(site)

    assert library.problems == ()
    assert library.usable_per_vial is None
    assert "missing-vial" in hard_stops(prepare_bag(prescription=make_rx(), library=library))
