"""`blina pk simulate`: the course from COURSE.json or the planner's options, EVENTS.json
(events, flushes, bags), populations, pictures; bad input is one line naming the field
and exit code 2."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from blina.cli import app

runner = CliRunner()

ADULT = [
    "--indication",
    "relapsed-refractory",
    "--weight-kg",
    "70",
    "--height-cm",
    "175",
    "--age-years",
    "40",
    "--start",
    "2027-03-01",
    "--cycles",
    "1",
]
COURSE = {
    "patient": {"weight_kg": 70, "height_cm": 175, "age_years": 40},
    "indication": "relapsed-refractory",
    "start": "2027-03-01",
    "cycles": 1,
    "events": [
        {"at": "2027-03-10T11:00:00+00:00", "kind": "interrupt", "cause": "crs", "grade": 3},
        {"at": "2027-03-11T15:00:00+00:00", "kind": "restart"},
    ],
}


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["pk", "simulate", *args])
    return result.exit_code, result.stdout, result.stderr


def _json(*args: str) -> dict[str, Any]:
    code, out, err = _run(*args, "--format", "json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def _write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_pk_simulate_table_says_it_is_an_estimate() -> None:
    code, out, _ = _run(*ADULT)

    assert code == 0
    assert "model-based estimate, not a measured level" in out
    assert "Steady state by infusion rate" in out
    assert "AUC per day" in out


def test_pk_simulate_json_from_options_one_cycle_hourly() -> None:
    data = _json(*ADULT)

    assert data["label"] == "model-based estimate, not a measured level"
    assert len(data["times_h"]) == 28 * 24 + 24 + 1
    assert [round(s["concentration_pg_per_ml"]) for s in data["steady_states"]] == [171, 532]
    assert data["interruptions"] == []


def test_pk_simulate_course_file_with_events_flushes_and_population(tmp_path: Path) -> None:
    course = _write(tmp_path, "course.json", COURSE)
    events = _write(
        tmp_path,
        "events.json",
        {"flushes": [{"at": "2027-03-15T09:00:00+00:00", "line_volume_ml": 20}]},
    )
    picture = tmp_path / "exposure.png"

    code, out, err = _run(
        "--course",
        course,
        "--events",
        events,
        "--population",
        "300",
        "--seed",
        "2",
        "--bsa-log-sd",
        "0.1",
        "--plot",
        str(picture),
    )

    assert code == 0, err
    assert "Interruption at hour 218.0" in out
    # restarted at 9 mcg/day after the grade-3 CRS: 20 mL x 9/240 mcg/mL
    assert "Flush at hour 336.0: 0.75 mcg at once" in out
    assert "300 virtual patients (seed 2)" in out
    assert picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_pk_simulate_events_list_replaces_the_course_log(tmp_path: Path) -> None:
    course = _write(tmp_path, "course.json", COURSE)
    events = _write(tmp_path, "events.json", [])

    data = _json("--course", course, "--events", events)

    assert data["interruptions"] == []


def test_pk_simulate_delivered_bags_of_a_child_with_a_population(tmp_path: Path) -> None:
    bags = {
        "bags": [
            {
                "hung_at": "2027-03-01T09:00:00+00:00",
                "removed_at": "2027-03-02T10:00:00+00:00",
                "dose_mcg_per_day": 3.9,
            },
            {"hung_at": "2027-03-02T10:30:00+00:00", "dose_mcg_per_day": 3.9},
        ],
        "flushes": [
            {
                "at": "2027-03-02T10:30:00+00:00",
                "line_volume_ml": 2,
                "concentration_mcg_per_ml": 0.05,
            }
        ],
    }
    events = _write(tmp_path, "events.json", bags)
    child = [*ADULT]
    child[3:6] = ["20", "--height-cm", "110"]
    child[7] = "6"
    bodies = tmp_path / "bodies.csv"
    bodies.write_text("weight_kg,height_cm\n18,105\n22,115\n", encoding="utf-8")

    data = _json(
        *child,
        "--events",
        events,
        "--now",
        "2027-03-03T09:00:00+00:00",
        "--population",
        "40",
        "--bodies",
        str(bodies),
        "--step-hours",
        "0.5",
    )

    assert data["times_h"][-1] == pytest.approx(72.0)  # a day after "now"
    assert data["flush_peaks"][0]["dose_mcg"] == pytest.approx(0.1)
    assert data["marks"][0]["kind"] == "bag-change"
    # what was delivered is a dose in mcg/day: the same for every virtual patient
    assert "falls as clearance rises" in data["population"]["method"]


def test_pk_simulate_planned_child_population_scales_the_dose_per_m2() -> None:
    child = [*ADULT]
    child[3:6] = ["20", "--height-cm", "110"]
    child[7] = "6"

    data = _json(*child, "--population", "30", "--bsa-low", "0.5", "--bsa-high", "1.2")

    assert "stepped" in data["population"]["method"]
    assert data["population"]["count"] == 30


def test_pk_simulate_svg_picture(tmp_path: Path) -> None:
    picture = tmp_path / "exposure.svg"

    code, _, err = _run(*ADULT, "--plot", str(picture))

    assert code == 0, err
    assert picture.read_text(encoding="utf-8").lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--weight-kg", "70"], "indication"),
        ([*ADULT, "--format", "html"], "format"),
        ([*ADULT[:-2], "--cycles", "1", "--plot", "x.pdf"], "plot"),
        ([*ADULT, "--population", "0"], "population"),
        ([*ADULT, "--population", "10", "--bsa-log-sd", "3"], "bsa_log_sd"),
        ([*ADULT, "--step-hours", "0"], "step_hours"),
        ([*ADULT[:-2], "--step-hours", "0.01"], "step_hours"),  # 9 cycles: 1.3 M points
        ([*ADULT, "--below-fraction", "2"], "below_fraction"),
        ([*ADULT, "--events", "/nonexistent/events.json"], "events"),
        ([*ADULT, "--population", "5", "--bodies", "/nonexistent.csv"], "bodies"),
        (["--course", "/nonexistent/course.json"], "course"),
        (
            [
                "--indication",
                "relapsed-refractory",
                "--weight-kg",
                "70",
                "--age-years",
                "40",
                "--start",
                "2027-03-01",
                "--cycles",
                "1",
            ],
            "height_cm",
        ),
        (
            [
                "--indication",
                "nope",
                "--weight-kg",
                "70",
                "--age-years",
                "40",
                "--start",
                "2027-03-01",
            ],
            "indication",
        ),
    ],
)
def test_pk_simulate_bad_input_is_one_line_naming_the_field(args: list[str], field: str) -> None:
    code, out, err = _run(*args)

    assert code == 2
    assert out == ""
    assert err.startswith(f"blina: {field} ")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"surprise": []}, "events.surprise"),
        ("text", "events"),
        ({"flushes": {"at": 1}}, "flushes"),
        ({"flushes": [{"at": "2027-03-01T10:00:00+00:00"}]}, "flushes[0].line_volume_ml"),
        (
            {"flushes": [{"at": "2027-03-01T10:00:00+00:00", "line_volume_ml": 5000}]},
            "flushes[0].line_volume_ml",
        ),
        (
            {"flushes": [{"at": "2027-04-30T10:00:00+00:00", "line_volume_ml": 5}]},
            "flushes[0].concentration_mcg_per_ml",
        ),
        ({"flushes": ["x"]}, "flushes[0]"),
        ({"bags": ["x"]}, "bags[0]"),
        (
            {
                "bags": [
                    {
                        "hung_at": "2027-03-02T10:00:00+00:00",
                        "removed_at": "2027-03-01T10:00:00+00:00",
                        "dose_mcg_per_day": 28,
                    }
                ]
            },
            "bags[0].removed_at",
        ),
    ],
)
def test_pk_simulate_bad_events_file_names_the_field(
    tmp_path: Path, content: Any, field: str
) -> None:
    events = _write(tmp_path, "events.json", content)

    code, _, err = _run(*ADULT, "--events", events, "--now", "2027-03-05T00:00:00+00:00")

    assert code == 2
    assert err.startswith(f"blina: {field} "), err
