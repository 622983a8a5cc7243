"""`blina plan --therapy` for the three CAR-T products: the journey around day 0 as JSON
and as tables (reference other-immunotherapies.md §2-§5, §8), the obecabtagene re-plan
after the first infusion (§5.2), and every CAR-T option's bad input and refusal."""

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from typer.testing import CliRunner

from blina.cli import app

runner = CliRunner()

DAY0 = date(2027, 3, 1)
KYMRIAH = [
    "--therapy",
    "tisagenlecleucel",
    "--start",
    DAY0.isoformat(),
    "--weight-kg",
    "38",
    "--bsa-m2",
    "1.2",
]
TECARTUS = [*KYMRIAH[2:], "--therapy", "brexucabtagene"]
AUCATZYL = [
    "--therapy",
    "obecabtagene",
    "--start",
    DAY0.isoformat(),
    "--weight-kg",
    "60",
    "--marrow-blasts-percent",
    "12",
]
INOTUZUMAB = [
    "--therapy",
    "inotuzumab",
    "--bsa-m2",
    "1.72",
    "--start",
    "2027-01-04",
    "--transplant",
    "not-planned",
]


def _plan(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["plan", *args])
    return result.exit_code, result.stdout, result.stderr


def _json(*args: str) -> dict[str, Any]:
    code, out, err = _plan(*args, "--format", "json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out, parse_float=Decimal)
    return data


def _table(*args: str) -> str:
    code, out, err = _plan(*args)
    assert code == 0, err
    return out


def _on(day: int) -> str:
    return (DAY0 + timedelta(days=day)).isoformat()


def _entries(data: dict[str, Any], what: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (day["date"], day["label"], entry)
        for day in data["days"]
        for entry in day["entries"]
        if entry["what"] == what
    ]


def _doses(data: dict[str, Any], what: str) -> list[tuple[str, Decimal]]:
    return [(label, Decimal(str(e["dose"]))) for _, label, e in _entries(data, what)]


def _warnings(data: dict[str, Any]) -> set[str]:
    return {w["what"] for w in data["warnings"]}


def _sources_complete(data: dict[str, Any]) -> None:
    """Every entry, warning and gap names a source, and each is listed with its text."""
    cited = {e["source"] for d in data["days"] for e in d["entries"]}
    cited |= {w["source"] for w in data["warnings"]} | {g["source"] for g in data["gaps"]}
    assert set(data["sources"]) == cited
    assert all(text.startswith("other-immunotherapies.md §") for text in data["sources"].values())


# --- tisagenlecleucel (§3) ----------------------------------------------------------------


def test_tisagenlecleucel_json_plans_the_journey_around_day_0() -> None:
    data = _json(*KYMRIAH, "--leukapheresis-on", _on(-40))

    assert data["therapy"] == "tisagenlecleucel"
    assert data["kind"] == "cell-journey"
    day0 = next(d for d in data["days"] if d["label"] == "day 0")
    assert day0["date"] == DAY0.isoformat()
    # §3.2: fludarabine 30 mg/m2 daily x 4, cyclophosphamide 500 mg/m2 x 2 from the first;
    # ending on day -2 (the latest the 2-14-day window allows)
    assert _doses(data, "fludarabine") == [
        (f"day {n}", Decimal(30) * Decimal("1.2")) for n in (-5, -4, -3, -2)
    ]
    assert _doses(data, "cyclophosphamide") == [
        (f"day {n}", Decimal(500) * Decimal("1.2")) for n in (-5, -4)
    ]
    assert all(e["unit"] == "mg" for _, _, e in _entries(data, "fludarabine"))
    [(on, label, cells)] = _entries(data, "tisagenlecleucel")
    assert (on, label, cells["dose"], cells["unit"]) == (DAY0.isoformat(), "day 0", None, "cells")
    # <= 50 kg: 0.2-5.0 x 10^6/kg x 38 kg
    assert cells["basis"].endswith("= 7.6 \u00d7 10⁶ to 1.9 \u00d7 10⁸ cells")
    assert {e["what"] for _, label, e in _entries(data, "acetaminophen")} == {"acetaminophen"}
    assert [label for _, label, _ in _entries(data, "leukapheresis")] == ["day -40"]
    _sources_complete(data)


def test_tisagenlecleucel_json_stay_near_and_no_driving_days_and_gaps() -> None:
    data = _json(*KYMRIAH)

    # §3.3 (patient material, July 2025): 14 days nearby, 2 weeks no driving
    for what in ("stay-near", "no-driving"):
        assert [on for on, _, _ in _entries(data, what)] == [_on(n) for n in range(1, 15)]
        assert {e["source"] for _, _, e in _entries(data, what)} == {
            "tisagenlecleucel-periods-2025"
        }
    assert [label for _, label, _ in _entries(data, "daily-check")] == [
        f"day {n}" for n in range(1, 8)
    ]
    assert [label for _, label, _ in _entries(data, "monitoring-period")] == ["day 14"]
    assert "superseded-stay-near" not in _warnings(data)
    assert {"tocilizumab", "no-prophylactic-steroids"} <= _warnings(data)
    assert all(g["fact"] and g["instead"] for g in data["gaps"])
    assert sum("NOT RETRIEVED" in g["fact"] for g in data["gaps"]) >= 5
    assert "tisagenlecleucel-bridging" in {g["source"] for g in data["gaps"]}


def test_tisagenlecleucel_table_shows_days_doses_band_periods_gaps_and_sources() -> None:
    out = _table(
        *KYMRIAH,
        "--leukapheresis-on",
        _on(-40),
        "--bridging",
        "vincristine and dexamethasone",
        "--bridging-start",
        _on(-28),
        "--product-ready-on",
        _on(-10),
    )

    assert "Tisagenlecleucel (KYMRIAH) (cell-journey)" in out
    for label in ("day -40", "day -28", "day -10", "day -5", "day 0", "day 14"):
        assert f"│ {label} " in out
    assert "fludarabine 36.0 mg (30 mg/m2 \u00d7 1.2 m2)" in out
    assert "cyclophosphamide 600.0 mg (500 mg/m2 \u00d7 1.2 m2)" in out
    assert "7.6 \u00d7 10⁶ to 1.9 \u00d7 10⁸" in out  # the band: no single dose
    assert "stay-near, no-driving" in out
    assert f"Stay near the treatment centre (until {_on(14)})." in out
    assert f"Do not drive (until {_on(14)})." in out
    assert "vincristine and dexamethasone" in out
    assert "NOT RETRIEVED" in out
    assert "tisagenlecleucel-lymphodepletion: other-immunotherapies.md §3.2" in out


# --- brexucabtagene (§4) ------------------------------------------------------------------


def test_brexucabtagene_json_lymphodepletion_capped_dose_and_superseded_periods() -> None:
    data = _json(*TECARTUS)

    assert data["therapy"] == "brexucabtagene"
    # §4.2: fludarabine 25 mg/m2 days -4, -3, -2; cyclophosphamide 900 mg/m2 day -2
    assert _doses(data, "fludarabine") == [
        (f"day {n}", Decimal(25) * Decimal("1.2")) for n in (-4, -3, -2)
    ]
    assert _doses(data, "cyclophosphamide") == [("day -2", Decimal(900) * Decimal("1.2"))]
    # 1 x 10^6 cells/kg x 38 kg
    assert _doses(data, "brexucabtagene") == [("day 0", Decimal(10) ** 6 * 38)]
    # the current periods were not retrieved: no dated days, the old rule superseded
    assert _entries(data, "stay-near") == []
    assert _entries(data, "no-driving") == []
    assert {"superseded-stay-near", "superseded-no-driving"} <= _warnings(data)
    _sources_complete(data)


def test_brexucabtagene_dose_is_capped_and_team_periods_are_dated() -> None:
    data = _json(
        *TECARTUS, "--weight-kg", "120", "--stay-near-days", "28", "--no-driving-days", "56"
    )

    assert _doses(data, "brexucabtagene") == [("day 0", Decimal(10) ** 8)]  # maximum 1 x 10^8
    near = _entries(data, "stay-near")
    assert [near[0][1], near[-1][1]] == ["day 1", "day 28"]
    assert _entries(data, "no-driving")[-1][1] == "day 56"
    assert {e["source"] for _, _, e in near} == {"car-t-physician-choice"}
    assert "superseded-stay-near" not in _warnings(data)


def test_brexucabtagene_table_shows_the_superseded_rule() -> None:
    out = _table(*TECARTUS)

    assert "Brexucabtagene autoleucel (TECARTUS)" in out
    assert "3.8 \u00d7 10⁷ cells" in out
    assert "fludarabine 30.0 mg (25 mg/m2 \u00d7 1.2 m2), cyclophosphamide 1080.0 mg" in out
    assert "superseded-stay-near" in out
    assert "Superseded (before June 2025)" in out


# --- obecabtagene (§5) --------------------------------------------------------------------


def test_obecabtagene_json_split_by_marrow_blasts_without_bsa() -> None:
    data = _json(*AUCATZYL, "--lymphodepletion-start", _on(-5))

    # §5.2: blasts <= 20%: Day 1 100 x 10^6, Day 10 310 x 10^6; the first is day 1
    assert _doses(data, "obecabtagene") == [
        ("day 1", Decimal(100) * 10**6),
        ("day 10", Decimal(310) * 10**6),
    ]
    assert _entries(data, "obecabtagene")[0][0] == DAY0.isoformat()
    [(_, label, step)] = _entries(data, "lymphodepletion")
    assert label == "day -4"  # the recorded start; doses not retrieved
    assert step["dose"] is None
    assert "not retrieved" in step["text"]
    assert [label for _, label, _ in _entries(data, "marrow-sample")] == ["day -11"]
    assert "second-dose-give" in _warnings(data)
    _sources_complete(data)


def test_obecabtagene_high_burden_second_dose_has_no_number() -> None:
    data = _json(*AUCATZYL[:-1], "30")

    [first, second] = _entries(data, "obecabtagene")
    assert first[2]["dose"] == 10 * 10**6
    assert (second[1], second[2]["dose"]) == ("day 10", None)
    assert "not retrieved" in second[2]["text"]


def test_obecabtagene_table_shows_day_1_and_the_remainder() -> None:
    out = _table(*AUCATZYL[:-1], "30")

    assert "Obecabtagene autoleucel (AUCATZYL)" in out
    assert "│ day 1 " in out
    assert "1 \u00d7 10⁷ cells (marrow blasts 30% (> 20%), total 410 \u00d7 10⁶)" in out
    assert "obecabtagene (marrow blasts 30% (> 20%), total 410 \u00d7 10⁶)" in out


def test_obecabtagene_replan_after_crs_3_stops_the_second_dose() -> None:
    data = _json(*AUCATZYL, "--first-dose-crs-grade", "3", "--first-dose-icans-grade", "0")

    assert [label for label, _ in _doses(data, "obecabtagene")] == ["day 1"]
    assert "second-dose-stop" in _warnings(data)
    code, _, err = _plan(
        *AUCATZYL,
        "--first-dose-crs-grade",
        "3",
        "--first-dose-icans-grade",
        "0",
        "--second-dose-on",
        _on(9),
    )
    assert code == 2
    assert err.startswith("blina: second_dose_on ")


def test_obecabtagene_replan_after_crs_2_allows_day_21_not_later() -> None:
    reaction = ["--first-dose-crs-grade", "2", "--first-dose-icans-grade", "0"]
    day21 = _on(20)  # Day 1 is DAY0

    data = _json(*AUCATZYL, *reaction, "--second-dose-on", day21)
    assert _doses(data, "obecabtagene")[-1][0] == "day 21"
    assert _entries(data, "obecabtagene")[-1][0] == day21
    assert "second-dose-may-defer" in _warnings(data)
    code, _, err = _plan(*AUCATZYL, *reaction, "--second-dose-on", _on(21))
    assert code == 2
    assert err.startswith("blina: second_dose_on ")
    assert "Day 21" in err
    # without the reaction the window closes at Day 12
    code, _, err = _plan(*AUCATZYL, "--second-dose-on", day21)
    assert (code, err.split(" ")[1]) == (2, "second_dose_on")


def test_obecabtagene_withheld_second_dose() -> None:
    data = _json(*AUCATZYL, "--second-dose-withheld")

    assert [label for label, _ in _doses(data, "obecabtagene")] == ["day 1"]
    assert any("withheld" in w["text"] for w in data["warnings"])


# --- bad input and refusals ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--therapy", "tisagenlecleucel", "--weight-kg", "38", "--bsa-m2", "1.2"], "start"),
        ([*KYMRIAH[:4], "--bsa-m2", "1.2"], "weight_kg"),
        (KYMRIAH[:6], "bsa_m2"),
        ([*KYMRIAH[:6], "--height-cm", "20"], "height_cm"),
        ([*KYMRIAH, "--weight-kg", "0"], "weight_kg"),
        ([*KYMRIAH, "--leukapheresis-on", "2027-02-30"], "leukapheresis_on"),
        ([*KYMRIAH, "--leukapheresis-on", _on(0)], "leukapheresis_on"),
        ([*KYMRIAH, "--leukapheresis-on", _on(-3)], "leukapheresis_on"),  # after LD starts
        ([*KYMRIAH, "--product-ready-on", "soon"], "product_ready_on"),
        ([*KYMRIAH, "--product-ready-on", _on(1)], "product_ready_on"),
        (
            [*KYMRIAH, "--leukapheresis-on", _on(-30), "--product-ready-on", _on(-31)],
            "product_ready_on",
        ),
        ([*KYMRIAH, "--bridging", "vincristine"], "bridging_start"),
        ([*KYMRIAH, "--bridging-start", _on(-20)], "bridging"),
        ([*KYMRIAH, "--bridging", " ", "--bridging-start", _on(-20)], "bridging"),
        ([*KYMRIAH, "--bridging", "vincristine", "--bridging-start", "x"], "bridging_start"),
        ([*KYMRIAH, "--bridging", "vincristine", "--bridging-start", _on(0)], "bridging_start"),
        ([*KYMRIAH, "--lymphodepletion-start", "2027-1-1"], "lymphodepletion_start"),
        ([*KYMRIAH, "--lymphodepletion-start", _on(-2)], "lymphodepletion_start"),
        ([*KYMRIAH, "--lymphodepletion-start", _on(-20)], "lymphodepletion_start"),
        ([*AUCATZYL, "--lymphodepletion-start", _on(0)], "lymphodepletion_start"),
        (AUCATZYL[:-2], "marrow_blasts_percent"),
        ([*AUCATZYL[:-1], "101"], "marrow_blasts_percent"),
        ([*AUCATZYL[:-1], "-1"], "marrow_blasts_percent"),
        ([*AUCATZYL[:-1], "many"], "marrow_blasts_percent"),
        ([*AUCATZYL, "--second-dose-on", "day 10"], "second_dose_on"),
        ([*AUCATZYL, "--second-dose-on", _on(6)], "second_dose_on"),  # before Day 8
        (
            [*AUCATZYL, "--first-dose-crs-grade", "5", "--first-dose-icans-grade", "0"],
            "first_dose_crs_grade",
        ),
        (
            [*AUCATZYL, "--first-dose-crs-grade", "two", "--first-dose-icans-grade", "0"],
            "first_dose_crs_grade",
        ),
        ([*AUCATZYL, "--first-dose-crs-grade", "2"], "first_dose_icans_grade"),
        ([*AUCATZYL, "--first-dose-icans-grade", "1"], "first_dose_crs_grade"),
        (
            [*AUCATZYL, "--first-dose-crs-grade", "0", "--first-dose-icans-grade", "-1"],
            "first_dose_icans_grade",
        ),
        ([*TECARTUS, "--stay-near-days", "0"], "stay_near_days"),
        ([*TECARTUS, "--stay-near-days", "366"], "stay_near_days"),
        ([*TECARTUS, "--stay-near-days", "four weeks"], "stay_near_days"),
        ([*TECARTUS, "--no-driving-days", "1.5"], "no_driving_days"),
        ([*KYMRIAH, "--no-driving-days", "7"], "no_driving_days"),  # shorter than the label's
        ([*KYMRIAH, "--marrow-blasts-percent", "12"], "marrow_blasts_percent"),
        ([*KYMRIAH, "--second-dose-on", _on(9)], "second_dose_on"),
        ([*TECARTUS, "--second-dose-withheld"], "second_dose_withheld"),
        (
            [*KYMRIAH, "--first-dose-crs-grade", "1", "--first-dose-icans-grade", "0"],
            "first_dose_crs_grade",
        ),
        ([*KYMRIAH, "--indication", "relapsed-refractory"], "indication"),
    ],
)
def test_bad_car_t_input_names_the_field_and_exits_2(args: list[str], field: str) -> None:
    code, out, err = _plan(*args)

    assert code == 2
    assert out == ""
    assert err.startswith(f"blina: {field} ")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--transplant", "planned"),
        ("--response", "cr"),
        ("--mrd", "negative"),
        ("--first-cycle-days", "28"),
        ("--dose-date", "C1D8=2027-01-12"),
        ("--blasts-per-mm3", "5000"),
        ("--host-day1", "induction=2027-01-04"),
    ],
)
def test_drug_options_are_refused_for_car_t(option: str, value: str) -> None:
    for product in (KYMRIAH, AUCATZYL):
        code, out, err = _plan(*product, option, value)

        assert (code, out) == (2, "")
        assert err.startswith(f"blina: {option[2:].replace('-', '_')} ")
        assert "used only for" in err


