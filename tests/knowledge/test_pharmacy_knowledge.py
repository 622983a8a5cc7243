"""Loading the pharmacy constants and site drug libraries: every problem names its key path.

Malformed ``pharmacy.toml`` cases copy the shipped knowledge directory into ``tmp_path``
and edit one line; malformed site libraries are edited copies of the fixtures in
``tests/data``. A library with a slipped decimal in a fixed row never loads.
"""

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from tests.pharmacy_strategies import dose_rules

from blina.domain.errors import KnowledgeError
from blina.domain.pharmacy.reference import LabelDoseRules, StabilityItem, Storage
from blina.domain.pharmacy.resolution import ResolvedLibrary
from blina.domain.pharmacy.site_library import DEMO_STAMP
from blina.domain.rounding import VolumeRounding
from blina.domain.units import Mcg, Ml, MlPerHour
from blina.knowledge import KNOWLEDGE_DIR, Knowledge, load_knowledge_from
from blina.knowledge._pharmacy import DEMO_LIBRARY, load_site_library

DATA = Path(__file__).parents[1] / "data"
ROWS = DATA / "site_library_label_rows.toml"


@pytest.fixture(scope="session")
def rules() -> LabelDoseRules:
    return dose_rules()


def _load(path: Path, knowledge: Knowledge, rules: LabelDoseRules) -> ResolvedLibrary:
    return load_site_library(
        path, reference=knowledge.pharmacy, dose_rules=rules, sources=knowledge.sources
    )


