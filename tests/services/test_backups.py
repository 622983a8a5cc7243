"""Backups that restore: taken while check-ins are written, verified, refused when
damaged or when they would overwrite data, on SQLite and PostgreSQL."""

import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, select, text

from blina.app import create_app
from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services import backups
from blina.services.accounts import create_user, to_actor
from blina.services.audit_checks import verify_chain
from blina.services.audit_key import audit_key_of, read_signed_head, use_audit_key
from blina.services.backups import (
    BackupError,
    last_backups,
    restore,
    start_backup_schedule,
    take_backup,
)
from blina.services.clock import FixedClock
from blina.services.patients import create_patient
from blina.store import migrate
from blina.store.session import make_engine, make_session_factory, read_only, transaction
from blina.store.tables import Clinic, SymptomReport
from tests.clinic_factories import sign_in
from tests.conftest import empty_database

PASSWORD = "correct horse battery"
AUDIT_KEY = "k" * 40
NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)


def settings_for(engine: Engine, folder: Path, **more: object) -> Settings:
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        data_dir=folder,
        audit_key=AUDIT_KEY,  # type: ignore[arg-type]
        **more,  # type: ignore[arg-type]
    )


@contextmanager
def empty_target(source: Engine, folder: Path) -> Iterator[Engine]:
    """A new, empty database of the source's kind to restore into."""
    if source.dialect.name == "sqlite":
        target = make_engine(f"sqlite+pysqlite:///{folder / 'restored.sqlite3'}")
        yield target
        target.dispose()
        return
    name = f"blina_restore_{secrets.token_hex(4)}"
    admin = create_engine(source.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    target = make_engine(source.url.set(database=name).render_as_string(hide_password=False))
    try:
        yield target
    finally:
        target.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def families(engine: Engine, count: int) -> list[tuple[int, str]]:
    """``count`` patients of one clinic, each with a patient account: (patient id, name)."""
    sessions = make_session_factory(engine)
    people = []
    with transaction(sessions) as session:
        clinic = Clinic(name="clinic", zone="Europe/Paris", created_at=NOW)
        session.add(clinic)
        session.flush()
        nurse = create_user(
            session,
            actor=None,
            now=NOW,
            clinic_id=clinic.id,
            username="nurse",
            display_name="nurse",
            role="nurse",
            password=PASSWORD,
        )
        for number in range(count):
            patient = create_patient(
                session, actor=to_actor(nurse), now=NOW, code=f"P-{number}", display_name="Kim"
            )
            create_user(
                session,
                actor=None,
                now=NOW,
                clinic_id=clinic.id,
                username=f"family{number}",
                display_name="family",
                role="patient",
                password=PASSWORD,
                patient_id=patient.id,
            )
            people.append((patient.id, f"family{number}"))
    return people


def test_a_backup_taken_while_check_ins_are_written_restores_every_one_acknowledged_before(
    migrated_engine: Engine, knowledge: Knowledge, tmp_path: Path
) -> None:
    engine = empty_database(migrated_engine)
    settings = settings_for(engine, tmp_path)
    people = families(engine, 12)
    sessions = use_audit_key(make_session_factory(engine), audit_key_of(settings))
    tokens = {}
    for patient_id, name in people:
        outcome = sign_in(sessions, name, password=PASSWORD, now=NOW, settings=settings)
        assert outcome.token is not None
        tokens[patient_id] = outcome.token
    app = create_app(settings, clock=FixedClock(NOW), knowledge=knowledge)
    acknowledged: list[tuple[float, int]] = []
    stop = threading.Event()

    def phone(patient_ids: list[int]) -> None:
        number = 0
        while not stop.is_set() and number < 29 * len(patient_ids):
            patient_id = patient_ids[number % len(patient_ids)]
            number += 1
            response = client.post(
                f"/api/v1/patients/{patient_id}/symptom-reports",
                json={"temperature": 37.2, "symptoms": {"headache": 1}},
                headers={
                    "Authorization": f"Bearer {tokens[patient_id]}",
                    "Idempotency-Key": f"k{number}",
                },
            )
            assert response.status_code == 201, response.text
            acknowledged.append((time.monotonic(), response.json()["id"]))

    ids = list(tokens)
    with TestClient(app) as client:
        phones = [threading.Thread(target=phone, args=(ids[i::3],)) for i in range(3)]
        for thread in phones:
            thread.start()
        while len(acknowledged) < 40:
            time.sleep(0.01)
        started = time.monotonic()
        record = take_backup(engine, settings, now=NOW)
        time.sleep(0.2)
        stop.set()
        for thread in phones:
            thread.join()
    app.state.blina.engine.dispose()
    assert record.ok, record.problem
    assert record.file is not None
    before = {report_id for at, report_id in acknowledged if at < started}
    assert len(before) >= 40
    assert len(acknowledged) > len(before)  # writing went on while the copy was made
    with empty_target(engine, tmp_path) as target:
        events = restore(
            target, settings, tmp_path / "backups" / record.file, replace=False, now=NOW
        )
        restored = make_session_factory(target)
        with read_only(use_audit_key(restored, audit_key_of(settings))) as session:
            kept = set(session.execute(select(SymptomReport.id)).scalars())
            report = verify_chain(session)
        assert before <= kept
        assert report.ok, report.problem
        assert events == report.events
        assert migrate.is_current(target)
    head, problem = read_signed_head(audit_key_of(settings))  # type: ignore[arg-type]
    assert problem == ""
    assert head is not None
    assert head.seq == events  # the restored head, signed, is the newest line


def test_restore_refuses_a_database_that_holds_data_unless_told(
    engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(engine, tmp_path)
    families(engine, 1)
    record = take_backup(engine, settings, now=NOW)
    assert record.ok
    assert record.file is not None
    copy = tmp_path / "backups" / record.file
    with pytest.raises(BackupError, match=r"not empty.*--replace"):
        restore(engine, settings, copy, replace=False, now=NOW)
    if engine.dialect.name == "sqlite":
        assert restore(engine, settings, copy, replace=True, now=NOW) == record.audit_events


def test_a_damaged_backup_is_refused_with_the_reason(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(engine, tmp_path)
    families(engine, 1)
    record = take_backup(engine, settings, now=NOW)
    assert record.file is not None
    whole = (tmp_path / "backups" / record.file).read_bytes()
    damaged = tmp_path / f"damaged{Path(record.file).suffix}"
    damaged.write_bytes(whole[: len(whole) // 3])
    with empty_target(engine, tmp_path) as target, pytest.raises(BackupError, match="damaged"):
        restore(target, settings, damaged, replace=False, now=NOW)


def test_a_backup_of_another_kind_or_no_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(engine, tmp_path)
    with pytest.raises(BackupError, match="no such file"):
        restore(engine, settings, tmp_path / "missing.sqlite3", replace=False, now=NOW)
    other = tmp_path / ("x.pgdump" if engine.dialect.name == "sqlite" else "x.sqlite3")
    other.write_bytes(b"x")
    with pytest.raises(BackupError, match="is not a"):
        restore(engine, settings, other, replace=False, now=NOW)


def test_a_copy_whose_trail_does_not_verify_is_not_kept(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(engine, tmp_path)
    families(engine, 1)
    with engine.begin() as connection:  # an editor rewrote history without the key
        connection.execute(text("UPDATE audit_event SET action = 'edited' WHERE seq = 1"))
    record = take_backup(engine, settings, now=NOW)
    assert not record.ok
    assert "audit trail does not verify" in record.problem
    assert not list((tmp_path / "backups").glob("blina-*"))
    assert last_backups(tmp_path / "backups")[0] == record


def test_only_the_newest_backups_are_kept_and_every_attempt_is_logged(
    engine: Engine, tmp_path: Path
) -> None:
    settings = settings_for(engine, tmp_path, backup_keep=2)
    families(engine, 1)
    for minutes in range(4):
        assert take_backup(engine, settings, now=NOW + timedelta(minutes=minutes)).ok
    kept = sorted(p.name for p in (tmp_path / "backups").glob("blina-*"))
    assert len(kept) == 2
    assert kept[-1].startswith("blina-20261210T093300Z")
    log = last_backups(tmp_path / "backups")
    assert [r.at for r in log] == [NOW + timedelta(minutes=m) for m in (3, 2, 1, 0)]
    with (tmp_path / "backups" / "backups.jsonl").open("a") as log_file:
        log_file.write('{"cut short\n')
    assert len(last_backups(tmp_path / "backups")) == 4  # a torn line is skipped


def test_the_schedule_takes_backups_on_its_own(engine: Engine, tmp_path: Path) -> None:
    settings = settings_for(engine, tmp_path, backup_every_hours=1)
    families(engine, 1)
    stop = start_backup_schedule(engine, settings, clock=FixedClock(NOW))
    try:
        deadline = time.monotonic() + 30
        while not last_backups(tmp_path / "backups") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
    assert last_backups(tmp_path / "backups")[0].ok


def test_pg_dump_missing_is_said_in_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no tools at all
    nowhere = create_engine("postgresql+psycopg://blina:secret@127.0.0.1:1/blina")
    record = take_backup(nowhere, settings_for(nowhere, tmp_path), now=NOW)
    assert not record.ok
    assert "pg_dump is not on the PATH" in record.problem
    assert "secret" not in (tmp_path / "backups" / "backups.jsonl").read_text()


def test_a_full_disk_is_a_failed_backup_logged_not_a_crash(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(engine, tmp_path)

    def full(*_: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(backups, "write_copy", full)
    record = take_backup(engine, settings, now=NOW)
    assert not record.ok
    assert record.problem == "OperationalError: database or disk is full"
    assert last_backups(tmp_path / "backups") == [record]
    assert not list((tmp_path / "backups").glob("*blina-*"))
