"""The CAR-T products over ``GET /therapies`` and ``POST /calc/therapy-plan`` (JSON and
iCalendar): each product's journey as the CLI plans it, its sources and gaps, and the
CAR-T fields' refusals naming the field (reference other-immunotherapies.md §2-§5)."""

import json
from decimal import Decimal
from typing import Any

import pytest
from icalendar import Calendar
from tests.api.conftest import World
from typer.testing import CliRunner

from blina.cli import app as cli
from blina.knowledge import Knowledge

TISAGENLECLEUCEL: dict[str, Any] = {
    "therapy": "tisagenlecleucel",
    "start": "2027-03-01",
    "weight_kg": 38,
    "height_cm": 140,
    "leukapheresis_on": "2027-01-20",
    "product_ready_on": "2027-02-19",
    "bridging": "vincristine and dexamethasone",
    "bridging_start": "2027-02-01",
}
BREXUCABTAGENE: dict[str, Any] = {
    "therapy": "brexucabtagene",
    "start": "2027-03-01",
    "weight_kg": "70",
    "bsa_m2": "1.85",
    "lymphodepletion_start": "2027-02-25",
    "stay_near_days": 28,
    "no_driving_days": 56,
}
OBECABTAGENE: dict[str, Any] = {
    "therapy": "obecabtagene",
    "start": "2027-03-01",
    "weight_kg": 60,
    "marrow_blasts_percent": "12",
    "first_dose_crs_grade": 2,
    "first_dose_icans_grade": 0,
    "second_dose_on": "2027-03-18",
}
REQUESTS = {
    "tisagenlecleucel": TISAGENLECLEUCEL,
    "brexucabtagene": BREXUCABTAGENE,
    "obecabtagene": OBECABTAGENE,
}


def _cli_args(body: dict[str, Any]) -> list[str]:
    """The same request as `blina plan` options (``--name value``, flags for True)."""
    args: list[str] = []
    for key, value in body.items():
        option = "--" + key.replace("_", "-")
        args += [option] if value is True else [option, str(value)]
    return args


def _post(world: World, body: Any, path: str = "/calc/therapy-plan") -> Any:
    return world.client.post(f"/api/v1{path}", json=body, headers=world.as_("physician_a"))


