"""`blina triage`: exit codes 0 and 2, the JSON keys the issue names, the table in full,
and the symptom list."""

import json
from decimal import Decimal
from typing import Any

import pytest
from typer.testing import CliRunner

from blina.cli import app
from blina.domain.triage.rules import TriageLevel
from blina.knowledge import load_knowledge

runner = CliRunner()
PAST = ["--observed-at", "2026-01-05T02:10:00+01:00"]
# Text that writes no whole number (blina.domain.bounds), before the scale's own 0-4.
WHOLE_NUMBER = "a whole number from -2147483648 to 2147483647, written with the digits 0-9"


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["triage", *args])
    return result.exit_code, result.stdout, result.stderr


def _json(*args: str) -> Any:
    code, out, err = _run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out, parse_float=Decimal)


def _one_line_error(args: list[str], field: str, allowed: str) -> None:
    code, out, err = _run(*args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"blina: {field} ")
    assert lines[0].endswith(f"is not allowed: must be {allowed}")
    assert "Traceback" not in err


# --- answers ---------------------------------------------------------------------------------


def test_triage_json_fever_in_f_is_call_now_with_the_issue_keys() -> None:
    data = _json("--temp-f", "100.4", "--symptom", "nausea:2", *PAST)

    assert {"level", "rules", "instructions", "alert"} <= set(data)
    assert data["level"] == "call-now"
    assert data["alert"] is True
    assert all({"id", "reason", "source"} <= set(rule) for rule in data["rules"])
    assert "temperature-fever" in [rule["id"] for rule in data["rules"]]
    assert data["temperature"]["as_entered"] == "100.4 F = 38.00 C (converted: (F - 32) x 5 / 9)"
    assert data["observed_at"] == "2026-01-05T02:10:00+01:00"


def test_triage_json_seizure_is_emergency_and_says_call_the_emergency_number() -> None:
    data = _json("--symptom", "seizure", "--temp-c", "37.0", *PAST)

    assert data["level"] == "emergency"
    assert data["rules"][0] == {
        "id": "seizure",
        "level": "emergency",
        "reason": data["rules"][0]["reason"],
        "source": "triage-icans-seizure",
        "also_source": None,
        "triggers": ["seizure"],
    }
    assert "911" in data["instructions"]["do_now"][0]["text"]


def test_triage_json_nothing_reported_is_routine_without_alert() -> None:
    data = _json(*PAST)

    assert data["level"] == "routine"
    assert data["alert"] is False
    assert [rule["id"] for rule in data["rules"]] == ["no-warning-sign"]
    do_not = " ".join(item["text"] for item in data["instructions"]["do_not"])
    assert "Never flush" in do_not
    assert "Never change the pump settings" in do_not


def test_triage_json_previous_answers_make_a_symptom_persisting() -> None:
    data = _json("--symptom", "rash:1", "--previous", "rash:1", *PAST)

    # A mild side effect that persists unchanged is routine (issue 15: recalibrated).
    assert data["level"] == "routine"
    assert data["symptoms"][0]["history"] == "persisting"
    assert data["context"]["recent_check_ins"] == 1


def test_triage_json_context_is_echoed() -> None:
    data = _json(
        "--age-years",
        "7",
        "--cycle-day",
        "3",
        "--days-since-start",
        "2",
        "--not-infusing",
        "--note",
        "tired since lunch",
        *PAST,
    )

    assert data["context"] == {
        "cycle_day": 3,
        "infusing": False,
        "days_since_start_or_step_up": 2,
        "age_group": "pediatric",
        "recent_check_ins": 0,
        "in_hospital": None,
        "therapy": None,
        "days_since_cell_infusion": None,
    }
    assert data["free_text"] == "tired since lunch"
    assert len(data["notes"]) == 2


def test_triage_json_adult_age() -> None:
    assert _json("--age-years", "40", *PAST)["context"]["age_group"] == "adult"


def test_triage_without_observed_at_uses_now() -> None:
    data = _json("--symptom", "pump-alarm", "--infusing")

    assert data["level"] == "call-now"
    assert data["observed_at"].endswith("+00:00")


def test_triage_table_shows_every_instruction_in_full() -> None:
    code, out, err = _run(
        "--symptom",
        "nausea",
        "--symptom",
        "pump-alarm",
        "--previous",
        "headache:1",
        "--temp-f",
        "100.4",
        "--note",
        "since last night",
        "--age-years",
        "6",
        *PAST,
    )
    rules = load_knowledge().triage

    assert code == 0, err
    # A pump alarm while infusing and a fever at 38.0 C: call the care team now (a "not sure"
    # nausea counts as moderate and never sends a family to emergency services alone).
    assert out.startswith("Level: call-now - Call your care team now\nCare team alerted: yes\n")
    guidance = rules.levels[TriageLevel.CALL_NOW].guidance + rules.always + rules.infusing
    guidance += rules.groups["pump-line"].guidance
    for item in guidance.do_now + guidance.tell_team + guidance.do_not:
        assert f"  - {item.text}\n" in out
    assert "severity not given (not sure), counted as moderate (new)" in out
    assert "Temperature: 100.4 F = 38.00 C (converted: (F - 32) x 5 / 9)" in out
    assert "Note: since last night" in out
    assert "(triage-pump-line)" in out
    assert "(triage-fever-38)" in out
    assert "Notes:" in out


