"""Migrations go from an empty database to head and back down, on both engines."""

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, func, insert, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from blina.store import migrate
from blina.store.session import make_engine
from blina.store.tables import Base, SymptomReport


@pytest.fixture(
    params=["sqlite", "postgresql"] if os.environ.get("BLINA_TEST_PG_URL") else ["sqlite"]
)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite+pysqlite:///{tmp_path / 'empty.sqlite3'}")
        yield engine
        engine.dispose()
        return
    server = make_engine(os.environ["BLINA_TEST_PG_URL"]).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    name = f"blina_migrations_{uuid.uuid4().hex[:8]}"
    with server.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    engine = make_engine(
        make_url(os.environ["BLINA_TEST_PG_URL"]).set(database=name).render_as_string(False)
    )
    yield engine
    engine.dispose()
    with server.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE {name}")
    server.dispose()


def test_upgrade_creates_every_table_and_downgrade_removes_them(empty_engine: Engine) -> None:
    assert not migrate.is_current(empty_engine)

    migrate.upgrade(empty_engine)

    assert migrate.is_current(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert tables >= set(Base.metadata.tables)

    migrate.downgrade(empty_engine, "base")

    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    assert not migrate.is_current(empty_engine)


def test_upgrade_matches_the_models(empty_engine: Engine) -> None:
    """No difference between the migrated schema and the SQLAlchemy models."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    migrate.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_0003_adds_calendar_feeds_and_the_clinic_audit_index_and_removes_them(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, "0002")
    assert "calendar_feed" not in inspect(empty_engine).get_table_names()

    migrate.upgrade(empty_engine, "0003")

    schema = inspect(empty_engine)
    columns = {c["name"]: c for c in schema.get_columns("calendar_feed")}
    assert set(columns) == {
        "id",
        "patient_id",
        "token_sha256",
        "label",
        "created_by",
        "created_at",
        "revoked_by",
        "revoked_at",
    }
    assert not columns["token_sha256"]["nullable"]
    assert columns["revoked_at"]["nullable"]
    assert [u["column_names"] for u in schema.get_unique_constraints("calendar_feed")] == [
        ["token_sha256"]
    ]
    audit_indexes = {i["name"]: i["column_names"] for i in schema.get_indexes("audit_event")}
    assert audit_indexes["ix_audit_clinic_seq"] == ["clinic_id", "seq"]

    migrate.downgrade(empty_engine, "0002")

    schema = inspect(empty_engine)
    assert "calendar_feed" not in schema.get_table_names()
    assert "ix_audit_clinic_seq" not in {i["name"] for i in schema.get_indexes("audit_event")}


def test_0004_adds_the_notification_claim_time_and_removes_it(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0004")
    columns = {c["name"]: c for c in inspect(empty_engine).get_columns("notification")}
    assert columns["claimed_at"]["nullable"]

    migrate.downgrade(empty_engine, "0003")

    assert "claimed_at" not in {
        c["name"] for c in inspect(empty_engine).get_columns("notification")
    }


def test_0005_drops_the_audit_index_on_clinic_alone_and_restores_it(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0005")
    indexes = {
        i["name"]: i["column_names"] for i in inspect(empty_engine).get_indexes("audit_event")
    }
    assert "ix_audit_event_clinic_id" not in indexes
    assert indexes["ix_audit_clinic_seq"] == ["clinic_id", "seq"]

    migrate.downgrade(empty_engine, "0004")

    indexes = {
        i["name"]: i["column_names"] for i in inspect(empty_engine).get_indexes("audit_event")
    }
    assert indexes["ix_audit_event_clinic_id"] == ["clinic_id"]


def test_0006_fills_the_look_back_columns_from_each_stored_report(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0005")
    tables = MetaData()
    tables.reflect(empty_engine, only=["clinic", "app_user", "patient", "symptom_report"])
    submitted = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    reports = [
        # The time as the phone gave it, with its offset; stored from now on in UTC.
        {"observed_at": "2026-12-02T08:30:00+01:00", "symptoms": {"headache": 2, "rash": None}},
        # Without a time or answers: the time it was submitted, and no answers.
        {"note": "an early report"},
    ]
    with empty_engine.begin() as connection:
        connection.execute(
            insert(tables.tables["clinic"]),
            {"id": 1, "name": "c", "zone": "UTC", "phone": "", "created_at": submitted},
        )
        connection.execute(
            insert(tables.tables["app_user"]),
            {
                "id": 1,
                "clinic_id": 1,
                "username": "u",
                "display_name": "u",
                "role": "caregiver",
                "password_hash": "x",
                "failed_logins": 0,
                "active": True,
                "created_at": submitted,
            },
        )
        connection.execute(
            insert(tables.tables["patient"]),
            {"id": 1, "clinic_id": 1, "code": "p", "display_name": "p", "created_at": submitted},
        )
        connection.execute(
            insert(tables.tables["symptom_report"]),
            [
                {
                    "patient_id": 1,
                    "submitted_by": 1,
                    "submitted_at": submitted,
                    "idempotency_key": f"k{number}",
                    "report": report,
                }
                for number, report in enumerate(reports)
            ],
        )

    migrate.upgrade(empty_engine, "0006")

    columns = {c["name"]: c for c in inspect(empty_engine).get_columns("symptom_report")}
    assert not columns["observed_at"]["nullable"]
    assert not columns["symptoms"]["nullable"]
    with Session(empty_engine) as session:
        stored = session.execute(
            select(
                SymptomReport.observed_at, SymptomReport.symptoms, SymptomReport.report
            ).order_by(SymptomReport.id)
        ).all()
    assert [(row.observed_at, row.symptoms, row.report) for row in stored] == [
        (datetime(2026, 12, 2, 7, 30, tzinfo=UTC), {"headache": 2, "rash": None}, reports[0]),
        (submitted, {}, reports[1]),
    ]

    migrate.downgrade(empty_engine, "0005")

    columns = {c["name"]: c for c in inspect(empty_engine).get_columns("symptom_report")}
    assert "observed_at" not in columns
    assert "symptoms" not in columns
    with empty_engine.connect() as connection:
        assert (
            connection.execute(
                select(func.count()).select_from(tables.tables["symptom_report"])
            ).scalar()
            == 2
        )


def test_0009_keys_a_live_bag_by_its_slot_start_and_dose_and_adds_the_plan_end(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, "0009")
    schema = inspect(empty_engine)
    indexes = {i["name"]: i for i in schema.get_indexes("bag_preparation")}
    assert indexes["ux_bag_live_slot"]["column_names"] == [
        "course_id",
        "slot_start",
        "dose_mcg_per_day",
    ]
    assert indexes["ux_bag_live_slot"]["unique"]
    assert {c["name"]: c for c in schema.get_columns("course")}["plan_end"]["nullable"]

    migrate.downgrade(empty_engine, "0008")

    schema = inspect(empty_engine)
    indexes = {i["name"]: i for i in schema.get_indexes("bag_preparation")}
    assert indexes["ux_bag_live_slot"]["column_names"] == ["course_id", "slot_start"]
    assert "plan_end" not in {c["name"] for c in schema.get_columns("course")}


def test_0010_scopes_a_check_in_key_by_its_sender_and_keeps_the_request_hash(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, "0010")
    schema = inspect(empty_engine)
    keys = {tuple(u["column_names"]) for u in schema.get_unique_constraints("symptom_report")}
    assert ("patient_id", "submitted_by", "idempotency_key") in keys
    assert ("patient_id", "idempotency_key") not in keys
    assert {c["name"]: c for c in schema.get_columns("symptom_report")}["request_sha256"][
        "nullable"
    ]

    migrate.downgrade(empty_engine, "0009")

    schema = inspect(empty_engine)
    keys = {tuple(u["column_names"]) for u in schema.get_unique_constraints("symptom_report")}
    assert keys == {("patient_id", "idempotency_key")}
    assert "request_sha256" not in {c["name"] for c in schema.get_columns("symptom_report")}


def test_0011_keeps_each_notification_s_contact_as_a_copy_and_brings_times_into_range(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, "0010")
    tables = MetaData()
    tables.reflect(empty_engine)
    at = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    def add(table: str, *rows: dict[str, object]) -> None:
        with empty_engine.begin() as connection:
            connection.execute(insert(tables.tables[table]), list(rows))

    add("clinic", {"id": 1, "name": "c", "zone": "UTC", "phone": "", "created_at": at})
    add("patient", {"id": 1, "clinic_id": 1, "code": "p", "display_name": "p", "created_at": at})
    add(
        "alert",
        {"id": 1, "patient_id": 1, "level": "call-now", "reason": "r", "status": "open"}
        | {"created_at": at, "escalation_step": 0},
    )
    add(
        "clinic_contact",
        {"id": 7, "clinic_id": 1, "position": 1, "name": "on-call nurse", "email": "n@c.org"},
        {"id": 8, "clinic_id": 1, "position": 2, "name": "haematologist", "email": "h@c.org"},
    )
    add(
        "notification",
        *(
            {"alert_id": 1, "contact_id": contact, "channel": "email", "target": target}
            | {"subject": "s", "body": "b", "status": "sent", "attempts": 1, "created_at": at}
            for contact, target in ((7, "n@c.org"), (8, "h@c.org"))
        ),
    )
    add(
        "alert_policy",
        *(
            {"clinic_id": 1, "level": level, "minutes": minutes}
            for level, minutes in (("emergency", 0), ("call-now", -5), ("same-day", 30))
        ),
        {"clinic_id": 1, "level": "routine", "minutes": 100_000},
    )

    migrate.upgrade(empty_engine, "0011")

    columns = {c["name"]: c for c in inspect(empty_engine).get_columns("notification")}
    assert "contact_id" not in columns
    assert not columns["contact_name"]["nullable"]
    assert columns["next_attempt_at"]["nullable"]
    foreign_keys = inspect(empty_engine).get_foreign_keys("notification")
    assert [fk["referred_table"] for fk in foreign_keys] == ["alert"]
    with empty_engine.connect() as connection:
        names = connection.exec_driver_sql(
            "SELECT contact_name, target FROM notification ORDER BY id"
        ).all()
        minutes = dict(connection.exec_driver_sql("SELECT level, minutes FROM alert_policy").all())
    assert [tuple(row) for row in names] == [
        ("on-call nurse", "n@c.org"),
        ("haematologist", "h@c.org"),
    ]
    assert minutes == {"emergency": 1, "call-now": 1, "same-day": 30, "routine": 10080}
    with empty_engine.begin() as connection:  # the chain changes: the record stays
        connection.exec_driver_sql("DELETE FROM clinic_contact WHERE id = 8")

    # Down: the contact still in the chain is found again by its name; the one gone stops
    # the downgrade rather than lose the record of a message sent.
    with pytest.raises(IntegrityError):
        migrate.downgrade(empty_engine, "0010")
    with empty_engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM notification WHERE contact_name = 'haematologist'")
    migrate.downgrade(empty_engine, "0010")

    columns = {c["name"]: c for c in inspect(empty_engine).get_columns("notification")}
    assert {"contact_name", "next_attempt_at"}.isdisjoint(columns)
    assert not columns["contact_id"]["nullable"]
    with empty_engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT contact_id FROM notification").all() == [(7,)]


def test_0012_adds_the_audit_key_s_columns_and_the_clinic_checkpoint_and_removes_them(
    empty_engine: Engine,
) -> None:
    audited = ("app_user", "course", "bag_preparation", "toxicity_assessment", "symptom_report")
    migrate.upgrade(empty_engine, "0011")
    indexes_before = {t: _indexes(empty_engine, t) for t in audited}

    migrate.upgrade(empty_engine, "0012")

    schema = inspect(empty_engine)
    assert "audit_checkpoint" in schema.get_table_names()
    assert schema.get_pk_constraint("audit_checkpoint")["constrained_columns"] == ["clinic_id"]
    for table, column in [("audit_event", "mac"), ("audit_head", "mac_from")] + [
        (table, "audit_mac") for table in audited
    ]:
        assert {c["name"]: c for c in schema.get_columns(table)}[column]["nullable"]

    migrate.downgrade(empty_engine, "0011")

    schema = inspect(empty_engine)
    assert "audit_checkpoint" not in schema.get_table_names()
    assert "mac" not in {c["name"] for c in schema.get_columns("audit_event")}
    assert "mac_from" not in {c["name"] for c in schema.get_columns("audit_head")}
    for table in audited:
        assert "audit_mac" not in {c["name"] for c in schema.get_columns(table)}
        # the partial unique indexes (one live bag per slot, one active course) stay
        assert _indexes(empty_engine, table) == indexes_before[table]


def _indexes(engine: Engine, table: str) -> list[tuple[str | None, bool, str]]:
    """Each index's name, uniqueness and options (a partial index's WHERE) as text."""
    return [
        (index["name"], bool(index["unique"]), " ".join(map(str, options.values())))
        for index in inspect(engine).get_indexes(table)
        for options in [index.get("dialect_options", {})]
    ]


def test_0013_lets_an_alert_gather_check_ins_and_removes_it(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0013")
    columns = {c["name"]: c for c in inspect(empty_engine).get_columns("alert")}
    assert not columns["check_ins"]["nullable"]
    assert columns["latest_report_id"]["nullable"]

    migrate.downgrade(empty_engine, "0012")

    columns = {c["name"]: c for c in inspect(empty_engine).get_columns("alert")}
    assert "check_ins" not in columns
    assert "latest_report_id" not in columns


def test_0014_adds_password_reset_links_and_the_last_sign_in_and_removes_them(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, "0013")
    indexes_before = _indexes(empty_engine, "app_user")
    assert "password_reset" not in inspect(empty_engine).get_table_names()

    migrate.upgrade(empty_engine, "0014")

    schema = inspect(empty_engine)
    columns = {c["name"]: c for c in schema.get_columns("password_reset")}
    assert set(columns) == {
        "id",
        "user_id",
        "token_sha256",
        "issued_by",
        "created_at",
        "expires_at",
        "used_at",
        "revoked_at",
    }
    assert not columns["token_sha256"]["nullable"]
    assert not columns["expires_at"]["nullable"]
    assert columns["used_at"]["nullable"]
    assert columns["revoked_at"]["nullable"]
    assert [u["column_names"] for u in schema.get_unique_constraints("password_reset")] == [
        ["token_sha256"]
    ]
    indexes = {i["name"]: i["column_names"] for i in schema.get_indexes("password_reset")}
    assert indexes["ix_password_reset_user_id"] == ["user_id"]
    assert {c["name"]: c for c in schema.get_columns("app_user")}["last_login_at"]["nullable"]

    migrate.downgrade(empty_engine, "0013")

    schema = inspect(empty_engine)
    assert "password_reset" not in schema.get_table_names()
    assert "last_login_at" not in {c["name"] for c in schema.get_columns("app_user")}
    assert _indexes(empty_engine, "app_user") == indexes_before


def test_0015_keeps_a_bag_change_task_s_slot_key_and_removes_it(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0014")
    tables = MetaData()
    tables.reflect(empty_engine)
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def add(table: str, *rows: dict[str, object]) -> None:
        with empty_engine.begin() as connection:
            connection.execute(insert(tables.tables[table]), list(rows))

    add("clinic", {"id": 1, "name": "c", "zone": "UTC", "phone": "", "created_at": at})
    add(
        "app_user",
        {"id": 1, "clinic_id": 1, "username": "u", "display_name": "u", "role": "physician"}
        | {"password_hash": "x", "failed_logins": 0, "active": True, "created_at": at},
    )
    add("patient", {"id": 1, "clinic_id": 1, "code": "p", "display_name": "p", "created_at": at})
    add(
        "course",
        {"id": 1, "patient_id": 1, "regimen_id": "r", "start": at.date(), "start_time": at.time()}
        | {"bag_hours": 48, "cycles": 1, "cycle_starts": {}, "weight_kg": 70, "age_years": 40}
        | {"status": "active", "backdated": False, "version": 1, "prescribed_by": 1}
        | {"created_at": at, "updated_at": at},
    )
    task = {"course_id": 1, "clinic_id": 1, "patient_id": 1, "day": at.date(), "at": at}
    add(
        "course_task",
        task | {"id": 1, "kind": "bag-change", "text": "t", "ref": "28"},
        task | {"id": 2, "kind": "premedication", "text": "t", "ref": "dexamethasone"},
    )

    migrate.upgrade(empty_engine, "0015")

    columns = {c["name"]: c for c in inspect(empty_engine).get_columns("course_task")}
    assert columns["slot_key"]["nullable"]
    tables = MetaData()
    tables.reflect(empty_engine, only=["course_task"])
    rows = tables.tables["course_task"]
    with empty_engine.connect() as connection:
        keys = dict(connection.execute(select(rows.c.id, rows.c.slot_key)).all())
    # a bag change keeps its own time as key; other tasks have none
    assert keys[2] is None
    assert keys[1] is not None
    assert keys[1].replace(tzinfo=UTC) == at

    migrate.downgrade(empty_engine, "0014")

    assert "slot_key" not in {c["name"] for c in inspect(empty_engine).get_columns("course_task")}


def test_0016_adds_family_invitations_and_removes_them(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0015")
    assert "invitation" not in inspect(empty_engine).get_table_names()

    migrate.upgrade(empty_engine, "0016")

    schema = inspect(empty_engine)
    columns = {c["name"]: c for c in schema.get_columns("invitation")}
    assert set(columns) == {
        "id",
        "clinic_id",
        "patient_id",
        "role",
        "username",
        "display_name",
        "token_sha256",
        "issued_by",
        "created_at",
        "expires_at",
        "used_at",
        "revoked_at",
        "user_id",
    }
    for name in ("token_sha256", "expires_at", "username", "role", "patient_id"):
        assert not columns[name]["nullable"], name
    for name in ("used_at", "revoked_at", "user_id"):
        assert columns[name]["nullable"], name
    assert [u["column_names"] for u in schema.get_unique_constraints("invitation")] == [
        ["token_sha256"]
    ]
    indexes = {i["name"]: i["column_names"] for i in schema.get_indexes("invitation")}
    assert indexes["ix_invitation_clinic_username"] == ["clinic_id", "username"]
    assert indexes["ix_invitation_patient_id"] == ["patient_id"]

    migrate.downgrade(empty_engine, "0015")

    assert "invitation" not in inspect(empty_engine).get_table_names()


def test_0017_lets_an_alert_say_what_was_done_and_removes_it(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine, "0016")
    assert "what_was_done" not in {c["name"] for c in inspect(empty_engine).get_columns("alert")}

    migrate.upgrade(empty_engine, "0017")

    columns = {c["name"]: c for c in inspect(empty_engine).get_columns("alert")}
    assert columns["what_was_done"]["nullable"]
    assert getattr(columns["what_was_done"]["type"], "length", None) == 280
    indexes = {i["name"]: i["column_names"] for i in inspect(empty_engine).get_indexes("alert")}
    assert indexes["ix_alert_acknowledged_at"] == ["acknowledged_at", "id"]

    migrate.downgrade(empty_engine, "0016")

    assert "what_was_done" not in {c["name"] for c in inspect(empty_engine).get_columns("alert")}
    names = {name for name, _, _ in _indexes(empty_engine, "alert")}
    assert "ix_alert_acknowledged_at" not in names


def test_0018_keeps_a_task_s_figures_beside_its_text_and_removes_them(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, "0017")
    assert "params" not in {c["name"] for c in inspect(empty_engine).get_columns("course_task")}

    migrate.upgrade(empty_engine, "0018")

    columns = {c["name"]: c for c in inspect(empty_engine).get_columns("course_task")}
    assert columns["params"]["nullable"]  # a task written before keeps its text alone

    migrate.downgrade(empty_engine, "0017")

    assert "params" not in {c["name"] for c in inspect(empty_engine).get_columns("course_task")}


def test_0019_adds_therapy_courses_with_one_active_per_patient_and_removes_them(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, "0018")
    assert "therapy_course" not in inspect(empty_engine).get_table_names()

    migrate.upgrade(empty_engine, "0019")

    schema = inspect(empty_engine)
    columns = {c["name"]: c for c in schema.get_columns("therapy_course")}
    assert not columns["inputs"]["nullable"]
    assert columns["ended_reason"]["nullable"]
    assert columns["audit_mac"]["nullable"]
    indexes = {i["name"]: i for i in schema.get_indexes("therapy_course")}
    assert indexes["ux_therapy_course_active_patient"]["unique"]
    assert indexes["ix_therapy_course_patient_id"]["column_names"] == ["patient_id"]

    migrate.downgrade(empty_engine, "0018")

    assert "therapy_course" not in inspect(empty_engine).get_table_names()


def test_0020_gives_patients_and_users_a_phone_number_and_removes_it(
    empty_engine: Engine,
) -> None:
    migrate.upgrade(empty_engine, "0019")
    for table in ("patient", "app_user"):
        assert "phone" not in {c["name"] for c in inspect(empty_engine).get_columns(table)}

    migrate.upgrade(empty_engine, "0020")

    for table in ("patient", "app_user"):
        columns = {c["name"]: c for c in inspect(empty_engine).get_columns(table)}
        assert columns["phone"]["nullable"]  # optional: rows written before have none
        assert getattr(columns["phone"]["type"], "length", None) == 32

    migrate.downgrade(empty_engine, "0019")

    for table in ("patient", "app_user"):
        assert "phone" not in {c["name"] for c in inspect(empty_engine).get_columns(table)}
