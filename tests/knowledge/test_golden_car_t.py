"""Golden tests: every number of car_t.toml, row by row, against the reference.

Each row names a key path of the TOML, the section of the committed snapshot
tests/shared/reference/other-immunotherapies.md, a quote of that section (whitespace
folded) and the number as the quote writes it; the TOML value must be that number (times
a stated unit factor: a week is 7 days). A test walks every number of the file and fails
on one no row covers, so a number added without its reference row fails here. The
lymphodepletion day lists are checked against the reference's day counts and day labels.
"""

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from tests import shared

from blina.knowledge import KNOWLEDGE_DIR, Knowledge

SNAPSHOT = shared.REFERENCE / "other-immunotherapies.md"
MINUS = "\u2212"
WEEK = 7
# Words the reference uses for a number of days.
WORDS = {"first week": 1}
SUPERSCRIPT = str.maketrans(
    "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079", "0123456789"
)


def _toml(name: str) -> dict[str, Any]:
    with (KNOWLEDGE_DIR / name).open("rb") as handle:
        return tomllib.load(handle, parse_float=Decimal)


CAR_T = _toml("car_t.toml")
SOURCES = _toml("sources_car_t.toml")


def _section(number: str) -> str:
    """The text under the heading numbered ``number`` (or named: "Open questions") up to
    the next heading, folded."""
    lines = SNAPSHOT.read_text(encoding="utf-8").splitlines()
    start = next(
        i for i, line in enumerate(lines) if re.match(rf"^#{{2,3}} {re.escape(number)}\.? ", line)
    )
    body = []
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        body.append(line)
    return " ".join(" ".join(body).split())


def _at(path: str) -> Any:
    value: Any = CAR_T
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    return value


@dataclass(frozen=True)
class Row:
    path: str
    section: str
    quote: str
    shown: str  # the number as the quote writes it
    factor: int = 1  # the TOML's unit per the quote's (a week is 7 days)

    @property
    def value(self) -> Decimal:
        """The number the quote writes: a word, a power of ten ("10\u2076" is 6), or digits."""
        if self.shown in WORDS:
            return WORDS[self.shown] * Decimal(self.factor)
        if self.shown.startswith("10") and self.shown[2:] and not self.shown[2:].isascii():
            return Decimal(self.shown[2:].translate(SUPERSCRIPT))
        return Decimal(self.shown.replace(MINUS, "-")) * self.factor


K = "products.tisagenlecleucel"
B = "products.brexucabtagene"
O = "products.obecabtagene"  # noqa: E741
TOCI = "shared.tocilizumab"
TOCI_LINE = "< 30 kg: 12 mg/kg IV over 1 h; \u2265 30 kg: 8 mg/kg IV over 1 h (max 800 mg)"
TOCI_REPEAT = "at least 8 h apart"
KYM_LD = (
    "Fludarabine **30 mg/m\u00b2 IV daily \u00d7 4 days** + "
    "cyclophosphamide **500 mg/m\u00b2 IV daily \u00d7 2 days**"
)
KYM_WINDOW = f"last LD day between day {MINUS}14 and day {MINUS}2"
KYM_LOW = (
    "| Dose, \u2264 50 kg | **0.2\u20135.0 \u00d7 10\u2076 CAR-positive viable T cells per kg** |"
)
KYM_HIGH = (
    "| Dose, > 50 kg | **0.1\u20132.5 \u00d7 10\u2078 CAR-positive viable T cells total** "
    "(not per kg) |"
)
BRX_LD = (
    "Fludarabine **25 mg/m\u00b2 IV on the 4th, 3rd and 2nd day before** infusion "
    f"(days {MINUS}4, {MINUS}3, {MINUS}2) + cyclophosphamide **900 mg/m\u00b2 IV on the 2nd day "
    f"before** (day {MINUS}2)"
)
BRX_DOSE = "**1 \u00d7 10\u2076 CAR-positive viable T cells/kg**, **maximum 1 \u00d7 10\u2078**"
OBE_LOW = (
    '| Marrow blasts **\u2264 20%** ("low tumour burden") | '
    "**Day 1: 100 \u00d7 10\u2076; Day 10: 310 \u00d7 10\u2076** |"
)
OBE_DEFER = (
    "| CRS grade 2 | Consider postponing the second infusion up to **Day 21** so CRS can "
    "settle to grade \u2264 1 |"
)

