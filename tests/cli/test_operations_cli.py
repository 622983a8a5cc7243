"""`blina backup`, `blina restore`, `blina doctor` as the operator runs them."""

import socket
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from blina.cli import app

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BLINA_DATA_DIR", str(tmp_path / "data"))
    for name in ("DATABASE_URL", "BACKUP_DIR", "ENVIRONMENT", "AUDIT_KEY"):
        monkeypatch.delenv(f"BLINA_{name}", raising=False)
    return tmp_path / "data"


def test_backup_then_restore_into_an_empty_database(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["demo"]).exit_code == 0
    made = runner.invoke(app, ["backup", "--to", str(tmp_path / "copies")])
    assert made.exit_code == 0, made.output
    assert "audit events verified" in made.stdout
    (copy,) = (tmp_path / "copies").glob("blina-*.sqlite3")

    monkeypatch.setenv("BLINA_DATABASE_URL", f"sqlite:///{tmp_path / 'new' / 'blina.sqlite3'}")
    restored = runner.invoke(app, ["restore", str(copy)])
    again = runner.invoke(app, ["restore", str(copy)])
    replaced = runner.invoke(app, ["restore", "--replace", str(copy)])

    assert restored.exit_code == 0, restored.output
    assert "the database is current" in restored.stdout
    assert again.exit_code == 1
    assert "not empty" in again.stderr
    assert replaced.exit_code == 0, replaced.output
    with sqlite3.connect(tmp_path / "new" / "blina.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM patient").fetchone()[0] > 0
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_a_damaged_backup_is_one_line_and_exit_1(data_dir: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "blina-x.sqlite3"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    result = runner.invoke(app, ["restore", str(damaged)])
    assert result.exit_code == 1
    assert result.stderr.startswith("blina: restore refused: blina-x.sqlite3 is damaged")
    assert "Traceback" not in result.output


def test_bad_backup_settings_are_one_line_and_exit_2(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLINA_BACKUP_KEEP", "0")
    result = runner.invoke(app, ["backup"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "blina: BLINA_BACKUP_KEEP: Input should be greater than or equal to 1"
    )


def test_doctor_names_each_missing_production_setting(data_dir: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    problems = [line for line in result.stdout.splitlines() if line.startswith("problem: ")]
    named = " ".join(problems)
    for setting in (
        "BLINA_ENVIRONMENT",
        "BLINA_SECRET_KEY",
        "BLINA_COOKIE_SECURE",
        "BLINA_AUDIT_KEY",
        "BLINA_PUBLIC_URL",
        "BLINA_BACKUP_EVERY_HOURS",
    ):
        assert setting in named
    assert len(problems) >= 6


@pytest.mark.parametrize(
    ("host", "warned"),
    [("127.0.0.1", False), ("::1", False), ("localhost", False), ("0.0.0.0", True)],
)
def test_doctor_warns_of_untokened_metrics_only_beyond_loopback(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, host: str, warned: bool
) -> None:
    monkeypatch.setenv("BLINA_METRICS", "true")
    monkeypatch.setenv("BLINA_HOST", host)
    monkeypatch.delenv("BLINA_METRICS_TOKEN", raising=False)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0

    result = runner.invoke(app, ["doctor"])

    assert ("BLINA_METRICS_TOKEN" in result.stdout) is warned


def test_doctor_passes_a_complete_deployment(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # a mail server that answers
    monkeypatch.setenv("BLINA_SMTP_PORT", str(listener.getsockname()[1]))
    settings = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": "s" * 40,
        "AUDIT_KEY": "a" * 40,
        "COOKIE_SECURE": "true",
        "PUBLIC_URL": "https://blina.example.org",
        "BACKUP_EVERY_HOURS": "24",
        "BACKUP_DIR": str(tmp_path / "copies"),
    }
    for name, value in settings.items():
        monkeypatch.setenv(f"BLINA_{name}", value)
    try:
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        result = runner.invoke(app, ["doctor"])
    finally:
        listener.close()
    assert result.exit_code == 0, result.output
    assert "complete" in result.stdout


def test_doctor_says_when_the_backup_folder_cannot_be_written(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("BLINA_BACKUP_DIR", str(blocked / "copies"))
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    assert f"the backup folder {blocked / 'copies'} is not writable" in result.stdout


def test_serve_on_a_busy_port_is_one_line_and_exit_2(data_dir: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"blina: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("arguments", "variable", "said"),
    [
        (["serve", "--port", "99999"], None, "blina: --port: Input should be less than or equal"),
        (["serve"], "abc", "blina: BLINA_PORT: Input should be a valid integer"),
        (["demo"], "abc", "blina: BLINA_PORT: Input should be a valid integer"),
    ],
)
def test_a_bad_port_is_one_line_and_exit_2(
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    arguments: list[str],
    variable: str | None,
    said: str,
) -> None:
    if variable is not None:
        monkeypatch.setenv("BLINA_PORT", variable)
    result = runner.invoke(app, arguments)
    assert result.exit_code == 2
    assert result.stderr.startswith(said)
    assert "Traceback" not in result.output
