"""How the service is, for the person who runs it: readiness and the figures behind the
metrics. Read only; each check says in words what it found.

Ready means a clinic can rely on blina now: the database answers at the newest schema,
the alert worker ran recently (it escalates unacknowledged alerts and sends the
messages), and, when backups are scheduled, the last verified one is not older than the
schedule allows.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.services.backups import backup_dir, last_good_backup
from blina.services.worker import heartbeat_file
from blina.store import migrate
from blina.store.session import read_only
from blina.store.tables import Alert, Notification, SymptomReport

__all__ = ["Figures", "Readiness", "figures", "readiness", "worker_age"]

# A run is late after three intervals (a slow database, a long send) and half a minute.
_WORKER_SLACK = timedelta(seconds=30)
# A scheduled backup is late when its period and a tenth (a retry) have passed.
_BACKUP_SLACK = 1.1


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    checks: dict[str, str]  # name: "ok" or what is wrong


@dataclass(frozen=True, slots=True)
class Figures:
    """Counts for the metrics, read in one transaction."""

    check_ins: int
    check_ins_by_level: dict[str, int]
    alerts_by_level: dict[str, int]
    open_by_level: dict[str, int]
    escalated_open: int
    escalation_due: int
    notifications_failed: int
    notifications_retrying: int
    worker_age_seconds: float | None
    backup_age_seconds: float | None


def readiness(
    engine: Engine, sessions: sessionmaker[Session], settings: Settings, *, now: datetime
) -> Readiness:
    checks = {
        "database": _database(engine, sessions),
        "worker": _worker(settings, now),
        "backup": _backup(settings, now),
    }
    return Readiness(all(v == "ok" for v in checks.values()), checks)


def worker_age(settings: Settings, now: datetime) -> timedelta | None:
    """Since the alert worker's last run; None when it never ran with this data folder."""
    try:
        beat = datetime.fromisoformat(heartbeat_file(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return now - beat


def figures(sessions: sessionmaker[Session], settings: Settings, *, now: datetime) -> Figures:
    with read_only(sessions) as session:
        check_ins = session.scalar(select(func.count()).select_from(SymptomReport)) or 0
        level = SymptomReport.report["triage"]["level"].as_string()
        check_ins_by_level = {
            str(row[0]): row[1]
            for row in session.execute(select(level, func.count()).group_by(level))
        }
        by_level = _by_level(session, None)
        open_by_level = _by_level(session, "open")
        escalated = _count(session, Alert, Alert.status == "open", Alert.escalation_step > 0)
        due = _count(session, Alert, Alert.status == "open", Alert.next_escalation_at <= now)
        failed = _count(session, Notification, Notification.status == "failed")
        retrying = _count(
            session, Notification, Notification.status == "pending", Notification.attempts > 0
        )
    age = worker_age(settings, now)
    backup = last_good_backup(backup_dir(settings))
    return Figures(
        check_ins=check_ins,
        check_ins_by_level=check_ins_by_level,
        alerts_by_level=by_level,
        open_by_level=open_by_level,
        escalated_open=escalated,
        escalation_due=due,
        notifications_failed=failed,
        notifications_retrying=retrying,
        worker_age_seconds=None if age is None else age.total_seconds(),
        backup_age_seconds=None if backup is None else (now - backup.at).total_seconds(),
    )


def _database(engine: Engine, sessions: sessionmaker[Session]) -> str:
    try:
        with read_only(sessions) as session:
            session.execute(text("SELECT 1"))
        if not migrate.is_current(engine):
            return "the database is not at the newest schema (run `blina db upgrade`)"
    except SQLAlchemyError as error:
        return f"the database does not answer ({type(error).__name__})"
    return "ok"


def _worker(settings: Settings, now: datetime) -> str:
    age = worker_age(settings, now)
    if age is None:
        return "the alert worker has not run yet"
    limit = 3 * timedelta(seconds=settings.worker_interval_seconds) + _WORKER_SLACK
    if age > limit:
        return f"the alert worker last ran {int(age.total_seconds())} s ago"
    return "ok"


def _backup(settings: Settings, now: datetime) -> str:
    if settings.backup_every_hours == 0:
        return "ok"
    last = last_good_backup(backup_dir(settings))
    if last is None:
        return "no verified backup yet"
    limit = timedelta(hours=settings.backup_every_hours * _BACKUP_SLACK)
    if now - last.at > limit:
        hours = (now - last.at).total_seconds() / 3600
        return f"the last verified backup is {hours:.1f} h old"
    return "ok"


def _by_level(session: Session, status: str | None) -> dict[str, int]:
    query = select(Alert.level, func.count()).group_by(Alert.level)
    if status is not None:
        query = query.where(Alert.status == status)
    return {row[0]: row[1] for row in session.execute(query)}


def _count(session: Session, model: type[Alert] | type[Notification], *where: object) -> int:
    query = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
    return session.scalar(query) or 0
