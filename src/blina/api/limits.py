"""Request limits in the app: the size of a request's head and of its body.

- A head (the path, the query and the headers) past ``max_header_bytes`` is answered
  431 before the app runs. The server refuses most of these as it reads them
  (``blina.api.serving``); this check also holds behind any other server.
- A body past ``max_form_body_bytes`` (a form) or ``max_json_body_bytes`` (anything
  else) is answered 413: at once when its Content-Length says so, before a byte of it is
  read, and as soon as it passes the limit while it streams in when it has no length (a
  chunked body). The answer closes the connection, so the rest is never read.

A pure ASGI middleware: a request whose Content-Length is within its limit (or a GET
without a body) costs one pass over its headers and no wrapper around its messages (the
check-in route is the busiest; docs/design/service.md has the figures).
"""

import sys

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from blina.api.errors import error_body
from blina.config import Settings

__all__ = ["RequestLimits", "RequestTooLarge", "install_request_limits"]

_FORMS = (b"application/x-www-form-urlencoded", b"multipart/form-data")
_CLOSE = (b"connection", b"close")


class RequestTooLarge(HTTPException):
    """A request body past its limit (413), raised where the app reads the body."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"the request is too large: at most {limit} bytes", {"Connection": "close"}
        )


def install_request_limits(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(
        RequestLimits,
        max_json_body_bytes=settings.max_json_body_bytes,
        max_form_body_bytes=settings.max_form_body_bytes,
        max_header_bytes=settings.max_header_bytes,
    )
    app.add_exception_handler(RequestTooLarge, _too_large)


async def _too_large(request: Request, error: Exception) -> Response:
    """413 in the API's one error shape; elsewhere the app's own answer to an HTTP error
    (a page, ``blina.web``)."""
    assert isinstance(error, RequestTooLarge)
    if request.url.path.startswith("/api/"):
        return JSONResponse(
            error_body(error.detail, error.status_code),
            status_code=error.status_code,
            headers=error.headers,
        )
    pages = request.app.exception_handlers[HTTPException]
    answer: Response = await pages(request, error)
    return answer


class RequestLimits:
    """ASGI middleware: 431 for a head past its limit, 413 for a body past its limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_json_body_bytes: int,
        max_form_body_bytes: int,
        max_header_bytes: int,
    ) -> None:
        self.app = app
        self.max_json_body_bytes = max_json_body_bytes
        self.max_form_body_bytes = max_form_body_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        length: bytes | None = None
        form = False
        for name, value in scope["headers"]:
            head += len(name) + len(value)
            if name == b"content-length":
                length = value
            elif name == b"content-type":
                form = value[:33].lower().startswith(_FORMS)
        if head > self.max_header_bytes:
            await _refuse_head(scope, receive, send, self.max_header_bytes)
            return
        limit = self.max_form_body_bytes if form else self.max_json_body_bytes
        declared = _declared(length)
        if declared is not None:
            if declared <= limit:
                # The server reads no more than the Content-Length it was told.
                await self.app(scope, receive, send)
            else:
                # Refused before a byte of it is read, whether the route would read it or not.
                answer = await _too_large(Request(scope, receive), RequestTooLarge(limit))
                await answer(scope, receive, _closing(send))
            return
        if length is None and scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        await self._streamed(scope, receive, send, limit)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """The app with a body of no declared length, refused once it passes the limit."""
        received = 0
        refused = False

        async def read() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    raise RequestTooLarge(limit)
            return message

        closing = _closing(send)

        async def answer(message: Message) -> None:
            await (closing if refused else send)(message)

        await self.app(scope, read, answer)


def _closing(send: Send) -> Send:
    """``send``, ending the connection with the answer: the rest of a refused body is
    never read."""

    async def closing(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [h for h in message.get("headers", ()) if h[0] != b"connection"]
            message = {**message, "headers": [*headers, _CLOSE]}
        await send(message)

    return closing


def _declared(length: bytes | None) -> int | None:
    """The Content-Length as a number; None when absent or not a number (the server
    refuses those); a length of more digits than any limit counts as the largest."""
    if length is None or not length.isdigit():
        return None
    return int(length) if len(length) <= 18 else sys.maxsize


async def _refuse_head(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    message = f"the request's headers are too large: at most {limit} bytes"
    answer: Response
    if str(scope.get("path", "")).startswith("/api/"):
        answer = JSONResponse(error_body(message, 431), status_code=431, headers=_CLOSE_HEADER)
    else:
        answer = PlainTextResponse(message, status_code=431, headers=_CLOSE_HEADER)
    await answer(scope, receive, send)


_CLOSE_HEADER = {"Connection": "close"}