ROWS = [
    # §2, the class
    Row(
        "shared.monitoring.daily_days",
        "2",
        "including **daily monitoring for at least the first week**",
        "first week",
        WEEK,
    ),
    Row("shared.monitoring.at_least_days", "2", "monitor for **at least 2 weeks**", "2", WEEK),
    Row("shared.superseded.stay_near_weeks", "2", "stay near the facility \u2265 4 weeks", "4"),
    Row("shared.superseded.no_driving_weeks", "2", "no driving \u2265 8 weeks", "8"),
    Row(f"{TOCI}.light_below_kg", "2", TOCI_LINE, "30"),
    Row(f"{TOCI}.light_mg_per_kg", "2", TOCI_LINE, "12"),
    Row(f"{TOCI}.heavy_mg_per_kg", "2", TOCI_LINE, "8"),
    Row(f"{TOCI}.heavy_max_mg", "2", TOCI_LINE, "800"),
    Row(f"{TOCI}.infusion_hours", "2", TOCI_LINE, "1"),
    Row(f"{TOCI}.repeat_at_least_hours", "2", TOCI_REPEAT, "8"),
    Row(f"{TOCI}.max_doses", "2", "**maximum 4 doses**", "4"),
    Row(
        f"{TOCI}.steroid_after_hours_low",
        "2",
        "If no improvement 12\u201318 h after the first dose",
        "12",
    ),
    Row(
        f"{TOCI}.steroid_after_hours_high",
        "2",
        "If no improvement 12\u201318 h after the first dose",
        "18",
    ),
    # §3 tisagenlecleucel
    Row(f"{K}.anchor_day", "2", "infusion day 0 (day 1 and day 10 for obe-cel)", "0"),
    Row(f"{K}.leukapheresis.hours_low", "3.2", "| Leukapheresis | About 3\u20136 h |", "3"),
    Row(f"{K}.leukapheresis.hours_high", "3.2", "| Leukapheresis | About 3\u20136 h |", "6"),
    Row(f"{K}.manufacturing.weeks_low", "3.2", '"Usually 3 to 4 weeks", variable', "3"),
    Row(f"{K}.manufacturing.weeks_high", "3.2", '"Usually 3 to 4 weeks", variable', "4"),
    Row(f"{K}.lymphodepletion.end_earliest_day", "8", KYM_WINDOW, f"{MINUS}14"),
    Row(f"{K}.lymphodepletion.end_latest_day", "8", KYM_WINDOW, f"{MINUS}2"),
    Row(f"{K}.lymphodepletion.drugs[0].mg_per_m2_per_day", "3.2", KYM_LD, "30"),
    Row(f"{K}.lymphodepletion.drugs[1].mg_per_m2_per_day", "3.2", KYM_LD, "500"),
    Row(f"{K}.cell_doses[0].up_to_kg", "3.2", KYM_LOW, "50"),
    Row(f"{K}.cell_doses[0].low", "3.2", KYM_LOW, "0.2"),
    Row(f"{K}.cell_doses[0].high", "3.2", KYM_LOW, "5.0"),
    Row(f"{K}.cell_doses[0].power_of_ten", "3.2", KYM_LOW, "10\u2076"),
    Row(f"{K}.cell_doses[1].above_kg", "3.2", KYM_HIGH, "50"),
    Row(f"{K}.cell_doses[1].low", "3.2", KYM_HIGH, "0.1"),
    Row(f"{K}.cell_doses[1].high", "3.2", KYM_HIGH, "2.5"),
    Row(f"{K}.cell_doses[1].power_of_ten", "3.2", KYM_HIGH, "10\u2078"),
    Row(f"{K}.premedication.minutes_before_low", "3.2", "~30\u201360 min before", "30"),
    Row(f"{K}.premedication.minutes_before_high", "3.2", "~30\u201360 min before", "60"),
    Row(f"{K}.infusion.rate_ml_per_min_low", "3.2", "**10\u201320 mL/min**", "10"),
    Row(f"{K}.infusion.rate_ml_per_min_high", "3.2", "**10\u201320 mL/min**", "20"),
    Row(
        f"{K}.periods.stay_near_days", "3.3", "| Stay near centre | \u2265 14 days (Drugs.com", "14"
    ),
    Row(
        f"{K}.periods.no_driving_days",
        "3.3",
        "| Driving | Avoid \u2265 2 weeks (Drugs.com",
        "2",
        WEEK,
    ),
    Row(f"{K}.periods.superseded_stay_near.weeks", "3.3", "| \u2265 4 weeks (2018 PI);", "4"),
    Row(f"{K}.periods.superseded_no_driving.weeks", "3.3", "| \u2265 8 weeks (2018 PI) |", "8"),
    # §4 brexucabtagene autoleucel
    Row(f"{B}.anchor_day", "4.2", "| Infusion day 0 |", "0"),
    Row(
        f"{B}.leukapheresis.hours_low",
        "4.2",
        "| Leukapheresis | 3\u20136 h; 1\u20134 sessions",
        "3",
    ),
    Row(
        f"{B}.leukapheresis.hours_high",
        "4.2",
        "| Leukapheresis | 3\u20136 h; 1\u20134 sessions",
        "6",
    ),
    Row(
        f"{B}.leukapheresis.sessions_low",
        "4.2",
        "3\u20136 h; 1\u20134 sessions depending on T-cell count",
        "1",
    ),
    Row(
        f"{B}.leukapheresis.sessions_high",
        "4.2",
        "3\u20136 h; 1\u20134 sessions depending on T-cell count",
        "4",
    ),
    Row(f"{B}.lymphodepletion.end_earliest_day", "4.2", BRX_LD, f"{MINUS}2"),
    Row(f"{B}.lymphodepletion.end_latest_day", "4.2", BRX_LD, f"{MINUS}2"),
    Row(f"{B}.lymphodepletion.drugs[0].mg_per_m2_per_day", "4.2", BRX_LD, "25"),
    Row(f"{B}.lymphodepletion.drugs[1].mg_per_m2_per_day", "4.2", BRX_LD, "900"),
    Row(f"{B}.cell_doses[0].low", "4.2", BRX_DOSE, "1"),
    Row(f"{B}.cell_doses[0].high", "4.2", BRX_DOSE, "1"),
    Row(f"{B}.cell_doses[0].power_of_ten", "4.2", BRX_DOSE, "10\u2076"),
    Row(f"{B}.cell_doses[0].max", "4.2", BRX_DOSE, "1"),
    Row(f"{B}.cell_doses[0].max_power_of_ten", "4.2", BRX_DOSE, "10\u2078"),
    Row(f"{B}.premedication.minutes_before_low", "4.2", "~30\u201360 min before", "30"),
    Row(f"{B}.premedication.minutes_before_high", "4.2", "~30\u201360 min before", "60"),
    Row(f"{B}.infusion.within_minutes", "4.2", "Contents of the bag within 30 min", "30"),
    Row(
        f"{B}.periods.superseded_stay_near.weeks",
        "4.3",
        "stay within proximity for \u2265 4 weeks",
        "4",
    ),
    Row(f"{B}.periods.older_daily.days", "4.3", "monitor **daily for at least 14 days**", "14"),
    # §5 obecabtagene autoleucel
    Row(f"{O}.anchor_day", "8", "| Obecabtagene | First infusion = Day 1 |", "1"),
    Row(
        f"{O}.manufacturing.trial_median_days",
        "5.2",
        "FELIX median vein-to-release 22 days (trial figure)",
        "22",
    ),
    Row(f"{O}.bridging.trial_percent", "5.2", "Used in 92.9% of FELIX patients", "92.9"),
    Row(
        f"{O}.marrow_sample.days_before_lymphodepletion",
        "5.2",
        "**within 7 days before the start of lymphodepletion**",
        "7",
    ),
    Row(
        f"{O}.split.total",
        "5.2",
        "| Total dose | **410 \u00d7 10\u2076 CAR-positive viable T cells**",
        "410",
    ),
    Row(
        f"{O}.split.power_of_ten",
        "5.2",
        "| Total dose | **410 \u00d7 10\u2076 CAR-positive viable T cells**",
        "10\u2076",
    ),
    Row(
        f"{O}.split.first_day", "5.2", "Split infusion on **Day 1 and Day 10 (\u00b1 2 days)**", "1"
    ),
    Row(
        f"{O}.split.second_day",
        "5.2",
        "Split infusion on **Day 1 and Day 10 (\u00b1 2 days)**",
        "10",
    ),
    Row(
        f"{O}.split.tolerance_days",
        "5.2",
        "Split infusion on **Day 1 and Day 10 (\u00b1 2 days)**",
        "2",
    ),
    Row(f"{O}.split.blasts_threshold_percent", "5.2", OBE_LOW, "20"),
    Row(f"{O}.split.burdens[0].first", "5.2", OBE_LOW, "100"),
    Row(f"{O}.split.burdens[0].second", "5.2", OBE_LOW, "310"),
    Row(
        f"{O}.split.burdens[1].first",
        "5.2",
        "Day 1 dose is the 10 \u00d7 10\u2076 configuration",
        "10",
    ),
    Row(f"{O}.second_dose_rule.defer_crs_grade", "5.2", OBE_DEFER, "2"),
    Row(f"{O}.second_dose_rule.defer_up_to_day", "5.2", OBE_DEFER, "21"),
    Row(f"{O}.second_dose_rule.settle_to_crs_grade", "5.2", OBE_DEFER, "1"),
    Row(
        f"{O}.second_dose_rule.stop_from_crs_grade",
        "5.2",
        "| CRS grade \u2265 3 | Discontinue treatment (no second dose) |",
        "3",
    ),
    Row(
        f"{O}.periods.monitor.days",
        "5.3",
        "Monitoring for CRS for **at least 14 days** after treatment",
        "14",
    ),
    Row(
        f"{O}.periods.superseded_stay_near.weeks",
        "5.3",
        "\u2265 4 weeks proximity and \u2265 8 weeks no driving",
        "4",
    ),
    Row(
        f"{O}.periods.superseded_no_driving.weeks",
        "5.3",
        "\u2265 4 weeks proximity and \u2265 8 weeks no driving",
        "8",
    ),
]
# The lymphodepletion day lists, checked below against the reference's days.
DAY_LISTS = re.compile(r"^products\.\w+\.lymphodepletion\.drugs\[\d+\]\.days_from_start\[\d+\]$")


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.path.removeprefix("products."))
def test_car_t_toml_number_equals_the_reference(row: Row) -> None:
    quote = " ".join(row.quote.split())

    assert quote in _section(row.section), f"§{row.section} no longer says {quote!r}"
    assert row.shown in quote
    assert _at(row.path) == row.value


