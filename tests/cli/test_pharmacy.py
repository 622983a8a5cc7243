"""`blina bag`, `pump-check`, `flush-check`, `pharmacy load-library`: exit codes 0, 2 and 3.

Bad input ends with one line on stderr naming the field, the value and what is allowed
(exit 2); a hard stop prints its reasons and exits 3; never a traceback.
"""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from blina.cli import app

runner = CliRunner()
DATA = Path(__file__).parents[1] / "data"
ROWS = str(DATA / "site_library_label_rows.toml")
NINE_24H = ("--dose-mcg-per-day", "9", "--hours", "24", "--weight-kg", "70")
TWENTY_EIGHT_24H = ("--dose-mcg-per-day", "28", "--hours", "24", "--weight-kg", "70")
JSON_KEYS = {
    "vials",
    "reconstitution_water_ml",
    "stabilizer_ml",
    "saline_ml",
    "saline_kind",
    "drug_ml",
    "total_ml",
    "infuse_ml",
    "rate_ml_per_h",
    "duration_h",
    "delivered_mcg_per_day",
    "origin",
    "expiry",
    "steps",
    "checks",
    "library",
}


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _bag_json(*args: str) -> dict[str, Any]:
    code, out, err = _run("bag", *args, "--format", "json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out, parse_float=Decimal)
    return data


def _recipe_file(tmp_path: Path, *args: str) -> str:
    code, out, err = _run("bag", *args, "--format", "json")
    assert code == 0, err
    path = tmp_path / "recipe.json"
    path.write_text(out, encoding="utf-8")
    return str(path)


# --- blina bag ----------------------------------------------------------------------------


def test_bag_json_adult_24h_has_every_documented_key_and_demo_stamp() -> None:
    data = _bag_json("--dose-mcg-per-day", "28", "--hours", "24", "--weight-kg", "70")

    assert set(data) >= JSON_KEYS
    assert data["vials"] == 1
    assert data["reconstitution_water_ml"] == 3
    assert data["stabilizer_ml"] == 6
    assert data["saline_ml"] == 270
    assert data["saline_kind"] == "0.9% Sodium Chloride Injection, preservative-free"
    assert data["drug_ml"] == Decimal("2.6")
    assert data["total_ml"] == Decimal("278.6")
    assert data["infuse_ml"] == 240
    assert data["rate_ml_per_h"] == 10
    assert data["duration_h"] == 24
    assert data["delivered_mcg_per_day"] == Decimal("27.997")
    assert data["origin"] == "derived"
    assert data["stamp"] == "demo library: not for clinical use"
    assert data["library"] == {
        "name": "blina demo library",
        "version": "demo-2026.1",
        "region": "US",
        "demo": True,
        "stamp": "demo library: not for clinical use",
        "validated_by": ["Demo Pharmacist A (demo user)", "Demo Pharmacist B (demo user)"],
        "validated_on": "2026-01-15",
        "validated": True,
        "source": "demo-site-library",
    }
    assert all(set(c) >= {"level", "reason", "source"} for c in data["checks"])
    assert data["expiry"]["prepared-bag"]["room-temperature"]["start_within_hours"] == 24
    assert [s["code"] for s in data["steps"]].index("stabilizer") == 4
    assert {w["code"] for w in data["warnings"]} >= {"in-line-filter", "do-not-flush"}


def test_bag_json_child_per_m2_seven_day_reports_soft_floor_and_missing_stability() -> None:
    data = _bag_json(
        "--dose-mcg-per-m2-per-day",
        "15",
        "--bsa-m2",
        "0.65",
        "--hours",
        "168",
        "--weight-kg",
        "15",
    )

    assert data["prescription"]["dose_mcg_per_day"] == Decimal("9.75")
    levels = {c["code"]: c["level"] for c in data["checks"]}
    assert levels["under-older-weight-floor"] == "soft"
    assert levels["stability-missing"] == "soft"
    assert data["expiry"]["prepared-bag"] == {"room-temperature": None, "refrigerated": None}
    assert data["saline_kind"].endswith("with preservative (benzyl alcohol)")


def test_bag_json_site_library_label_row_is_used() -> None:
    data = _bag_json(
        "--dose-mcg-per-day", "9", "--hours", "24", "--weight-kg", "70", "--library", ROWS
    )

    assert data["origin"] == "label-row"
    assert data["label_row"] == "24h-9mcg"
    assert data["drug_ml"] == Decimal("0.83")
    assert data["stamp"] is None
    assert data["library"]["demo"] is False


def test_bag_table_shows_stamp_volumes_steps_and_checks() -> None:
    code, out, _ = _run("bag", "--dose-mcg-per-day", "9", "--hours", "168", "--weight-kg", "70")

    assert code == 0
    assert "DEMO LIBRARY: NOT FOR CLINICAL USE" in out
    assert "IV Solution Stabilizer" in out
    assert "SOFT" in out
    assert "NOT GIVEN" in out
    assert "Never reconstitute with the IV Solution Stabilizer" in out


def test_bag_label_row_table_names_the_row() -> None:
    code, out, _ = _run(
        "bag", "--dose-mcg-per-day", "28", "--hours", "24", "--weight-kg", "70", "--library", ROWS
    )

    assert code == 0
    assert "label-row, row 24h-28mcg" in out
    assert "DEMO" not in out


def test_bag_html_is_a_worksheet() -> None:
    code, out, _ = _run(
        "bag", "--dose-mcg-per-day", "28", "--hours", "48", "--weight-kg", "70", "--format", "html"
    )

    assert code == 0
    assert out.startswith("<!doctype html>")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--dose-mcg-per-day", "30", "--hours", "24", "--weight-kg", "70"], "above the label"),
        (["--dose-mcg-per-day", "9", "--hours", "72", "--weight-kg", "5"], "5.4 kg"),
        (
            [
                "--dose-mcg-per-m2-per-day",
                "20",
                "--bsa-m2",
                "1",
                "--hours",
                "24",
                "--weight-kg",
                "30",
            ],
            "20 mcg/m2/day is above the label's maximum 15 mcg/m2/day",
        ),
        (
            [
                "--dose-mcg-per-m2-per-day",
                "15",
                "--bsa-m2",
                "1",
                "--hours",
                "48",
                "--weight-kg",
                "30",
                "--library",
                ROWS,
            ],
            "no base saline volume for a 48-h bag under 45 kg",
        ),
        (
            ["--dose-mcg-per-day", "28", "--bsa-m2", "0.29", "--hours", "24", "--weight-kg", "5.4"],
            "28 mcg/day at 0.29 m2 is 97 mcg/m2/day, 6.4 times the label's maximum 15",
        ),
        (
            ["--dose-mcg-per-day", "9", "--hours", "24", "--weight-kg", "30"],
            "at 30 kg (under 45 kg) the label doses per m2 of BSA, not a fixed mcg/day",
        ),
    ],
    ids=[
        "above-cap",
        "preservative-under-floor",
        "per-m2-above-label",
        "missing-site-value",
        "fixed-dose-for-an-infant",
        "fixed-dose-under-45-kg",
    ],
)
def test_bag_hard_stop_exits_3_with_reason(args: list[str], reason: str) -> None:
    code, out, err = _run("bag", *args)

    assert code == 3
    assert out == ""
    assert reason in err
    assert all(line.startswith("blina: hard stop: ") for line in err.strip().splitlines())
    assert "Traceback" not in err


