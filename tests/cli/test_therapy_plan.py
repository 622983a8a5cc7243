"""`blina plan --therapy NAME`: inotuzumab, rituximab and gemtuzumab from the command
line, as JSON and as tables; bad input is one line naming the field and exit 2."""

import json
from decimal import Decimal
from typing import Any

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from blina.cli import app

runner = CliRunner()

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
RITUXIMAB = [
    "--therapy",
    "rituximab",
    "--height-cm",
    "110",
    "--weight-kg",
    "20",
    "--host-day1",
    "copdam1=2027-01-10",
    "--host-day1",
    "copdam2=2027-01-31",
]
GEMTUZUMAB = [
    "--therapy",
    "gemtuzumab",
    "--bsa-m2",
    "1.9",
    "--weight-kg",
    "80",
    "--host-day1",
    "induction=2027-01-04",
]


def _plan(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["plan", *args])
    return result.exit_code, result.stdout, result.stderr


def _json(*args: str) -> dict[str, Any]:
    code, out, err = _plan(*args, "--format", "json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out, parse_float=Decimal)
    return data


def _doses(data: dict[str, Any]) -> list[tuple[str, str, Decimal]]:
    return [
        (day["date"], day["label"], entry["dose"])
        for day in data["days"]
        for entry in day["entries"]
        if entry["kind"] == "dose"
    ]


def test_inotuzumab_json_two_cycles_with_response() -> None:
    data = _json(*INOTUZUMAB, "--response", "none")

    assert data["therapy"] == "inotuzumab"
    assert data["kind"] == "cycle-doses"
    assert _doses(data) == [
        ("2027-01-04", "C1 D1", Decimal("1.376")),
        ("2027-01-11", "C1 D8", Decimal("0.86")),
        ("2027-01-18", "C1 D15", Decimal("0.86")),
        ("2027-01-25", "C2 D1", Decimal("1.376")),
        ("2027-02-01", "C2 D8", Decimal("0.86")),
        ("2027-02-08", "C2 D15", Decimal("0.86")),
    ]
    first = data["days"][0]["entries"][-1]
    assert first == {
        "kind": "dose",
        "what": "inotuzumab",
        "text": "inotuzumab ozogamicin IV over 1 hour at 50 mL/h: 0.8 mg/m2 "
        "(cycle total 1.8 mg/m2)",
        "dose": Decimal("1.376"),
        "unit": "mg",
        "basis": "0.8 mg/m2 x 1.72 m2",
        "source": "inotuzumab-1.2-regimen",
    }
    assert data["sources"]["inotuzumab-1.2-regimen"] == "other-immunotherapies.md §1.2"
    assert {g["source"] for g in data["gaps"]} >= {"inotuzumab-1.3-interruption-table"}


def test_inotuzumab_dose_date_and_lengthened_first_cycle() -> None:
    data = _json(
        *INOTUZUMAB,
        "--response",
        "cr",
        "--first-cycle-days",
        "28",
        "--dose-date",
        "C1D8=2027-01-13",
    )

    dates = [d[0] for d in _doses(data)]
    assert dates[:4] == ["2027-01-04", "2027-01-13", "2027-01-19", "2027-02-01"]
    assert _doses(data)[3][2] == Decimal("0.86")  # CR: day 1 at 0.5 mg/m2


def test_inotuzumab_transplant_and_mrd() -> None:
    data = _json(
        "--therapy",
        "inotuzumab",
        "--bsa-m2",
        "1.72",
        "--start",
        "2027-01-04",
        "--transplant",
        "planned",
        "--response",
        "cri",
        "--response",
        "cr",
        "--mrd",
        "negative",
    )

    assert data["days"][-1]["label"] == "C2 D15"
    assert "plan-ends-cycle-limit" in {w["what"] for w in data["warnings"]}


def test_inotuzumab_table_shows_doses_warnings_gaps_and_sources() -> None:
    code, out, err = _plan(*INOTUZUMAB, "--blasts-per-mm3", "12000")

    assert code == 0, err
    assert "Inotuzumab ozogamicin (BESPONSA)" in out
    assert "1.376 mg (0.8 mg/m2 x 1.72 m2)" in out
    assert "cytoreduction-needed" in out
    assert "NOT RETRIEVED" in out
    assert "inotuzumab-1.2-regimen: other-immunotherapies.md §1.2" in out


def test_rituximab_bsa_from_height_and_weight() -> None:
    data = _json(*RITUXIMAB)

    # Mosteller: sqrt(110 x 20 / 3600) = 0.78 m2; 375 x 0.78 = 292.5 mg
    assert _doses(data) == [
        ("2027-01-08", "COPDAM1 day -2", Decimal("292.5")),
        ("2027-01-10", "COPDAM1 day 1", Decimal("292.5")),
        ("2027-01-29", "COPDAM2 day -2", Decimal("292.5")),
        ("2027-01-31", "COPDAM2 day 1", Decimal("292.5")),
    ]
    assert "undated-host-courses" in {w["what"] for w in data["warnings"]}


def test_gemtuzumab_table_shows_the_cap() -> None:
    code, out, err = _plan(*GEMTUZUMAB)

    assert code == 0, err
    assert "4.5 mg (3 mg/m2 x 1.9 m2 = 5.7 mg," in out  # the cell wraps here
    assert "capped at 4.5 mg per dose)" in out
    assert "methylprednisolone 80 mg" in out


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--therapy", "dasatinib", "--bsa-m2", "1.7"], "therapy"),
        (["--therapy", "inotuzumab", "--start", "2027-01-04"], "bsa_m2"),
        ([*INOTUZUMAB[:6]], "transplant"),
        ([*INOTUZUMAB[:4], *INOTUZUMAB[6:]], "start"),
        ([*INOTUZUMAB, "--bsa-m2", "9"], "bsa_m2"),
        ([*INOTUZUMAB, "--transplant", "maybe"], "transplant"),
        ([*INOTUZUMAB, "--response", "pr"], "response"),
        ([*INOTUZUMAB, "--mrd", "low"], "mrd"),
        ([*INOTUZUMAB, "--first-cycle-days", "30"], "first_cycle_days"),
        ([*INOTUZUMAB, "--dose-date", "D8=2027-01-11"], "dose_date"),
        (
            [*INOTUZUMAB, "--dose-date", "C1D8=2027-01-11", "--dose-date", "c1d8=2027-01-12"],
            "dose_date",
        ),
        ([*INOTUZUMAB, "--dose-date", "C1D8=2027-13-11"], "dose_date"),
        ([*INOTUZUMAB, "--blasts-per-mm3", "-1"], "blasts_per_mm3"),
        ([*INOTUZUMAB, "--height-cm", "170"], "bsa_m2"),
        ([*INOTUZUMAB, "--indication", "relapsed-refractory"], "indication"),
        ([*INOTUZUMAB, "--age-years", "200"], "age_years"),
        (["--therapy", "rituximab", "--bsa-m2", "1"], "host_day1"),
        ([*RITUXIMAB, "--host-day1", "=2027-01-01"], "host_day1"),
        ([*RITUXIMAB, "--host-day1", "copdam1=2027-02-01"], "host_day1"),
        ([*RITUXIMAB, "--host-day1", "cop=2027-02-01"], "host_day1"),
        ([*RITUXIMAB[:2], "--weight-kg", "20", *RITUXIMAB[6:]], "bsa_m2"),
        (
            [*RITUXIMAB[:2], "--height-cm", "20", "--weight-kg", "20", *RITUXIMAB[6:]],
            "height_cm",
        ),
        ([*RITUXIMAB[:2], "--weight-kg", "0", "--bsa-m2", "1", *RITUXIMAB[6:]], "weight_kg"),
        (
            [
                "--indication",
                "relapsed-refractory",
                "--weight-kg",
                "70",
                "--age-years",
                "40",
                "--start",
                "2027-01-04",
                "--height-cm",
                "170",
                "--bsa-m2",
                "1.8",
            ],
            "bsa_m2",
        ),
        (["--weight-kg", "70", "--age-years", "40", "--start", "2027-01-04"], "indication"),
    ],
)
def test_bad_input_names_the_field_and_exits_2(args: list[str], field: str) -> None:
    code, out, err = _plan(*args)

    assert code == 2
    assert out == ""
    assert err.startswith(f"blina: {field} ")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [INOTUZUMAB, RITUXIMAB, GEMTUZUMAB], ids=lambda a: a[1])
def test_ics_has_one_all_day_event_per_planned_day(args: list[str]) -> None:
    planned = _json(*args)
    result = runner.invoke(app, ["plan", *args, "--format", "ics"])
    assert result.exit_code == 0, result.stderr
    calendar = Calendar.from_ical(result.stdout_bytes)
    events = list(calendar.walk("VEVENT"))
    assert [e.decoded("dtstart").isoformat() for e in events] == [
        d["date"] for d in planned["days"]
    ]
    assert [str(e["summary"]).split(":")[0] for e in events] == [
        f"{planned_name(args[1])} {d['label']}" for d in planned["days"]
    ]


def planned_name(therapy: str) -> str:
    return {
        "inotuzumab": "Inotuzumab ozogamicin (BESPONSA)",
        "rituximab": "Rituximab",
        "gemtuzumab": "Gemtuzumab ozogamicin (MYLOTARG)",
    }[therapy]