def _numbers(data: Any, path: str = "") -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _numbers(value, f"{path}.{key}" if path else key)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _numbers(value, f"{path}[{index}]")
    elif isinstance(data, int | Decimal) and not isinstance(data, bool):
        yield path


def test_car_t_toml_every_number_has_a_golden_row() -> None:
    covered = {row.path for row in ROWS}
    numbers = list(_numbers(CAR_T))

    assert len(numbers) > len(ROWS) // 2
    assert [p for p in numbers if p not in covered and not DAY_LISTS.match(p)] == []


def _days(product: str, drug: int) -> list[int]:
    """The drug's days relative to day 0 when lymphodepletion ends on its latest day."""
    plan = CAR_T["products"][product]["lymphodepletion"]
    last = max(day for d in plan["drugs"] for day in d["days_from_start"])
    start = plan["end_latest_day"] - last
    return [start + offset for offset in plan["drugs"][drug]["days_from_start"]]


def _labels(text: str) -> list[int]:
    return [int(n.replace(MINUS, "-")) for n in re.findall(rf"{MINUS}\d+", text)]


def test_brexucabtagene_lymphodepletion_days_are_the_reference_days() -> None:
    # §4.2: fludarabine on days -4, -3, -2 and cyclophosphamide on day -2.
    said = re.search(r"\(days ([^)]*)\) \+ cyclophosphamide .*?\(day ([^)]*)\)", _section("4.2"))

    assert said is not None
    assert _days("brexucabtagene", 0) == _labels(said.group(1))
    assert _days("brexucabtagene", 1) == _labels(said.group(2))