def test_bag_hard_stop_json_prints_the_refusal_too() -> None:
    code, out, err = _run(
        "bag", "--dose-mcg-per-day", "30", "--hours", "24", "--weight-kg", "70", "--format", "json"
    )

    data = json.loads(out)
    assert code == 3
    assert data["hard_stop"] is True
    assert data["reasons"] == ["30 mcg/day is above the label's maximum 28 mcg/day"]
    assert {c["level"] for c in data["checks"]} >= {"hard"}
    assert "blina: hard stop: 30 mcg/day" in err


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--dose-mcg-per-day", "lots"], "dose_mcg_per_day"),
        (["--dose-mcg-per-day", "0"], "dose_mcg_per_day"),
        (["--dose-mcg-per-day", "-9"], "dose_mcg_per_day"),
        (["--bsa-m2", "0"], "bsa_m2"),
        (["--dose-mcg-per-day", None, "--dose-mcg-per-m2-per-day", "15"], "bsa_m2"),
        (["--dose-mcg-per-day", None], "dose_mcg_per_day"),
        (["--dose-mcg-per-m2-per-day", "15", "--bsa-m2", "1"], "dose_mcg_per_m2_per_day"),
        (["--hours", "12"], "hours"),
        (["--hours", "24.5"], "hours"),
        (["--hours", None], "hours"),
        (["--weight-kg", "0"], "weight_kg"),
        (["--weight-kg", "400"], "weight_kg"),
        (["--weight-kg", None], "weight_kg"),
        (["--format", "pdf"], "format"),
        (["--library", str(DATA / "site_library_10x.toml")], "library"),
        (["--library", str(DATA / "site_library_unvalidated.toml")], "library"),
        (["--library", str(DATA / "site_library_same_pharmacist.toml")], "library"),
        (["--library", str(DATA / "absent.toml")], "library"),
    ],
    ids=[
        "dose-text",
        "dose-zero",
        "dose-negative",
        "bsa-zero-beside-a-fixed-dose",
        "per-m2-without-bsa",
        "no-dose",
        "both-doses",
        "hours-12",
        "hours-fraction",
        "hours-missing",
        "weight-zero",
        "weight-too-heavy",
        "weight-missing",
        "format-pdf",
        "library-10x",
        "library-unvalidated",
        "library-same-pharmacist",
        "library-absent",
    ],
)
def test_bag_bad_input_exits_2_with_one_line_naming_field(
    args: list[str | None], field: str
) -> None:
    base: dict[str, str | None] = {
        "--dose-mcg-per-day": "28",
        "--hours": "24",
        "--weight-kg": "70",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))  # type: ignore[arg-type]
    argv = [item for key, value in base.items() if value is not None for item in (key, value)]

    code, out, err = _run("bag", *argv)

    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"blina: {field} ")
    assert "is not allowed: must be" in lines[0]
    assert "Traceback" not in err


