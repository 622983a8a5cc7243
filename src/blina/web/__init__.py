"""Server-rendered pages (Jinja2 + htmx) for the care team and the family.

``install_web(app)`` adds the pages, the static files (htmx and the stylesheet, served by
blina itself, never from a CDN) and the security headers to the app ``create_app`` built.
"""

from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from blina.web import education
from blina.web.routes import error_page, router
from blina.web.security import SecurityHeaders

__all__ = ["STATIC_DIR", "install_web", "router"]

STATIC_DIR = Path(__file__).parent / "static"


def install_web(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(education.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(HTTPException, _http_error)


async def _http_error(request: Request, error: Exception) -> Response:
    """An unknown address or method: a page for the browser, the usual JSON for the API."""
    assert isinstance(error, HTTPException)
    if request.url.path.startswith("/api/"):
        return await http_exception_handler(request, error)
    return await run_in_threadpool(error_page, request, error)