def test_tisagenlecleucel_lymphodepletion_days_are_the_reference_counts() -> None:
    # §3.2: fludarabine daily x 4 days, cyclophosphamide daily x 2 days, starting together.
    said = re.search(
        r"Fludarabine \*\*30 mg/m\u00b2 IV daily \u00d7 (\d) days\*\* \+ cyclophosphamide "
        r"\*\*500 mg/m\u00b2 IV daily \u00d7 (\d) days\*\*, cyclophosphamide starting with the "
        r"first fludarabine dose",
        _section("3.2"),
    )
    drugs = CAR_T["products"]["tisagenlecleucel"]["lymphodepletion"]["drugs"]

    assert said is not None
    assert drugs[0]["days_from_start"] == list(range(int(said.group(1))))
    assert drugs[1]["days_from_start"] == list(range(int(said.group(2))))


def test_obecabtagene_has_no_lymphodepletion_doses_because_the_reference_has_none() -> None:
    assert "doses and days NOT RETRIEVED" in _section("5.2")
    assert "drugs" not in CAR_T["products"]["obecabtagene"]["lymphodepletion"]
    assert "second" not in CAR_T["products"]["obecabtagene"]["split"]["burdens"][1]


@pytest.mark.parametrize("source_id", list(SOURCES), ids=str)
def test_sources_car_t_reference_points_to_a_reference_section(source_id: str) -> None:
    reference = SOURCES[source_id]["reference"]
    sections = re.findall(r"\u00a7(\d+(?:\.\d+)?)", reference)

    assert reference.startswith("other-immunotherapies.md \u00a7")
    assert sections
    for number in sections:
        assert _section(number)  # raises StopIteration if the heading is gone


