"""Golden tests: the pharmacy constants, row by row, against the clinical reference.

The §2.2 bag table, the §3.1 presentation table and the §4 stability table are parsed
from the committed snapshot (tests/knowledge/reference/blinatumomab-label.md), so a change
on either side fails here. Facts stated in prose are transcribed with their section. The
24-h and 48-h bags for patients >= 45 kg are then prepared from the demo library and
checked against every constant the reference gives for them: 10 and 5 mL/h, 240 mL
infused (US-2014 "total 240 mL"), 270 mL base saline first (US-2014), preservative-free.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from tests import shared
from tests.pharmacy_strategies import dose_rules, make_rx, reference

from blina.domain.pharmacy.recipe import Recipe, prepare_bag
from blina.domain.pharmacy.reference import StabilityItem, StabilityRule, Storage
from blina.knowledge import Knowledge
from blina.knowledge._pharmacy import DEMO_LIBRARY, load_site_library

SNAPSHOT = shared.REFERENCE / "blinatumomab-label.md"
TEXT = SNAPSHOT.read_text(encoding="utf-8")
EN_DASH = "\u2013"
BAG_HEADER = (
    "| Bag duration | Rate | Diluent / preservative | Sources "
    "| Rate \u00d7 duration (arithmetic only, not label text) |"
)
BAG_ROW = re.compile(
    r"^\| (?:(?P<hours>\d+) h|(?P<days>\d+) days) "
    r"\| (?:\*\*)?(?P<rate>\d+(?:\.\d+)?) mL/h(?:\*\*)?(?P<note>[^|]*)"
    r"\| (?P<diluent>[^|]+) \| [^|]+ \| (?P<volume>\d+(?:\.\d+)?) mL \|$"
)


@dataclass(frozen=True)
class BagRow:
    """One row of the reference's §2.2 bag table."""

    hours: int
    rate: Decimal
    preservative: bool
    single_source: bool
    infused_ml: Decimal


def _table_after(heading: str) -> list[str]:
    lines = TEXT.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    table: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    return table


def _bag_rows() -> list[BagRow]:
    header, _, *body = _table_after("### 2.2 Bag durations")
    assert header == BAG_HEADER, "§2.2: the bag table's columns changed"
    rows = []
    for line in body:
        match = BAG_ROW.match(line)
        assert match is not None, f"§2.2: row not understood: {line}"
        hours = int(match["hours"]) if match["hours"] else int(match["days"]) * 24
        diluent = match["diluent"].lower()
        assert ("preservative-free" in diluent) != ("with preservative" in diluent)
        rows.append(
            BagRow(
                hours=hours,
                rate=Decimal(match["rate"]),
                preservative="with preservative" in diluent,
                single_source="as printed" in match["note"],
                infused_ml=Decimal(match["volume"]),
            )
        )
    return rows


BAG_ROWS = _bag_rows()


def _cells(heading: str) -> dict[str, list[str]]:
    _, _, *body = _table_after(heading)
    return {
        cells[0]: cells[1:]
        for cells in ([c.strip() for c in line.strip("|").split("|")] for line in body)
    }


def test_golden_bag_table_has_every_bag_duration() -> None:
    assert [row.hours for row in BAG_ROWS] == [24, 48, 72, 96, 168]
    assert tuple(reference().bags) == (24, 48, 72, 96, 168)


@pytest.mark.parametrize("row", BAG_ROWS, ids=lambda row: f"{row.hours}h")
def test_golden_bag_rate_preservative_and_volume_match_reference(row: BagRow) -> None:
    bag = reference().bags[row.hours]

    assert bag.rate is not None
    assert bag.rate.value == row.rate
    assert bag.preservative is row.preservative
    assert bag.rate_verified is not row.single_source
    assert bag.rate.value * row.hours == row.infused_ml
    assert bag.rate_regions == ("US",)


def test_golden_72_and_96_hour_rates_are_flagged_unverified_per_open_question_2() -> None:
    assert "2. **72 h and 96 h infusion rates**" in TEXT
    unverified = {h for h, bag in reference().bags.items() if not bag.rate_verified}

    assert unverified == {72, 96}
    assert all("open question 2" in (reference().bags[h].rate_note or "") for h in unverified)


def test_golden_weight_floors_newest_hard_older_soft() -> None:
    newest = re.search(r"not recommended below (\d+(?:\.\d+)?) kg", TEXT)
    older = re.search(r"7-day bag not recommended below \*\*(\d+) kg\*\*", TEXT)
    assert newest is not None
    assert older is not None
    bags = reference().bags

    for hours in (72, 96, 168):
        assert bags[hours].min_weight is not None
        assert bags[hours].min_weight.value == Decimal(newest[1])  # type: ignore[union-attr]
        assert bags[hours].min_weight_source == "ashp-2025-preservative-weight"
    assert bags[168].older_min_weight is not None
    assert bags[168].older_min_weight.value == Decimal(older[1])
    assert {h for h, b in bags.items() if b.older_min_weight is not None} == {168}
    assert {h for h, b in bags.items() if b.min_weight is None} == {24, 48}


