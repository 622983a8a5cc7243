"""What a running app holds, and what it stops when it shuts down."""

import threading

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.api.conftest import settings_for

from blina.api.state import AppState
from blina.app import create_app
from blina.knowledge import Knowledge


def test_an_app_on_sqlite_checkpoints_in_its_own_thread_and_stops_with_the_app(
    migrated_engine: Engine, knowledge: Knowledge
) -> None:
    settings = settings_for(migrated_engine)
    app = create_app(settings, knowledge=knowledge)
    state: AppState = app.state.blina
    if migrated_engine.dialect.name != "sqlite":
        assert state.checkpoints is None  # PostgreSQL has no such log
        return
    assert state.checkpoints is not None
    with TestClient(app) as client:
        assert client.get("/api/v1/health").status_code == 200
        with state.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    assert not state.checkpoints._thread.is_alive()
    state.engine.dispose()


def _threads_of(before: set[threading.Thread]) -> dict[str, threading.Thread]:
    """The app's threads started since ``before`` (the rate limiter's library arms a timer
    of 10 ms of its own, which ends by itself)."""
    return {
        t.name: t for t in threading.enumerate() if t not in before and t.name.startswith("blina-")
    }


def test_the_app_s_threads_run_from_its_first_lifespan_to_the_end_of_its_last(
    migrated_engine: Engine, knowledge: Knowledge
) -> None:
    """Nothing starts at import or when the app is made; the threads start with the app's
    lifespan (several test clients may overlap) and stop when the last one ends, the
    background job too when the app runs it (`blina serve`)."""
    before = set(threading.enumerate())
    app = create_app(settings_for(migrated_engine), knowledge=knowledge, background_job=True)
    assert _threads_of(before) == {}
    with TestClient(app):
        with TestClient(app):
            pass
        running = _threads_of(before)
        assert {"blina-group-commit", "blina-denials", "blina-worker"} <= set(running)
        assert all(thread.is_alive() for thread in running.values())
    for thread in running.values():
        thread.join(timeout=10)
        assert not thread.is_alive(), thread.name
    app.state.blina.engine.dispose()
