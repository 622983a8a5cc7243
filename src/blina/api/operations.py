"""What the operator sees of each request: an id, a JSON log line, and metrics.

Every request gets an id (the caller's ``X-Request-ID`` when it is a short token, else a
new one), sent back in the response and carried by every log line written while it is
handled. Log lines are JSON with the route's template ("/api/v1/patients/{patient_id}"),
never its address: addresses carry patient ids, and nothing blina logs names a patient
or repeats what a family wrote. Request counts and latencies are kept per route template
for ``/metrics`` (``api.routes.health``).
"""

import json
import logging
import re
import time
import traceback
import uuid
from contextvars import ContextVar
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "JsonLines",
    "RequestMetrics",
    "log_config",
    "request_id",
]

request_id: ContextVar[str] = ContextVar("blina_request_id", default="")
_GIVEN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_requests = logging.getLogger("blina.requests")
# Seconds: from a cached answer (about a millisecond) to a slow report.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and an
    exception's type (not its text, which can hold a value someone typed)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if rid := request_id.get():
            line["request_id"] = rid
        fields = getattr(record, "blina", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
            line["trace"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(record.exc_info[2])
            ]
        return json.dumps(line, default=str)

    converter = staticmethod(time.gmtime)


def log_config(level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for ``blina serve``: JSON lines on stderr for blina
    and uvicorn alike."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonLines}},
        "handlers": {"stderr": handler},
        "loggers": {
            "blina": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


class RequestMetrics:
    """Pure ASGI middleware: the request id, the latency histogram, the request log line."""

    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry, log_requests: bool) -> None:
        self.app = app
        self.log_requests = log_requests
        self.latency = Histogram(
            "blina_request_seconds",
            "Time to answer a request, by route template, method and status class",
            ["route", "method", "status"],
            buckets=_BUCKETS,
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _given_id(scope) or uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = _template(scope)
            self.latency.labels(route, scope["method"], f"{status // 100}xx").observe(seconds)
            if self.log_requests:
                _requests.info(
                    "request",
                    extra={
                        "blina": {
                            "request_id": rid,
                            "method": scope["method"],
                            "route": route,
                            "status": status,
                            "ms": round(seconds * 1000, 1),
                        }
                    },
                )
            request_id.reset(token)


def _given_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _GIVEN_ID.fullmatch(text) else None
    return None


def _template(scope: Scope) -> str:
    """The matched route's template; "unmatched" for any address no route has (so a
    scanner's random addresses never grow the metrics)."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        # A mounted app (the static files) leaves its prefix as the root path: one
        # template for all its files.
        mounted = scope.get("root_path")
        return f"{mounted}/{{path}}" if mounted and "endpoint" in scope else "unmatched"
    # A router included under a prefix matches the rest of the address: the prefix (static
    # words such as /api/v1) is the address's first segments.
    extra = scope["path"].count("/") - template.count("/")
    prefix = "/".join(scope["path"].split("/")[: extra + 1]) if extra > 0 else ""
    return prefix + template
