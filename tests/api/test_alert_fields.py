"""The alert queue through the API after issue 18: each alert says its patient's name,
and an acknowledged one who took it and what was done. The fields are added, never
changed: a client that acknowledges with an outcome alone is answered as before."""

from typing import Any

import pytest
from tests.api.conftest import World

from blina.services.alerts import WHAT_WAS_DONE_MAX


def _post(world: World, who: str, path: str, body: Any, **headers: str) -> Any:
    return world.client.post(f"/api/v1{path}", json=body, headers={**world.as_(who), **headers})


def _alert(world: World, key: str) -> int:
    body = {"temperature": 39.0, "symptoms": {"fever": None, "confusion": 2}}
    path = f"/patients/{world.patient_a1}/symptom-reports"
    answer = _post(world, "caregiver_a", path, body, **{"Idempotency-Key": key})
    assert answer.status_code == 201, answer.text
    alert_id: int = answer.json()["alert_id"]
    return alert_id


def _acknowledged(world: World) -> dict[int, Any]:
    found = world.client.get(
        "/api/v1/clinic/alerts", params={"status": "acknowledged"}, headers=world.as_("admin_a")
    )
    assert found.status_code == 200
    return {a["id"]: a for a in found.json()}


def test_an_alert_says_its_patient_s_name_and_who_took_it_and_what_was_done(
    world: World,
) -> None:
    alert_id = _alert(world, "fields-1")
    [queued] = [
        a
        for a in world.client.get("/api/v1/clinic/alerts", headers=world.as_("nurse_a")).json()
        if a["id"] == alert_id
    ]
    assert queued["patient_name"]
    assert (queued["acknowledged_by_name"], queued["what_was_done"]) == (None, None)

    taken = _post(
        world,
        "nurse_a",
        f"/alerts/{alert_id}/acknowledge",
        {"outcome": "admitted", "what_was_done": "  admitted to the ward,  bed 4 "},
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["what_was_done"] == "admitted to the ward, bed 4"
    assert taken.json()["acknowledged_by_name"]
    assert _acknowledged(world)[alert_id]["what_was_done"] == "admitted to the ward, bed 4"


def test_an_outcome_alone_is_still_answered_and_leaves_what_was_done_unsaid(
    world: World,
) -> None:
    alert_id = _alert(world, "fields-2")
    taken = _post(
        world, "physician_a", f"/alerts/{alert_id}/acknowledge", {"outcome": "advice-given"}
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["what_was_done"] is None
    assert taken.json()["outcome"] == "advice-given"


@pytest.mark.parametrize("done", ["", "   ", "x" * (WHAT_WAS_DONE_MAX + 1)])
def test_what_was_done_outside_its_bounds_is_refused_naming_it(world: World, done: str) -> None:
    alert_id = _alert(world, f"fields-bad-{len(done)}-{done[:1]}")
    refused = _post(
        world,
        "nurse_a",
        f"/alerts/{alert_id}/acknowledge",
        {"outcome": "advice-given", "what_was_done": done},
    )
    assert refused.status_code == 422
    assert "what_was_done" in refused.text
    assert alert_id not in _acknowledged(world)
    # the open alert, out of the next test's way
    _post(world, "nurse_a", f"/alerts/{alert_id}/acknowledge", {"outcome": "advice-given"})