def _edited(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {source.name}"
    target = tmp_path / source.name
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


# --- pharmacy.toml -------------------------------------------------------------------------------


def test_load_pharmacy_shipped_constants_are_exact_decimals(knowledge: Knowledge) -> None:
    ref = knowledge.pharmacy

    assert ref.vials["US"].content == Mcg(Decimal(35))
    assert ref.vials["EU"].content.value.as_tuple() == Decimal("38.5").as_tuple()
    assert ref.reconstitution.water_per_vial == Ml(Decimal(3))
    assert type(ref.reconstitution.concentration.value) is Decimal
    assert ref.stabilizer_vial.value == Ml(Decimal(10))
    assert tuple(ref.bags) == (24, 48, 72, 96, 168)
    assert ref.bags[168].rate == MlPerHour(Decimal("0.6"))
    assert ref.bsa_max.value.value == 5
    assert [a.code for a in ref.advisories if a.preservative_only] == ["benzyl-alcohol"]
    assert ref.advisory("do-not-flush").source == "pharm-label-2.1-do-not-flush"
    assert ref.missing_preparation_source == "pharm-label-3.4-not-retrieved"
    assert [s.code for s in ref.steps][3:6] == ["saline", "stabilizer", "drug"]


@pytest.mark.parametrize(
    ("old", "new", "key_path", "words"),
    [
        ('region = "EU"', 'region = "US"', "vials[1].region", "region appears twice"),
        ("hours = 48\n", "hours = 24\n", "bags[1].hours", "bag duration appears twice"),
        (
            'rate_source = "pharm-label-2.2-rates"\n',
            "",
            "bags[0].rate_source",
            "give a rate with its rate_source",
        ),
        (
            "rate_note = ",
            "# rate_note = ",
            "bags[2].rate_note",
            "an unverified rate needs a rate_note",
        ),
        ("infused_ml = 240", "infused_ml = 250", "bags[0].infused_ml", "250 mL is not rate x 24 h"),
        (
            'code = "do-not-flush"',
            'code = "no-flush"',
            "advisories",
            "codes must be unique and include 'do-not-flush'",
        ),
        ("{drug_ml}", "{drug_volume}", "steps[5].text", "unknown field {drug_volume}"),
        ("{drug_ml}", "{drug_ml", "steps[5].text", "not a valid template"),
        (
            'source = "pharm-label-3.1-kit"',
            'source = "nowhere"',
            "stabilizer.source",
            "source 'nowhere' is not in sources.toml",
        ),
        (
            "concentration_mcg_per_ml = 12.5",
            "concentration_mcg_per_ml = -12.5",
            "reconstitution.concentration_mcg_per_ml",
            "greater than 0",
        ),
    ],
    ids=[
        "vial-region-twice",
        "bag-twice",
        "rate-without-source",
        "unverified-without-note",
        "infused-not-rate-times-hours",
        "no-do-not-flush",
        "unknown-template-field",
        "broken-template",
        "unknown-source",
        "negative-concentration",
    ],
)
def test_load_pharmacy_malformed_names_file_and_key_path(
    tmp_path: Path, old: str, new: str, key_path: str, words: str
) -> None:
    copy = shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge")
    _edited(copy, copy / "pharmacy.toml", old, new)

    with pytest.raises(KnowledgeError) as raised:
        load_knowledge_from(copy)

    assert raised.value.file == "pharmacy.toml"
    assert raised.value.key_path == key_path
    assert words in raised.value.problem


# --- site libraries -------------------------------------------------------------------------


def test_load_site_library_demo_is_valid_validated_and_stamped(
    knowledge: Knowledge, rules: LabelDoseRules
) -> None:
    library = _load(DEMO_LIBRARY, knowledge, rules)
    site = library.site

    assert library.problems == ()
    assert site.demo
    assert site.stamp == DEMO_STAMP
    assert site.validation.problem is None
    assert site.validation.validated_on == date(2026, 1, 15)
    assert site.rounding is VolumeRounding.NEAREST
    assert [a.id for a in site.care_areas] == ["adult-inpatient", "pediatric-inpatient", "home"]
    assert site.care_areas[0].dose_per_m2.hard_max is None
    assert {b.hours for b in site.bags} == {24, 48, 72, 96, 168}
    assert all(b.source == "demo-site-library" for b in site.bags)
    assert site.label_rows == ()


def test_load_site_library_fixed_rows_load_and_are_indexed(
    knowledge: Knowledge, rules: LabelDoseRules
) -> None:
    library = _load(ROWS, knowledge, rules)

    assert set(library.fixed_rows) == {(24, Decimal(9)), (24, Decimal(28))}
    assert [r.id for r in library.band_rows[(24, Decimal(15))]] == ["24h-15m2-bsa-1.00-1.09"]
    assert library.site.name == "Test General Hospital"
    assert not library.site.demo
    fridge = library.bags[168].expiry
    assert [(e.item, e.storage, e.hours) for e in fridge] == [
        (StabilityItem.PREPARED_BAG, Storage.REFRIGERATED, Decimal(240)),
        (StabilityItem.RECONSTITUTED_VIAL, Storage.ROOM_TEMPERATURE, Decimal(4)),
        (StabilityItem.RECONSTITUTED_VIAL, Storage.REFRIGERATED, Decimal(24)),
    ]


def test_load_site_library_ten_fold_drug_volume_is_caught_at_load_naming_the_row(
    knowledge: Knowledge, rules: LabelDoseRules
) -> None:
    with pytest.raises(KnowledgeError) as raised:
        _load(DATA / "site_library_10x.toml", knowledge, rules)

    assert raised.value.file == "site_library_10x.toml"
    assert raised.value.key_path == 'label_rows[0] ("24h-9mcg").drug_ml'
    assert raised.value.problem.startswith("8.3 mL delivers 87.")
    assert "not 9 mcg/day within the site tolerance of 5 %" in raised.value.problem


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("site_library_unvalidated.toml", "the library has no validation date"),
        (
            "site_library_same_pharmacist.toml",
            "the library was validated by R. Okafor, PharmD twice, not by two pharmacists",
        ),
    ],
    ids=["unvalidated", "same-pharmacist-twice"],
)
def test_load_site_library_unvalidated_loads_with_its_validation_problem(
    knowledge: Knowledge, rules: LabelDoseRules, name: str, problem: str
) -> None:
    library = _load(DATA / name, knowledge, rules)

    assert library.site.validation.problem == problem


