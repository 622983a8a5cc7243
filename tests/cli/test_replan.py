"""`blina replan`: exit codes 0, 2 and 3, the planner's JSON plus decisions and status."""

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from blina.cli import app

runner = CliRunner()
NOW = ["--now", "2030-01-01T00:00:00+00:00"]


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _json(*args: str, code: int = 0) -> Any:
    exit_code, out, err = _run(*args, "--format", "json")
    assert exit_code == code, err
    return json.loads(out, parse_float=Decimal)


def _one_line_error(code: int, out: str, err: str, field: str) -> None:
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"blina: {field} ")
    assert "is not allowed: must be" in lines[0]
    assert "Traceback" not in err


COURSE: dict[str, Any] = {
    "patient": {"weight_kg": 70, "height_cm": 175, "age_years": 40},
    "indication": "relapsed-refractory",
    "start": "2027-03-01",
    "bag_hours": 48,
    "cycles": 2,
    "events": [
        {"at": "2027-03-04T14:00:00+00:00", "kind": "interrupt", "cause": "crs", "grade": 3},
        {"at": "2027-03-06T14:00:00+00:00", "kind": "restart", "dose_mcg_per_day": 9},
    ],
}


def _course(tmp_path: Path, change: dict[str, Any] | None = None, raw: str | None = None) -> str:
    path = tmp_path / "course.json"
    path.write_text(
        raw if raw is not None else json.dumps({**COURSE, **(change or {})}), encoding="utf-8"
    )
    return str(path)


def test_replan_json_is_the_plan_plus_decisions_and_status(tmp_path: Path) -> None:
    data = _json("replan", _course(tmp_path), *NOW)

    assert data["status"] == "completed"
    assert data["discontinued_at"] is None
    assert {"days", "bags", "cycles", "regimen"} <= set(data)
    actions = [d["action"] for d in data["decisions"]]
    assert actions == [
        "interrupt",
        "continue-cycle",
        "restart",
        "premedicate",
        "supervise",
        "step-up",
    ]
    first = data["decisions"][0]
    assert set(first) == {"at", "action", "level", "reasons", "source"}
    assert first["source"] == "label-5.1-crs"
    day = next(d for d in data["days"] if d["date"] == "2027-03-08")
    assert day["dose_mcg_per_day"] == 9


def test_replan_table_shows_decisions_and_status(tmp_path: Path) -> None:
    code, out, _ = _run("replan", _course(tmp_path), *NOW)

    assert code == 0
    assert "Decisions" in out
    assert "continue-cycle" in out
    assert "Status: completed" in out


def test_replan_hard_stop_prints_the_answer_and_exits_3(tmp_path: Path) -> None:
    events = [COURSE["events"][0], {**COURSE["events"][1], "dose_mcg_per_day": 28}]

    data = _json("replan", _course(tmp_path, {"events": events}), *NOW, code=3)

    hard = [d for d in data["decisions"] if d["level"] == "hard"]
    assert "above the label's step" in hard[0]["reasons"][0]


def test_replan_discontinue_event_and_defaults(tmp_path: Path) -> None:
    change = {
        "events": [{"at": "2027-03-03T10:00:00+01:00", "kind": "discontinue", "reason": "relapse"}],
        "patient": {"weight_kg": 20, "height_cm": 110, "age_years": 6},
        "zone": "Europe/Paris",
        "start_time": "10:00",
    }
    data = _json("replan", _course(tmp_path, change), *NOW)

    assert data["status"] == "discontinued"
    assert data["discontinued_at"] == "2027-03-03T10:00:00+01:00"
    assert data["decisions"][0]["reasons"] == ["Discontinued by the event log: relapse."]


def test_replan_without_now_uses_the_clock(tmp_path: Path) -> None:
    code, _, err = _run("replan", _course(tmp_path, {"events": []}), "--format", "json")

    assert code == 0, err


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"events": [COURSE["events"][1]]}, "events[0].kind"),
        ({"events": [COURSE["events"][1], COURSE["events"][0]]}, "events[1].at"),
        (
            {
                "events": [
                    COURSE["events"][0],
                    {**COURSE["events"][1], "at": "2027-03-04T13:00:00+00:00"},
                ]
            },
            "events[1].at",
        ),
        ({"events": [{**COURSE["events"][0], "cause": "headache"}]}, "events[0].cause"),
        ({"events": [{**COURSE["events"][0], "grade": 7}]}, "events[0].grade"),
        ({"events": [{**COURSE["events"][0], "grade": "three"}]}, "events[0].grade"),
        ({"events": [{**COURSE["events"][0], "kind": "pause"}]}, "events[0].kind"),
        ({"events": [{**COURSE["events"][0], "at": "2027-03-04T14:00:00"}]}, "events[0].at"),
        ({"events": [{"kind": "interrupt"}]}, "events[0].at"),
        (
            {"events": [COURSE["events"][0], {**COURSE["events"][1], "dose_mcg_per_day": -9}]},
            "events[1].dose_mcg_per_day",
        ),
        (
            {"events": [COURSE["events"][0], {**COURSE["events"][1], "resolved_at": "soon"}]},
            "events[1].resolved_at",
        ),
        (
            {"events": [{"at": "2027-03-03T10:00:00+00:00", "kind": "discontinue", "reason": 5}]},
            "events[0].reason",
        ),
        ({"events": {"kind": "interrupt"}}, "events"),
        ({"events": ["interrupt"]}, "events[0]"),
        ({"patient": {"weight_kg": 0, "height_cm": 175, "age_years": 40}}, "weight_kg"),
        ({"patient": {"weight_kg": True, "height_cm": 175, "age_years": 40}}, "patient.weight_kg"),
        ({"patient": {"height_cm": 175, "age_years": 40}}, "patient.weight_kg"),
        ({"patient": [70]}, "patient"),
        ({"indication": "induction"}, "indication"),
        ({"indication": 3}, "indication"),
        ({"start": "2027-02-30"}, "start"),
        ({"bag_hours": 12}, "bag_hours"),
        ({"zone": "Mars/Olympus"}, "zone"),
    ],
    ids=[
        "restart-without-interruption",
        "events-out-of-order",
        "restart-before-interruption",
        "unknown-cause",
        "grade-7",
        "grade-text",
        "unknown-kind",
        "naive-time",
        "no-time",
        "negative-dose",
        "resolved-not-a-time",
        "reason-not-text",
        "events-not-a-list",
        "event-not-an-object",
        "weight-0",
        "weight-bool",
        "weight-missing",
        "patient-not-object",
        "unknown-indication",
        "indication-not-text",
        "bad-start",
        "bag-12",
        "zone",
    ],
)
def test_replan_bad_course_exits_2_naming_the_field(
    tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    _one_line_error(*_run("replan", _course(tmp_path, change), *NOW), field)


@pytest.mark.parametrize(
    ("raw", "allowed"),
    [("{not json", "valid JSON"), ("[1, 2]", "a JSON object")],
    ids=["not-json", "not-an-object"],
)
def test_replan_unreadable_course_exits_2(tmp_path: Path, raw: str, allowed: str) -> None:
    code, out, err = _run("replan", _course(tmp_path, raw=raw), *NOW)

    _one_line_error(code, out, err, "course")
    assert allowed in err


def test_replan_missing_file_exits_2(tmp_path: Path) -> None:
    _one_line_error(*_run("replan", str(tmp_path / "nope.json"), *NOW), "course")


def test_replan_bad_now_exits_2(tmp_path: Path) -> None:
    _one_line_error(*_run("replan", _course(tmp_path), "--now", "2030-01-01"), "now")
