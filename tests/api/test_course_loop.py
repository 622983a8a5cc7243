"""The whole loop through the API, on SQLite and PostgreSQL: start -> prepare -> verify ->
hang -> interruption (CRS grade 3) -> restart -> the next bag at the restart dose ->
escalation after 7 days -> discontinue -> nothing more is prepared or hung.

One clinic, one adult patient (70 kg, relapsed/refractory: 9 mcg/day on days 1-7, then
28), 24-h bags hung at 09:00 Paris (08:00 UTC). The clock moves as the clinic's would.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.clinic_factories import sign_in

from blina.app import create_app
from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services.accounts import create_user
from blina.store.session import make_session_factory, transaction
from blina.store.tables import Clinic

PASSWORD = "correct horse battery"
STAFF = {
    "doctor": "physician",
    "pharm_one": "pharmacist",
    "pharm_two": "pharmacist",
    "nurse": "nurse",
}


@dataclass
class MovableClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass(frozen=True)
class Loop:
    client: TestClient
    clock: MovableClock
    tokens: dict[str, str]
    patient: int

    def call(self, who: str, method: str, path: str, body: Any = None) -> Any:
        return self.client.request(
            method,
            f"/api/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[who]}"},
        )

    def at(self, moment: str) -> None:
        self.clock.at = datetime.fromisoformat(moment)


@pytest.fixture
def loop(engine: Engine, knowledge: Knowledge) -> Iterator[Loop]:
    clock = MovableClock(datetime(2026, 12, 10, 7, 0, tzinfo=UTC))
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False), session_hours=24 * 30
    )
    sessions = make_session_factory(engine)
    now = clock.now()
    with transaction(sessions) as session:
        clinic = Clinic(name="loop clinic", zone="Europe/Paris", created_at=now)
        session.add(clinic)
        session.flush()
        for name, role in STAFF.items():
            create_user(
                session,
                actor=None,
                now=now,
                clinic_id=clinic.id,
                username=name,
                display_name=name,
                role=role,
                password=PASSWORD,
            )
    tokens = {}
    for name in STAFF:
        outcome = sign_in(sessions, name, password=PASSWORD, now=now, settings=settings)
        assert outcome.token is not None
        tokens[name] = outcome.token
    app = create_app(settings, clock=clock, knowledge=knowledge)
    with TestClient(app, raise_server_exceptions=True) as client:
        loop = Loop(client, clock, tokens, 0)
        created = loop.call("nurse", "POST", "/patients", {"code": "P-1", "display_name": "Sam"})
        assert created.status_code == 201, created.text
        yield Loop(client, clock, tokens, created.json()["id"])
    app.state.blina.engine.dispose()


COURSE = {"indication": "relapsed-refractory", "weight_kg": 70, "age_years": 40, "bag_hours": 24}


def _start(loop: Loop, start: str = "2026-12-10") -> dict[str, Any]:
    created = loop.call(
        "doctor",
        "POST",
        f"/patients/{loop.patient}/courses",
        {
            **COURSE,
            "start": start,
        },
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def _prepare_and_verify(loop: Loop, course: int, **body: Any) -> dict[str, Any]:
    prepared = loop.call("pharm_one", "POST", f"/courses/{course}/bags", body)
    assert prepared.status_code == 201, prepared.text
    verified = loop.call("pharm_two", "POST", f"/bags/{prepared.json()['id']}/verify")
    assert verified.status_code == 200, verified.text
    return dict(verified.json())


def _hang(loop: Loop, bag: dict[str, Any], **program: Any) -> Any:
    recipe = bag["recipe"]
    body = {
        "code": bag["code"],
        "rate_ml_per_h": recipe["rate_ml_per_h"],
        "volume_ml": recipe["infuse_ml"],
        **program,
    }
    return loop.call("nurse", "POST", f"/patients/{loop.patient}/bags/hang", body)


def _check_in(loop: Loop, key: str, body: dict[str, Any]) -> Any:
    """A check-in sent by the nurse for the loop's patient, under ``key``."""
    headers = {"Authorization": f"Bearer {loop.tokens['nurse']}", "Idempotency-Key": key}
    return loop.client.post(
        f"/api/v1/patients/{loop.patient}/symptom-reports", json=body, headers=headers
    )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _state(loop: Loop, course: int) -> dict[str, Any]:
    answer = loop.call("nurse", "GET", f"/courses/{course}")
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["state"])


