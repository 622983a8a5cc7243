"""Check-ins through the seam (services.check_ins): every test runs against both writers,
the direct one (one transaction per check-in, the reference) and the group-commit one,
and expects the same answers."""

import asyncio
from collections.abc import Coroutine
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from blina.services.accounts import create_user, to_actor
from blina.services.actors import Actor
from blina.services.audit_checks import verify_chain
from blina.services.check_ins import CheckInWriter, PostedCheckIn
from blina.services.clock import FixedClock
from blina.services.errors import NotAuthenticated, NotFound
from blina.services.patients import create_patient
from blina.services.reports import CheckInRequest, KeyReused, SubmittedReport
from blina.store.session import transaction
from blina.store.tables import Alert, AuditEvent, Clinic, SymptomReport
from tests.clinic_factories import sign_in
from tests.factories import PASSWORD, add_clinic_with_family
from tests.services.test_alerts import FEVER_AND_CONFUSION

MILD = CheckInRequest(symptoms={"headache": 1})
T = TypeVar("T")


class Family:
    """A clinic with a patient, the patient's caregiver signed in (``token``) and a nurse
    (``nurse``), and a second clinic's patient (``stranger``)."""

    def __init__(self, sessions: sessionmaker[Session], now: datetime) -> None:
        with transaction(sessions) as session:
            world = add_clinic_with_family(session, now=now, staff_role="nurse")
        with transaction(sessions) as session:
            other = Clinic(name="other", zone="UTC", created_at=now)
            session.add(other)
            session.flush()
            doctor = create_user(
                session,
                actor=None,
                now=now,
                clinic_id=other.id,
                username="other-doctor",
                display_name="d",
                role="physician",
                password=PASSWORD,
            )
            stranger = create_patient(
                session, actor=to_actor(doctor), now=now, code="P2", display_name="q"
            )
        self.patient = world.patient_id
        self.family = world.family
        self.stranger = stranger.id
        self.token = _token(sessions, now, "family")
        self.nurse = _token(sessions, now, "nurse")


def _token(sessions: sessionmaker[Session], now: datetime, username: str) -> str:
    outcome = sign_in(sessions, username, now=now)
    assert outcome.token is not None
    return outcome.token


@pytest.fixture
def family(sessions: sessionmaker[Session], clock: FixedClock) -> Family:
    return Family(sessions, clock.now())


def _posted(
    token: str, patient: int, key: str, check_in: CheckInRequest = MILD, **more: Any
) -> PostedCheckIn:
    return PostedCheckIn(
        token=token, patient_id=patient, idempotency_key=key, check_in=check_in, **more
    )


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


async def _all_at_once(
    writer: CheckInWriter, posted: list[PostedCheckIn]
) -> list[SubmittedReport | BaseException]:
    """The check-ins sent together (the group-commit writer takes them in few batches)."""
    return await asyncio.gather(*(writer.write(p) for p in posted), return_exceptions=True)


def _count(sessions: sessionmaker[Session], table: type) -> int:
    with sessions() as session:
        return session.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_check_in_is_signed_in_stored_triaged_and_audited(
    check_in_writer: CheckInWriter, family: Family, sessions: sessionmaker[Session]
) -> None:
    seen: list[Actor] = []
    submitted = _run(
        check_in_writer.write(
            _posted(family.token, family.patient, "k1", FEVER_AND_CONFUSION, signed_in=seen.append)
        )
    )

    assert seen == [family.family]
    assert not submitted.replayed
    assert submitted.report["triage"]["level"] == "call-now"
    with sessions() as session:
        stored = session.get(SymptomReport, submitted.id)
        assert stored is not None
        assert stored.report == submitted.report
        alert = session.execute(select(Alert)).scalar_one()
        assert alert.id == submitted.alert_id
        actions = session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars()
        assert list(actions)[-2:] == ["alert.raise", "symptom-report.submit"]
        assert verify_chain(session).ok


def test_the_same_check_in_again_is_answered_as_before_another_under_its_key_refused(
    check_in_writer: CheckInWriter, family: Family, sessions: sessionmaker[Session]
) -> None:
    first = _run(check_in_writer.write(_posted(family.token, family.patient, "retry")))
    again = _run(check_in_writer.write(_posted(family.token, family.patient, "retry")))
    with pytest.raises(KeyReused):
        _run(
            check_in_writer.write(
                _posted(family.token, family.patient, "retry", FEVER_AND_CONFUSION)
            )
        )

    assert (again.id, again.replayed, again.report) == (first.id, True, first.report)
    assert _count(sessions, SymptomReport) == 1
    assert _count(sessions, Alert) == 0


# --- moved down from the API's tests (test_check_ins) --------------------------------------


def test_a_check_in_keeps_its_temperature_as_entered_and_says_what_to_do_now(
    check_in_writer: CheckInWriter, family: Family
) -> None:
    posted = _posted(family.token, family.patient, "phone-123", FEVER_AND_CONFUSION)
    feverish = CheckInRequest(
        symptoms={"fever": None, "chills": 1}, temperature=Decimal("38.6"), note="after lunch"
    )

    alerting = _run(check_in_writer.write(posted))
    exact = _run(check_in_writer.write(_posted(family.token, family.patient, "t", feverish)))

    assert exact.report["temperature"] == "38.6"  # exact, as entered
    assert alerting.report["triage"]["alert"] is True
    assert alerting.report["triage"]["instructions"]["do_now"]


