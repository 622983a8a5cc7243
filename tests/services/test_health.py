"""How the service is (services.health): readiness, each check in words, and the figures
behind the metrics."""

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.services.backups import take_backup
from blina.services.health import figures, readiness, worker_age
from blina.services.worker import heartbeat_file
from tests.clinic_factories import NOW


def _settings(engine: Engine, data: Path, **more: object) -> Settings:
    url = engine.url.render_as_string(hide_password=False)
    return Settings(database_url=url, data_dir=data, **more)  # type: ignore[arg-type]


def _beat(settings: Settings, ago: timedelta) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    heartbeat_file(settings).write_text((NOW - ago).isoformat(), encoding="utf-8")


def test_ready_when_the_database_is_current_and_the_worker_ran_within_three_intervals(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = _settings(engine, tmp_path, worker_interval_seconds=10)
    assert readiness(engine, sessions, settings, now=NOW).checks == {
        "database": "ok",
        "worker": "the alert worker has not run yet",
        "backup": "ok",
    }
    _beat(settings, timedelta(seconds=60))
    assert worker_age(settings, NOW) == timedelta(seconds=60)
    assert readiness(engine, sessions, settings, now=NOW).ready
    _beat(settings, timedelta(seconds=61))
    late = readiness(engine, sessions, settings, now=NOW)
    assert not late.ready
    assert late.checks["worker"] == "the alert worker last ran 61 s ago"


def test_a_scheduled_backup_must_be_recent(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = _settings(engine, tmp_path, backup_every_hours=24)
    _beat(settings, timedelta(0))
    assert readiness(engine, sessions, settings, now=NOW).checks["backup"] == (
        "no verified backup yet"
    )
    assert take_backup(engine, settings, now=NOW - timedelta(hours=27)).ok
    old = readiness(engine, sessions, settings, now=NOW)
    assert (old.ready, old.checks["backup"]) == (False, "the last verified backup is 27.0 h old")
    assert take_backup(engine, settings, now=NOW - timedelta(hours=1)).ok
    assert readiness(engine, sessions, settings, now=NOW).ready


def test_figures_of_an_empty_clinic_are_zeros_and_the_ages_known(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = _settings(engine, tmp_path)
    _beat(settings, timedelta(seconds=5))
    found = figures(sessions, settings, now=NOW)
    assert (found.check_ins, found.check_ins_by_level, found.alerts_by_level) == (0, {}, {})
    assert (found.escalated_open, found.escalation_due, found.notifications_failed) == (0, 0, 0)
    assert found.worker_age_seconds == 5.0
    assert found.backup_age_seconds is None
