"""``GET /therapies`` and ``POST /calc/therapy-plan`` (JSON and iCalendar): who may call
them, the shape of the answer against the CLI's JSON, each therapy, and refusals that
name the field and its range."""

import json
from decimal import Decimal
from typing import Any

import pytest
from icalendar import Calendar
from tests.api.conftest import PEOPLE, World
from typer.testing import CliRunner

from blina.cli import app as cli
from blina.knowledge import Knowledge

STAFF = {"admin_a", "physician_a", "nurse_a", "pharmacist_a", "pharmacist_a2", "physician_b"}

INOTUZUMAB: dict[str, Any] = {
    "therapy": "inotuzumab",
    "bsa_m2": "1.72",
    "start": "2027-01-04",
    "transplant": "not-planned",
    "responses": ["cr"],
}
RITUXIMAB: dict[str, Any] = {
    "therapy": "rituximab",
    "height_cm": 110,
    "weight_kg": 20,
    "host_day1": {"copdam1": "2027-01-10", "copdam2": "2027-01-31"},
}
GEMTUZUMAB: dict[str, Any] = {
    "therapy": "gemtuzumab",
    "bsa_m2": 1.9,
    "weight_kg": 80,
    "host_day1": {"induction": "2027-01-04"},
}
REQUESTS = {"inotuzumab": INOTUZUMAB, "rituximab": RITUXIMAB, "gemtuzumab": GEMTUZUMAB}
CLI_ARGS = {
    "inotuzumab": [
        "--bsa-m2",
        "1.72",
        "--start",
        "2027-01-04",
        "--transplant",
        "not-planned",
        "--response",
        "cr",
    ],
    "rituximab": [
        "--height-cm",
        "110",
        "--weight-kg",
        "20",
        "--host-day1",
        "copdam1=2027-01-10",
        "--host-day1",
        "copdam2=2027-01-31",
    ],
    "gemtuzumab": ["--bsa-m2", "1.9", "--weight-kg", "80", "--host-day1", "induction=2027-01-04"],
}


def _post(world: World, who: str, body: Any, path: str = "/calc/therapy-plan") -> Any:
    return world.client.post(f"/api/v1{path}", json=body, headers=world.as_(who))


@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_planning_is_for_staff_and_the_list_for_everyone_signed_in(world: World, who: str) -> None:
    planned = _post(world, who, RITUXIMAB)
    assert planned.status_code == (200 if who in STAFF else 403), planned.text
    ics = _post(world, who, RITUXIMAB, "/calc/therapy-plan/ics")
    assert ics.status_code == (200 if who in STAFF else 403)
    listed = world.client.get("/api/v1/therapies", headers=world.as_(who))
    assert listed.status_code == 200


def test_nobody_signed_in_is_refused(world: World) -> None:
    assert world.client.post("/api/v1/calc/therapy-plan", json=RITUXIMAB).status_code == 401
    assert world.client.get("/api/v1/therapies").status_code == 401


@pytest.mark.parametrize("therapy", sorted(REQUESTS))
def test_the_answer_is_the_cli_json(world: World, therapy: str) -> None:
    answer = _post(world, "nurse_a", REQUESTS[therapy])
    assert answer.status_code == 200, answer.text
    result = CliRunner().invoke(
        cli, ["plan", "--therapy", therapy, *CLI_ARGS[therapy], "--format", "json"]
    )
    expected = json.loads(result.stdout, parse_float=Decimal)
    got = answer.json(parse_float=Decimal)
    # The API puts the boxed warnings first; the same warnings otherwise.
    assert sorted(got.pop("warnings"), key=str) == sorted(expected.pop("warnings"), key=str)
    assert got == expected


@pytest.mark.parametrize("therapy", sorted(REQUESTS))
def test_each_plan_has_days_sources_and_boxed_warnings_first(
    world: World, therapy: str, knowledge: Knowledge
) -> None:
    plan = _post(world, "physician_a", REQUESTS[therapy]).json()
    assert plan["therapy"] == therapy
    assert plan["days"]
    assert plan["first_day"] == plan["days"][0]["date"]
    cited = {e["source"] for d in plan["days"] for e in d["entries"]}
    cited |= {w["source"] for w in plan["warnings"]} | {g["source"] for g in plan["gaps"]}
    assert set(plan["sources"]) == cited
    for key, citation in plan["sources"].items():
        assert citation == knowledge.sources[key].reference
    boxed = [w["text"].startswith("Boxed warning") for w in plan["warnings"]]
    assert any(boxed)
    assert boxed == sorted(boxed, reverse=True)
    assert plan["gaps"], "every therapy here has a NOT RETRIEVED fact"


def test_inotuzumab_doses_are_bsa_times_the_label_dose(world: World) -> None:
    plan = _post(world, "pharmacist_a", INOTUZUMAB).json(parse_float=Decimal)
    doses = {
        d["label"]: e["dose"] for d in plan["days"] for e in d["entries"] if e["kind"] == "dose"
    }
    assert doses["C1 D1"] == Decimal("0.8") * Decimal("1.72")
    assert doses["C1 D8"] == Decimal("0.5") * Decimal("1.72")
    assert doses["C2 D1"] == Decimal("0.5") * Decimal("1.72")  # CR after cycle 1


