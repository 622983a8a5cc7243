"""Check-ins under pressure (issue 16, item 12): past the hourly limit a calm check-in is
refused with 429 and Retry-After; one that alerts the care team is always stored."""

import pytest
from tests.api.conftest import World

from blina.services.reports import CHECK_INS_PER_HOUR


@pytest.fixture(scope="module")
def world(world_for_each_writer: World) -> World:
    """Once for each check-in writer (services.check_ins)."""
    return world_for_each_writer


def test_past_the_hourly_limit_a_calm_check_in_gets_429_an_emergency_is_stored(
    world: World,
) -> None:
    path = f"/api/v1/patients/{world.patient_a1}/symptom-reports"

    def send(key: str, symptoms: dict[str, int | None]) -> object:
        return world.client.post(
            path,
            json={"symptoms": symptoms},
            headers={**world.as_("caregiver_a"), "Idempotency-Key": key},
        )

    for n in range(CHECK_INS_PER_HOUR):
        assert send(f"calm-{n}", {"headache": 1}).status_code == 201  # type: ignore[attr-defined]

    refused = send("one-more", {"headache": 1})
    emergency = send("seizure", {"seizure": None})

    assert refused.status_code == 429  # type: ignore[attr-defined]
    assert int(refused.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    assert "not stored" in refused.json()["error"]  # type: ignore[attr-defined]
    assert emergency.status_code == 201  # type: ignore[attr-defined]
    assert emergency.json()["report"]["triage"]["level"] == "emergency"  # type: ignore[attr-defined]
