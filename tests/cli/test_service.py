"""`blina demo`, `blina db upgrade`, `blina audit verify` on a database in a temporary folder."""

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from blina.cli import app
from blina.demo import DEMO_PATIENTS, DEMO_THERAPY_PATIENTS, DEMO_USERS

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BLINA_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BLINA_DATABASE_URL", raising=False)
    return tmp_path


def test_demo_creates_clinic_once_and_prints_every_login(data_dir: Path) -> None:
    first = runner.invoke(app, ["demo"])
    again = runner.invoke(app, ["demo"])

    assert first.exit_code == 0, first.output
    assert "demo clinic created" in first.stdout
    assert "demo clinic already there" in again.stdout
    for username in DEMO_USERS:
        assert username in first.stdout
    with sqlite3.connect(data_dir / "blina.sqlite3") as db:
        roles = {row[0] for row in db.execute("SELECT role FROM app_user")}
        patients = db.execute("SELECT count(*) FROM patient").fetchone()[0]
        interruptions = db.execute(
            "SELECT count(*) FROM course_event WHERE kind = 'interrupt'"
        ).fetchone()[0]
        inpatient_today = db.execute(
            "SELECT count(*) FROM course_task WHERE kind = 'admission'"
        ).fetchone()[0]
    assert roles == {"patient", "caregiver", "nurse", "pharmacist", "physician", "admin"}
    assert patients == len(DEMO_PATIENTS) + len(DEMO_THERAPY_PATIENTS)
    assert interruptions == 1
    assert inpatient_today >= 1


def test_audit_verify_intact_then_tampered_exits_1(data_dir: Path) -> None:
    assert runner.invoke(app, ["demo"]).exit_code == 0
    intact = runner.invoke(app, ["audit", "verify"])
    assert intact.exit_code == 0
    assert intact.stdout.startswith("audit chain intact:")

    with sqlite3.connect(data_dir / "blina.sqlite3") as db:
        db.execute("UPDATE audit_event SET action = 'patient.delete' WHERE seq = 3")
    broken = runner.invoke(app, ["audit", "verify"])

    assert broken.exit_code == 1
    assert "audit chain BROKEN at event 3" in broken.stderr


def test_db_upgrade_creates_the_schema(data_dir: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"])

    assert result.exit_code == 0
    with sqlite3.connect(data_dir / "blina.sqlite3") as db:
        tables = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    assert {"course", "audit_event", "symptom_report", "alembic_version"} <= tables


AUDIT_KEY = "a test audit key that is long enough"


def test_audit_verify_without_a_key_says_the_trail_is_not_signed(data_dir: Path) -> None:
    assert runner.invoke(app, ["demo"]).exit_code == 0

    result = runner.invoke(app, ["audit", "verify"])

    assert result.exit_code == 0
    assert "no audit key (BLINA_AUDIT_KEY, local mode)" in result.stdout
    assert runner.invoke(app, ["audit", "head"]).exit_code == 1


def test_audit_verify_with_a_key_names_an_edited_record_and_a_cut_tail(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLINA_AUDIT_KEY", AUDIT_KEY)
    assert runner.invoke(app, ["demo"]).exit_code == 0
    intact = runner.invoke(app, ["audit", "verify"])
    head = runner.invoke(app, ["audit", "head"])
    assert intact.exit_code == 0, intact.output
    assert "keyed from event 1: every MAC since checked" in intact.stdout
    assert "audited records intact:" in intact.stdout
    assert head.exit_code == 0
    assert head.stdout.startswith("seq=")
    assert (data_dir / "audit-head.log").exists()

    with sqlite3.connect(data_dir / "blina.sqlite3") as db:
        course = db.execute("SELECT min(id) FROM course").fetchone()[0]
        db.execute("UPDATE course SET weight_kg = '7' WHERE id = ?", (course,))
    edited = runner.invoke(app, ["audit", "verify"])
    assert edited.exit_code == 1
    assert (
        f"audited record CHANGED: course {course}: its content does not match its audit MAC"
        in edited.stderr
    )

    with sqlite3.connect(data_dir / "blina.sqlite3") as db:
        newest = db.execute("SELECT max(seq) FROM audit_event").fetchone()[0]
        db.execute("DELETE FROM audit_event WHERE seq = ?", (newest,))
        db.execute(
            "UPDATE audit_head SET seq = seq - 1,"
            " last_hash = (SELECT hash FROM audit_event WHERE seq = ?)",
            (newest - 1,),
        )
    (data_dir / "audit-head.log").unlink()  # the file gone too: the head kept elsewhere
    cut = runner.invoke(app, ["audit", "verify", "--head", head.stdout.strip()])
    assert cut.exit_code == 1
    assert f"behind the signed head's event {newest}" in cut.stderr
