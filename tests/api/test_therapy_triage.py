"""A check-in of a patient on a course of another therapy is triaged with that therapy
(issue 19): the check-in service reads the active therapy course and, for a CAR-T
journey, the days since its latest cell infusion from its plan; inside the product's
window a sign of a nervous-system reaction (ICANS) is call-now, as the CAR-T rules say, where the
same check-in with no therapy named is not."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from tests.api.conftest import World

from blina.domain.triage.check_in import CheckIn, Context
from blina.domain.triage.engine import triage
from blina.knowledge import Knowledge

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)  # the world's clock
CHECK_IN = {"symptoms": {"headache": 1}}  # mild: same-day for everyone


def _post(world: World, who: str, path: str, body: Any, **headers: str) -> Any:
    return world.client.post(f"/api/v1{path}", json=body, headers={**world.as_(who), **headers})


def _unnamed(knowledge: Knowledge) -> str:
    """The level of ``CHECK_IN`` with no therapy named (blinatumomab's rules, no course)."""
    check_in = CheckIn.of(observed_at=NOW, symptoms=CHECK_IN["symptoms"])
    return str(triage(check_in, Context(), knowledge.triage, now=NOW).level)


@pytest.fixture(scope="module")
def car_t(world: World) -> dict[str, Any]:
    """Obecabtagene for patient a2, its first infusion two days before the world's now."""
    started = _post(
        world,
        "physician_a",
        f"/patients/{world.patient_a2}/therapy-courses",
        {
            "therapy": "obecabtagene",
            "start": "2026-12-08",
            "weight_kg": 60,
            "marrow_blasts_percent": "12",
            "product_ready_on": "2026-12-07",
        },
    )
    assert started.status_code == 201, started.text
    course: dict[str, Any] = started.json()
    return course


def test_a_car_t_patient_s_sign_in_the_window_is_triaged_by_the_car_t_rules(
    world: World, car_t: dict[str, Any], knowledge: Knowledge
) -> None:
    infused = [
        date.fromisoformat(day["date"])
        for day in car_t["plan"]["days"]
        if any(e["kind"] == "dose" and e["what"] == "obecabtagene" for e in day["entries"])
    ]

    answer = _post(
        world,
        "caregiver_other",
        f"/patients/{world.patient_a2}/symptom-reports",
        CHECK_IN,
        **{"Idempotency-Key": "car-t-headache"},
    )

    assert answer.status_code == 201, answer.text
    triaged = answer.json()["report"]["triage"]
    assert triaged["context"]["therapy"] == "obecabtagene"
    assert triaged["context"]["days_since_cell_infusion"] == (NOW.date() - infused[0]).days
    assert triaged["level"] == "call-now"
    assert "car-t-icans-signs" in {rule["id"] for rule in triaged["rules"]}
    assert _unnamed(knowledge) == "same-day", "the CAR-T rule, not the rules for everyone"
    assert answer.json()["alert_id"] is not None


def test_a_blinatumomab_patient_s_check_in_names_no_therapy(world: World) -> None:
    answer = _post(
        world,
        "caregiver_a",
        f"/patients/{world.patient_a1}/symptom-reports",
        CHECK_IN,
        **{"Idempotency-Key": "blina-headache"},
    )

    assert answer.status_code == 201, answer.text
    context = answer.json()["report"]["triage"]["context"]
    assert (context["therapy"], context["days_since_cell_infusion"]) == (None, None)


def test_after_the_window_the_same_sign_follows_the_rules_for_everyone(
    world: World, knowledge: Knowledge
) -> None:
    """Told by the nurse on the phone, for a patient infused weeks ago."""
    made = _post(
        world, "physician_a", "/patients", {"code": "P-late", "display_name": "Late CAR-T"}
    )
    assert made.status_code == 201, made.text
    patient = made.json()["id"]
    started = _post(
        world,
        "physician_a",
        f"/patients/{patient}/therapy-courses",
        {
            "therapy": "obecabtagene",
            "start": "2026-11-01",
            "weight_kg": 60,
            "marrow_blasts_percent": "12",
            "product_ready_on": "2026-10-30",
        },
    )
    assert started.status_code == 201, started.text
    infused = [
        date.fromisoformat(day["date"])
        for day in started.json()["plan"]["days"]
        if any(e["kind"] == "dose" and e["what"] == "obecabtagene" for e in day["entries"])
    ]

    answer = _post(
        world,
        "nurse_a",
        f"/patients/{patient}/symptom-reports",
        CHECK_IN,
        **{"Idempotency-Key": "late-headache"},
    )

    assert answer.status_code == 201, answer.text
    triaged = answer.json()["report"]["triage"]
    assert triaged["context"]["days_since_cell_infusion"] == (NOW.date() - infused[-1]).days
    assert triaged["level"] == _unnamed(knowledge)
    assert not {rule["id"] for rule in triaged["rules"]} & {"car-t-icans-signs"}
