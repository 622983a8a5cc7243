"""car_t.toml loads into one product per CAR-T, and a malformed file is refused at load
with its key path: what the schema cannot say (bands covering every weight, a window
before day 0, a split that makes its total, a gap for every missing journey fact)."""

import shutil
from pathlib import Path

import pytest

from blina.domain.errors import KnowledgeError, UnknownId
from blina.knowledge import KNOWLEDGE_DIR, Knowledge, load_knowledge_from

KYMRIAH_RULE = """
[products.tisagenlecleucel.second_dose_rule]
defer_crs_grade = 2
defer_up_to_day = 21
settle_to_crs_grade = 1
stop_from_crs_grade = 3
source = "obecabtagene-second-dose"
"""
AUCATZYL_BAND = """
[[products.obecabtagene.cell_doses]]
per = "kg"
low = 1
high = 1
power_of_ten = 6
source = "obecabtagene-split"
"""
K_PERIODS = "products.tisagenlecleucel.periods"
B_PERIODS = "products.brexucabtagene.periods"


def test_car_t_knowledge_has_the_three_products(knowledge: Knowledge) -> None:
    products = knowledge.car_t.products

    assert list(products) == ["tisagenlecleucel", "brexucabtagene", "obecabtagene"]
    assert [p.brand for p in products.values()] == ["KYMRIAH", "TECARTUS", "AUCATZYL"]
    assert [p.name for p in products.values()] == [
        "Tisagenlecleucel (KYMRIAH)",
        "Brexucabtagene autoleucel (TECARTUS)",
        "Obecabtagene autoleucel (AUCATZYL)",
    ]
    assert products["obecabtagene"].split is not None
    assert products["tisagenlecleucel"].split is None


def test_car_t_knowledge_folds_the_class_facts_into_each_product(knowledge: Knowledge) -> None:
    tecartus = knowledge.car_t.product("brexucabtagene")
    periods = tecartus.periods

    assert (periods.daily_days, periods.monitor_days) == (7, 14)
    assert periods.monitor_source == "car-t-fda-2025-monitoring"
    assert periods.superseded_no_driving_days == 56  # the class's 8 weeks
    assert periods.superseded_no_driving_source == "car-t-pre-2025-rule"
    assert periods.superseded_stay_near_source == "brexucabtagene-monitoring-2021"
    assert [w.what for w in tecartus.class_warnings] == [
        "secondary-t-cell-malignancy",
        "day-counting",
        "recorded-by-the-team",
    ]
    assert {g.about for g in tecartus.gaps} >= {"crs-management"}


def test_car_t_knowledge_unknown_product_names_the_known(knowledge: Knowledge) -> None:
    with pytest.raises(UnknownId, match="CAR-T product axi-cel is not known: must be one of"):
        knowledge.car_t.product("axi-cel")


def _load_edited(tmp_path: Path, old: str, new: str) -> None:
    copy = shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge")
    path = copy / "car_t.toml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the edit must match once: {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    load_knowledge_from(copy)


