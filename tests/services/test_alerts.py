"""Alerts: raised from a triaged check-in, escalated along the clinic's chain on time,
stopped by an acknowledgement; notifications queued in the outbox."""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.knowledge import Knowledge
from blina.services import alerts, reports
from blina.services.actors import Actor
from blina.services.alerts import acknowledge_alert, escalate_due
from blina.services.errors import Conflict, PermissionDenied
from blina.services.patients import create_patient
from blina.services.reports import CheckInRequest, submit_report
from blina.store.prepared import Prepared
from blina.store.session import transaction
from blina.store.tables import Alert, AlertPolicy, ClinicContact, Notification
from tests.factories import add_clinic_with_family

NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)
FEVER_AND_CONFUSION = CheckInRequest(
    symptoms={"fever": None, "confusion": 2}, temperature=Decimal("39.0")
)


def _clinic(sessions: sessionmaker[Session], minutes: int | None) -> tuple[Actor, Actor, int]:
    with transaction(sessions) as session:
        world = add_clinic_with_family(session, now=NOW, staff_role="nurse")
        for position, name in enumerate(("on-call nurse", "haematologist", "unit head"), start=1):
            session.add(
                ClinicContact(
                    clinic_id=world.clinic_id,
                    position=position,
                    name=name,
                    email=f"{name.replace(' ', '-')}@clinic.test",
                    webhook_url=None,
                )
            )
        if minutes is not None:
            for level in ("emergency", "call-now"):
                session.add(AlertPolicy(clinic_id=world.clinic_id, level=level, minutes=minutes))
        return world.staff, world.family, world.patient_id


def _submit(
    sessions: sessionmaker[Session], knowledge: Knowledge, family: Actor, patient: int
) -> int:
    with transaction(sessions) as session:
        submitted = submit_report(
            session,
            actor=family,
            now=NOW,
            knowledge=knowledge,
            patient_id=patient,
            idempotency_key="k1",
            check_in=FEVER_AND_CONFUSION,
        )
    assert submitted.alert_id is not None
    return submitted.alert_id