def test_bag_ten_fold_library_message_names_the_row() -> None:
    _, _, err = _run(
        "bag",
        "--dose-mcg-per-day",
        "9",
        "--hours",
        "24",
        "--weight-kg",
        "70",
        "--library",
        str(DATA / "site_library_10x.toml"),
    )

    assert 'label_rows[0] ("24h-9mcg").drug_ml: 8.3 mL delivers' in err


# --- pump-check and flush-check -----------------------------------------------------------


def test_pump_check_seven_day_bag_at_24h_rate_exits_3_with_overdose_factor(tmp_path: Path) -> None:
    recipe = _recipe_file(
        tmp_path, "--dose-mcg-per-day", "28", "--hours", "168", "--weight-kg", "70"
    )

    code, out, err = _run(
        "pump-check", "--recipe-json", recipe, "--rate-ml-per-h", "10", "--volume-ml", "100.8"
    )

    data = json.loads(out, parse_float=Decimal)
    assert code == 3
    assert data["level"] == "hard"
    assert "an overdose of 16.67 times" in data["reason"]
    assert data["dose_factor"] == Decimal("16.67")
    assert data["programmed_hours"] == Decimal("10.08")
    assert data["source"] == "pharm-label-2.2-rates"
    assert "blina: hard stop: 10 mL/h is not the 168-h bag's 0.6 mL/h" in err


