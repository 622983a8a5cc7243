"""The CLI reads numbers and dates within the same bounds as the API and the web forms
(issue 16, items 3 and 10): a value out of bounds exits 2 with one line naming the field
and the allowed range; never a traceback, never a stall."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from blina.cli import app

runner = CliRunner()

DECIMAL = "a finite number smaller than 1000000000000 in size, with at most 12 decimal places"
DIGITS = "a number written with the digits 0-9, such as 70 or 70.5"
WHOLE = "a whole number from -2147483648 to 2147483647"
DATES = "from 1900-01-01 to 2200-12-31"
BAG = ["bag", "--hours", "24", "--weight-kg", "70"]
PLAN = ["plan", "--indication", "relapsed-refractory", "--weight-kg", "70", "--age-years", "40"]


def _refused(argv: list[str], field: str, allowed: str) -> None:
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"blina: {field} ")
    assert allowed in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("dose", "allowed"),
    [("1e999999", DECIMAL), ("1e-999999", DECIMAL), ("1" * 41, DIGITS), ("٣", DIGITS)],
)
def test_bag_refuses_a_dose_out_of_bounds(dose: str, allowed: str) -> None:
    _refused([*BAG, "--dose-mcg-per-day", dose], "dose_mcg_per_day", allowed)


@pytest.mark.parametrize(
    ("option", "value", "field", "allowed"),
    [
        ("--start", "9999-12-31", "start", f"a date {DATES}"),
        ("--start", "0001-01-01", "start", f"a date {DATES}"),
        ("--cycles", "2147483648", "cycles", WHOLE),
        ("--cycles", "\N{SUPERSCRIPT TWO}", "cycles", f"{WHOLE}, written with the digits 0-9"),
        ("--bag-hours", "\N{FULLWIDTH DIGIT TWO}4", "bag_hours", "written with the digits 0-9"),
        ("--weight-kg", "1E+12", "weight_kg", DECIMAL),
    ],
)
def test_plan_refuses_a_value_out_of_bounds(
    option: str, value: str, field: str, allowed: str
) -> None:
    argv = [*PLAN, "--start", "2026-12-01"]
    _refused([*argv, option, value], field, allowed)


def _course(tmp_path: Path, **change: Any) -> str:
    course = {
        "patient": {"weight_kg": 70, "height_cm": 175, "age_years": 40},
        "indication": "relapsed-refractory",
        "start": "2027-03-01",
        "events": [],
        **change,
    }
    path = tmp_path / "course.json"
    path.write_text(json.dumps(course), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("change", "field", "allowed"),
    [
        ({"start": "9999-12-31"}, "start", f"a date {DATES}"),
        ({"patient": {"weight_kg": 1e300, "age_years": 40}}, "patient.weight_kg", DECIMAL),
        (
            {"events": [{"at": "9999-12-31T23:00:00-05:00", "kind": "discontinue"}]},
            "events[0].at",
            f"a date and time {DATES}",
        ),
        (
            {
                "events": [
                    {"at": "2027-03-04T14:00:00+00:00", "kind": "interrupt", "cause": "crs",
                     "grade": 3},
                    {"at": "2027-03-06T14:00:00+00:00", "kind": "restart",
                     "dose_mcg_per_day": 1e300},
                ]
            },
            "events[1].dose_mcg_per_day",
            DECIMAL,
        ),
    ],
)  # fmt: skip
def test_replan_refuses_a_course_file_out_of_bounds(
    tmp_path: Path, change: dict[str, Any], field: str, allowed: str
) -> None:
    argv = ["replan", _course(tmp_path, **change), "--now", "2027-03-10T09:00:00+00:00"]
    _refused(argv, field, allowed)


@pytest.mark.parametrize("observed_at", ["0001-01-01T00:00:00+00:00", "1999-12-31T23:59:00Z"])
def test_triage_refuses_a_check_in_observed_before_2000(observed_at: str) -> None:
    argv = ["triage", "--symptom", "nausea:2", "--observed-at", observed_at]
    _refused(argv, "observed_at", "a date and time from 2000-01-01 to 2200-12-31")