def _event(loop: Loop, course: int, event: dict[str, Any]) -> Any:
    version = loop.call("doctor", "GET", f"/courses/{course}").json()["version"]
    return loop.call(
        "doctor", "POST", f"/courses/{course}/events", {"version": version, "event": event}
    )


def test_the_loop_follows_the_replanned_course(loop: Loop) -> None:
    course = _start(loop)["id"]
    assert _state(loop, course)["phase"] == "not-started"

    # A second course is refused while this one is active.
    second = loop.call(
        "doctor",
        "POST",
        f"/patients/{loop.patient}/courses",
        {
            **COURSE,
            "start": "2026-12-11",
        },
    )
    assert second.status_code == 409
    assert "already has an active course" in second.json()["error"]

    # Bag 1: prepared, verified by the other pharmacist, hung after the pump check.
    first = _prepare_and_verify(loop, course)
    assert _instant(first["slot_start"]) == datetime(2026, 12, 10, 8, 0, tzinfo=UTC)
    assert Decimal(str(first["dose_mcg_per_day"])) == 9
    assert len(first["code"]) == 8
    again = loop.call(
        "pharm_one", "POST", f"/courses/{course}/bags", {"bag_start": "2026-12-10T08:00:00Z"}
    )
    assert again.status_code == 409, "one live bag per slot"
    assert first["code"] in again.json()["error"]

    loop.at("2026-12-10T07:30:00+00:00")
    wrong_rate = _hang(loop, first, rate_ml_per_h=100)
    assert wrong_rate.status_code == 422
    assert "an overdose of 10.00 times" in wrong_rate.json()["error"]
    wrong_patient = loop.call(
        "nurse",
        "POST",
        f"/patients/{loop.patient}/bags/hang",
        {"code": "ZZZZZZZZ", "rate_ml_per_h": 10, "volume_ml": 240},
    )
    assert wrong_patient.status_code == 404
    hung = _hang(loop, first)
    assert hung.status_code == 200, hung.text
    assert hung.json()["status"] == "hung"

    tasks = loop.call("nurse", "GET", "/clinic/tasks").json()
    bag_task = next(t for t in tasks if t["kind"] == "bag-change")
    assert bag_task["text"] == "Cycle 1 · bag 1 of 28 · 9 mcg/day · 24-h bag"
    assert bag_task["state"] == "done"
    assert bag_task["bag_code"] == first["code"]

    # Day 9, at 28 mcg/day: the next bag is prepared and verified, then CRS grade 3 stops
    # the infusion. That bag must not be hung; nothing more is prepared.
    loop.at("2026-12-18T10:00:00+00:00")
    state = _state(loop, course)
    assert state["phase"] == "infusing"
    assert state["dose_mcg_per_day"] == "28"
    ahead = _prepare_and_verify(loop, course)
    assert _instant(ahead["slot_start"]) == datetime(2026, 12, 19, 8, 0, tzinfo=UTC)
    loop.at("2026-12-18T16:00:00+00:00")
    stopped = _event(
        loop,
        course,
        {"kind": "interrupt", "at": "2026-12-18T15:51:00+00:00", "cause": "crs", "grade": 3},
    )
    assert stopped.status_code == 201, stopped.text
    state = _state(loop, course)
    assert state["phase"] == "interrupted"
    assert state["next_bag"] is None
    assert [b["code"] for b in state["do_not_hang"]] == [ahead["code"]]
    refused = loop.call("pharm_one", "POST", f"/courses/{course}/bags", {})
    assert refused.status_code == 409
    assert "interrupted" in refused.json()["error"]
    loop.at("2026-12-19T07:30:00+00:00")
    not_hung = _hang(loop, ahead)
    assert not_hung.status_code == 422
    assert "do not hang" in not_hung.json()["error"]
    listed = loop.call("nurse", "GET", "/clinic/tasks").json()
    assert any(t["state"] == "do-not-hang" and t["bag_code"] == ahead["code"] for t in listed)

    # The restart: the next bag is at 9 mcg/day, at the restart's time.
    loop.at("2026-12-19T20:20:00+00:00")
    restarted = _event(loop, course, {"kind": "restart", "at": "2026-12-19T20:15:00+00:00"})
    assert restarted.status_code == 201, restarted.text
    state = _state(loop, course)
    assert state["phase"] == "infusing"
    assert state["dose_mcg_per_day"] == "9"
    assert state["next_bag"]["start"] == "2026-12-19T20:15:00+00:00"
    assert state["next_bag"]["dose_mcg_per_day"] == "9"
    assert state["next_dose_change"] == {
        "at": "2026-12-26T20:15:00+00:00",
        "dose_mcg_per_day": "28",
    }
    restart_bag = _prepare_and_verify(loop, course)
    assert _instant(restart_bag["slot_start"]) == datetime(2026, 12, 19, 20, 15, tzinfo=UTC)
    assert restart_bag["recipe"]["prescription"]["dose_mcg_per_day"] == 9
    refused_dispense = loop.call(
        "pharm_two", "POST", f"/bags/{ahead['id']}/dispense", {"to": "ward"}
    )
    assert refused_dispense.status_code == 409, "a do-not-hang bag is not dispensed"
    voided = loop.call(
        "pharm_one", "POST", f"/bags/{ahead['id']}/end", {"outcome": "voided", "reason": "re-plan"}
    )
    assert voided.status_code == 200
    assert voided.json()["status"] == "voided"
    hung = _hang(loop, restart_bag)
    assert hung.status_code == 200, hung.text
    removed_first = loop.call("nurse", "GET", f"/courses/{course}/bags").json()
    assert {b["code"]: b["status"] for b in removed_first}[first["code"]] == "removed"

    # The restart's bag went up at 20:20, five minutes after the restart the log gives: no
    # bag ran meanwhile, so the 7 days at 9 mcg/day count from 20:20.
    state = _state(loop, course)
    assert state["next_dose_change"] == {
        "at": "2026-12-26T20:20:00+00:00",
        "dose_mcg_per_day": "28",
    }

    # After 7 days without recurrence the bag is at 28 mcg/day again.
    loop.at("2026-12-26T20:00:00+00:00")
    escalated = _prepare_and_verify(loop, course, bag_start="2026-12-26T20:20:00+00:00")
    assert escalated["recipe"]["prescription"]["dose_mcg_per_day"] == 28

    # Discontinued: nothing more is prepared, the verified bag is do-not-hang.
    version = loop.call("doctor", "GET", f"/courses/{course}").json()["version"]
    no_reason = loop.call(
        "doctor", "POST", f"/courses/{course}/end", {"version": version, "outcome": "discontinued"}
    )
    assert no_reason.status_code == 422
    ended = loop.call(
        "doctor",
        "POST",
        f"/courses/{course}/end",
        {"version": version, "outcome": "discontinued", "reason": "relapse"},
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "discontinued"
    assert ended.json()["state"]["phase"] == "discontinued"
    assert loop.call("pharm_one", "POST", f"/courses/{course}/bags", {}).status_code == 409
    loop.at("2026-12-26T20:10:00+00:00")
    assert _hang(loop, escalated).status_code == 422

    # The patient may now start a new course (a date in the past needs confirming).
    past = loop.call(
        "doctor",
        "POST",
        f"/patients/{loop.patient}/courses",
        {
            **COURSE,
            "start": "2026-12-20",
        },
    )
    assert past.status_code == 422
    assert "confirm_past_start" in past.json()["error"]


def test_a_bag_hung_late_moves_the_course_for_the_pharmacy_the_tasks_and_the_pages(
    loop: Loop,
) -> None:
    """The infusion time counted is the time bags ran: bag 1 hung 3 h after its time moves
    bag 2 (prepared before) and the rest of the cycle 3 h later, everywhere at once."""
    course = _start(loop)["id"]
    first = _prepare_and_verify(loop, course)
    second = _prepare_and_verify(loop, course)
    assert _instant(second["slot_start"]) == datetime(2026, 12, 11, 8, 0, tzinfo=UTC)

    loop.at("2026-12-10T11:00:00+00:00")
    assert _hang(loop, first).status_code == 200

    state = _state(loop, course)
    moved = "2026-12-11T11:00:00+00:00"
    assert state["upcoming_bags"][1]["start"] == moved
    assert state["upcoming_bags"][1]["bag"]["code"] == second["code"], "bag 2 keeps its slot"
    assert state["do_not_hang"] == []
    assert state["next_dose_change"]["at"] == "2026-12-17T11:00:00+00:00"
    # the clinic's task list: bag 2's change at its new time, with its bag
    tasks = loop.call("nurse", "GET", "/clinic/tasks?day=2026-12-11").json()
    [change] = [t for t in tasks if t["kind"] == "bag-change"]
    assert change["at"] == moved
    assert change["bag_code"] == second["code"]
    assert change["state"] == "due"
    # the pharmacy's next bag is bag 3, at its moved time
    third = _prepare_and_verify(loop, course)
    assert _instant(third["recipe"]["bag_start"]) == datetime(2026, 12, 12, 11, 0, tzinfo=UTC)

    # bag 1 runs its 24 h: bag 2 at its old time would stop it 3 h early
    loop.at("2026-12-11T07:30:00+00:00")
    early = _hang(loop, second)
    assert early.status_code == 422
    assert "may be hung from 2026-12-11T10:00:00+00:00" in early.json()["error"]
    loop.at("2026-12-11T11:00:00+00:00")
    assert _hang(loop, second).status_code == 200
    tasks = loop.call("nurse", "GET", "/clinic/tasks?day=2026-12-11").json()
    assert [t["state"] for t in tasks if t["kind"] == "bag-change"] == ["done"]


def test_a_bag_hung_four_hours_late_asks_for_the_restart_premedication(loop: Loop) -> None:
    course = _start(loop)["id"]
    first = _prepare_and_verify(loop, course)
    second = _prepare_and_verify(loop, course)
    loop.at("2026-12-10T08:00:00+00:00")
    assert _hang(loop, first).status_code == 200
    loop.at("2026-12-11T13:00:00+00:00")
    assert _hang(loop, second).status_code == 200

    tasks = loop.call("nurse", "GET", "/clinic/tasks?day=2026-12-11").json()
    restart = [t for t in tasks if t["kind"] == "premedication"]
    assert [t["text"] for t in restart] == [
        "dexamethasone 20 mg IV (route stated in the 2014 label), 1 hour before (before "
        "restarting after an interruption of 5 h)"
    ]
    state = _state(loop, course)
    assert state["upcoming_bags"][1]["start"] == "2026-12-12T13:00:00+00:00"


def test_delivered_hours_follow_the_hang_and_removal(loop: Loop) -> None:
    course = _start(loop)["id"]
    bag = _prepare_and_verify(loop, course)
    loop.at("2026-12-10T08:00:00+00:00")
    assert _hang(loop, bag).status_code == 200
    loop.at("2026-12-10T20:00:00+00:00")
    removed = loop.call("nurse", "POST", f"/bags/{bag['id']}/remove", {"volume_left_ml": 120})
    assert removed.status_code == 200
    delivered = _state(loop, course)["delivered"]
    # 08:00-20:00 UTC is 09:00-21:00 in Paris: 12 h on one day, 9 mcg/day x 12/24.
    assert delivered == [{"date": "2026-12-10", "hours": "12.00", "mcg": "4.50"}]


def test_premedication_recorded_as_given_closes_its_task(loop: Loop) -> None:
    course = _start(loop)
    dose = course["plan"]["days"][0]["premedication"][0]  # before the first dose
    task = next(
        t for t in loop.call("nurse", "GET", "/clinic/tasks").json() if t["kind"] == "premedication"
    )
    assert task["state"] == "due"
    loop.at("2026-12-10T08:00:00+00:00")
    given = loop.call(
        "nurse",
        "POST",
        f"/courses/{course['id']}/premedication",
        {"due": dose["due"], "drug": dose["drug"], "given_at": "2026-12-10T07:10:00+00:00"},
    )
    assert given.status_code == 201, given.text
    twice = loop.call(
        "nurse",
        "POST",
        f"/courses/{course['id']}/premedication",
        {"due": dose["due"], "drug": dose["drug"], "given_at": "2026-12-10T07:10:00+00:00"},
    )
    assert twice.status_code == 409
    task = next(
        t for t in loop.call("nurse", "GET", "/clinic/tasks").json() if t["kind"] == "premedication"
    )
    assert task["state"] == "done"


def test_a_check_in_after_an_interruption_is_triaged_on_the_replanned_course(loop: Loop) -> None:
    course = _start(loop)["id"]
    loop.at("2026-12-12T12:00:00+00:00")
    stopped = _event(
        loop,
        course,
        {"kind": "interrupt", "at": "2026-12-12T11:00:00+00:00", "cause": "crs", "grade": 3},
    )
    assert stopped.status_code == 201, stopped.text
    answer = _check_in(
        loop,
        "k-1",
        {"temperature": "39.2", "temperature_unit": "C", "symptoms": {"confusion": None}},
    )
    assert answer.status_code == 201, answer.text
    triage = answer.json()["report"]["triage"]
    assert triage["context"]["infusing"] is False, "the course state says the infusion stopped"
    assert triage["context"]["cycle_day"] == 3
    # A fever and confusion of unknown severity (counted as moderate): call now (issue 15).
    assert triage["level"] == "call-now"
    # Day 3 of cycle 1 is a hospital day of the plan: call the nurse, not an ambulance.
    assert triage["context"]["in_hospital"] is True
    assert answer.json()["report"]["contacts"] == {
        "care_team_phone": "",
        "emergency_number": "",
        "crisis_line": "",
    }


@pytest.mark.parametrize(("hung_at", "infusing"), [("08:00", False), ("11:00", True)])
def test_a_check_in_after_a_late_hang_is_triaged_on_the_moved_course(
    loop: Loop, hung_at: str, infusing: bool
) -> None:
    """Bag 1 hung 3 h late moves cycle 1's end from 08:00 to 11:00 UTC on 7 January: a
    check-in at 09:00 that day is triaged as during the infusion; hung on time, after it."""
    course = _start(loop)["id"]
    first = _prepare_and_verify(loop, course)
    loop.at(f"2026-12-10T{hung_at}:00+00:00")
    assert _hang(loop, first).status_code == 200
    loop.at("2027-01-07T09:00:00+00:00")

    answer = _check_in(loop, "k-3", {"symptoms": {"nausea": 1}})

    assert answer.status_code == 201, answer.text
    assert answer.json()["report"]["triage"]["context"]["infusing"] is infusing


def test_a_check_in_after_a_restart_counts_the_early_window_from_the_restart(
    loop: Loop,
) -> None:
    """Issue 15 item 15: a new symptom early after a restart is call-now."""
    course = _start(loop)["id"]
    loop.at("2026-12-26T12:00:00+00:00")
    stopped = _event(
        loop,
        course,
        {"kind": "interrupt", "at": "2026-12-26T11:00:00+00:00", "cause": "crs", "grade": 3},
    )
    assert stopped.status_code == 201, stopped.text
    loop.at("2026-12-27T12:00:00+00:00")
    restarted = _event(loop, course, {"kind": "restart", "at": "2026-12-27T11:00:00+00:00"})
    assert restarted.status_code == 201, restarted.text
    loop.at("2026-12-28T09:00:00+00:00")

    answer = _check_in(loop, "k-2", {"symptoms": {"nausea": 2}})

    assert answer.status_code == 201, answer.text
    triage = answer.json()["report"]["triage"]
    # 11 days after the step-up (day 8), 1 day after the restart.
    assert triage["context"]["days_since_start_or_step_up"] == 1
    assert triage["context"]["in_hospital"] is False
    assert triage["level"] == "call-now"
    assert "early-in-cycle" in [rule["id"] for rule in triage["rules"]]


CHILD = {
    "indication": "relapsed-refractory",
    "weight_kg": 20,
    "height_cm": 110,
    "age_years": 6,
    "bag_hours": 24,
}


@pytest.mark.parametrize("cause", ["crs", "neurological"])
def test_a_childs_restart_is_at_the_childs_per_m2_step(loop: Loop, cause: str) -> None:
    """20 kg, 110 cm: 0.78 m2. Day 10 runs at 15 mcg/m2/day (11.70 mcg/day); after a
    grade-3 CRS or neurological toxicity the restart bag is at 5 mcg/m2/day (3.90), and
    the step back to 11.70 comes after 7 days."""
    created = loop.call(
        "doctor", "POST", f"/patients/{loop.patient}/courses", {**CHILD, "start": "2026-12-10"}
    )
    assert created.status_code == 201, created.text
    course = created.json()["id"]
    loop.at("2026-12-19T10:30:00+00:00")
    interrupted = {"at": "2026-12-19T10:00:00Z", "kind": "interrupt", "cause": cause, "grade": 3}
    assert _event(loop, course, interrupted).status_code == 201
    loop.at("2026-12-23T10:00:00+00:00")
    restart = {"at": "2026-12-23T10:00:00Z", "kind": "restart"}
    assert _event(loop, course, restart).status_code == 201

    state = _state(loop, course)
    assert Decimal(str(state["next_bag"]["dose_mcg_per_day"])) == Decimal("3.90")
    prepared = loop.call("pharm_one", "POST", f"/courses/{course}/bags", {})
    if prepared.status_code == 422:  # the site library's soft checks: a reason each
        codes = prepared.json().get("override_codes") or []
        prepared = loop.call(
            "pharm_one",
            "POST",
            f"/courses/{course}/bags",
            {"override_reasons": dict.fromkeys(codes, "checked against the label")},
        )
    assert prepared.status_code == 201, prepared.text
    assert Decimal(str(prepared.json()["dose_mcg_per_day"])) == Decimal("3.90")
    assert _instant(prepared.json()["slot_start"]) == datetime(2026, 12, 23, 10, 0, tzinfo=UTC)

    loop.at("2026-12-30T11:00:00+00:00")
    assert Decimal(str(_state(loop, course)["dose_mcg_per_day"])) == Decimal("11.70")


def test_a_restart_where_the_old_dose_bag_began_gets_its_own_bag(loop: Loop) -> None:
    """Day 9, 09:00 Paris: the 28 mcg/day bag waits for its slot; CRS grade 3 at 08:00 and
    the restart at 09:00 (9 mcg/day). The new plan's slot starts where the old bag's did:
    a slot is its start and its dose, so the task shows no bag, the old one is do not
    hang, and the restart's bag is prepared without voiding the old one first."""
    course = _start(loop)["id"]
    loop.at("2026-12-18T07:30:00+00:00")
    old = _prepare_and_verify(loop, course, bag_start="2026-12-18T08:00:00Z")
    assert Decimal(str(old["dose_mcg_per_day"])) == 28
    interrupted = {"at": "2026-12-18T07:00:00Z", "kind": "interrupt", "cause": "crs", "grade": 3}
    assert _event(loop, course, interrupted).status_code == 201
    loop.at("2026-12-18T08:00:00+00:00")
    restarted = _event(loop, course, {"at": "2026-12-18T08:00:00Z", "kind": "restart"})
    assert restarted.status_code == 201, restarted.text

    def todays() -> list[dict[str, Any]]:
        return list(loop.call("nurse", "GET", "/clinic/tasks").json())

    [restart_task] = [t for t in todays() if t["kind"] == "bag-change"]
    assert "9 mcg/day" in restart_task["text"]
    assert restart_task["bag_code"] is None
    assert restart_task["state"] == "overdue"
    assert [t["bag_code"] for t in todays() if t["state"] == "do-not-hang"] == [old["code"]]

    new = _prepare_and_verify(loop, course, bag_start="2026-12-18T08:00:00Z")
    assert Decimal(str(new["dose_mcg_per_day"])) == 9
    assert _instant(_state(loop, course)["next_bag"]["start"]) > _instant(new["slot_start"])
    [restart_task] = [t for t in todays() if t["kind"] == "bag-change"]
    assert restart_task["bag_code"] == new["code"]
    assert _hang(loop, old).status_code == 422
    assert _hang(loop, new).status_code == 200
    assert [t["state"] for t in todays() if t["kind"] == "bag-change"] == ["done"]


def test_a_bag_still_waiting_when_the_plan_ends_is_not_to_be_hung(loop: Loop) -> None:
    """The last bag of the cycle (day 28, 09:00 to day 29, 09:00) is prepared and never
    hung: once the plan has ended the task list says not to hang it, as the course state
    does, though nothing changed the course."""
    created = loop.call(
        "doctor",
        "POST",
        f"/patients/{loop.patient}/courses",
        {**COURSE, "start": "2026-12-10", "cycles": 1},
    )
    assert created.status_code == 201, created.text
    course = created.json()["id"]
    loop.at("2027-01-06T07:00:00+00:00")
    last = _prepare_and_verify(loop, course, bag_start="2027-01-06T08:00:00Z")
    tasks = loop.call("nurse", "GET", "/clinic/tasks").json()
    assert not [t for t in tasks if t["state"] == "do-not-hang"]

    loop.at("2027-01-07T08:00:00+00:00")

    assert _state(loop, course)["phase"] == "completed"
    assert [b["code"] for b in _state(loop, course)["do_not_hang"]] == [last["code"]]
    tasks = loop.call("nurse", "GET", "/clinic/tasks").json()
    [refused] = [t for t in tasks if t["state"] == "do-not-hang"]
    assert refused["bag_code"] == last["code"]
    assert refused["text"] == f"Do not hang bag {last['code']}: the course is completed"


def test_a_course_of_96_hour_bags_gets_no_bag_without_a_validated_site_rate(loop: Loop) -> None:
    """The 72/96-h rates are not verified from the label: the physician may prescribe
    96-h bags, but the pharmacy's bag is a hard stop naming the rate and why, until a
    validated site library confirms it; nothing is stored."""
    created = loop.call(
        "doctor",
        "POST",
        f"/patients/{loop.patient}/courses",
        {**COURSE, "start": "2026-12-10", "bag_hours": 96},
    )
    assert created.status_code == 201, created.text
    course = created.json()["id"]

    prepared = loop.call("pharm_one", "POST", f"/courses/{course}/bags", {})

    assert prepared.status_code == 422
    [stop] = prepared.json()["errors"]
    assert stop["value"] == "rate-unverified"
    assert "96-h bags is not verified" in stop["message"]
    assert "validated site library" in stop["message"]
    assert loop.call("nurse", "GET", f"/courses/{course}/bags").json() == []


def test_neurological_grade_3_again_after_the_restart_ends_the_course(loop: Loop) -> None:
    """Grade-3 neurological toxicity on day 10 (28 mcg/day): the infusion restarts at
    9 mcg/day; the same toxicity again after the restart discontinues the course for
    good (the 2014 label's table, the stricter source): no bag is prepared, none waiting
    is hung."""
    course = _start(loop)["id"]
    loop.at("2026-12-19T10:30:00+00:00")
    first = {"at": "2026-12-19T10:00:00Z", "kind": "interrupt", "cause": "neurological", "grade": 3}
    assert _event(loop, course, first).status_code == 201
    loop.at("2026-12-23T10:00:00+00:00")
    assert (
        _event(loop, course, {"at": "2026-12-23T10:00:00Z", "kind": "restart"}).status_code == 201
    )
    restart_bag = _prepare_and_verify(loop, course)
    assert Decimal(str(restart_bag["dose_mcg_per_day"])) == 9
    assert _hang(loop, restart_bag).status_code == 200
    waiting = _prepare_and_verify(loop, course)

    loop.at("2026-12-24T09:00:00+00:00")
    again = {"at": "2026-12-24T08:30:00Z", "kind": "interrupt", "cause": "neurological", "grade": 3}
    recorded = _event(loop, course, again)

    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["status"] == "discontinued"
    state = _state(loop, course)
    assert state["phase"] == "discontinued"
    assert [b["code"] for b in state["do_not_hang"]] == [waiting["code"]]
    assert state["to_remove"]["code"] == restart_bag["code"]
    refused = loop.call("pharm_one", "POST", f"/courses/{course}/bags", {})
    assert refused.status_code == 409
    assert "discontinued" in refused.json()["error"]
    assert _hang(loop, waiting).status_code == 422