def test_pump_check_matching_program_is_ok(tmp_path: Path) -> None:
    recipe = _recipe_file(tmp_path, *NINE_24H)

    code, out, _ = _run(
        "pump-check", "--recipe-json", recipe, "--rate-ml-per-h", "10", "--volume-ml", "240"
    )

    data = json.loads(out, parse_float=Decimal)
    assert code == 0
    assert data["level"] == "ok"
    assert data["dose_factor"] == 1
    assert data["programmed_dose_mcg_per_day"] == data["bag_dose_mcg_per_day"]


def test_pump_check_short_volume_is_soft_and_exits_0(tmp_path: Path) -> None:
    recipe = _recipe_file(tmp_path, *NINE_24H)

    code, out, _ = _run(
        "pump-check", "--recipe-json", recipe, "--rate-ml-per-h", "10", "--volume-ml", "200"
    )

    assert code == 0
    assert json.loads(out)["level"] == "soft"


def test_flush_check_gives_bolus_and_hours_and_exits_3(tmp_path: Path) -> None:
    recipe = _recipe_file(
        tmp_path, "--dose-mcg-per-day", "28", "--hours", "24", "--weight-kg", "70"
    )

    code, out, err = _run("flush-check", "--recipe-json", recipe, "--line-volume-ml", "10")

    data = json.loads(out, parse_float=Decimal)
    assert code == 3
    assert data["level"] == "hard"
    # 32.5 mcg in 278.6 mL: 10 mL hold 1.167 mcg, what the pump gives in 1 h at 10 mL/h.
    assert data["bolus_mcg"] == Decimal("1.167")
    assert data["equivalent_hours"] == 1
    assert data["source"] == "pharm-label-2.1-do-not-flush"
    assert "blina: hard stop: do not flush" in err


@pytest.mark.parametrize(
    ("content", "field_value"),
    [
        (None, "recipe_json"),
        ("not json", "recipe_json"),
        ("[1, 2]", "recipe_json list"),
        ('{"hard_stop": true}', "recipe_json a hard stop"),
        ('{"hard_stop": false}', "recipe_json saline_ml None"),
        ('{"hard_stop": false, "saline_ml": true}', "recipe_json saline_ml True"),
        (
            '{"hard_stop": false, "saline_ml": -1}',
            "recipe_json saline_ml -1",
        ),
    ],
    ids=["absent", "not-json", "list", "refusal", "no-volumes", "bool", "negative"],
)
def test_pump_check_bad_recipe_json_exits_2_naming_field(
    tmp_path: Path, content: str | None, field_value: str
) -> None:
    path = tmp_path / "recipe.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")

    code, _, err = _run(
        "pump-check", "--recipe-json", str(path), "--rate-ml-per-h", "10", "--volume-ml", "240"
    )

    assert code == 2
    assert err.startswith(f"blina: {field_value}")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("total_ml", 999, "total_ml 999 is not allowed: must be the sum of saline"),
        ("duration_h", 24.5, "duration_h 24.5 is not allowed: must be a whole number of hours"),
        ("rate_source", "", "rate_source (missing) is not allowed"),
    ],
    ids=["total-not-sum", "fractional-hours", "no-rate-source"],
)
def test_pump_check_tampered_recipe_exits_2(
    tmp_path: Path, key: str, value: object, words: str
) -> None:
    recipe = Path(_recipe_file(tmp_path, *NINE_24H))
    data = json.loads(recipe.read_text(encoding="utf-8"))
    data[key] = value
    recipe.write_text(json.dumps(data), encoding="utf-8")

    code, _, err = _run(
        "pump-check", "--recipe-json", str(recipe), "--rate-ml-per-h", "10", "--volume-ml", "240"
    )

    assert code == 2
    assert words in err


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--rate-ml-per-h", "0", "--volume-ml", "240"], "rate_ml_per_h"),
        (["--rate-ml-per-h", "fast", "--volume-ml", "240"], "rate_ml_per_h"),
        (["--rate-ml-per-h", "10"], "volume_ml"),
    ],
    ids=["rate-zero", "rate-text", "volume-missing"],
)
def test_pump_check_bad_numbers_exit_2(tmp_path: Path, args: list[str], field: str) -> None:
    recipe = _recipe_file(tmp_path, *NINE_24H)

    code, _, err = _run("pump-check", "--recipe-json", recipe, *args)

    assert code == 2
    assert err.startswith(f"blina: {field} ")


