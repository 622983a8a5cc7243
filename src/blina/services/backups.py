"""Backups a clinic can restore: taken while the service runs, verified, kept, logged.

A backup is only worth keeping if it restores to a trail that verifies, so each copy is
checked as it is made: SQLite's integrity check and the audit chain, its MACs and the
audited records re-hashed on the copy (PostgreSQL: the archive's table of contents, then
the same audit checks on a scratch database when the server lets blina create one). Each
attempt, kept or failed, is one line of ``backups.jsonl`` in the backup folder: the log
the admin page, the readiness check and the metrics read. It lives beside the copies, not
in the database, so a restore never brings back a stale list.

A restore goes into an empty database (or one the operator says to replace), is brought
to the newest schema, and must verify before it is declared done. Restoring moves the
trail's head back to the copy's; with the audit key, a new head file starts at the
restored head (signed), and the old file is kept beside it under a dated name: what the
restore gave up stays visible.
"""

import json
import logging
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.services.access import require_role
from blina.services.actors import Actor, Role
from blina.services.audit_checks import signed_head, verify_chain
from blina.services.audit_key import (
    AuditKey,
    SignedHead,
    append_head,
    audit_key_of,
    use_audit_key,
)
from blina.services.clock import Clock
from blina.services.sealed_rows import verify_rows
from blina.store import migrate
from blina.store.backup import (
    BackupError,
    Target,
    archive_problem,
    copy_into,
    has_data,
    sqlite_integrity,
    target_of,
    write_copy,
)
from blina.store.session import make_engine, make_session_factory, read_only

__all__ = [
    "LOG_NAME",
    "BackupError",
    "BackupRecord",
    "backup_dir",
    "backups_seen_by",
    "last_backups",
    "last_good_backup",
    "restore",
    "start_backup_schedule",
    "take_backup",
]

_logger = logging.getLogger(__name__)

LOG_NAME = "backups.jsonl"
_PREFIX = "blina-"
_STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True, slots=True)
class BackupRecord:
    """One attempt: when, the file (None when nothing was kept), whether it verified, its
    size, and what went wrong or what could not be checked."""

    at: datetime
    ok: bool
    file: str | None
    size_bytes: int
    audit_events: int | None
    problem: str

    def line(self) -> str:
        fields = asdict(self)
        fields["at"] = self.at.isoformat()
        return json.dumps(fields, sort_keys=True)


def backup_dir(settings: Settings) -> Path:
    return settings.backup_dir or settings.data_dir / "backups"


def take_backup(
    engine: Engine, settings: Settings, *, now: datetime, into: Path | None = None
) -> BackupRecord:
    """Copy the running database into ``into`` (the backup folder by default), verify the
    copy, keep the newest ``backup_keep`` verified ones, and log the attempt. A copy that
    fails verification is not kept; the reason is in the record."""
    folder = into or backup_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    key = audit_key_of(settings)
    try:
        target = target_of(engine.url.render_as_string(hide_password=False))
        name = f"{_PREFIX}{now.astimezone(UTC).strftime(_STAMP)}{target.suffix}"
        final = folder / name
        partial = folder / f".{name}.{secrets.token_hex(4)}.partial"
        try:
            write_copy(engine, target, partial)
            events = _verify_copy(target, partial, key)
            partial.replace(final)
        finally:
            partial.unlink(missing_ok=True)
        record = BackupRecord(now, True, final.name, final.stat().st_size, events, "")
        _prune(folder, settings.backup_keep)
    except BackupError as error:
        record = BackupRecord(now, False, None, 0, None, str(error))
    except (SQLAlchemyError, sqlite3.Error, OSError) as error:  # a full disk, a lost server
        record = BackupRecord(now, False, None, 0, None, f"{type(error).__name__}: {error}")
    _log(folder, record)
    return record


def last_backups(folder: Path, count: int = 20) -> list[BackupRecord]:
    """The newest ``count`` attempts, newest first; [] when none was logged."""
    try:
        lines = (folder / LOG_NAME).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    records = []
    for line in reversed(lines[-count:]):
        try:
            fields = json.loads(line)
            fields["at"] = datetime.fromisoformat(fields["at"])
            records.append(BackupRecord(**fields))
        except (ValueError, TypeError, KeyError):
            continue  # a line cut short by a crash: the others still count
    return records


def backups_seen_by(actor: Actor, settings: Settings) -> list[BackupRecord]:
    """The newest attempts for the admin: the server's backups hold every clinic."""
    require_role(actor, Role.ADMIN, doing="see the backups")
    return last_backups(backup_dir(settings))


def last_good_backup(folder: Path) -> BackupRecord | None:
    return next((record for record in last_backups(folder, 200) if record.ok), None)


