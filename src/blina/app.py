"""``create_app(settings)``: the FastAPI application, with everything built here, not at import."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from blina import __version__
from blina.api.docs import install_docs
from blina.api.errors import install_error_handlers
from blina.api.limits import install_request_limits
from blina.api.routes import (
    alerts,
    auth,
    calc,
    courses,
    exposure,
    home,
    people,
    pharmacy,
    therapies,
    therapy_courses,
    toxicity,
)
from blina.api.routes.health import install_operations
from blina.api.state import AppState
from blina.config import Settings
from blina.knowledge import Knowledge, load_knowledge
from blina.services.clock import Clock, SystemClock
from blina.store.session import make_engine, make_session_factory
from blina.web import install_web

__all__ = ["create_app"]

API_PREFIX = "/api/v1"


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The app's threads run while it serves: the check-in writer, the refusals' audit,
    SQLite's checkpoints and, for ``blina serve``, the background job."""
    state: AppState = app.state.blina
    state.start()
    try:
        yield
    finally:
        state.close()  # the check-ins already queued are written first


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    knowledge: Knowledge | None = None,
    check_in_writer: str = "group-commit",
    background_job: bool = False,
) -> FastAPI:
    """The app for an already-migrated database (``blina db upgrade`` or ``blina serve``).

    ``check_in_writer``: which writer stores check-ins (``services.check_ins.WRITERS``);
    ``background_job``: whether the escalation and notification job runs while the app
    does (``blina serve``)."""
    engine = make_engine(settings.effective_database_url)
    # The OpenAPI document and its explorer in the local environment only (api.docs).
    openapi_url = "/openapi.json" if settings.environment == "local" else None
    app = FastAPI(
        lifespan=_lifespan,
        title="blina",
        version=__version__,
        summary="Blinatumomab therapy: course plans, pharmacy, toxicity, home monitoring.",
        # Nothing about requests leaves the service: no traces, metrics or logs exported
        # (and no look-up on every request for a telemetry provider nobody configured).
        telemetry={"tracing": False, "metrics": False, "logs": False},
        openapi_url=openapi_url,
        docs_url=None,
        redoc_url=None,
    )
    app.state.blina = AppState(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        clock=clock or SystemClock(),
        knowledge=knowledge or load_knowledge(),
        check_in_writer=check_in_writer,
        background_job=background_job,
    )
    install_error_handlers(app)
    install_request_limits(app, settings)
    install_operations(app)  # request ids, JSON request log lines, metrics; health probes

    @app.get(f"{API_PREFIX}/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness: answers without touching the database."""
        return {"status": "ok"}

    # The routes phones and ward screens call most (check-ins, tasks, alerts) are matched first.
    app.router.routes.append(home.check_in_route(API_PREFIX))
    for module in (
        home,
        alerts,
        auth,
        people,
        courses,
        exposure,
        pharmacy,
        toxicity,
        calc,
        therapies,
        therapy_courses,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    install_web(app)
    if openapi_url is not None:
        install_docs(app, openapi_url=openapi_url)
    return app