def test_flush_check_zero_line_volume_exits_2(tmp_path: Path) -> None:
    recipe = _recipe_file(tmp_path, *NINE_24H)

    code, _, err = _run("flush-check", "--recipe-json", recipe, "--line-volume-ml", "0")

    assert code == 2
    assert err == "blina: line_volume_ml 0 is not allowed: must be a number > 0\n"


# --- pharmacy load-library ----------------------------------------------------------------


def test_pharmacy_load_library_demo_prints_summary_with_gaps() -> None:
    from blina.knowledge._pharmacy import DEMO_LIBRARY

    code, out, _ = _run("pharmacy", "load-library", str(DEMO_LIBRARY))

    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Site drug library: blina demo library (demo-2026.1), region US"
    assert lines[1] == "DEMO LIBRARY: NOT FOR CLINICAL USE"
    assert lines[2].startswith("Validated by Demo Pharmacist A (demo user) and Demo Pharmacist B")
    assert any(line.startswith("  72-h bag: rate 1.8 mL/h") for line in lines)
    assert any("HARD: 1.8 mL/h for 72-h bags is not verified" in line for line in lines)
    assert lines[-1] == "The library is valid and validated."


def test_pharmacy_load_library_rows_counts_rows() -> None:
    code, out, _ = _run("pharmacy", "load-library", ROWS)

    assert code == 0
    assert "Label rows: 3 (each checked by mass balance)" in out
    assert "base saline MISSING" in out


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("site_library_10x.toml", 'label_rows[0] ("24h-9mcg").drug_ml: 8.3 mL delivers'),
        ("site_library_unvalidated.toml", "(the library has no validation date)"),
        ("site_library_same_pharmacist.toml", "validated by R. Okafor, PharmD twice"),
        ("absent.toml", "cannot be read"),
    ],
    ids=["10x", "unvalidated", "same-pharmacist", "absent"],
)
def test_pharmacy_load_library_refused_exits_2_naming_why(name: str, words: str) -> None:
    code, out, err = _run("pharmacy", "load-library", str(DATA / name))

    assert code == 2
    assert out == ""
    assert err.startswith("blina: library ")
    assert words in err
    assert len(err.strip().splitlines()) == 1


def test_pharmacy_load_library_eu_site_lists_missing_rates(tmp_path: Path) -> None:
    text = Path(ROWS).read_text(encoding="utf-8").replace('region = "US"', 'region = "EU"', 1)
    rows, areas = text.index("[[label_rows]]"), text.index("[[care_areas]]")
    path = tmp_path / "eu.toml"
    path.write_text(text[:rows] + text[areas:], encoding="utf-8")

    code, out, err = _run("pharmacy", "load-library", str(path))

    assert code == 0, err
    assert "  24-h bag: rate MISSING; stabilizer 6 mL (test-site-library)" in out
    assert "  72-h bag: rate MISSING; stabilizer MISSING; base saline MISSING" in out
    assert "    HARD: no infusion rate for a 24-h bag" in out
    assert "  168-h bag: rate 0.6 mL/h (test-site-library)" in out


def test_pharmacy_load_library_eu_row_without_rate_exits_2(tmp_path: Path) -> None:
    text = Path(ROWS).read_text(encoding="utf-8").replace('region = "US"', 'region = "EU"', 1)
    path = tmp_path / "eu.toml"
    path.write_text(text, encoding="utf-8")

    code, _, err = _run("pharmacy", "load-library", str(path))

    assert code == 2
    assert "no infusion rate for 24-h bags" in err