def test_triage_table_routine_says_nothing_reported() -> None:
    code, out, _ = _run(*PAST)

    assert code == 0
    assert "Care team alerted: no" in out
    assert "  - nothing\n" in out
    assert "Notes:" not in out


def test_triage_table_shows_severity_words_and_also_sources() -> None:
    code, out, _ = _run("--symptom", "cough:2", "--temp-c", "40.5", *PAST)

    assert code == 0
    assert "severity 2 of 4, moderate (new)" in out
    assert "(triage-tier-a-escalation; also triage-ctcae-fever)" in out


# --- the symptom list --------------------------------------------------------------------------


def test_list_symptoms_table_names_every_id_with_its_plain_name() -> None:
    code, out, err = _run("--list-symptoms")
    rules = load_knowledge().triage

    assert code == 0, err
    for symptom in rules.symptoms.values():
        assert symptom.id in out
        assert symptom.name in out
    assert "Pump, bag, line and dressing:" in out


def test_list_symptoms_json() -> None:
    data = _json("--list-symptoms")

    assert data[0] == {
        "id": "seizure",
        "name": "Seizure (fit): sudden shaking, stiffening, or staring and not responding",
        "group": "neuro",
        "severity_applies": False,
        "red_flag": True,
        "source": "triage-medguide-neuro",
    }
    assert len(data) == len(load_knowledge().triage.symptoms)


# --- bad input: exit 2, one line ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "field", "allowed"),
    [
        (
            ["--symptom", "sneezing"],
            "symptom",
            "one of the ids listed by blina triage --list-symptoms",
        ),
        (["--symptom", ":2"], "symptom", "one of the ids listed by blina triage --list-symptoms"),
        (
            ["--previous", "sneezing:1"],
            "previous",
            "one of the ids listed by blina triage --list-symptoms",
        ),
        (
            ["--symptom", "nausea:5"],
            "nausea severity",
            "a whole number from 0 (none) to 4 (very severe), or left out if not known",
        ),
        (
            ["--symptom", "nausea:-1"],
            "nausea severity",
            "a whole number from 0 (none) to 4 (very severe), or left out if not known",
        ),
        (["--symptom", "nausea:bad"], "nausea severity", WHOLE_NUMBER),
        (["--symptom", "nausea:2.5"], "nausea severity", WHOLE_NUMBER),
        (
            ["--symptom", "seizure:1"],
            "seizure severity",
            "left out (a yes/no sign has no severity)",
        ),
        (["--temp-c", "29.9"], "temperature_c", ">= 30 and <= 45"),
        (["--temp-c", "45.1"], "temperature_c", ">= 30 and <= 45"),
        (["--temp-f", "85.9"], "temperature_f", ">= 86 and <= 113"),
        (["--temp-f", "113.5"], "temperature_f", ">= 86 and <= 113"),
        (
            ["--temp-c", "warm"],
            "temperature_c",
            "a number written with the digits 0-9, such as 70 or 70.5",
        ),
        (
            ["--temp-c", "38", "--temp-f", "100"],
            "temperature_f",
            "left out when temperature_c is given",
        ),
        (["--age-years", "130"], "age_years", "at least 1 month(s) (0.08 years) and <= 120 years"),
        (["--cycle-day", "0"], "cycle_day", "a whole number >= 1"),
        (["--days-since-start", "-1"], "days_since_start_or_step_up", "a whole number >= 0"),
        (["--format", "xml"], "format", "table or json"),
        (
            ["--observed-at", "yesterday"],
            "observed_at",
            "an ISO date-time with a UTC offset, e.g. 2026-12-01T02:30:00+01:00",
        ),
        (["--observed-at", "2026-01-05T02:10:00"], "observed_at", "a date-time with a UTC offset"),
    ],
    ids=[
        "unknown-symptom",
        "empty-symptom-name",
        "unknown-previous",
        "severity-5",
        "severity-negative",
        "severity-not-a-number",
        "severity-not-whole",
        "severity-on-yes-no-sign",
        "temp-c-below-30",
        "temp-c-above-45",
        "temp-f-below-86",
        "temp-f-above-113",
        "temp-not-a-number",
        "temp-c-and-f",
        "age-too-high",
        "cycle-day-0",
        "days-since-negative",
        "unknown-format",
        "observed-at-not-iso",
        "observed-at-naive",
    ],
)
def test_triage_bad_input_exits_2_with_one_line(args: list[str], field: str, allowed: str) -> None:
    _one_line_error(args, field, allowed)


