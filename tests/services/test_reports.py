"""Check-ins as a group commit writes them: several in one transaction behave as if
they had come one at a time."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from blina.knowledge import Knowledge
from blina.services.courses import plan_for
from blina.services.errors import CheckInsThrottled
from blina.services.reports import (
    CHECK_INS_PER_HOUR,
    CheckInRequest,
    KeyReused,
    request_hash,
    submit_report,
)
from blina.store.session import transaction
from blina.store.tables import Alert, Notification, SymptomReport
from tests.services.test_alerts import FEVER_AND_CONFUSION, NOW, _clinic


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


def test_a_second_alerting_check_in_of_a_transaction_joins_the_first_alert(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    """Two alerting check-ins of one patient in one group commit: one alert, counting
    both, the second its newest; the chain was told once (no times: all at once)."""
    _, family, patient = _clinic(sessions, minutes=None)
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

    with sessions() as session:
        [alert] = session.execute(select(Alert)).scalars().all()
        newest = session.execute(select(func.max(SymptomReport.id))).scalar_one()
    assert (alert.check_ins, alert.latest_report_id) == (2, newest)
    assert _count(sessions, Notification) == 3  # three contacts by email, once


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


def test_a_report_kept_before_hashes_is_not_answered_again_under_its_key(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    """A report stored before the request's hash was kept (None) cannot show that a retry
    is the same check-in: the key is refused, the safe side."""
    _, family, patient = _clinic(sessions, minutes=None)

    def send() -> object:
        with transaction(sessions) as session:
            return submit_report(
                session,
                actor=family,
                now=NOW,
                knowledge=knowledge,
                patient_id=patient,
                idempotency_key="before-hashes",
                check_in=FEVER_AND_CONFUSION,
            )

    send()
    with transaction(sessions) as session:
        session.execute(update(SymptomReport).values(request_sha256=None))

    with pytest.raises(KeyReused, match="a new key for a new check-in"):
        send()
    assert _count(sessions, SymptomReport) == 1


CHECK_INS = st.builds(
    CheckInRequest,
    symptoms=st.dictionaries(
        st.sampled_from(["fever", "headache", "rash"]), st.none() | st.integers(0, 4)
    ),
    temperature=st.none() | st.decimals(places=1, min_value=34, max_value=43),
    temperature_unit=st.sampled_from(["C", "F"]),
    note=st.text(max_size=5),
    observed_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    interferes=st.dictionaries(st.sampled_from(["headache", "rash"]), st.booleans()),
)


def _same_request(a: CheckInRequest, b: CheckInRequest) -> bool:
    return (a.symptoms, a.temperature, a.temperature_unit, a.note, a.observed_at) == (
        b.symptoms,
        b.temperature,
        b.temperature_unit,
        b.note,
        b.observed_at,
    ) and a.interferes == b.interferes


@given(CHECK_INS, CHECK_INS)
def test_two_check_ins_hash_alike_exactly_when_they_are_the_same(
    a: CheckInRequest, b: CheckInRequest
) -> None:
    assert (request_hash(a) == request_hash(b)) == _same_request(a, b)


@given(CHECK_INS)
def test_a_check_in_hashes_alike_however_its_numbers_and_instant_are_written(
    check_in: CheckInRequest,
) -> None:
    """38.0 and 38 are one temperature; 08:00 UTC and 09:00 in Paris one instant; the order
    of the answers does not matter."""
    written_otherwise = replace(
        check_in,
        temperature=None
        if check_in.temperature is None
        else check_in.temperature.quantize(Decimal("0.001")),
        observed_at=None
        if check_in.observed_at is None
        else check_in.observed_at.astimezone(ZoneInfo("Europe/Paris")),
        symptoms=dict(reversed(list(check_in.symptoms.items()))),
    )
    assert request_hash(written_otherwise) == request_hash(check_in)


def test_past_the_hourly_limit_a_calm_check_in_is_refused_an_alerting_one_stored(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    _, family, patient = _clinic(sessions, minutes=None)
    calm = CheckInRequest(symptoms={"headache": 1})

    def send(key: str, check_in: CheckInRequest, at: datetime = NOW) -> object:
        with transaction(sessions) as session:
            return submit_report(
                session,
                actor=family,
                now=at,
                knowledge=knowledge,
                patient_id=patient,
                idempotency_key=key,
                check_in=check_in,
            )

    for n in range(CHECK_INS_PER_HOUR):
        send(f"calm-{n}", calm, NOW + timedelta(seconds=n))
    later = NOW + timedelta(minutes=10)

    with pytest.raises(CheckInsThrottled, match="not stored") as refused:
        send("one-more", calm, later)
    assert refused.value.retry_after == 50 * 60 + 1
    assert send("seizure", CheckInRequest(symptoms={"seizure": None}), later) is not None
    replayed = send("calm-3", calm, later)
    assert replayed.replayed  # type: ignore[attr-defined]
    assert _count(sessions, SymptomReport) == CHECK_INS_PER_HOUR + 1
    # An hour after the first of them, a calm check-in is stored again.
    send("next-hour", calm, NOW + timedelta(hours=1, seconds=1))
    assert _count(sessions, SymptomReport) == CHECK_INS_PER_HOUR + 2
