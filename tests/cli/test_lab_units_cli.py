"""`blina grade ctcae --unit` and TLS values with their units (issue 15, item 10): the
value converted exactly, an implausible or unknown unit refused in one line naming the
field (exit 2), a bare number in the SI unit as before."""

import json
from decimal import Decimal
from typing import Any

import pytest
from typer.testing import CliRunner

from blina.cli import app

runner = CliRunner()
TLS = ["grade", "tls", "--age-years", "40", "--therapy-start", "2027-03-01T09:00:00+00:00"]
AT = "at=2027-03-02T06:00:00+00:00"


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _json(*args: str) -> Any:
    code, out, err = _run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out, parse_float=Decimal)


def _error(*args: str) -> str:
    code, out, err = _run(*args)
    assert (code, out) == (2, ""), err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_ctcae_haemoglobin_in_g_per_l() -> None:
    data = _json("grade", "ctcae", "hemoglobin", "--value", "75", "--lln", "120", "--unit", "g/L")

    assert data["grade"] == 3
    assert data["criteria"][0]["finding"].startswith("75 g/L (7.5 g/dL) < 8.0 g/dL")


def test_ctcae_without_unit_refuses_75_g_per_dl_naming_g_per_l() -> None:
    line = _error("grade", "ctcae", "hemoglobin", "--value", "75", "--lln", "120")

    assert line.startswith("blina: value 75 g/dL is not allowed: must be within")
    assert line.endswith("did you mean 75 g/L?")


def test_ctcae_unknown_unit_names_the_unit() -> None:
    line = _error("grade", "ctcae", "alt", "--value", "90", "--uln", "40", "--unit", "ukat/L")

    assert line == "blina: unit ukat/L is not allowed: must be a unit of ALT: one of U/L"


def test_ctcae_lipase_grade_2_cites_its_band() -> None:
    data = _json("grade", "ctcae", "lipase", "--value", "130", "--uln", "60", "--asymptomatic")

    assert data["grade"] == 2
    assert data["criteria"][0]["finding"].endswith("grade 2: >2.0-5.0 x ULN without symptoms")


@pytest.mark.parametrize("text", ["8.5mg/dL", "8.5 mg/dL", " 8.5  mg/dL "])
def test_tls_uric_acid_8_5_mg_per_dl_is_laboratory_tls(text: str) -> None:
    data = _json(*TLS, "--sample", f"{AT},uric-acid={text},potassium=6.3")

    assert data["laboratory_tls"] is True
    finding = next(c["finding"] for c in data["criteria"] if c["domain"] == "uric-acid")
    assert finding.startswith("8.5 mg/dL (505.58 umol/L) >= 476 umol/L")


def test_tls_a_bare_number_is_si_and_the_note_says_so() -> None:
    data = _json(*TLS, "--sample", f"{AT},uric-acid=8.5,potassium=6.3")

    assert data["laboratory_tls"] is False
    assert data["notes"][0] == (
        "Given without a unit, read in the SI unit: samples[0].uric-acid 8.5 umol/L; "
        "samples[0].potassium 6.3 mmol/L."
    )


def test_tls_baseline_and_creatinine_with_their_units() -> None:
    data = _json(
        *TLS,
        "--sample",
        f"{AT},uric-acid=375,potassium=6.3",
        "--baseline",
        "uric-acid=5.0mg/dL",
        "--creatinine",
        "1.8 mg/dL",
        "--creatinine-uln",
        "106.08 umol/L",
    )

    assert (data["laboratory_tls"], data["clinical_tls"], data["grade"]) == (True, True, 1)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--sample", f"{AT},uric-acid=8.5 furlongs"], "samples[0].uric-acid.unit"),
        (["--sample", f"{AT},uric-acid=505mg/dL"], "samples[0].uric-acid"),
        (["--sample", f"{AT},uric-acid=mg/dL"], "samples[0].uric-acid"),
        (["--sample", f"{AT},calcium-ionized=1.1"], "samples[0].calcium-ionized"),
        (["--baseline", "ionised-calcium=1.1"], "baseline.ionised-calcium"),
        (["--creatinine", "1.8 mg", "--creatinine-uln", "100"], "creatinine_unit"),
    ],
    ids=["unknown-unit", "implausible", "no-number", "ionised", "ionised-baseline", "creat-unit"],
)
def test_tls_bad_value_or_unit_exits_2_naming_the_field(args: list[str], field: str) -> None:
    line = _error(*TLS, *args)

    assert line.startswith(f"blina: {field} ")
    assert "is not allowed: must be" in line


def test_tls_ionised_calcium_is_refused_asking_for_total_calcium() -> None:
    line = _error(*TLS, "--sample", f"{AT},calcium-ionized=1.1")

    assert "total calcium" in line
    assert "no ionised-calcium criterion" in line
