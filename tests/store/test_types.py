"""Exact column types round-trip on every engine (SQLite always, PostgreSQL in CI)."""

import sqlite3
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from blina.store.session import read_only, transaction
from blina.store.tables import Clinic, Course, Patient, User
from blina.store.types import UTCDateTime


def _course(session: Session, **overrides: object) -> Course:
    clinic = Clinic(name="c", zone="UTC", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    session.add(clinic)
    session.flush()
    patient = Patient(
        clinic_id=clinic.id, code="p", display_name="p", created_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    user = User(
        clinic_id=clinic.id,
        username=f"u{clinic.id}",
        display_name="u",
        role="physician",
        password_hash="x",
        failed_logins=0,
        active=True,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    session.add_all([patient, user])
    session.flush()
    values: dict[str, object] = {
        "patient_id": patient.id,
        "regimen_id": "mrd-positive",
        "start": date(2026, 12, 1),
        "start_time": time(9, 0),
        "bag_hours": 24,
        "cycles": 1,
        "cycle_starts": {},
        "weight_kg": Decimal("70"),
        "height_cm": None,
        "age_years": Decimal("40"),
        "status": "active",
        "prescribed_by": user.id,
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    values.update(overrides)
    course = Course(**values)
    session.add(course)
    session.flush()
    return course


@given(
    weight=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("350"), places=2),
    age=st.decimals(min_value=Decimal("0.08"), max_value=Decimal("120"), places=6),
)
@hypothesis_settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_exact_decimal_round_trip_keeps_every_digit(
    sessions: sessionmaker[Session], weight: Decimal, age: Decimal
) -> None:
    with sessions() as session, session.begin():
        course_id = _course(session, weight_kg=weight, age_years=age).id
    with sessions() as session:
        stored = session.get(Course, course_id)
        assert stored is not None
        assert (str(stored.weight_kg), str(stored.age_years)) == (str(weight), str(age))
    with sessions() as session, session.begin():
        session.execute(Course.__table__.delete())
        session.execute(User.__table__.delete())
        session.execute(Patient.__table__.delete())
        session.execute(Clinic.__table__.delete())


def test_utc_datetime_round_trip_returns_aware_utc(sessions: sessionmaker[Session]) -> None:
    paris_winter = timezone(timedelta(hours=1))
    written = datetime(2026, 12, 1, 1, 30, 15, 123456, tzinfo=paris_winter)
    with sessions() as session, session.begin():
        course_id = _course(session, created_at=written).id
    with sessions() as session:
        stored = session.execute(
            select(Course.created_at).where(Course.id == course_id)
        ).scalar_one()
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored == written
    assert stored.hour == 0


def test_utc_datetime_naive_value_is_refused(sessions: sessionmaker[Session]) -> None:
    with (
        sessions() as session,
        session.begin(),
        pytest.raises(StatementError, match="naive datetime"),
    ):
        _course(session, created_at=datetime(2026, 12, 1, 9, 0))  # noqa: DTZ001 (the point of the test)


def test_exact_decimal_float_is_refused(sessions: sessionmaker[Session]) -> None:
    with (
        sessions() as session,
        session.begin(),
        pytest.raises(StatementError, match="not a finite Decimal"),
    ):
        _course(session, weight_kg=70.5)


def test_engine_sqlite_has_foreign_keys_and_wal(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        assert engine.dialect.name == "postgresql"
        return
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_sqlite_writers_take_the_write_lock_at_begin_and_readers_never(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    # A writer takes SQLite's write lock at BEGIN (IMMEDIATE), so two processes never
    # both read and then fail to upgrade; a reader never holds it.
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's BEGIN modes")
    assert engine.url.database is not None
    other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
    try:
        with transaction(sessions) as session:
            session.execute(select(1))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        with read_only(sessions) as session:
            session.execute(select(1))
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()


@given(
    moment=st.datetimes(
        min_value=datetime(1900, 1, 1),  # noqa: DTZ001 (hypothesis bounds are naive)
        max_value=datetime(2200, 12, 31),  # noqa: DTZ001
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-9, minutes=-30))]
        ),
    )
)
def test_utc_datetime_sqlite_text_is_sqlalchemys_own(moment: datetime) -> None:
    # The same text as SQLAlchemy's DATETIME writes on SQLite, so rows written before
    # and after compare and sort as one.
    dialect = sqlite.dialect()
    ours = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    theirs = sqlite.DATETIME().bind_processor(dialect)
    assert ours is not None
    assert theirs is not None
    assert ours(moment) == theirs(moment.astimezone(UTC).replace(tzinfo=None))
    assert ours(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        ours(moment.replace(tzinfo=None))
    # Read back as SQLAlchemy reads it, then made aware in UTC.
    read = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    their_read = sqlite.DATETIME().result_processor(dialect, None)
    assert read is not None
    assert their_read is not None
    text = ours(moment)
    assert read(text) == their_read(text).replace(tzinfo=UTC) == moment.astimezone(UTC)
    assert read(text).tzinfo is UTC
    assert read(None) is None


@given(
    value=st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**53), 2**53)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=12,
    )
)
@hypothesis_settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_json_column_round_trips_every_json_value(
    sessions: sessionmaker[Session], value: object
) -> None:
    with sessions() as session, session.begin():
        course_id = _course(session, cycle_starts={"value": value}).id
    with sessions() as session:
        stored = session.get(Course, course_id)
        assert stored is not None
        assert stored.cycle_starts == {"value": value}
    with sessions() as session, session.begin():
        session.execute(Course.__table__.delete())
        session.execute(User.__table__.delete())
        session.execute(Patient.__table__.delete())
        session.execute(Clinic.__table__.delete())