CAR_T_OPTIONS = [
    ("--leukapheresis-on", "2027-01-01"),
    ("--product-ready-on", "2027-01-01"),
    ("--bridging", "vincristine"),
    ("--bridging-start", "2027-01-01"),
    ("--lymphodepletion-start", "2027-01-01"),
    ("--marrow-blasts-percent", "12"),
    ("--second-dose-on", "2027-01-01"),
    ("--first-dose-crs-grade", "2"),
    ("--first-dose-icans-grade", "0"),
    ("--second-dose-withheld", None),
    ("--stay-near-days", "28"),
    ("--no-driving-days", "56"),
]


@pytest.mark.parametrize(("option", "value"), CAR_T_OPTIONS)
def test_car_t_options_are_refused_for_inotuzumab_and_blinatumomab(
    option: str, value: str | None
) -> None:
    given = [option] if value is None else [option, value]
    blinatumomab = [
        "--indication",
        "relapsed-refractory",
        "--weight-kg",
        "70",
        "--age-years",
        "40",
        "--start",
        "2027-01-04",
    ]
    for args, allowed in ((INOTUZUMAB, "used only for CAR-T"), (blinatumomab, "other than")):
        code, out, err = _plan(*args, *given)

        assert (code, out) == (2, "")
        assert err.startswith(f"blina: {option[2:].replace('-', '_')} ")
        assert allowed in err


def test_help_says_which_therapy_each_car_t_option_belongs_to() -> None:
    result = runner.invoke(app, ["plan", "--help"], env={"COLUMNS": "200"})

    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    for option, _ in CAR_T_OPTIONS:
        line = next(line for line in lines if f"{option} " in line)
        assert "CAR-T:" in line or "Obecabtagene:" in line, line


def test_a_car_t_journey_exports_as_a_calendar_with_its_day_0() -> None:
    code, out, err = _plan(*KYMRIAH, "--format", "ics")
    assert code == 0, err
    assert out.startswith("BEGIN:VCALENDAR")
    assert f"DTSTART;VALUE=DATE:{DAY0:%Y%m%d}" in out
    assert "day 0" in out
