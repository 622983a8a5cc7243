"""Check-ins as a group commit writes them: several in one transaction behave as if
they had come one at a time."""

from dataclasses import replace
from datetime import date, time
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.services.test_alerts import FEVER_AND_CONFUSION, NOW, _clinic

from blina.knowledge import Knowledge
from blina.services.courses import plan_for
from blina.services.reports import CheckInRequest, submit_report
from blina.store.session import transaction
from blina.store.tables import Alert, Notification, SymptomReport


def _count(sessions: sessionmaker[Session], table: type) -> int:
    with sessions() as session:
        return session.execute(select(func.count()).select_from(table)).scalar_one()


def test_same_key_twice_in_one_transaction_stores_one_report(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    _, family, patient = _clinic(sessions, minutes=None)
    with transaction(sessions) as session:
        first, again = (
            submit_report(
                session,
                actor=family,
                now=NOW,
                knowledge=knowledge,
                patient_id=patient,
                idempotency_key="phone-retry",
                check_in=FEVER_AND_CONFUSION,
            )
            for _ in range(2)
        )

    assert (first.replayed, again.replayed) == (False, True)
    assert again.id == first.id
    assert again.alert_id == first.alert_id is not None
    assert _count(sessions, SymptomReport) == 1
    assert _count(sessions, Alert) == 1


def test_alerts_in_one_transaction_each_tell_the_whole_chain(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    _, family, patient = _clinic(sessions, minutes=None)  # no times: everyone told at once
    with transaction(sessions) as session:
        for key in ("a", "b"):
            submit_report(
                session,
                actor=family,
                now=NOW,
                knowledge=knowledge,
                patient_id=patient,
                idempotency_key=key,
                check_in=FEVER_AND_CONFUSION,
            )

    assert _count(sessions, Alert) == 2
    assert _count(sessions, Notification) == 2 * 3  # three contacts by email


def test_second_check_in_of_a_transaction_sees_the_first_as_earlier(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    _, family, patient = _clinic(sessions, minutes=None)
    mild = CheckInRequest(symptoms={"headache": 1})
    with transaction(sessions) as session:
        answers = [
            submit_report(
                session,
                actor=family,
                now=NOW,
                knowledge=knowledge,
                patient_id=patient,
                idempotency_key=key,
                check_in=mild,
            ).report["triage"]
            for key in ("first", "second")
        ]

    assert answers[0] != answers[1]  # the second compares with the first (persisting)


PRESCRIPTION = SimpleNamespace(
    regimen_id="mrd-positive",
    start=date(2026, 12, 1),
    start_time=time(9, 0),
    bag_hours=96,
    cycles=1,
    cycle_starts={},
    weight_kg=Decimal(70),
    height_cm=None,
    age_years=Decimal(40),
)


def test_plan_for_keeps_plans_by_their_inputs(knowledge: Knowledge) -> None:
    zone = ZoneInfo("Europe/Paris")
    plan = plan_for(knowledge, PRESCRIPTION, zone)

    assert plan_for(knowledge, SimpleNamespace(**vars(PRESCRIPTION)), zone) is plan
    heavier = SimpleNamespace(**{**vars(PRESCRIPTION), "weight_kg": Decimal(71)})
    assert plan_for(knowledge, heavier, zone) is not plan
    assert plan_for(knowledge, PRESCRIPTION, ZoneInfo("UTC")) is not plan
    other_knowledge = replace(knowledge)
    assert plan_for(other_knowledge, PRESCRIPTION, zone) is not plan
    assert plan_for(other_knowledge, PRESCRIPTION, zone) == plan
