"""`blina backup`, `blina restore`, `blina doctor`: what the person who runs blina needs.

Exit codes: 0 done; 1 the backup, restore or check failed (one line saying why); 2 bad
input or settings.
"""

from pathlib import Path
from typing import Annotated

import typer

from blina.cli.app import app, settings_or_exit
from blina.services.backups import BackupError, restore, take_backup
from blina.services.clock import SystemClock
from blina.services.doctor import check_deployment
from blina.store.session import make_engine

__all__ = ["backup_command", "doctor_command", "restore_command"]


@app.command("backup")
def backup_command(
    to: Annotated[
        Path | None,
        typer.Option(
            "--to", help="Folder for the copy (default BLINA_BACKUP_DIR, or data dir/backups)"
        ),
    ] = None,
) -> None:
    """Copy the database while blina runs, verify the copy (integrity, audit trail), keep
    the newest BLINA_BACKUP_KEEP; exit 1 when no verified copy was made."""
    settings = settings_or_exit()
    engine = make_engine(settings.effective_database_url)
    try:
        record = take_backup(engine, settings, now=SystemClock().now(), into=to)
    finally:
        engine.dispose()
    if not record.ok:
        typer.echo(f"blina: backup failed: {record.problem}", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"backup {record.file}: {record.size_bytes:,} bytes, "
        f"{record.audit_events} audit events verified"
    )


@app.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="A backup made by `blina backup`")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Overwrite a database that already holds data")
    ] = False,
) -> None:
    """Restore a backup into the configured (empty) database, migrate it and verify its
    audit trail; exit 1 when any of that fails."""
    settings = settings_or_exit()
    engine = make_engine(settings.effective_database_url)
    try:
        events = restore(engine, settings, file, replace=replace, now=SystemClock().now())
    except BackupError as error:
        typer.echo(f"blina: restore refused: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"restored {file.name}: {events} audit events verified; the database is current")


@app.command("doctor")
def doctor_command() -> None:
    """Check the settings a clinic's deployment needs; print each problem on one line and
    exit 1 when there is any."""
    settings = settings_or_exit()
    problems = check_deployment(settings)
    for problem in problems:
        typer.echo(f"problem: {problem}")
    if problems:
        raise typer.Exit(1)
    typer.echo("blina doctor: the deployment settings are complete")