def test_gemtuzumab_dose_is_capped_per_dose(world: World) -> None:
    plan = _post(world, "pharmacist_a", GEMTUZUMAB).json(parse_float=Decimal)
    doses = [e for d in plan["days"] for e in d["entries"] if e["kind"] == "dose"]
    assert [d["dose"] for d in doses] == [Decimal("4.5")] * 3  # 3 mg/m2 x 1.9 m2 = 5.7
    assert all("capped at 4.5 mg" in d["basis"] for d in doses)


def test_the_ics_has_one_event_per_day(world: World) -> None:
    plan = _post(world, "nurse_a", RITUXIMAB).json()
    answer = _post(world, "nurse_a", RITUXIMAB, "/calc/therapy-plan/ics")
    assert answer.headers["content-type"].startswith("text/calendar")
    assert "rituximab-plan.ics" in answer.headers["content-disposition"]
    events = list(Calendar.from_ical(answer.content).walk("VEVENT"))
    assert [e.decoded("dtstart").isoformat() for e in events] == [d["date"] for d in plan["days"]]


def test_the_list_has_every_therapy_with_label_and_sources(
    world: World, knowledge: Knowledge
) -> None:
    listed = world.client.get("/api/v1/therapies", headers=world.as_("caregiver_a")).json()
    keys = [t["key"] for t in listed]
    assert keys[0] == "blinatumomab"
    assert sorted(keys[1:]) == sorted([*knowledge.therapies, *knowledge.car_t.products])
    for therapy in listed:
        ids = [s["id"] for s in therapy["sources"]]
        assert therapy["label_source"] in ids
        assert therapy["label"]
        for source in therapy["sources"]:
            assert source["citation"] == knowledge.sources[source["id"]].reference
    by_key = {t["key"]: t for t in listed}
    assert by_key["blinatumomab"]["planned_at"] == "/api/v1/calc/plan"
    assert by_key["inotuzumab"]["kind"] == "cycle-doses"
    assert by_key["inotuzumab"]["label"] == "US PI 3/2024"
    assert "transplant" in by_key["inotuzumab"]["inputs"]
    assert by_key["rituximab"]["host_courses"] == ["copdam1", "copdam2", "cym-cyve1", "cym-cyve2"]
    assert by_key["gemtuzumab"]["planned_at"] == "/api/v1/calc/therapy-plan"


@pytest.mark.parametrize(
    ("body", "field", "allowed"),
    [
        ({**RITUXIMAB, "therapy": "aspirin"}, "therapy", "one of"),
        ({**RITUXIMAB, "therapy": "blinatumomab"}, "therapy", "/api/v1/calc/plan"),
        ({**RITUXIMAB, "therapy": "Not A Key!"}, "therapy", "pattern"),
        ({**INOTUZUMAB, "bsa_m2": 0}, "bsa_m2", "> 0"),
        ({**INOTUZUMAB, "bsa_m2": 9}, "bsa_m2", "<="),
        ({**INOTUZUMAB, "bsa_m2": "1e400"}, "bsa_m2", ""),
        ({**RITUXIMAB, "weight_kg": 900}, "weight_kg", ""),
        ({**RITUXIMAB, "height_cm": 20}, "height_cm", ""),
        ({k: v for k, v in INOTUZUMAB.items() if k != "start"}, "start", "given"),
        ({**INOTUZUMAB, "start": "2300-01-01"}, "start", ""),
        ({**INOTUZUMAB, "transplant": "maybe"}, "transplant", "planned"),
        ({**INOTUZUMAB, "responses": ["great"]}, "responses", "cr"),
        ({**INOTUZUMAB, "first_cycle_days": 30}, "first_cycle_days", "21"),
        ({**INOTUZUMAB, "blasts_per_mm3": -1}, "blasts_per_mm3", ">= 0"),
        ({**INOTUZUMAB, "dose_dates": {"D8": "2027-01-11"}}, "dose_dates", "pattern"),
        ({**INOTUZUMAB, "mrd": "unknown"}, "mrd", "negative"),
        ({**RITUXIMAB, "host_day1": {}}, "host_day1", "copdam1"),
        ({**RITUXIMAB, "host_day1": {"cop": "2027-02-01"}}, "host_day1", ""),
        ({**RITUXIMAB, "colour": "red"}, "colour", ""),
    ],
)
def test_bad_input_is_422_naming_the_field(
    world: World, body: dict[str, Any], field: str, allowed: str
) -> None:
    answer = _post(world, "physician_a", body)
    assert answer.status_code == 422, answer.text[:300]
    data = answer.json()
    assert data["ok"] is False
    named = [str(problem["field"]) for problem in data["errors"]]
    assert any(field in name for name in named), data
    assert allowed in json.dumps(data), data