@pytest.mark.parametrize(
    ("old", "new", "where", "problem"),
    [
        (
            'day after the first"\nsource = "car-t-blina-day-counting"\n',
            f'day after the first"\nsource = "car-t-blina-day-counting"\n{AUCATZYL_BAND}',
            "products.obecabtagene",
            "give exactly one of cell_doses and split",
        ),
        (
            "[products.tisagenlecleucel.periods]\n",
            f"{KYMRIAH_RULE}\n[products.tisagenlecleucel.periods]\n",
            "products.tisagenlecleucel",
            "a split dose and its second_dose_rule go together",
        ),
        (
            'about = "manufacturing"\nfact = "TECARTUS',
            'about = "making"\nfact = "TECARTUS',
            "products.brexucabtagene.gaps",
            "add a gap about 'manufacturing'",
        ),
        (
            'hours_low = 3\nhours_high = 6\nsource = "tisagenlecleucel-patient-site"',
            'hours_low = 7\nhours_high = 6\nsource = "tisagenlecleucel-patient-site"',
            "products.tisagenlecleucel.leukapheresis.hours",
            "give both ends of the range, low <= high",
        ),
        (
            "minutes_before_high = 60\navoid_prophylactic_steroids = true\n"
            'source = "tisagenlecleucel-premedication"',
            'avoid_prophylactic_steroids = true\nsource = "tisagenlecleucel-premedication"',
            "products.tisagenlecleucel.premedication.minutes_before",
            "give both ends of the range, low <= high",
        ),
        (
            'named = ["fludarabine", "cyclophosphamide"]',
            'named = ["fludarabine"]\nend_earliest_day = -3\nend_latest_day = -2',
            "products.obecabtagene.lymphodepletion",
            "doses need the window of their last day, and only they do",
        ),
        (
            "end_earliest_day = -14",
            "end_earliest_day = -1",
            "products.tisagenlecleucel.lymphodepletion",
            "earliest <= latest < 0",
        ),
        (
            "end_earliest_day = -2\nend_latest_day = -2",
            "end_earliest_day = -2\nend_latest_day = 0",
            "products.brexucabtagene.lymphodepletion",
            "earliest <= latest < 0",
        ),
        (
            'named = ["fludarabine", "cyclophosphamide"]',
            "named = []",
            "products.obecabtagene.lymphodepletion.named",
            "name the drugs when their doses are a gap",
        ),
        (
            "above_kg = 50",
            "above_kg = 40",
            "products.tisagenlecleucel.cell_doses[1]",
            "weight bands must follow on and cover every weight",
        ),
        (
            "up_to_kg = 50\nper",
            "per",
            "products.tisagenlecleucel.cell_doses[0]",
            "weight bands must follow on and cover every weight",
        ),
        (
            "low = 0.2\n",
            "low = 6.0\n",
            "products.tisagenlecleucel.cell_doses[0]",
            "low <= high; max needs max_power_of_ten",
        ),
        (
            "max_power_of_ten = 8\n",
            "",
            "products.brexucabtagene.cell_doses[0]",
            "low <= high; max needs max_power_of_ten",
        ),
        (
            "second_day = 10",
            "second_day = 4",
            "products.obecabtagene.split",
            "the second day's window must fall after the first day",
        ),
        (
            'blasts = "above"',
            'blasts = "at-or-below"',
            "products.obecabtagene.split.burdens",
            "one regimen each side of the blast threshold",
        ),
        (
            "second = 310",
            "second = 300",
            "products.obecabtagene.split.burdens[0]",
            "the two infusions make the total",
        ),
        (
            'first = 10\nsource = "obecabtagene-split"',
            'first = 500\nsource = "obecabtagene-split"',
            "products.obecabtagene.split.burdens[1]",
            "the two infusions make the total",
        ),
        (
            "stop_from_crs_grade = 3",
            "stop_from_crs_grade = 2",
            "products.obecabtagene.second_dose_rule",
            "settle_to_crs_grade < defer_crs_grade < stop_from_crs_grade",
        ),
        (
            'no_driving_days = 14\nsource = "tisagenlecleucel-periods-2025"\n',
            "no_driving_days = 14\n",
            f"{K_PERIODS}.source",
            "a current period needs its source, and only it",
        ),
        (
            'days = 14\nsource = "obecabtagene-monitoring"\n',
            "days = 14\n",
            "products.obecabtagene.periods.monitor.source",
            "Field required",
        ),
        (
            'days = 14\nsource = "brexucabtagene-monitoring-2021"\n',
            "days = 14\n",
            f"{B_PERIODS}.older_daily.source",
            "Field required",
        ),
        (
            'weeks = 4\nsource = "brexucabtagene-monitoring-2021"\n',
            "weeks = 4\n",
            f"{B_PERIODS}.superseded_stay_near.source",
            "Field required",
        ),
    ],
)
def test_car_t_toml_malformed_is_refused_with_its_key_path(
    tmp_path: Path, old: str, new: str, where: str, problem: str
) -> None:
    with pytest.raises(KnowledgeError) as error:
        _load_edited(tmp_path, old, new)

    assert error.value.file == "car_t.toml"
    assert error.value.key_path == where
    assert problem in error.value.problem


def test_car_t_toml_unknown_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match=r"source 'nowhere' is not in sources\.toml"):
        _load_edited(
            tmp_path,
            'brand = "KYMRIAH"\nanchor_day = 0\nsource = "car-t-journey"',
            'brand = "KYMRIAH"\nanchor_day = 0\nsource = "nowhere"',
        )