def test_golden_vial_kit_and_reconstitution_match_section_3_1() -> None:
    cells = _cells("### 3.1 Presentation and reconstitution")
    ref = reference()

    assert cells["Vial"][0].startswith(f"{ref.vials['US'].content.value} mcg lyophilized")
    assert cells["Vial"][1] == f"{ref.vials['EU'].content.value} \u00b5g"
    assert f"{ref.stabilizer_vial.value.value} mL single-dose" in cells["Kit contents"][0]
    water = ref.reconstitution.water_per_vial.value
    assert cells["Reconstitution diluent"][0].startswith(
        f"{water} mL preservative-free Sterile Water for Injection"
    )
    concentration = ref.reconstitution.concentration.value
    assert cells["Concentration after reconstitution"][0] == f"{concentration} mcg/mL"
    assert ref.reconstitution.water_kind == "preservative-free Sterile Water for Injection"


def test_golden_base_saline_is_us_2014_270_ml_from_45_kg() -> None:
    step = re.search(
        r"US-2014, patients \u2265 (\d+) kg: first add \*\*(\d+) mL 0\.9% Sodium Chloride", TEXT
    )
    assert step is not None
    (saline,) = reference().base_saline

    assert saline.volume.value == Decimal(step[2])
    assert saline.min_weight.value == Decimal(step[1])
    assert saline.bag_hours == (24, 48)
    assert saline.regions == ("US",)
    assert saline.source == "pharm-us-2014-3.3-saline"


def _rule(item: StabilityItem, storage: Storage, region: str = "US") -> StabilityRule:
    return next(
        r
        for r in reference().stability
        if r.item is item and r.storage is storage and region in r.regions
    )


@pytest.mark.parametrize(
    ("item_text", "condition", "item", "storage", "hours", "includes_infusion"),
    [
        (
            "Reconstituted vial",
            "23-27 °C",
            StabilityItem.RECONSTITUTED_VIAL,
            Storage.ROOM_TEMPERATURE,
            4,
            False,
        ),
        (
            "Reconstituted vial",
            "2-8 °C",
            StabilityItem.RECONSTITUTED_VIAL,
            Storage.REFRIGERATED,
            24,
            False,
        ),
        (
            "Prepared bag (24/48 h era)",
            "23-27 °C",
            StabilityItem.PREPARED_BAG,
            Storage.ROOM_TEMPERATURE,
            48,
            True,
        ),
        ("Prepared bag", "2-8 °C", StabilityItem.PREPARED_BAG, Storage.REFRIGERATED, 8 * 24, False),
    ],
    ids=["vial-room", "vial-fridge", "bag-room", "bag-fridge"],
)
def test_golden_us_2014_stability_rows_match_section_4(
    item_text: str,
    condition: str,
    item: StabilityItem,
    storage: Storage,
    hours: int,
    includes_infusion: bool,
) -> None:
    rows = [
        [c.strip() for c in line.strip("|").split("|")]
        for line in _table_after("## 4. Storage and stability")[2:]
    ]
    (row,) = [r for r in rows if r[0] == item_text and r[1].replace(EN_DASH, "-") == condition]
    limit = row[2]
    rule = _rule(item, storage)

    stated = int(re.match(r"(\d+)", limit)[1])  # type: ignore[index]
    assert rule.hours == (stated * 24 if "days" in limit else stated) == hours
    assert rule.includes_infusion is ("including infusion time" in limit) is includes_infusion
    assert rule.temperature == condition
    assert row[3].startswith("US-2014")
    assert rule.source == "pharm-us-2014-4-stability"
    if item is StabilityItem.PREPARED_BAG:
        assert rule.bag_hours == (24, 48)


def test_golden_current_preservative_bag_stability_is_not_invented() -> None:
    assert "(72 h/96 h/7-day) bags:\n**NOT RETRIEVED**" in TEXT
    prepared = [r for r in reference().stability if r.item is StabilityItem.PREPARED_BAG]

    assert all(r.bag_hours == (24, 48) for r in prepared)


@pytest.mark.parametrize(
    ("hours", "dose", "rate"),
    [(24, "9", 10), (24, "28", 10), (48, "9", 5), (48, "28", 5)],
    ids=["24h-9mcg", "24h-28mcg", "48h-9mcg", "48h-28mcg"],
)
def test_golden_24_and_48_hour_bags_at_45_kg_and_above_agree_with_every_constant(
    knowledge: Knowledge, hours: int, dose: str, rate: int
) -> None:
    demo = load_site_library(
        DEMO_LIBRARY,
        reference=knowledge.pharmacy,
        dose_rules=dose_rules(),
        sources=knowledge.sources,
    )
    rx = make_rx(hours=hours, dose=dose, weight="45")

    result = prepare_bag(prescription=rx, library=demo)

    assert isinstance(result, Recipe)
    assert result.rate.value.value == rate
    assert result.infuse.value == 240
    assert result.saline.value.value == 270
    assert result.saline.source == "pharm-us-2014-3.3-saline"
    assert knowledge.sources[result.saline.source].kind == "label"
    assert result.saline_kind == "0.9% Sodium Chloride Injection, preservative-free"
    assert not result.bag.reference.preservative
    assert result.concentration.value == Decimal("12.5")
    assert result.vial.content.value == 35
    assert result.reconstitution_water.value == 3 * result.vials
    assert [s.code for s in result.steps].index("stabilizer") < [
        s.code for s in result.steps
    ].index("drug")
    assert abs(result.deviation_percent) <= result.site.tolerance_percent
    assert "rate-unverified" not in result.checks.codes()
