"""Web security: CSRF tokens bound to the session, and the headers every page carries.

A form's token is an HMAC (``settings.secret_key``) of a random per-browser nonce (the
``blina_csrf`` cookie) and the session token, so a token is useless in another browser or
after the session ends. Every POST form is checked before anything else runs.
"""

import hashlib
import hmac
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "SECURITY_HEADERS",
    "SecurityHeaders",
    "csrf_token",
    "csrf_valid",
    "new_nonce",
]

CSRF_COOKIE = "blina_csrf"
CSRF_FIELD = "csrf_token"

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'",
    ),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    # The camera for this origin only: a nurse scans a bag's label when hanging it
    # (static/scan.js); no other origin, frame or feature gets it.
    ("permissions-policy", "camera=(self), microphone=(), geolocation=()"),
)


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def csrf_token(*, secret: str, nonce: str, session_token: str | None) -> str:
    message = f"blina-csrf|{nonce}|{session_token or ''}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def csrf_valid(*, secret: str, nonce: str | None, session_token: str | None, sent: str) -> bool:
    if not nonce or not sent:
        return False
    expected = csrf_token(secret=secret, nonce=nonce, session_token=session_token)
    return hmac.compare_digest(expected, sent)


class SecurityHeaders:
    """ASGI middleware: the headers every answer carries, unless it set its own.

    Pages get ``SECURITY_HEADERS``; the JSON API gets ``X-Content-Type-Options: nosniff``
    (its answers are JSON, never a page); and every answer but a static asset gets
    ``Cache-Control: no-store``: what it holds is a patient's, or a page with a form's
    token, and neither belongs in a browser's or a proxy's cache. An answer that sets its
    own Cache-Control keeps it (the task list is revalidated by its ETag).
    """

    def __init__(
        self, app: ASGIApp, *, api_prefix: str = "/api/", static_prefix: str = "/static/"
    ) -> None:
        self.app = app
        self.api_prefix = api_prefix
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(self.api_prefix):
            added = _API_HEADERS
        elif path.startswith(self.static_prefix):
            added = _PAGE_HEADERS
        else:
            added = _PAGE_HEADERS_NO_STORE

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                present = {name.lower() for name, _ in headers}
                message["headers"] = [*headers, *[h for h in added if h[0] not in present]]
            await send(message)

        await self.app(scope, receive, with_headers)


_Headers = tuple[tuple[bytes, bytes], ...]
_NO_STORE = (b"cache-control", b"no-store")
_PAGE_HEADERS: _Headers = tuple((name.encode(), value.encode()) for name, value in SECURITY_HEADERS)
_PAGE_HEADERS_NO_STORE: _Headers = (*_PAGE_HEADERS, _NO_STORE)
_API_HEADERS: _Headers = ((b"x-content-type-options", b"nosniff"), _NO_STORE)
