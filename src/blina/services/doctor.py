"""``check_deployment``: what a clinic's deployment still lacks, one sentence each.

The production environment already refuses to start without its secrets; the doctor
also runs in the local environment (to prepare a deployment) and checks what start-up
cannot: that the database answers at the newest schema, that the mail server and the
escalation chain's webhooks can be reached, that backups can be written and are
scheduled, that every clinic has a real time zone, that metrics are not open to all.
"""

import secrets
import socket
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from blina.config import LOOPBACK_HOSTS, PLACEHOLDER_SECRET, Settings
from blina.services.backups import backup_dir
from blina.store import migrate
from blina.store.session import make_engine, make_session_factory, read_only
from blina.store.tables import Clinic, ClinicContact

__all__ = ["check_deployment"]

_CONNECT_SECONDS = 3.0


def check_deployment(settings: Settings) -> list[str]:
    problems = _settings_problems(settings)
    problems += _database_problems(settings)
    problems += _backup_problems(settings)
    problem = _unreachable(settings.smtp_host, settings.smtp_port)
    if problem:
        problems.append(
            f"the mail server BLINA_SMTP_HOST:BLINA_SMTP_PORT "
            f"({settings.smtp_host}:{settings.smtp_port}) cannot be reached: {problem}"
        )
    return problems


def _settings_problems(settings: Settings) -> list[str]:
    problems = []
    if settings.environment == "local":
        problems.append(
            "BLINA_ENVIRONMENT is local: set it to production for a clinic (start-up then "
            "refuses the unsafe settings below)"
        )
    if settings.secret_key.get_secret_value() == PLACEHOLDER_SECRET:
        problems.append("BLINA_SECRET_KEY is the placeholder: set a long random secret")
    if not settings.cookie_secure:
        problems.append("BLINA_COOKIE_SECURE is false: cookies would travel without HTTPS")
    if settings.audit_key is None:
        problems.append(
            "BLINA_AUDIT_KEY is not set: the audit trail is not signed and could be rewritten "
            "by anyone who can write to the database"
        )
    if not settings.public_url.startswith("https://"):
        problems.append(
            "BLINA_PUBLIC_URL is not an https address: links blina hands out (calendar "
            "feeds, password resets) need it"
        )
    if settings.metrics and settings.metrics_token is None and settings.host not in LOOPBACK_HOSTS:
        problems.append(
            "BLINA_METRICS is on, blina listens beyond loopback and BLINA_METRICS_TOKEN is "
            "not set: /metrics would be refused to every scraper but one on this machine"
        )
    return problems


def _database_problems(settings: Settings) -> list[str]:
    engine = make_engine(settings.effective_database_url)
    try:
        if not migrate.is_current(engine):
            return ["the database is not at the newest schema: run `blina db upgrade`"]
        with read_only(make_session_factory(engine)) as session:
            zones = session.execute(select(Clinic.name, Clinic.zone)).all()
            hooks = session.execute(
                select(ClinicContact.webhook_url).where(ClinicContact.webhook_url.is_not(None))
            ).scalars()
            problems = [_zone_problem(name, zone) for name, zone in zones]
            problems += [_webhook_problem(url) for url in sorted({h for h in hooks if h})]
    except SQLAlchemyError as error:
        return [f"the database does not answer: {type(error).__name__}"]
    finally:
        engine.dispose()
    return [problem for problem in problems if problem]


def _zone_problem(clinic: str, zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"clinic {clinic!r}: its time zone {zone!r} is not a known IANA zone"
    if zone in ("UTC", "Etc/UTC"):
        return f"clinic {clinic!r}: its time zone is UTC; set the clinic's local zone"
    return ""


def _webhook_problem(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    problem = _unreachable(parts.hostname or "", port)
    if not problem:
        return ""
    return f"the escalation webhook {parts.hostname}:{port} cannot be reached: {problem}"


def _backup_problems(settings: Settings) -> list[str]:
    problems = []
    if settings.backup_every_hours == 0:
        problems.append(
            "no scheduled backups: set BLINA_BACKUP_EVERY_HOURS (and BLINA_BACKUP_DIR on "
            "another disk)"
        )
    problem = _unwritable(backup_dir(settings))
    if problem:
        problems.append(f"the backup folder {backup_dir(settings)} is not writable: {problem}")
    return problems


def _unwritable(folder: Path) -> str:
    probe = folder / f".blina-doctor-{secrets.token_hex(4)}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        return error.strerror or type(error).__name__
    return ""


def _unreachable(host: str, port: int) -> str:
    if not host:
        return "no host"
    try:
        with socket.create_connection((host, port), timeout=_CONNECT_SECONDS):
            return ""
    except OSError as error:
        return error.strerror or type(error).__name__