@pytest.mark.parametrize("therapy", sorted(REQUESTS))
def test_the_answer_is_the_cli_json(world: World, therapy: str) -> None:
    answer = _post(world, REQUESTS[therapy])
    assert answer.status_code == 200, answer.text
    result = CliRunner().invoke(cli, ["plan", *_cli_args(REQUESTS[therapy]), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    expected = json.loads(result.stdout, parse_float=Decimal)
    got = answer.json(parse_float=Decimal)
    assert sorted(got.pop("warnings"), key=str) == sorted(expected.pop("warnings"), key=str)
    assert got == expected


@pytest.mark.parametrize("therapy", sorted(REQUESTS))
def test_each_journey_has_its_days_sources_gaps_and_boxed_warnings_first(
    world: World, therapy: str, knowledge: Knowledge
) -> None:
    plan = _post(world, REQUESTS[therapy]).json()
    product = knowledge.car_t.products[therapy]
    assert (plan["therapy"], plan["kind"]) == (therapy, "cell-journey")
    infusion = [d for d in plan["days"] for e in d["entries"] if e["what"] == therapy]
    assert infusion[0]["date"] == "2027-03-01"
    assert infusion[0]["label"] == f"day {product.anchor_day}"
    cited = {e["source"] for d in plan["days"] for e in d["entries"]}
    cited |= {w["source"] for w in plan["warnings"]} | {g["source"] for g in plan["gaps"]}
    assert set(plan["sources"]) == cited
    for key, citation in plan["sources"].items():
        assert citation == knowledge.sources[key].reference
        assert citation.startswith("other-immunotherapies.md §")
    boxed = [w["text"].startswith("Boxed warning") for w in plan["warnings"]]
    assert any(boxed)
    assert boxed == sorted(boxed, reverse=True)
    assert any("NOT RETRIEVED" in g["fact"] for g in plan["gaps"])
    assert {g["fact"] for g in plan["gaps"]} >= {g.gap.fact for g in product.gaps}


def test_the_recorded_journey_steps_are_on_their_dates(world: World) -> None:
    plan = _post(world, TISAGENLECLEUCEL).json()
    on = {e["what"]: d["date"] for d in plan["days"] for e in d["entries"]}
    assert on["leukapheresis"] == "2027-01-20"
    assert on["product-ready"] == "2027-02-19"
    assert on["bridging"] == "2027-02-01"


def test_the_periods_entered_are_dated(world: World) -> None:
    plan = _post(world, BREXUCABTAGENE).json()
    for what, days in (("stay-near", 28), ("no-driving", 56)):
        dated = [d["date"] for d in plan["days"] for e in d["entries"] if e["what"] == what]
        assert len(dated) == days


def test_obecabtagene_second_dose_is_on_the_chosen_date(world: World) -> None:
    plan = _post(world, OBECABTAGENE).json()
    infusions = [
        d["label"] for d in plan["days"] for e in d["entries"] if e["what"] == "obecabtagene"
    ]
    assert infusions == ["day 1", "day 18"]
    assert "second-dose-may-defer" in {w["what"] for w in plan["warnings"]}
    withheld = _post(
        world,
        {
            **{k: v for k, v in OBECABTAGENE.items() if k != "second_dose_on"},
            "second_dose_withheld": True,
        },
    ).json()
    after = [
        d["label"] for d in withheld["days"] for e in d["entries"] if e["what"] == "obecabtagene"
    ]
    assert after == ["day 1"]


@pytest.mark.parametrize("therapy", sorted(REQUESTS))
def test_the_ics_has_one_event_per_day(world: World, therapy: str) -> None:
    plan = _post(world, REQUESTS[therapy]).json()
    answer = _post(world, REQUESTS[therapy], "/calc/therapy-plan/ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/calendar")
    assert f"{therapy}-plan.ics" in answer.headers["content-disposition"]
    calendar = Calendar.from_ical(answer.content)
    events = list(calendar.walk("VEVENT"))
    assert [e.decoded("dtstart").isoformat() for e in events] == [d["date"] for d in plan["days"]]


def test_the_list_has_each_product_with_its_label_and_inputs(
    world: World, knowledge: Knowledge
) -> None:
    listed = world.client.get("/api/v1/therapies", headers=world.as_("caregiver_a")).json()
    by_key = {t["key"]: t for t in listed}
    for key, product in knowledge.car_t.products.items():
        entry = by_key[key]
        assert entry["kind"] == "cell-journey"
        assert entry["name"] == product.name
        assert entry["label"] == product.label
        assert entry["label_source"] == product.label_source
        assert entry["planned_at"] == "/api/v1/calc/therapy-plan"
        ids = {s["id"] for s in entry["sources"]}
        assert {product.label_source, product.indication.source} <= ids
        assert {"start", "weight_kg", "leukapheresis_on", "stay_near_days"} <= set(entry["inputs"])
        split = {"marrow_blasts_percent", "second_dose_on", "first_dose_crs_grade"}
        assert (split <= set(entry["inputs"])) == (product.split is not None)
        per_m2 = bool(product.lymphodepletion.drugs)
        assert ("bsa_m2" in entry["inputs"]) == per_m2
    assert "bsa_m2" not in by_key["obecabtagene"]["inputs"]  # its doses were not retrieved
    assert "marrow_blasts_percent" in by_key["obecabtagene"]["inputs"]


def _without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in keys}


@pytest.mark.parametrize(
    ("body", "field", "allowed"),
    [
        (_without(TISAGENLECLEUCEL, "start"), "start", "day 0"),
        (_without(TISAGENLECLEUCEL, "weight_kg"), "weight_kg", "by weight"),
        (_without(TISAGENLECLEUCEL, "height_cm"), "bsa_m2", "mg/m2"),
        (_without(TISAGENLECLEUCEL, "bridging"), "bridging", "bridging_start"),
        ({**TISAGENLECLEUCEL, "bridging": ""}, "bridging", ""),
        ({**TISAGENLECLEUCEL, "bridging": "x" * 201}, "bridging", "200"),
        ({**TISAGENLECLEUCEL, "leukapheresis_on": "2027-03-05"}, "leukapheresis_on", "before"),
        ({**TISAGENLECLEUCEL, "leukapheresis_on": "1800-01-01"}, "leukapheresis_on", ""),
        ({**TISAGENLECLEUCEL, "stay_near_days": 3}, "stay_near_days", "whole number of days"),
        ({**TISAGENLECLEUCEL, "marrow_blasts_percent": 12}, "marrow_blasts_percent", "one"),
        ({**TISAGENLECLEUCEL, "second_dose_withheld": True}, "second_dose_withheld", "one"),
        ({**TISAGENLECLEUCEL, "transplant": "planned"}, "transplant", "CAR-T"),
        ({**TISAGENLECLEUCEL, "second_dose_withheld": "maybe"}, "second_dose_withheld", ""),
        (
            {**BREXUCABTAGENE, "lymphodepletion_start": "2027-02-28"},
            "lymphodepletion_start",
            "",
        ),
        ({**BREXUCABTAGENE, "no_driving_days": "many"}, "no_driving_days", ""),
        (_without(OBECABTAGENE, "marrow_blasts_percent"), "marrow_blasts_percent", ""),
        ({**OBECABTAGENE, "marrow_blasts_percent": 101}, "marrow_blasts_percent", "0 to 100"),
        (_without(OBECABTAGENE, "first_dose_icans_grade"), "first_dose_icans_grade", "0"),
        ({**OBECABTAGENE, "first_dose_crs_grade": 5}, "first_dose_crs_grade", "4"),
        ({**OBECABTAGENE, "first_dose_crs_grade": 3}, "second_dose_on", "left out"),
        ({"therapy": "inotuzumab", **_without(TISAGENLECLEUCEL, "therapy")}, "", "CAR-T"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    world: World, body: dict[str, Any], field: str, allowed: str
) -> None:
    answer = _post(world, body)
    assert answer.status_code == 422, answer.text[:300]
    data = answer.json()
    assert data["ok"] is False
    named = [str(problem["field"]) for problem in data["errors"]]
    assert any(field in name for name in named), data
    assert allowed in json.dumps(data), data
