"""`blina plan` and `blina demo`: exit codes 0 and 2, JSON keys, the table, iCalendar."""

import json
from datetime import date
from decimal import Decimal

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from blina.cli import app

runner = CliRunner()

ADULT = ["--weight-kg", "70", "--height-cm", "175", "--age-years", "40"]
CHILD = ["--weight-kg", "20", "--height-cm", "110", "--age-years", "6"]


def _plan(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["plan", *args])
    return result.exit_code, result.stdout, result.stderr


def _json(*args: str) -> dict[str, object]:
    code, out, err = _plan(*args, "--format", "json")
    assert code == 0, err
    data: dict[str, object] = json.loads(out, parse_float=Decimal)
    return data


def test_plan_json_adult_rr_has_every_documented_key() -> None:
    data = _json("--indication", "relapsed-refractory", *ADULT, "--start", "2026-12-01")
    assert data["bsa_m2"] == Decimal("1.84")
    days = data["days"]
    assert isinstance(days, list)
    assert len(days) == 5 * 42 + 4 * 84
    first = days[0]
    assert set(first) >= {
        "date",
        "cycle",
        "phase",
        "cycle_day",
        "dose_mcg_per_day",
        "infusing",
        "inpatient",
        "premedication",
        "bag_changes",
    }
    assert first["date"] == "2026-12-01"
    assert first["cycle"] == 1
    assert first["cycle_day"] == 1
    assert first["phase"] == "induction"
    assert first["dose_mcg_per_day"] == 9
    assert first["infusing"] is True
    assert first["inpatient"] is True
    assert first["premedication"][0] == {
        "drug": "dexamethasone",
        "dose": 20,
        "unit": "mg",
        "route": "IV (route stated in the 2014 label)",
        "due": "2026-12-01T08:00:00+00:00",
        "timing": "1 hour before",
        "reason": "before the first dose of cycle 1",
        "alternative": None,
        "source": "label-1.2-rr-premed",
    }
    assert first["bag_changes"] == ["2026-12-01T09:00:00+00:00"]
    assert days[7]["dose_mcg_per_day"] == 28
    assert days[28]["infusing"] is False
    assert days[28]["dose_mcg_per_day"] == 0
    precautions = {p["kind"]: p for p in data["precautions"]}  # type: ignore[union-attr]
    assert set(precautions["contraception"]) >= {"kind", "until", "source"}
    # Cycle 9 starts 5 x 42 + 3 x 84 days after 2026-12-01, on 2028-03-07; its 28 days of
    # infusion end on 2028-04-04 at 09:00, and contraception runs 48 h longer.
    assert precautions["contraception"]["until"] == "2028-04-06T09:00:00+00:00"
    assert precautions["live-vaccines"]["until"] is None


def test_plan_json_child_rr_doses_per_m2_capped() -> None:
    data = _json("--indication", "relapsed-refractory", *CHILD, "--start", "2026-12-01")
    days = data["days"]
    assert isinstance(days, list)
    assert data["bsa_m2"] == Decimal("0.78")
    assert data["dose_basis"] == "bsa"
    assert days[0]["dose_mcg_per_day"] == Decimal("3.90")  # 5 x 0.78
    assert days[7]["dose_mcg_per_day"] == Decimal("11.70")  # 15 x 0.78
    assert days[0]["premedication"][0]["dose"] == Decimal("3.90")  # 5 mg/m2 x 0.78


def test_plan_json_consolidation_warns_it_rests_on_trial_data() -> None:
    data = _json("--indication", "consolidation", *ADULT, "--start", "2026-12-01")
    assert data["regimen"]["evidence"] == "trial"  # type: ignore[index]
    assert any("trial data" in w for w in data["warnings"])  # type: ignore[union-attr]


def test_plan_json_cycle_start_delays_later_cycle() -> None:
    data = _json(
        "--indication",
        "mrd-positive",
        *ADULT,
        "--start",
        "2026-12-01",
        "--cycles",
        "2",
        "--cycle-start",
        "2=2027-01-20",
    )
    cycles = data["cycles"]
    assert isinstance(cycles, list)
    assert cycles[1]["start"] == "2027-01-20"
    gap = [d for d in data["days"] if d["cycle"] is None]  # type: ignore[union-attr]
    assert gap[0]["date"] == "2027-01-12"
    assert len(gap) == (date(2027, 1, 20) - date(2027, 1, 12)).days


def test_plan_table_shows_calendar_rows_and_hospital_days() -> None:
    code, out, _ = _plan("--indication", "relapsed-refractory", *ADULT, "--start", "2026-12-01")
    assert code == 0
    assert "C1 D1-7" in out
    assert "C1 D8-9" in out
    assert "C6 D29-84" in out
    assert "hospital" in out
    assert "dexamethasone" in out


def test_plan_ics_parses_with_bag_changes_and_hospital_events() -> None:
    code, out, err = _plan(
        "--indication",
        "mrd-positive",
        *CHILD,
        "--start",
        "2026-12-01",
        "--cycles",
        "1",
        "--bag-hours",
        "48",
        "--format",
        "ics",
    )
    assert code == 0, err
    calendar = Calendar.from_ical(out)
    summaries = [str(e.get("summary")) for e in calendar.walk("VEVENT")]
    assert sum(s.startswith("Bag change") for s in summaries) == 14
    assert "Cycle 1: hospital admission" in summaries
    assert any(s.startswith("Premedication: dexamethasone") for s in summaries)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--weight-kg", "0"], "weight_kg"),
        (["--weight-kg", "351"], "weight_kg"),
        (["--weight-kg", "heavy"], "weight_kg"),
        (["--height-cm", "29"], "height_cm"),
        (["--height-cm", "251"], "height_cm"),
        (["--age-years", "0.05"], "age_years"),
        (["--start", "2026-02-30"], "start"),
        (["--indication", "induction"], "indication"),
        (["--cycles", "10"], "cycles"),
        (["--cycles", "1.5"], "cycles"),
        (["--bag-hours", "12"], "bag_hours"),
        (["--cycle-start", "2=2026-12-02"], "cycle_start"),
        (["--cycle-start", "2"], "cycle_start"),
        (["--zone", "Mars/Olympus"], "zone"),
        (["--start-time", "25:00"], "start_time"),
    ],
    ids=lambda v: "-".join(v) if isinstance(v, list) else v,
)
def test_plan_bad_input_exits_2_with_one_line_naming_field(args: list[str], field: str) -> None:
    base = {
        "--indication": "relapsed-refractory",
        "--weight-kg": "30",
        "--height-cm": "130",
        "--age-years": "9",
        "--start": "2026-12-01",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    code, out, err = _plan(*[item for pair in base.items() for item in pair])
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"blina: {field} ")
    assert "is not allowed: must be" in lines[0]
    assert "Traceback" not in err


def test_plan_missing_height_under_45_kg_exits_2() -> None:
    code, _, err = _plan(
        "--indication",
        "mrd-positive",
        "--weight-kg",
        "30",
        "--age-years",
        "20",
        "--start",
        "2026-12-01",
    )
    assert code == 2
    assert err.startswith("blina: height_cm (missing) is not allowed")


def test_plan_seven_day_bag_for_5_kg_infant_is_refused_with_reason() -> None:
    code, _, err = _plan(
        "--indication",
        "relapsed-refractory",
        "--weight-kg",
        "5",
        "--height-cm",
        "60",
        "--age-years",
        "0.5",
        "--start",
        "2026-12-01",
        "--bag-hours",
        "168",
    )
    assert code == 2
    assert "5.4 kg" in err
    assert "one of 24, 48" in err
