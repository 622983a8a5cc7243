"""What the operator watches: liveness, readiness, metrics behind their token, request ids
and JSON log lines that never carry a patient's name or a family's words."""

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from tests.services.test_backups import PASSWORD, families

from blina.api.operations import JsonLines
from blina.app import create_app
from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services.accounts import create_user, log_in
from blina.services.backups import take_backup
from blina.services.clock import FixedClock
from blina.services.login_limits import LoginLimits
from blina.services.worker import run_once
from blina.store.session import make_session_factory, transaction
from blina.store.tables import Clinic

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
TOKEN = "metrics-token-0123456789"


@contextmanager
def app_for(
    engine: Engine, folder: Path, knowledge: Knowledge, **more: object
) -> Iterator[TestClient]:
    """A client of an app on ``engine``'s database; the app's own engine is closed after."""
    settings = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        data_dir=folder,
        **more,  # type: ignore[arg-type]
    )
    app = create_app(settings, clock=FixedClock(NOW), knowledge=knowledge)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        app.state.blina.engine.dispose()


def test_live_answers_without_the_database(tmp_path: Path, knowledge: Knowledge) -> None:
    url = f"sqlite+pysqlite:///{tmp_path / 'absent' / 'never-migrated.sqlite3'}"
    settings = Settings(database_url=url, data_dir=tmp_path)
    app = create_app(settings, knowledge=knowledge)
    with TestClient(app) as client:
        assert client.get("/health/live").json() == {"status": "ok"}
        ready = client.get("/health/ready")
    app.state.blina.engine.dispose()
    assert ready.status_code == 503
    assert "newest schema" in ready.json()["checks"]["database"]


def test_ready_needs_the_worker_to_have_run_recently(
    engine: Engine, tmp_path: Path, knowledge: Knowledge
) -> None:
    with app_for(engine, tmp_path, knowledge) as client:
        first = client.get("/health/ready")
        assert first.status_code == 503
        assert first.json()["checks"] == {
            "database": "ok",
            "worker": "the alert worker has not run yet",
            "backup": "ok",
        }
        state = client.app.state.blina  # type: ignore[attr-defined]
        run_once(state.sessions, settings=state.settings, clock=FixedClock(NOW))
        assert client.get("/health/ready").json() == {
            "status": "ready",
            "checks": {"database": "ok", "worker": "ok", "backup": "ok"},
        }
        # The worker stops: three intervals and half a minute later, not ready.
        run_once(
            state.sessions, settings=state.settings, clock=FixedClock(NOW - timedelta(minutes=2))
        )
        late = client.get("/health/ready")
    assert late.status_code == 503
    assert late.json()["checks"]["worker"] == "the alert worker last ran 120 s ago"


def test_ready_reads_the_migration_scripts_once_not_at_every_probe(
    engine: Engine, tmp_path: Path, knowledge: Knowledge, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app_for(engine, tmp_path, knowledge) as client:
        first = client.get("/health/ready").json()["checks"]["database"]

        def read_again(*args: object, **kwargs: object) -> None:
            raise AssertionError("a readiness probe read the migration scripts again")

        monkeypatch.setattr(ScriptDirectory, "from_config", read_again)
        again = [client.get("/health/ready").json()["checks"]["database"] for _ in range(3)]

    assert first == "ok"
    assert again == ["ok"] * 3


def test_ready_needs_a_recent_backup_when_they_are_scheduled(
    engine: Engine, tmp_path: Path, knowledge: Knowledge
) -> None:
    with app_for(engine, tmp_path, knowledge, backup_every_hours=24) as client:
        state = client.app.state.blina  # type: ignore[attr-defined]
        run_once(state.sessions, settings=state.settings, clock=FixedClock(NOW))
        assert client.get("/health/ready").json()["checks"]["backup"] == "no verified backup yet"
        take_backup(engine, state.settings, now=NOW - timedelta(hours=27))
        old = client.get("/health/ready")
        assert old.json()["checks"]["backup"] == "the last verified backup is 27.0 h old"
        take_backup(engine, state.settings, now=NOW - timedelta(hours=1))
        assert client.get("/health/ready").status_code == 200


def test_ready_says_when_the_database_does_not_answer(tmp_path: Path, knowledge: Knowledge) -> None:
    settings = Settings(
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", data_dir=tmp_path
    )
    app = create_app(settings, knowledge=knowledge)
    with TestClient(app) as client:
        ready = client.get("/health/ready")
    app.state.blina.engine.dispose()
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] == "the database does not answer (OperationalError)"


def test_metrics_are_off_by_default_and_need_their_token(
    engine: Engine, tmp_path: Path, knowledge: Knowledge
) -> None:
    with app_for(engine, tmp_path, knowledge) as client:
        assert client.get("/metrics").status_code == 404
    with app_for(engine, tmp_path, knowledge, metrics=True) as client:
        assert client.get("/metrics").status_code == 401  # not loopback, and no token set
    local = Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path,
        metrics=True,
    )
    app = create_app(local, clock=FixedClock(NOW), knowledge=knowledge)
    with TestClient(app, client=("127.0.0.1", 5000)) as client:
        assert client.get("/metrics").status_code == 200
        proxied = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert proxied.status_code == 401
    with TestClient(app, client=("::1", 5000)) as client:
        assert client.get("/metrics").status_code == 200
    app.state.blina.engine.dispose()
    with app_for(engine, tmp_path, knowledge, metrics=True, metrics_token=TOKEN) as client:
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        client.get("/api/v1/health")
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert scraped.status_code == 200
    text = scraped.text
    assert "blina_check_ins_total 0.0" in text
    assert "blina_notifications_failed 0.0" in text
    assert 'blina_request_seconds_count{method="GET",route="/api/v1/health",status="2xx"} 1.0' in (
        text
    )


