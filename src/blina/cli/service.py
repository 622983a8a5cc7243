"""`blina serve`, `blina demo`, `blina db upgrade`, `blina audit verify`, `blina audit head`."""

import gc
import socket
import time
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from blina.app import create_app
from blina.cli.app import EXIT_BAD_INPUT, app, settings_or_exit, user_errors
from blina.config import Settings
from blina.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo_clinic
from blina.knowledge import load_knowledge
from blina.services.audit_checks import check_signed_head, signed_head, verify_chain
from blina.services.audit_key import SignedHead, audit_key_of, use_audit_key
from blina.services.backups import start_backup_schedule
from blina.services.clock import SystemClock
from blina.services.sealed_rows import verify_rows
from blina.services.worker import run_once
from blina.store import migrate
from blina.store.session import make_engine, make_session_factory, read_only

db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")


def _settings() -> Settings:
    return settings_or_exit()


def _sessions(settings: Settings) -> sessionmaker[Session]:
    """Sessions on the configured database, signing the audit trail with its key."""
    engine = make_engine(settings.effective_database_url)
    return use_audit_key(make_session_factory(engine), audit_key_of(settings))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the database (BLINA_DATABASE_URL, or SQLite in the data dir)."""
    settings = _settings()
    engine = make_engine(settings.effective_database_url)
    migrate.upgrade(engine)
    typer.echo(f"database at the newest schema: {engine.url.render_as_string(hide_password=True)}")


@audit_app.command("verify")
def audit_verify(
    head: Annotated[
        str | None,
        typer.Option(help="A head printed by `blina audit head` earlier: the trail must hold it"),
    ] = None,
) -> None:
    """Recompute the audit hash chain, its MACs and the audited records' MACs, and check
    the head against the signed head file; exit 1 if history was changed."""
    settings = _settings()
    problems = []
    with read_only(_sessions(settings)) as session:
        report = verify_chain(session)
        key = audit_key_of(settings)
        rows = (
            None
            if key is None
            else verify_rows(session, key, every_row_signed=report.mac_from is not None)
        )
        if head is not None:
            try:
                given = SignedHead.parse(head)
            except ValueError as error:
                typer.echo(f"blina: {error}", err=True)
                raise typer.Exit(2) from None
            against = check_signed_head(session, given)
            if against:
                problems.append(f"audit chain BROKEN against the head given: {against}")
    if report.ok:
        typer.echo(f"audit chain intact: {report.events} events")
    else:
        where = "" if report.first_bad_seq is None else f" at event {report.first_bad_seq}"
        problems.insert(0, f"audit chain BROKEN{where}: {report.problem}")
    if key is None:
        typer.echo(
            "no audit key (BLINA_AUDIT_KEY, local mode): events and records are not signed; "
            "someone who can write to the database could rewrite the trail and recompute "
            "its hashes"
        )
    elif report.mac_from is None:
        typer.echo("not keyed yet: the next write signs the trail and the records")
    else:
        typer.echo(f"keyed from event {report.mac_from}: every MAC since checked")
    if rows is not None:
        problems.extend(
            f"audited record CHANGED: {row.table} {row.row_id}: {row.problem}"
            for row in rows.changed
        )
        if not rows.changed:
            typer.echo(f"audited records intact: {rows.rows} rows")
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)


@audit_app.command("head")
def audit_head() -> None:
    """Print the chain's head signed with the audit key, to keep somewhere other than this
    server; `blina audit verify --head` checks the trail still holds it."""
    with read_only(_sessions(_settings())) as session:
        signed, problem = signed_head(session)
    if signed is None:
        typer.echo(f"blina: {problem}", err=True)
        raise typer.Exit(1)
    typer.echo(signed.line())


@app.command("demo")
def demo_command() -> None:
    """Create the demo clinic (every role, patients at different points); say how to log in."""
    with user_errors():
        settings = _settings()
        engine = make_engine(settings.effective_database_url)
        migrate.upgrade(engine)
        created = seed_demo_clinic(
            use_audit_key(make_session_factory(engine), audit_key_of(settings)),
            now=SystemClock().now(),
            knowledge=load_knowledge(),
        )
    typer.echo("demo clinic created" if created else "demo clinic already there")
    typer.echo(f"database: {engine.url.render_as_string(hide_password=True)}")
    typer.echo(f"log in (at the address `blina serve` prints) with password {DEMO_PASSWORD!r} as:")
    for name, role in DEMO_USERS.items():
        typer.echo(f"  {name:<14} {role}")


@app.command("serve")
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000)")] = None,
) -> None:
    """Start the service on the configured database, migrating it first if needed."""
    import uvicorn

    from blina.api.operations import log_config
    from blina.api.serving import bounded_http_tools

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = settings_or_exit(**overrides)
    _refuse_a_busy_address(settings.host, settings.port)
    engine = make_engine(settings.effective_database_url)
    if not migrate.is_current(engine):
        migrate.upgrade(engine)
    engine.dispose()
    # The background job runs with the app (its lifespan), as the check-in writer does.
    app = create_app(settings, background_job=True)
    start_backup_schedule(app.state.blina.engine, settings, clock=app.state.blina.clock)
    # What was built at start-up (knowledge, routes, mappers) lives as long as the process:
    # kept out of the garbage collector's full passes, which would otherwise stall every
    # request for tens of milliseconds at a time.
    gc.freeze()
    typer.echo(f"blina: serving http://{settings.host}:{settings.port}")
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        # JSON lines; one per request (route template, status, time) when BLINA_ACCESS_LOG.
        log_config=log_config(),
        access_log=False,
        # httptools, with a limit on a request's line and headers (api.serving).
        http=bounded_http_tools(settings.max_header_bytes),
    )


def _refuse_a_busy_address(host: str, port: int) -> None:
    """One line and exit 2 when the address cannot be listened on (another server holds
    the port, or the host is not this machine's): exit 3 is a safety hard stop."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.create_server((host, port), family=family):
            pass
    except OSError as error:
        typer.echo(f"blina: cannot listen on {host}:{port}: {error.strerror or error}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run one pass and stop")] = False,
) -> None:
    """Escalate overdue alerts and send pending notifications (blina serve runs this too)."""
    settings = _settings()
    sessions = _sessions(settings)
    while True:
        report = run_once(sessions, settings=settings, clock=SystemClock())
        typer.echo(f"escalated {report.escalated} alert(s), sent {report.sent} notification(s)")
        if once:
            return
        time.sleep(settings.worker_interval_seconds)
