"""Every error answers one JSON shape, mapped from the exception type in one table.

``{"ok": false, "error": message, "errors": [{field, value, allowed, message}], "status": code}``.
Input errors use the same words as the CLI. A denial (403) is audited.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from blina.api.state import AppState
from blina.domain.errors import BlinaError, InvalidInput, KnowledgeError, UnknownId
from blina.services.audit import append_denial
from blina.services.errors import (
    Conflict,
    LoginThrottled,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from blina.services.pharmacy import HardStop
from blina.store.session import transaction

__all__ = ["STATUS_BY_ERROR", "error_body", "install_error_handlers"]

STATUS_BY_ERROR: dict[type[BlinaError], int] = {
    InvalidInput: 422,
    UnknownId: 422,
    NotAuthenticated: 401,
    PermissionDenied: 403,
    NotFound: 404,
    Conflict: 409,
    LoginThrottled: 429,
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
    if isinstance(error, InvalidInput):
        details.append(
            {
                "field": error.field,
                "value": str(error.value),
                "allowed": error.allowed,
                "message": str(error),
            }
        )
    elif isinstance(error, UnknownId):
        allowed = f"one of {', '.join(error.known)}"
        details.append(
            {"field": error.kind, "value": error.value, "allowed": allowed, "message": str(error)}
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
    return JSONResponse(
        error_body(str(error), status, details), status_code=status, headers=headers
    )


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = []
    for problem in error.errors():
        location = [
            str(part)
            for part in problem.get("loc", ())
            if part not in ("body", "query", "path", "header")
        ]
        field = ".".join(location) or "body"
        value = problem.get("input")
        allowed = str(problem.get("msg", "valid")).removeprefix("Value error, ")
        shown = "(missing)" if problem.get("type") == "missing" else value
        message = f"{field} {shown} is not allowed: must be {_must(allowed)}"
        details.append(
            {"field": field, "value": str(shown), "allowed": allowed, "message": message}
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


def _audit_denial(request: Request, reason: str) -> None:
    state: AppState = request.app.state.blina
    with transaction(state.sessions) as session:
        append_denial(
            session,
            at=state.clock.now(),
            actor=getattr(request.state, "actor", None),
            request_line=f"{request.method} {request.url.path}",
            after={"reason": reason},
        )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BlinaError, _blina_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