def test_sources_car_t_ids_name_the_class_or_a_product() -> None:
    prefixes = ("car-t-", *(f"{key}-" for key in CAR_T["products"]))

    assert [key for key in SOURCES if not key.startswith(prefixes)] == []


def test_car_t_knowledge_gaps_cover_every_not_retrieved_of_the_product_sections(
    knowledge: Knowledge,
) -> None:
    # Each product section's NOT RETRIEVED facts about the journey appear as gaps.
    topics = {
        key: {gap.about for gap in product.gaps}
        for key, product in knowledge.car_t.products.items()
    }

    assert {"bridging", "day-labels", "monitoring", "crs-management"} <= topics["tisagenlecleucel"]
    assert {"manufacturing", "bridging", "stay-near", "no-driving", "daily-checks"} <= topics[
        "brexucabtagene"
    ]
    assert {
        "manufacturing",
        "lymphodepletion",
        "second-dose-cells",
        "second-dose-icans",
        "premedication",
        "stay-near",
        "no-driving",
    } <= topics["obecabtagene"]


def _cited_text(source_id: str) -> str:
    """The reference sections a source cites ("§3.2, open question 6"), folded."""
    reference = SOURCES[source_id]["reference"]
    sections = [_section(n) for n in re.findall(r"\u00a7(\d+(?:\.\d+)?)", reference)]
    if "open question" in reference:
        sections.append(_section("Open questions"))
    return " ".join(sections).replace(MINUS, "-")


def _texts(data: Any, path: str = "") -> Iterator[tuple[str, str, str]]:
    """(key path, text, source) for every string of a table that has a source."""
    if isinstance(data, dict):
        source = data.get("source")
        for key, value in data.items():
            here = f"{path}.{key}" if path else key
            if isinstance(value, str) and source is not None and key in {"text", "fact", "instead"}:
                yield here, value, source
            else:
                yield from _texts(value, here)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _texts(value, f"{path}[{index}]")


def test_car_t_toml_numbers_in_prose_are_in_the_cited_sections() -> None:
    # A warning or gap may quote a number (25 years, 6 weeks, 1-844-4KYMRIAH): the
    # sections its source cites must hold it.
    texts = list(_texts(CAR_T))
    missing = [
        (path, number)
        for path, text, source in texts
        for number in re.findall(r"\d+(?:\.\d+)?", text)
        if not re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", _cited_text(source))
    ]

    assert len(texts) > 30
    assert missing == []