def _told(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(
            session.execute(select(Notification.target).order_by(Notification.id)).scalars()
        )


def _escalate(sessions: sessionmaker[Session], at: datetime) -> int:
    with transaction(sessions) as session:
        return escalate_due(session, now=at)


def test_alert_not_acknowledged_moves_along_the_chain_on_time(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    _, family, patient = _clinic(sessions, minutes=10)
    _submit(sessions, knowledge, family, patient)
    assert _told(sessions) == ["on-call-nurse@clinic.test"]

    assert _escalate(sessions, NOW + timedelta(minutes=9)) == 0
    assert _escalate(sessions, NOW + timedelta(minutes=10)) == 1
    assert _told(sessions)[-1] == "haematologist@clinic.test"
    assert _escalate(sessions, NOW + timedelta(minutes=20)) == 1
    assert _told(sessions)[-1] == "unit-head@clinic.test"
    # The end of the chain: nobody left to tell, nothing scheduled.
    assert _escalate(sessions, NOW + timedelta(hours=5)) == 0
    with sessions() as session:
        alert = session.execute(select(Alert)).scalar_one()
    assert (alert.escalation_step, alert.next_escalation_at, alert.status) == (2, None, "open")


def test_acknowledged_alert_does_not_escalate(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    nurse, family, patient = _clinic(sessions, minutes=10)
    alert_id = _submit(sessions, knowledge, family, patient)
    with transaction(sessions) as session:
        acknowledge_alert(
            session,
            actor=nurse,
            now=NOW + timedelta(minutes=3),
            alert_id=alert_id,
            outcome="advice-given",
            note="paracetamol, call back in 1 h",
        )

    assert _escalate(sessions, NOW + timedelta(hours=1)) == 0
    assert _told(sessions) == ["on-call-nurse@clinic.test"]


def test_an_alert_is_acknowledged_once_by_the_care_team_and_stops_escalating(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    """Moved down from the API's tests (test_check_ins)."""
    nurse, family, patient = _clinic(sessions, minutes=10)
    alert_id = _submit(sessions, knowledge, family, patient)

    with transaction(sessions) as session, pytest.raises(PermissionDenied):
        acknowledge_alert(session, actor=family, now=NOW, alert_id=alert_id, outcome="advice-given")
    with transaction(sessions) as session:
        taken = acknowledge_alert(
            session, actor=nurse, now=NOW, alert_id=alert_id, outcome="patient-called-in"
        )
    assert (taken.status, taken.next_escalation_at) == ("acknowledged", None)
    with transaction(sessions) as session, pytest.raises(Conflict):
        acknowledge_alert(session, actor=nurse, now=NOW, alert_id=alert_id, outcome="advice-given")


def test_no_time_set_for_the_level_tells_every_contact_at_once(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    _, family, patient = _clinic(sessions, minutes=None)
    _submit(sessions, knowledge, family, patient)

    assert _told(sessions) == [
        "on-call-nurse@clinic.test",
        "haematologist@clinic.test",
        "unit-head@clinic.test",
    ]
    assert _escalate(sessions, NOW + timedelta(days=1)) == 0


@pytest.mark.parametrize("outcome", ["", "went-home"])
def test_acknowledge_unknown_outcome_is_refused(
    sessions: sessionmaker[Session], knowledge: Knowledge, outcome: str
) -> None:
    from blina.domain.errors import InvalidInput

    nurse, family, patient = _clinic(sessions, minutes=10)
    alert_id = _submit(sessions, knowledge, family, patient)
    with transaction(sessions) as session, pytest.raises(InvalidInput) as caught:
        acknowledge_alert(session, actor=nurse, now=NOW, alert_id=alert_id, outcome=outcome)
    assert caught.value.field == "outcome"


def test_escalate_due_in_two_workers_at_once_escalates_each_alert_once(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    import threading

    staff, _, patient = _clinic(sessions, minutes=10)
    # Six patients: one patient's further check-ins would join its open alert.
    with transaction(sessions) as session:
        others = [
            create_patient(session, actor=staff, now=NOW, code=f"P{n}", display_name="p").id
            for n in range(2, 7)
        ]
    for key, someone in enumerate([patient, *others]):
        with transaction(sessions) as session:
            submit_report(
                session,
                actor=staff,
                now=NOW,
                knowledge=knowledge,
                patient_id=someone,
                idempotency_key=f"k{key}",
                check_in=FEVER_AND_CONFUSION,
            )
    moved: list[int] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        moved.append(_escalate(sessions, NOW + timedelta(minutes=10)))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(moved) == 6
    assert _told(sessions).count("haematologist@clinic.test") == 6


def test_a_patients_further_check_ins_join_the_open_alert_a_more_urgent_one_tells_again(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    """Call-now, then call-now again: one alert, two check-ins, the chain told once. Then
    a seizure (emergency): the alert is raised to emergency and its first contact is told
    again, from step 0 at the emergency times. Once acknowledged, the next check-in opens
    a new alert."""
    staff, family, patient = _clinic(sessions, minutes=10)

    def send(key: str, check_in: CheckInRequest) -> int:
        with transaction(sessions) as session:
            submitted = submit_report(
                session,
                actor=family,
                now=NOW,
                knowledge=knowledge,
                patient_id=patient,
                idempotency_key=key,
                check_in=check_in,
            )
        assert submitted.alert_id is not None
        return submitted.alert_id

    first = send("a", FEVER_AND_CONFUSION)
    assert send("b", FEVER_AND_CONFUSION) == first
    assert _told(sessions) == ["on-call-nurse@clinic.test"]
    _escalate(sessions, NOW + timedelta(minutes=10))
    assert send("c", CheckInRequest(symptoms={"seizure": None})) == first

    with sessions() as session:
        alert = session.get(Alert, first)
        assert alert is not None
        assert (alert.level, alert.check_ins, alert.escalation_step) == ("emergency", 3, 0)
    assert _told(sessions) == [
        "on-call-nurse@clinic.test",
        "haematologist@clinic.test",
        "on-call-nurse@clinic.test",
    ]
    with transaction(sessions) as session:
        acknowledge_alert(
            session, actor=staff, now=NOW, alert_id=first, outcome="patient-called-in"
        )
    assert send("d", FEVER_AND_CONFUSION) != first


class _CountingLock:
    """``alerts._LOCK_PATIENT``, counting how often the patient's row is locked."""

    def __init__(self, locks: Prepared) -> None:
        self.locks = locks
        self.taken = 0

    def first(self, session: Session, params: Mapping[str, Any]) -> Any:
        self.taken += 1
        return self.locks.first(session, params)


def test_an_alerting_check_in_locks_the_patient_row_once(
    sessions: sessionmaker[Session], knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, family, patient = _clinic(sessions, minutes=10)
    counting = _CountingLock(alerts._LOCK_PATIENT)
    monkeypatch.setattr(alerts, "_LOCK_PATIENT", counting)

    _submit(sessions, knowledge, family, patient)

    assert counting.taken == 1


def test_raise_alert_refuses_when_the_patient_row_was_not_locked_first(
    sessions: sessionmaker[Session], knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, family, patient = _clinic(sessions, minutes=10)
    monkeypatch.setattr(reports, "lock_patient", lambda session, patient_id: None)

    with pytest.raises(RuntimeError, match="without lock_patient"):
        _submit(sessions, knowledge, family, patient)

    with sessions() as session:
        assert session.execute(select(Alert)).first() is None
