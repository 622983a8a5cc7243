"""Every error answers one JSON shape, mapped from the exception type in one table.

``{"ok": false, "error": message, "errors": [{field, value, allowed, message}], "status": code}``.
Input errors use the same words as the CLI. A denial (403) is audited: counted in memory
here and written by a thread of its own (services.denials), so a handler, which runs on
the event loop, never waits for the database.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from blina.api.state import AppState
from blina.domain.errors import BlinaError, InvalidInput, KnowledgeError, UnknownId
from blina.services.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    Throttled,
)
from blina.services.pharmacy import HardStop

__all__ = [
    "EXCERPT",
    "MAX_PROBLEMS",
    "STATUS_BY_ERROR",
    "error_body",
    "excerpt",
    "install_error_handlers",
]

# A reply never echoes more of a user's input than this many characters per value, nor
# more than this many problems (issue 16: a 100 MB body came back three times over).
EXCERPT = 100
MAX_PROBLEMS = 20

STATUS_BY_ERROR: dict[type[BlinaError], int] = {
    InvalidInput: 422,
    UnknownId: 422,
    NotAuthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    Throttled: 429,
    KnowledgeError: 500,
    HardStop: 422,
}


def error_body(
    message: str, status: int, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"ok": False, "error": message, "errors": errors or [], "status": status}


def _status(error: BlinaError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]
    return 400


async def _blina_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BlinaError)
    status = _status(error)
    details: list[dict[str, Any]] = []
    message = str(error)
    if isinstance(error, InvalidInput):
        if _is_long(error.value):
            message = str(InvalidInput(error.field, _named(error.value), error.allowed))
        details.append(
            {
                "field": error.field,
                "value": excerpt(error.value),
                "allowed": error.allowed,
                "message": message,
            }
        )
    elif isinstance(error, UnknownId):
        allowed = f"one of {', '.join(error.known)}"
        if _is_long(error.value):
            message = str(UnknownId(error.kind, _named(error.value), error.known))
        details.append(
            {
                "field": error.kind,
                "value": excerpt(error.value),
                "allowed": allowed,
                "message": message,
            }
        )
    elif isinstance(error, HardStop):
        details.extend(
            {
                "field": "recipe",
                "value": r["code"],
                "allowed": r["reason"],
                "message": r["reason"],
                "source": r["source"],
            }
            for r in error.reasons
        )
    if isinstance(error, PermissionDenied):
        _audit_denial(request, str(error))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(error, Throttled):
        headers = {"Retry-After": str(error.retry_after)}
    return JSONResponse(error_body(message, status, details), status_code=status, headers=headers)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    """Each problem (the first ``MAX_PROBLEMS``) with an excerpt of the value it found."""
    assert isinstance(error, RequestValidationError)
    details = []
    for problem in error.errors()[:MAX_PROBLEMS]:
        location = [
            str(part)
            for part in problem.get("loc", ())
            if part not in ("body", "query", "path", "header")
        ]
        field = ".".join(location) or "body"
        value = problem.get("input")
        allowed = str(problem.get("msg", "valid")).removeprefix("Value error, ")
        shown = "(missing)" if problem.get("type") == "missing" else value
        message = f"{field} {_named(shown)} is not allowed: must be {_must(allowed)}"
        details.append(
            {"field": field, "value": excerpt(shown), "allowed": allowed, "message": message}
        )
    return JSONResponse(error_body(details[0]["message"], 422, details), status_code=422)


def _must(pydantic_message: str) -> str:
    """'Input should be greater than 0' -> 'greater than 0'; 'Field required' -> 'given';
    an unknown field -> 'left out'; 'Invalid JSON: <why>' -> 'valid JSON (<why>)'."""
    text = pydantic_message
    for prefix in ("Input should be ", "Value should be "):
        text = text.removeprefix(prefix)
    if text.startswith("Invalid JSON: "):
        return f"valid JSON ({text.removeprefix('Invalid JSON: ')})"
    return _PLAIN.get(text, text)


_PLAIN = {"Field required": "given", "Extra inputs are not permitted": "left out"}


def excerpt(value: object) -> str:
    """A user's input as an error reply shows it: at most ``EXCERPT`` characters, cut
    with an ellipsis."""
    text = str(value)
    return text if len(text) <= EXCERPT else f"{text[:EXCERPT]}…"


def _is_long(value: object) -> bool:
    return len(str(value)) > EXCERPT


def _named(value: object) -> str:
    """A user's input as a message names it: itself, or its length when it is long (the
    reply's ``value`` holds its excerpt), so that no reply repeats a long input."""
    text = str(value)
    return text if len(text) <= EXCERPT else f"({len(text)} characters)"


def _audit_denial(request: Request, reason: str) -> None:
    """Counted, and audited off the event loop (services.denials)."""
    state: AppState = request.app.state.blina
    state.denials.record(
        at=state.clock.now(),
        actor=getattr(request.state, "actor", None),
        request_line=f"{request.method} {request.url.path}",
        reason=reason,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BlinaError, _blina_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