def test_a_key_reused_with_another_check_in_is_refused_naming_it_and_a_new_key_is_triaged(
    check_in_writer: CheckInWriter, family: Family, sessions: sessionmaker[Session]
) -> None:
    """The key first came with a calm check-in; sent again with a fever of 40.5 and a
    seizure it is refused naming the key, never answered with the first triage, and the
    same check-in under a new key is stored and raises its alert."""
    calm = CheckInRequest(symptoms={}, temperature=Decimal(37))
    emergency = CheckInRequest(symptoms={"seizure": None}, temperature=Decimal("40.5"))
    first = _run(check_in_writer.write(_posted(family.token, family.patient, "phone-7", calm)))

    with pytest.raises(KeyReused) as reused:
        _run(check_in_writer.write(_posted(family.token, family.patient, "phone-7", emergency)))
    fresh = _run(check_in_writer.write(_posted(family.token, family.patient, "phone-8", emergency)))

    assert first.report["triage"]["level"] == "routine"
    assert (reused.value.field, reused.value.value) == ("Idempotency-Key", "phone-7")
    assert "a new key for a new check-in" in str(reused.value)
    assert fresh.report["triage"]["level"] == "emergency"
    assert fresh.alert_id is not None


def test_a_key_belongs_to_its_sender(check_in_writer: CheckInWriter, family: Family) -> None:
    """A nurse sending the patient's key gets a report of her own, not the family's."""
    theirs = _run(check_in_writer.write(_posted(family.token, family.patient, "shared")))
    hers = _run(check_in_writer.write(_posted(family.nurse, family.patient, "shared")))

    assert hers.id != theirs.id
    assert hers.replayed is False


def test_a_sender_not_signed_in_or_not_the_patients_is_refused_and_nothing_is_kept(
    check_in_writer: CheckInWriter, family: Family, sessions: sessionmaker[Session]
) -> None:
    events = _count(sessions, AuditEvent)
    with pytest.raises(NotAuthenticated):
        _run(check_in_writer.write(_posted("not a token", family.patient, "k")))
    with pytest.raises(NotFound):  # another clinic's patient: as if there were none
        _run(check_in_writer.write(_posted(family.nurse, family.stranger, "k")))

    assert _count(sessions, SymptomReport) == 0
    assert _count(sessions, AuditEvent) == events


def test_check_ins_sent_together_are_answered_as_if_they_came_one_at_a_time(
    check_in_writer: CheckInWriter, family: Family, sessions: sessionmaker[Session]
) -> None:
    """Refusals among them (a bad token, another clinic's patient, an unknown symptom, a
    reused key) fail alone: every other check-in is stored once, alerts join, and the
    chain holds."""
    _run(check_in_writer.write(_posted(family.token, family.patient, "taken")))
    unknown = CheckInRequest(symptoms={"purple-spots-on-moon": 1})
    posted = [
        _posted(family.token, family.patient, "a", FEVER_AND_CONFUSION),
        _posted("not a token", family.patient, "b"),
        _posted(family.token, family.patient, "c"),
        _posted(family.nurse, family.stranger, "d"),
        _posted(family.token, family.patient, "e", unknown),
        _posted(family.token, family.patient, "taken", FEVER_AND_CONFUSION),
        _posted(family.nurse, family.patient, "f", FEVER_AND_CONFUSION),
    ]

    answers = _run(_all_at_once(check_in_writer, posted))

    refused = [type(a).__name__ for a in answers if isinstance(a, BaseException)]
    assert refused == ["NotAuthenticated", "NotFound", "InvalidInput", "KeyReused"]
    stored = [a for a in answers if isinstance(a, SubmittedReport)]
    assert [a.replayed for a in stored] == [False, False, False]
    assert _count(sessions, SymptomReport) == 4
    with sessions() as session:
        alert = session.execute(select(Alert)).scalar_one()  # the second alert joined it
        assert alert.check_ins == 2
        assert verify_chain(session).ok
        submits = session.execute(
            select(func.count()).where(AuditEvent.action == "symptom-report.submit")
        ).scalar_one()
    assert submits == 4


def test_alerting_check_ins_of_one_patient_at_once_are_all_kept(
    check_in_writer: CheckInWriter, family: Family, sessions: sessionmaker[Session]
) -> None:
    """Each one's report holds a share of the patient's row (its foreign key) while it asks
    for the row's lock to open or join the alert: on PostgreSQL two of them waited for
    each other, and one was lost to the deadlock detector."""
    for round_ in range(10):
        posted = [
            _posted(family.token, family.patient, f"r{round_}-{n}", FEVER_AND_CONFUSION)
            for n in range(6)
        ]
        answers = _run(_all_at_once(check_in_writer, posted))
        assert [type(a).__name__ for a in answers] == ["SubmittedReport"] * 6
    with sessions() as session:
        alert = session.execute(select(Alert)).scalar_one()
        assert alert.check_ins == 60