def test_every_answer_carries_a_request_id(
    engine: Engine, tmp_path: Path, knowledge: Knowledge
) -> None:
    with app_for(engine, tmp_path, knowledge) as client:
        given = client.get("/health/live", headers={"X-Request-ID": "abc-123"})
        hostile = client.get("/health/live", headers={"X-Request-ID": "x" * 65})
        none = client.get("/health/live")
    assert given.headers["x-request-id"] == "abc-123"
    assert len(hostile.headers["x-request-id"]) == 32
    assert len(none.headers["x-request-id"]) == 32
    assert none.headers["x-request-id"] != hostile.headers["x-request-id"]


def test_request_log_lines_are_json_with_the_route_never_the_address(
    engine: Engine, tmp_path: Path, knowledge: Knowledge, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.INFO, logger="blina.requests"),
        app_for(engine, tmp_path, knowledge, access_log=True) as client,
    ):
        client.get("/api/v1/patients/4711", headers={"X-Request-ID": "rid-1"})
    lines = [
        json.loads(JsonLines().format(r)) for r in caplog.records if r.name == "blina.requests"
    ]
    assert lines == [
        {
            "time": lines[0]["time"],
            "level": "info",
            "logger": "blina.requests",
            "message": "request",
            "request_id": "rid-1",
            "method": "GET",
            "route": "/api/v1/patients/{patient_id}",
            "status": 401,
            "ms": lines[0]["ms"],
        }
    ]


def test_a_logged_error_names_its_type_and_frames_not_its_text() -> None:
    try:
        raise ValueError("Kim Lee wrote: my child has a seizure")
    except ValueError:
        record = logging.LogRecord("blina", logging.ERROR, __file__, 1, "failed", None, None)
        record.exc_info = sys.exc_info()
    line = json.loads(JsonLines().format(record))
    assert line["error"] == "ValueError"
    assert "Kim" not in json.dumps(line)
    assert line["trace"][0].endswith(
        "in test_a_logged_error_names_its_type_and_frames_not_its_text"
    )


def test_static_files_count_as_one_route(
    engine: Engine, tmp_path: Path, knowledge: Knowledge
) -> None:
    with app_for(engine, tmp_path, knowledge, metrics=True, metrics_token=TOKEN) as client:
        static = next(iter((Path(__file__).parents[2] / "src/blina/web/static").rglob("*.css")))
        client.get(f"/static/{static.name}")
        client.get("/no/such/address/at/all")
        text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert 'route="/static/{path}"' in text
    assert 'route="unmatched"' in text


def test_the_admin_sees_the_backups_and_no_one_else(
    engine: Engine, tmp_path: Path, knowledge: Knowledge
) -> None:
    families(engine, 1)
    with app_for(engine, tmp_path, knowledge) as client:
        state = client.app.state.blina  # type: ignore[attr-defined]
        with transaction(make_session_factory(engine)) as session:
            clinic_id = session.query(Clinic.id).scalar()
            create_user(
                session,
                actor=None,
                now=NOW,
                clinic_id=clinic_id,
                username="admin",
                display_name="admin",
                role="admin",
                password=PASSWORD,
            )
        tokens = {}
        for name in ("admin", "nurse", "family0"):
            outcome = log_in(
                state.sessions,
                limits=LoginLimits(state.settings),
                settings=state.settings,
                now=NOW,
                username=name,
                password=PASSWORD,
                kind="bearer",
                source="test",
            )
            tokens[name] = {"Authorization": f"Bearer {outcome.token}"}
        take_backup(engine, state.settings, now=NOW)
        listed = client.get("/api/v1/backups", headers=tokens["admin"])
        assert client.get("/api/v1/backups", headers=tokens["nurse"]).status_code == 403
        assert client.get("/api/v1/backups", headers=tokens["family0"]).status_code == 403
        assert client.get("/api/v1/backups").status_code == 401
    assert listed.status_code == 200
    (only,) = listed.json()
    assert only["ok"] is True
    assert only["file"].startswith("blina-20261210T093000Z")


def test_check_ins_are_counted_by_their_triage_level(
    engine: Engine, tmp_path: Path, knowledge: Knowledge
) -> None:
    ((patient_id, family),) = families(engine, 1)
    with app_for(engine, tmp_path, knowledge, metrics=True, metrics_token=TOKEN) as client:
        state = client.app.state.blina  # type: ignore[attr-defined]
        outcome = log_in(
            state.sessions,
            limits=LoginLimits(state.settings),
            settings=state.settings,
            now=NOW,
            username=family,
            password=PASSWORD,
            kind="bearer",
            source="test",
        )
        signed = {"Authorization": f"Bearer {outcome.token}"}
        levels = []
        for key, temperature in (("calm", 36.8), ("also-calm", 37.0), ("fever", 39.6)):
            sent = client.post(
                f"/api/v1/patients/{patient_id}/symptom-reports",
                json={"temperature": temperature, "symptoms": {}},
                headers={**signed, "Idempotency-Key": key},
            )
            assert sent.status_code == 201, sent.text
            levels.append(sent.json()["report"]["triage"]["level"])
        text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert "blina_check_ins_total 3.0" in text
    for level in set(levels):
        line = f'blina_check_ins_by_level_total{{level="{level}"}} {float(levels.count(level))}'
        assert line in text
    assert len(set(levels)) == 2  # the fever is not triaged as the calm days
