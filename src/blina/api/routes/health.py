"""``/health/live``, ``/health/ready`` and ``/metrics``: for the operator's tools.

Live: the process answers (no database). Ready: a clinic can rely on blina now
(``services.health``); 503 with the failing checks otherwise. Metrics: Prometheus text,
off unless ``BLINA_METRICS``; served to loopback, or to anyone with
``BLINA_METRICS_TOKEN`` as a bearer token (with a token set, always required; behind a
proxy, which makes every request look local, set one).
"""

import hmac
from collections.abc import Iterator
from datetime import datetime

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel

from blina.api.deps import ActorDep, StateDep
from blina.api.operations import RequestMetrics
from blina.api.state import AppState
from blina.config import LOOPBACK_HOSTS
from blina.services.backups import backups_seen_by
from blina.services.health import figures, readiness

__all__ = ["install_operations"]

router = APIRouter(tags=["health"])


@router.get("/health/live")
def live() -> dict[str, str]:
    """The process answers; touches nothing else."""
    return {"status": "ok"}


@router.get("/health/ready", responses={503: {"description": "Not ready: the checks say why"}})
def ready(request: Request) -> JSONResponse:
    """The database answers at the newest schema, the alert worker ran recently, the last
    scheduled backup is recent enough; 503 naming each check that fails."""
    state: AppState = request.app.state.blina
    found = readiness(state.engine, state.sessions, state.settings, now=state.clock.now())
    body = {"status": "ready" if found.ready else "not ready", "checks": found.checks}
    return JSONResponse(body, status_code=200 if found.ready else 503)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    state: AppState = request.app.state.blina
    if not state.settings.metrics:
        return Response(status_code=404)
    if not _may_scrape(request):
        return Response(
            "metrics need the bearer token (BLINA_METRICS_TOKEN)\n",
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    registry: CollectorRegistry = request.app.state.metrics
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class BackupPublic(BaseModel):
    at: datetime
    ok: bool
    file: str | None
    size_bytes: int
    audit_events: int | None
    problem: str


@router.get("/api/v1/backups", tags=["backups"])
def list_backups(actor: ActorDep, state: StateDep) -> list[BackupPublic]:
    """The newest backup attempts, kept or failed, newest first (admin)."""
    records = backups_seen_by(actor, state.settings)
    return [BackupPublic.model_validate(record, from_attributes=True) for record in records]


def install_operations(app: FastAPI) -> None:
    """The request ids, logs and metrics middleware, and the routes above."""
    state: AppState = app.state.blina
    registry = CollectorRegistry(auto_describe=True)
    registry.register(_ClinicFigures(state))
    app.state.metrics = registry
    app.add_middleware(RequestMetrics, registry=registry, log_requests=state.settings.access_log)
    app.include_router(router)


def _may_scrape(request: Request) -> bool:
    token = request.app.state.blina.settings.metrics_token
    if token is None:
        client = request.client.host if request.client else ""
        return client in LOOPBACK_HOSTS and "x-forwarded-for" not in request.headers
    given = request.headers.get("authorization", "")
    expected = f"Bearer {token.get_secret_value()}"
    return hmac.compare_digest(given.encode(), expected.encode())


class _ClinicFigures(Collector):
    """Read from the database at each scrape (``services.health.figures``)."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    def describe(self) -> list[Metric]:
        return []  # read at scrape only: registering must not touch the database

    def collect(self) -> Iterator[Metric]:
        found = figures(self.state.sessions, self.state.settings, now=self.state.clock.now())
        yield CounterMetricFamily("blina_check_ins", "Check-ins stored", value=found.check_ins)
        by_level = CounterMetricFamily(
            "blina_check_ins_by_level", "Check-ins stored, by their triage level", labels=["level"]
        )
        for level, count in sorted(found.check_ins_by_level.items()):
            by_level.add_metric([level], count)
        yield by_level
        alerts = CounterMetricFamily("blina_alerts", "Alerts raised, by level", labels=["level"])
        for level, count in sorted(found.alerts_by_level.items()):
            alerts.add_metric([level], count)
        yield alerts
        open_ = GaugeMetricFamily("blina_alerts_open", "Open alerts, by level", labels=["level"])
        for level, count in sorted(found.open_by_level.items()):
            open_.add_metric([level], count)
        yield open_
        yield GaugeMetricFamily(
            "blina_alerts_escalated_open",
            "Open alerts not acknowledged in the clinic's time (escalated at least once)",
            value=found.escalated_open,
        )
        yield GaugeMetricFamily(
            "blina_alerts_escalation_due",
            "Open alerts whose next escalation is due and not yet made (the worker is behind)",
            value=found.escalation_due,
        )
        yield GaugeMetricFamily(
            "blina_notifications_failed",
            "Notifications given up on",
            value=found.notifications_failed,
        )
        yield GaugeMetricFamily(
            "blina_notifications_retrying",
            "Notifications that failed at least once and will be tried again",
            value=found.notifications_retrying,
        )
        if found.worker_age_seconds is not None:
            yield GaugeMetricFamily(
                "blina_worker_age_seconds",
                "Since the alert worker last ran",
                value=found.worker_age_seconds,
            )
        if found.backup_age_seconds is not None:
            yield GaugeMetricFamily(
                "blina_backup_age_seconds",
                "Since the last verified backup",
                value=found.backup_age_seconds,
            )
