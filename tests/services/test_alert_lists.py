"""The clinic's alerts as the care team reads them: most urgent first, then oldest; a
calm check-in raises none; staff only, their clinic only."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.knowledge import Knowledge
from blina.services.actors import Actor
from blina.services.alerts import acknowledge_alert, list_alerts
from blina.services.errors import PermissionDenied
from blina.services.reports import CheckInRequest, submit_report
from blina.store.session import read_only, transaction
from tests.clinic_factories import NOW, World

FEVER = CheckInRequest(symptoms={"fever": None}, temperature=Decimal("38.6"))  # call now
SEIZURE = CheckInRequest(symptoms={"seizure": None})  # emergency
CALM = CheckInRequest(symptoms={}, temperature=Decimal("37.0"))  # routine


def _check_in(
    sessions: sessionmaker[Session],
    knowledge: Knowledge,
    family: Actor,
    check_in: CheckInRequest,
    at: datetime = NOW,
) -> int | None:
    assert family.patient_id is not None
    with transaction(sessions) as session:
        return submit_report(
            session,
            actor=family,
            now=at,
            knowledge=knowledge,
            patient_id=family.patient_id,
            idempotency_key=f"{family.username}-{at.isoformat()}",
            check_in=check_in,
        ).alert_id


def _open(
    sessions: sessionmaker[Session], actor: Actor, status: str = "open"
) -> list[tuple[str, int]]:
    with read_only(sessions) as session:
        return [(a.level, a.patient_id) for a in list_alerts(session, actor=actor, status=status)]


def test_the_most_urgent_alert_comes_first_then_the_oldest(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    _check_in(sessions, knowledge, world.family, FEVER, at=NOW - timedelta(minutes=10))
    _check_in(sessions, knowledge, world.other_family, SEIZURE)

    assert _open(sessions, world.pharmacist) == [
        ("emergency", world.other_patient),
        ("call-now", world.patient),
    ]
    assert _open(sessions, world.outsider) == []


def test_a_calm_check_in_raises_no_alert(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    assert _check_in(sessions, knowledge, world.family, CALM) is None
    assert _open(sessions, world.nurse) == []


def test_an_acknowledged_alert_leaves_the_open_list(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    alert = _check_in(sessions, knowledge, world.family, FEVER)
    assert alert is not None
    with transaction(sessions) as session:
        acknowledge_alert(
            session, actor=world.nurse, now=NOW, alert_id=alert, outcome="advice-given"
        )

    assert _open(sessions, world.admin) == []
    assert _open(sessions, world.admin, status="acknowledged") == [("call-now", world.patient)]


def test_a_family_does_not_read_the_clinic_s_alerts(
    sessions: sessionmaker[Session], world: World
) -> None:
    with read_only(sessions) as session, pytest.raises(PermissionDenied):
        list_alerts(session, actor=world.family)