def start_backup_schedule(engine: Engine, settings: Settings, *, clock: Clock) -> threading.Event:
    """Take a backup every ``backup_every_hours`` in a daemon thread (the first when the
    last verified one is that old, or at once); set the returned event to stop it. A
    failed backup is logged and tried again after a tenth of the period."""
    stop = threading.Event()
    every = timedelta(hours=settings.backup_every_hours)

    def wait_seconds() -> float:
        last = last_good_backup(backup_dir(settings))
        if last is None:
            return 0.0
        return max((last.at + every - clock.now()).total_seconds(), 0.0)

    def loop() -> None:
        while not stop.wait(wait_seconds()):
            try:
                record = take_backup(engine, settings, now=clock.now())
            except Exception:  # the schedule outlives any one failure
                _logger.exception("blina backup: failed; tried again later")
                record = None
            if record is not None and record.ok:
                _logger.info("blina backup: %s (%d bytes)", record.file, record.size_bytes)
                continue
            if record is not None:
                _logger.error("blina backup: failed: %s", record.problem)
            stop.wait(every.total_seconds() / 10)

    if settings.backup_every_hours > 0:
        threading.Thread(target=loop, name="blina-backups", daemon=True).start()
    return stop


def restore(
    engine: Engine, settings: Settings, source: Path, *, replace: bool, now: datetime
) -> int:
    """Put ``source`` into the configured database, migrate it, verify the trail; return
    the number of audit events. Refuses a database that holds tables unless ``replace``."""
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    target = target_of(engine.url.render_as_string(hide_password=False))
    if source.suffix != target.suffix:
        raise BackupError(
            f"{source.name} is not a {target.kind} backup (expected a {target.suffix} file)"
        )
    if target.kind == "sqlite" and (problem := sqlite_integrity(source)):
        raise BackupError(f"{source.name} is damaged: {problem}")
    if target.kind == "postgresql" and (problem := archive_problem(target, source)):
        raise BackupError(f"{source.name} is damaged: {problem}")
    if has_data(engine) and not replace:
        raise BackupError(
            "the database is not empty; restore into an empty one, or pass --replace to "
            "overwrite everything in it"
        )
    copy_into(engine, target, source, replace=replace)
    migrate.upgrade(engine)
    key = audit_key_of(settings)
    sessions = use_audit_key(make_session_factory(engine), _without_head_file(key))
    events = _verify(sessions, key)
    if key is not None and key.head_file is not None:
        with read_only(sessions) as session:
            head, problem = signed_head(session)
        if head is None:
            raise BackupError(f"restored, but its head cannot be signed: {problem}")
        _start_head_file(key.head_file, head, now)
    return events


def _start_head_file(path: Path, head: SignedHead, now: datetime) -> None:
    """The restored trail's head starts a new head file; the old one is kept beside it
    under a dated name (it vouches for events the restore gave up)."""
    if path.exists():
        stamp = now.astimezone(UTC).strftime(_STAMP)
        path.replace(path.with_name(f"{path.name}.before-restore-{stamp}"))
    append_head(AuditKey(b"", path), head)


def _verify_copy(target: Target, path: Path, key: AuditKey | None) -> int | None:
    """The audit events the copy holds, verified; None when the checks could not run."""
    if target.kind == "sqlite":
        if problem := sqlite_integrity(path):
            raise BackupError(f"the copy is damaged: {problem}")
        engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
        try:
            return _verify(make_session_factory(engine), key)
        finally:
            engine.dispose()
    if problem := archive_problem(target, path):
        raise BackupError(f"the copy is damaged: {problem}")
    with _scratch_database(target) as scratch:
        copy_into(scratch, target_of(scratch.url.render_as_string(False)), path, replace=False)
        return _verify(make_session_factory(scratch), key)


def _verify(sessions: sessionmaker[Session], key: AuditKey | None) -> int:
    """The trail on a copy: chain, MACs and audited records with the key, but not against
    the live head file (the copy is older than the service's newest head by design)."""
    checking = _without_head_file(key)
    with read_only(use_audit_key(sessions, checking)) as session:
        report = verify_chain(session)
        if not report.ok:
            raise BackupError(f"the copy's audit trail does not verify: {report.problem}")
        if checking is not None:
            rows = verify_rows(session, checking, every_row_signed=report.mac_from is not None)
            if rows.changed:
                first = rows.changed[0]
                raise BackupError(
                    f"the copy's audited records do not verify: {first.table} "
                    f"{first.row_id}: {first.problem}"
                )
    return report.events


def _without_head_file(key: AuditKey | None) -> AuditKey | None:
    return None if key is None else AuditKey(key.secret, None)


@contextmanager
def _scratch_database(target: Target) -> Iterator[Engine]:
    """A new, empty database on the same server, dropped afterwards."""
    name = f"blina_verify_{secrets.token_hex(6)}"
    url = make_url(target.libpq_url).set(drivername="postgresql+psycopg", password=target.password)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # no right to create databases: say so, keep the copy
        admin.dispose()
        raise BackupError(
            "the copy could not be verified: blina may not create a scratch database on "
            f"this server ({type(error).__name__}); give its user CREATEDB"
        ) from None
    scratch = make_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        yield scratch
    finally:
        scratch.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _prune(folder: Path, keep: int) -> None:
    """Remove verified copies beyond the newest ``keep`` (names sort by time)."""
    copies = sorted(p for p in folder.glob(f"{_PREFIX}*") if p.suffix in (".sqlite3", ".pgdump"))
    for old in copies[:-keep]:
        old.unlink(missing_ok=True)


def _log(folder: Path, record: BackupRecord) -> None:
    with (folder / LOG_NAME).open("a", encoding="utf-8") as log:
        log.write(record.line() + "\n")
