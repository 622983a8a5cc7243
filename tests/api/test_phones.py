"""Phone numbers over the API: the patient's (given when registered, changed by a
physician or nurse) and one's own (a patient or caregiver; the admin sets anyone's), in
the read models; a number that cannot be dialled is a 422 naming the field and the rule."""

from typing import Any

import pytest
from tests.api.conftest import World

from blina.services.phones import PHONE_MAX, PHONE_MIN_DIGITS


def _api(world: World, who: str, method: str, path: str, body: Any = None) -> Any:
    return world.client.request(method, f"/api/v1{path}", json=body, headers=world.as_(who))


def _refused_phone(response: Any) -> str:
    assert response.status_code == 422, response.text
    [problem] = [e for e in response.json()["errors"] if e["field"].endswith("phone")]
    message = str(problem["message"])
    assert message.startswith("phone ")
    assert f"at most {PHONE_MAX} characters" in message
    assert f"at least {PHONE_MIN_DIGITS} digits" in message
    return message


def test_a_patient_registered_with_a_number_reads_it_back_and_a_nurse_changes_it(
    world: World,
) -> None:
    made = _api(
        world,
        "nurse_a",
        "POST",
        "/patients",
        {"code": "PH-1", "display_name": "Phoebe", "phone": "  +1 555 0111 "},
    )
    assert made.status_code == 201, made.text
    patient = made.json()
    assert patient["phone"] == "+1 555 0111"  # trimmed, kept as written
    assert _api(world, "physician_a", "GET", f"/patients/{patient['id']}").json()["phone"] == (
        "+1 555 0111"
    )
    changed = _api(
        world, "nurse_a", "PUT", f"/patients/{patient['id']}/phone", {"phone": "(555) 010-0112"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["phone"] == "(555) 010-0112"
    cleared = _api(world, "physician_a", "PUT", f"/patients/{patient['id']}/phone", {"phone": ""})
    assert cleared.json()["phone"] is None
    listed = _api(world, "admin_a", "GET", "/patients?limit=100").json()
    assert {p["code"]: p["phone"] for p in listed}["PH-1"] is None


@pytest.mark.parametrize(
    "phone",
    ["12345", "call me", "+1 555 0111 ext 2", "1" * (PHONE_MAX + 1), "+1/555/0111", "٠١٢٣٤٥٦"],
    ids=["five-digits", "words", "extension", "too-long", "slashes", "arabic-indic-digits"],
)
def test_a_number_that_cannot_be_dialled_is_refused_naming_the_field(
    world: World, phone: str
) -> None:
    _refused_phone(
        _api(
            world,
            "nurse_a",
            "POST",
            "/patients",
            {"code": "PH-X", "display_name": "X", "phone": phone},
        )
    )
    _refused_phone(
        _api(world, "nurse_a", "PUT", f"/patients/{world.patient_a2}/phone", {"phone": phone})
    )
    _refused_phone(_api(world, "caregiver_other", "PUT", "/me/phone", {"phone": phone}))
    codes = {p["code"] for p in _api(world, "admin_a", "GET", "/patients?limit=100").json()}
    assert "PH-X" not in codes


def test_a_caregiver_sets_their_own_number_and_reads_it_in_their_account(world: World) -> None:
    before = _api(world, "caregiver_a", "GET", "/me").json()
    assert set(before) >= {"id", "username", "role", "clinic_id", "patient_id", "phone"}
    answer = _api(world, "caregiver_a", "PUT", "/me/phone", {"phone": "+1 555 0122"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["phone"] == "+1 555 0122"
    assert _api(world, "caregiver_a", "GET", "/me").json()["phone"] == "+1 555 0122"
    users = {u["username"]: u for u in _api(world, "admin_a", "GET", "/users").json()}
    assert users["caregiver_a"]["phone"] == "+1 555 0122"
    assert _api(world, "caregiver_a", "PUT", "/me/phone", {"phone": None}).json()["phone"] is None


def test_the_admin_sets_a_user_s_number_and_gives_one_to_a_new_user(world: World) -> None:
    users = {u["username"]: u for u in _api(world, "admin_a", "GET", "/users").json()}
    target = users["patient_a"]["id"]
    answer = _api(world, "admin_a", "PUT", f"/users/{target}/phone", {"phone": "555.010.0133"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["phone"] == "555.010.0133"
    made = _api(
        world,
        "admin_a",
        "POST",
        "/users",
        {
            "username": "family.phone",
            "display_name": "Family",
            "role": "caregiver",
            "password": "long enough pw",
            "patient_id": world.patient_a2,
            "phone": "+1 555 0134",
        },
    )
    assert made.status_code == 201, made.text
    assert made.json()["phone"] == "+1 555 0134"
    _refused_phone(_api(world, "admin_a", "PUT", f"/users/{target}/phone", {"phone": "12-34"}))