@pytest.mark.parametrize(
    ("old", "new", "key_path", "words"),
    [
        ("tolerance_percent = 5", "tolerance_percent = 50", "site.tolerance_percent", "10"),
        ('rounding = "nearest"', 'rounding = "up"', "site.rounding", "'nearest' or 'down'"),
        (
            'source = "test-site-library"\n\n[[bags]]',
            'source = "nowhere"\n\n[[bags]]',
            "site.measurable[2].source",
            "source 'nowhere' is not in sources.toml",
        ),
        ("drug_ml = 2.6", "drug_ml = 0", "label_rows[1].drug_ml", "greater than 0"),
        ("rate_ml_per_h = 0.6", "rate_ml_per_h = 6", "bags[2].rate_ml_per_h", "0.6 mL/h"),
        (
            "base_saline_ml = 270",
            "base_saline_ml = 250",
            "bags[0].base_saline_ml",
            "250 mL disagrees with the reference's 270 mL (pharm-us-2014-3.3-saline)"
            " (and 3 more problem(s))",
        ),
        ("[library]", "[library]\nextra = 1", "library.extra", "Extra inputs are not permitted"),
        ("[library]", "[library", "(syntax)", "line"),
        (
            "tolerance_percent = 5",
            "tolerance_percent = 5\nbenzyl_alcohol_limit_mg_per_kg_per_day = 10",
            "site.benzyl_alcohol_source",
            "give the benzyl alcohol limit and its source together",
        ),
    ],
    ids=[
        "tolerance-too-wide",
        "unknown-rounding",
        "unknown-source",
        "zero-drug",
        "rate-contradicts-reference",
        "saline-contradicts-reference",
        "extra-key",
        "syntax",
        "benzyl-alcohol-limit-without-source",
    ],
)
def test_load_site_library_malformed_names_file_and_key_path(
    tmp_path: Path,
    knowledge: Knowledge,
    rules: LabelDoseRules,
    old: str,
    new: str,
    key_path: str,
    words: str,
) -> None:
    path = _edited(tmp_path, ROWS, old, new)

    with pytest.raises(KnowledgeError) as raised:
        _load(path, knowledge, rules)

    assert raised.value.file == ROWS.name
    assert raised.value.key_path == key_path
    assert words in raised.value.problem


def test_load_site_library_missing_file_names_it(
    tmp_path: Path, knowledge: Knowledge, rules: LabelDoseRules
) -> None:
    with pytest.raises(KnowledgeError) as raised:
        _load(tmp_path / "absent.toml", knowledge, rules)

    assert str(raised.value) == "absent.toml: (file): cannot be read: No such file or directory"


def test_knowledge_pharmacy_bags_agree_with_planner_bags(knowledge: Knowledge) -> None:
    planner = knowledge.regimen("relapsed-refractory").bag_options

    for option in planner:
        bag = knowledge.pharmacy.bags[option.hours]
        assert bag.preservative is option.preservative
        assert bag.min_weight == option.min_weight
        assert bag.min_weight_source == option.min_weight_source
        assert bag.older_min_weight == option.older_min_weight
        assert bag.older_min_weight_source == option.older_min_weight_source
    assert {o.hours for o in planner} == set(knowledge.pharmacy.bags)


def test_load_site_library_benzyl_alcohol_content_and_limit(
    tmp_path: Path, knowledge: Knowledge, rules: LabelDoseRules
) -> None:
    """The site's own values: its preserved saline's content and its limit, with sources."""
    path = _edited(
        tmp_path,
        ROWS,
        "tolerance_percent = 5",
        "tolerance_percent = 5\nbenzyl_alcohol_limit_mg_per_kg_per_day = 10\n"
        'benzyl_alcohol_source = "test-site-library"',
    )
    text = path.read_text(encoding="utf-8").replace(
        "hours = 168\n", "hours = 168\nbenzyl_alcohol_mg_per_ml = 9\n"
    )
    path.write_text(text, encoding="utf-8")

    library = _load(path, knowledge, rules)

    limit = library.site.benzyl_alcohol
    assert limit is not None
    assert (limit.limit_mg_per_kg_per_day, limit.soft_from_percent) == (10, 80)
    assert limit.source == "test-site-library"
    week = next(b for b in library.site.bags if b.hours == 168)
    assert week.benzyl_alcohol_mg_per_ml == 9
