"""Prepared statements on the driver (the group-commit writer's sessions) give what
SQLAlchemy's own execution gives, on every dialect."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, event, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import PASSWORD, add_clinic_with_family

from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services import accounts, reports
from blina.services.accounts import log_in
from blina.services.audit_checks import verify_chain
from blina.services.courses import CourseRequest, start_course
from blina.services.login_limits import LoginLimits
from blina.services.reports import CheckInRequest, submit_report
from blina.store.prepared import Prepared, run_on_the_driver
from blina.store.session import transaction
from blina.store.tables import Alert, AuditEvent, Clinic, table_of

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)


def _patient_with_history(sessions: sessionmaker[Session], knowledge: Knowledge) -> tuple[int, str]:
    """A patient on a course (dates, a time, decimals, JSON), two check-ins, and a
    caregiver's bearer token."""
    with transaction(sessions) as session:
        world = add_clinic_with_family(session, now=NOW, staff_role="physician")
        start_course(
            session,
            actor=world.staff,
            now=NOW,
            knowledge=knowledge,
            patient_id=world.patient_id,
            request=CourseRequest(
                confirm_past_start=True,
                regimen_id="mrd-positive",
                start=date(2026, 12, 8),
                weight_kg=Decimal("70.5"),
                age_years=Decimal(40),
                bag_hours=96,
                cycles=2,
            ),
        )
    settings = Settings()
    token = log_in(
        sessions,
        limits=LoginLimits(settings),
        settings=settings,
        now=NOW,
        username="family",
        password=PASSWORD,
        kind="bearer",
        source="test",
    ).token
    assert token is not None
    with transaction(sessions) as session:
        run_on_the_driver(session)  # as the group-commit writer writes them
        for minutes, key in ((60, "first"), (30, "second")):
            submit_report(
                session,
                actor=world.staff,
                now=NOW - timedelta(minutes=minutes),
                knowledge=knowledge,
                patient_id=world.patient_id,
                idempotency_key=key,
                check_in=CheckInRequest(symptoms={"headache": 1}, temperature=Decimal("37.2")),
            )
        return world.patient_id, token


# Each query's parameters, from the patient's id and the caregiver's token.
QUERIES: list[tuple[Prepared, Callable[[int, str], dict[str, object]]]] = [
    (reports._PATIENT_NOW, lambda patient, token: {"patient_id": patient}),
    (
        reports._EARLIER,
        lambda patient, token: {
            "patient_id": patient,
            "since": NOW - timedelta(days=7),
            "count": 3,
        },
    ),
    (accounts._SIGNED_IN, lambda patient, token: {"digest": accounts._digest(token)}),
]


@pytest.mark.parametrize(
    ("prepared", "params_for"), QUERIES, ids=["patient now", "earlier check-ins", "signed in"]
)
def test_a_prepared_query_reads_what_sqlalchemy_reads(
    sessions: sessionmaker[Session],
    knowledge: Knowledge,
    prepared: Prepared,
    params_for: Callable[[int, str], dict[str, object]],
) -> None:
    values = params_for(*_patient_with_history(sessions, knowledge))
    with transaction(sessions) as session:
        run_on_the_driver(session)
        result = session.execute(prepared.statement, values)
        keys = tuple(result.keys())
        expected = [tuple(row) for row in result]
        rows = prepared.all(session, values)

    assert expected  # the comparison is about real rows
    assert [tuple(row) for row in rows] == expected
    assert [type(v) for v in rows[0]] == [type(v) for v in expected[0]]
    assert rows[0]._fields == keys


