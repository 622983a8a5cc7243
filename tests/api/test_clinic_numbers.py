"""The clinic's numbers shown with a check-in's answer (issue 15, item 17): the admin sets
the care team's phone, the emergency number and the crisis line; each is checked as a
number to dial; a check-in's answer shows them, and keeps them as they were.

The routes' wiring; which numbers are refused, who sets and reads them and what a
check-in keeps of them are services/test_clinic_settings'."""

import pytest
from sqlalchemy import select
from tests.api.conftest import World

from blina.store.tables import AuditEvent

PATH = "/api/v1/clinic/numbers"
NUMBERS = {"phone": "+33 1 23 45 67 89", "emergency_number": "112", "crisis_line": "3114"}


def test_the_admin_sets_the_numbers_and_a_check_in_answer_shows_them(world: World) -> None:
    kept = world.client.put(
        PATH, json={**NUMBERS, "phone": "  +33 1 23 45 67 89 "}, headers=world.as_("admin_a")
    )

    assert kept.status_code == 200, kept.text
    assert kept.json() == NUMBERS
    assert world.client.get(PATH, headers=world.as_("nurse_a")).json() == NUMBERS
    answer = world.client.post(
        f"/api/v1/patients/{world.patient_a1}/symptom-reports",
        json={"symptoms": {"seizure": None}},
        headers={**world.as_("caregiver_a"), "Idempotency-Key": "numbers-1"},
    )
    assert answer.json()["report"]["contacts"] == {
        "care_team_phone": NUMBERS["phone"],
        "emergency_number": "112",
        "crisis_line": "3114",
    }
    sessions = world.client.app.state.blina.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        event = (
            session.execute(select(AuditEvent).where(AuditEvent.action == "clinic.numbers"))
            .scalars()
            .all()[-1]
        )
    assert event.after == NUMBERS


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("emergency_number", "call 112"),  # refused by the service
        ("emergency_number", "1" * 33),  # past the request's bound
    ],
)
def test_a_number_that_cannot_be_dialled_is_refused_naming_its_field(
    world: World, field: str, value: str
) -> None:
    refused = world.client.put(PATH, json={**NUMBERS, field: value}, headers=world.as_("admin_a"))

    assert refused.status_code == 422
    assert field in refused.text


@pytest.mark.parametrize("who", ["nurse_a", "caregiver_a"])
def test_only_the_admin_sets_the_numbers(world: World, who: str) -> None:
    assert world.client.put(PATH, json=NUMBERS, headers=world.as_(who)).status_code == 403


def test_the_family_does_not_read_the_clinic_settings(world: World) -> None:
    assert world.client.get(PATH, headers=world.as_("caregiver_a")).status_code == 403
