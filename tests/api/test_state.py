"""What a running app holds, and what it stops when it shuts down."""

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
