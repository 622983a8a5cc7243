"""`blina serve`, `blina demo`, `blina db upgrade`, `blina audit verify`."""

import gc
import time
from typing import Annotated

import typer

from blina.app import create_app
from blina.cli.app import app, user_errors
from blina.config import Settings
from blina.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo_clinic
from blina.knowledge import load_knowledge
from blina.services.audit import verify_chain
from blina.services.clock import SystemClock
from blina.services.worker import run_once, start_background_worker
from blina.store import migrate
from blina.store.session import make_engine, make_session_factory

db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")


def _settings() -> Settings:
    return Settings()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the database (BLINA_DATABASE_URL, or SQLite in the data dir)."""
    settings = _settings()
    engine = make_engine(settings.effective_database_url)
    migrate.upgrade(engine)
    typer.echo(f"database at the newest schema: {engine.url.render_as_string(hide_password=True)}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit hash chain; exit 1 if history was changed."""
    settings = _settings()
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine)() as session:
        report = verify_chain(session)
    if report.ok:
        typer.echo(f"audit chain intact: {report.events} events")
        return
    where = "" if report.first_bad_seq is None else f" at event {report.first_bad_seq}"
    typer.echo(f"audit chain BROKEN{where}: {report.problem}", err=True)
    raise typer.Exit(1)


@app.command("demo")
def demo_command() -> None:
    """Create the demo clinic (every role, patients at different points); say how to log in."""
    with user_errors():
        settings = _settings()
        engine = make_engine(settings.effective_database_url)
        migrate.upgrade(engine)
        created = seed_demo_clinic(
            make_session_factory(engine), now=SystemClock().now(), knowledge=load_knowledge()
        )
    typer.echo("demo clinic created" if created else "demo clinic already there")
    typer.echo(f"database: {engine.url.render_as_string(hide_password=True)}")
    typer.echo(
        f"log in at http://{settings.host}:{settings.port} with password {DEMO_PASSWORD!r} as:"
    )
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

    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    settings = Settings(**overrides)  # type: ignore[arg-type]
    engine = make_engine(settings.effective_database_url)
    if not migrate.is_current(engine):
        migrate.upgrade(engine)
    engine.dispose()
    app = create_app(settings)
    state = app.state.blina
    start_background_worker(state.sessions, settings=settings, clock=state.clock)
    # What was built at start-up (knowledge, routes, mappers) lives as long as the process:
    # kept out of the garbage collector's full passes, which would otherwise stall every
    # request for tens of milliseconds at a time.
    gc.freeze()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=settings.access_log,
    )


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run one pass and stop")] = False,
) -> None:
    """Escalate overdue alerts and send pending notifications (blina serve runs this too)."""
    settings = _settings()
    sessions = make_session_factory(make_engine(settings.effective_database_url))
    while True:
        report = run_once(sessions, settings=settings, clock=SystemClock())
        typer.echo(f"escalated {report.escalated} alert(s), sent {report.sent} notification(s)")
        if once:
            return
        time.sleep(settings.worker_interval_seconds)