def test_triage_check_in_in_the_future_exits_2_with_one_line() -> None:
    code, out, err = _run("--observed-at", "2199-01-01T00:00:00+00:00")

    assert code == 2
    assert out == ""
    assert err.startswith("blina: observed_at 2199-01-01T00:00:00+00:00 is not allowed: ")
    assert "must be no later than now (" in err
    assert len(err.strip().splitlines()) == 1


# --- therapies (issue 19) --------------------------------------------------------------------


def test_triage_with_a_therapy_adds_its_rules_and_instructions() -> None:
    without = _json("--symptom", "headache:1", "--days-since-start", "20", *PAST)
    data = _json(
        "--symptom", "headache:1", "--days-since-start", "20", "--therapy", "rituximab", *PAST
    )

    assert without["level"] == "routine"
    assert data["level"] == "call-now"
    assert "infusion-reaction-signs" in [rule["id"] for rule in data["rules"]]
    assert data["context"]["therapy"] == "rituximab"
    tell = [item["text"] for item in data["instructions"]["tell_team"]]
    assert any("rituximab" in text for text in tell)
    assert not any("blinatumomab" in text for text in tell)


@pytest.mark.parametrize(
    ("days", "level"), [("0", "call-now"), ("14", "call-now"), ("15", "routine")]
)
def test_triage_car_t_window_edges_from_the_command_line(days: str, level: str) -> None:
    data = _json(
        "--symptom",
        "tremor:1",
        "--days-since-start",
        "20",
        "--therapy",
        "tisagenlecleucel",
        "--days-since-infusion",
        days,
        *PAST,
    )

    assert data["level"] == level
    assert data["context"]["days_since_cell_infusion"] == int(days)


def test_triage_table_names_the_therapy_s_instructions() -> None:
    code, out, err = _run("--symptom", "belly-swelling", "--therapy", "inotuzumab", *PAST)

    assert code == 0, err
    assert "Level: call-now" in out
    assert "vod-signs [belly-swelling]" in out
    assert "inotuzumab ozogamicin (Besponsa)" in out
    assert "Never flush the blinatumomab line" not in out


@pytest.mark.parametrize(
    ("args", "field", "allowed"),
    [
        (
            ["--therapy", "aspirin"],
            "therapy",
            "one of blinatumomab, brexucabtagene, gemtuzumab, inotuzumab, obecabtagene, "
            "rituximab, tisagenlecleucel",
        ),
        (
            ["--therapy", "rituximab", "--days-since-infusion", "2"],
            "days_since_cell_infusion",
            "left out unless the therapy is a cell therapy (brexucabtagene, obecabtagene, "
            "tisagenlecleucel)",
        ),
        (
            ["--days-since-infusion", "2"],
            "days_since_cell_infusion",
            "left out unless the therapy is a cell therapy (brexucabtagene, obecabtagene, "
            "tisagenlecleucel)",
        ),
        (
            ["--therapy", "obecabtagene", "--days-since-infusion", "-1"],
            "days_since_cell_infusion",
            "a whole number from 0 to 2147483647",
        ),
        (
            ["--therapy", "obecabtagene", "--days-since-infusion", "2147483648"],
            "days_since_cell_infusion",
            "a whole number from 0 to 2147483647",
        ),
        (
            ["--therapy", "obecabtagene", "--days-since-infusion", "two"],
            "days_since_cell_infusion",
            "a whole number from 0 to 2147483647, written with the digits 0-9",
        ),
    ],
    ids=[
        "unknown-therapy",
        "days-for-an-antibody",
        "days-without-a-therapy",
        "days-negative",
        "days-too-large",
        "days-not-a-number",
    ],
)
def test_triage_bad_therapy_input_exits_2_with_one_line(
    args: list[str], field: str, allowed: str
) -> None:
    _one_line_error([*args, *PAST], field, allowed)


def test_triage_list_therapies_json_names_each_window_with_its_source() -> None:
    rows = _json("--list-therapies")
    rules = load_knowledge().triage

    assert [row["id"] for row in rows] == list(rules.therapies)
    by_id = {row["id"]: row for row in rows}
    assert by_id["blinatumomab"]["default"] is True
    assert by_id["obecabtagene"]["window_days"] == 14
    assert by_id["obecabtagene"]["window_source"] == "obecabtagene-monitoring"
    assert by_id["rituximab"]["window_days"] is None


def test_triage_list_therapies_table() -> None:
    code, out, err = _run("--list-therapies")

    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Therapies (--therapy)")
    assert any(line.split()[:2] == ["blinatumomab", "*"] for line in lines)
    kymriah = next(line for line in lines if line.strip().startswith("tisagenlecleucel"))
    assert "days 0-14 after the cell infusion (car-t-fda-2025-monitoring)" in kymriah