def test_first_and_scalar_answer_none_when_nothing_matches(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        run_on_the_driver(session)
        assert accounts._SIGNED_IN.first(session, {"digest": "none"}) is None
        assert accounts._SIGNED_IN.scalar(session, {"digest": "none"}) is None


def test_a_prepared_insert_stores_what_the_orm_reads_back(
    sessions: sessionmaker[Session],
) -> None:
    clinics = table_of(Clinic)
    add = Prepared(
        insert(clinics).returning(clinics.c.id), columns=["name", "zone", "phone", "created_at"]
    )
    paris = datetime(2026, 12, 10, 10, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    with transaction(sessions) as session:
        run_on_the_driver(session)
        clinic_id = add.scalar(
            session, {"name": "north", "zone": "UTC", "phone": "", "created_at": paris}
        )
    with sessions() as session:
        stored = session.get(Clinic, clinic_id)
        assert stored is not None
        assert (stored.name, stored.created_at) == ("north", paris)
        assert stored.created_at.tzinfo == UTC


def test_a_prepared_update_changes_what_it_names_and_nothing_else(
    sessions: sessionmaker[Session],
) -> None:
    clinics = table_of(Clinic)
    rename = Prepared(
        update(clinics)
        .where(clinics.c.name == bindparam("old"))
        .values(name=bindparam("new"), created_at=bindparam("at"))
    )
    paris = datetime(2026, 12, 10, 10, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    with transaction(sessions) as session:
        run_on_the_driver(session)
        session.add_all(
            [Clinic(name=name, zone="UTC", phone="", created_at=NOW) for name in ("a", "b")]
        )
    with transaction(sessions) as session:
        run_on_the_driver(session)
        rename.run(session, {"old": "a", "new": "c", "at": paris})
    with sessions() as session:
        stored = session.execute(select(Clinic.name, Clinic.created_at).order_by(Clinic.id)).all()
        assert [tuple(row) for row in stored] == [("c", paris), ("b", NOW)]


def test_a_session_s_next_transaction_runs_its_statements_in_that_transaction(
    sessions: sessionmaker[Session],
) -> None:
    # Each transaction's connection is looked up again: a write through the previous
    # one would escape the rollback below.
    clinics = table_of(Clinic)
    add = Prepared(insert(clinics), columns=["name", "zone", "phone", "created_at"])
    count = Prepared(select(func.count()).select_from(clinics))
    with sessions() as session:
        run_on_the_driver(session)
        with session.begin():
            assert count.scalar(session, {}) == 0
        with session.begin():
            add.run(session, {"name": "kept", "zone": "UTC", "phone": "", "created_at": NOW})
        session.begin()
        add.run(session, {"name": "undone", "zone": "UTC", "phone": "", "created_at": NOW})
        session.rollback()
        with session.begin():
            assert count.scalar(session, {}) == 1
    with sessions() as session:
        assert session.execute(select(Clinic.name)).scalars().all() == ["kept"]


def test_many_writes_every_row_and_the_chain_stays_whole(
    sessions: sessionmaker[Session], knowledge: Knowledge
) -> None:
    # The audit trail appends through Prepared.many at each commit.
    _patient_with_history(sessions, knowledge)
    with sessions() as session:
        events = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert any(e.after and "level" in e.after for e in events)  # JSON read back as dicts
        assert verify_chain(session).ok


def test_an_object_added_but_not_flushed_is_seen_by_a_prepared_query(
    sessions: sessionmaker[Session],
) -> None:
    clinics = table_of(Clinic)
    named = Prepared(select(clinics.c.name).where(clinics.c.name == bindparam("name")))
    with transaction(sessions) as session:
        run_on_the_driver(session)
        session.add(Clinic(name="pending", zone="UTC", created_at=NOW))
        assert named.scalar(session, {"name": "pending"}) == "pending"


def test_statements_a_prepared_statement_cannot_run_are_refused_at_first_use(
    sessions: sessionmaker[Session],
) -> None:
    alerts = table_of(Alert)
    clinics = table_of(Clinic)
    # escalation_step has a default computed in Python: the caller must give it.
    without_step = Prepared(insert(alerts), columns=["patient_id", "level", "reason"])
    expanding = Prepared(select(clinics.c.id).where(clinics.c.name.in_(bindparam("names"))))
    with transaction(sessions) as session:
        run_on_the_driver(session)
        with pytest.raises(ValueError, match="every column"):
            without_step.many(session, [{"patient_id": 1, "level": "x", "reason": "y"}])
        with pytest.raises(ValueError, match="expand IN"):
            expanding.all(session, {"names": ["a"]})


def test_off_the_driver_a_prepared_statement_runs_through_sqlalchemy(
    sessions: sessionmaker[Session],
) -> None:
    """Outside the group-commit writer the statement is SQLAlchemy's like any other: seen
    by its events (and so its logging), with the same rows."""
    clinics = table_of(Clinic)
    named = Prepared(select(clinics.c.name).where(clinics.c.name == bindparam("name")))
    seen: list[str] = []

    def executed(_c: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    engine = sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", executed)
    try:
        with transaction(sessions) as session:
            session.add(Clinic(name="pending", zone="UTC", created_at=NOW))
            assert named.scalar(session, {"name": "pending"}) == "pending"
            before_the_driver = len(seen)
            run_on_the_driver(session)
            assert named.scalar(session, {"name": "pending"}) == "pending"
    finally:
        event.remove(engine, "before_cursor_execute", executed)

    assert any("FROM clinic" in statement for statement in seen[:before_the_driver])
    assert not any("FROM clinic" in statement for statement in seen[before_the_driver:])
