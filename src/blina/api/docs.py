"""The API explorer at ``/docs``: in the local environment only.

Outside it, ``/docs``, ``/redoc`` and ``/openapi.json`` are not served (``create_app``):
the explorer and the OpenAPI document are for the people building against the API, who
run blina locally, and a public one tells everyone else every route there is.

FastAPI's explorer loads Swagger UI from a CDN and starts it with an inline script, both
of which the site's Content-Security-Policy refuses (``script-src 'self'``), so it showed
an empty page. This page carries a policy of its own that allows exactly those: the CDN's
script and style sheet, the one inline script by its hash, and inline styles, which
Swagger UI sets. Every other page keeps the site's policy.
"""

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

__all__ = ["DOCS_PATH", "docs_policy", "install_docs"]

DOCS_PATH = "/docs"
_CDN = "https://cdn.jsdelivr.net"
_FAVICON = "https://fastapi.tiangolo.com"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def install_docs(app: FastAPI, *, openapi_url: str) -> None:
    page = get_swagger_ui_html(openapi_url=openapi_url, title=f"{app.title} API")
    html = bytes(page.body)
    policy = docs_policy(html.decode())

    @app.get(DOCS_PATH, include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(html, headers={"content-security-policy": policy})


def docs_policy(html: str) -> str:
    """The Content-Security-Policy that lets the explorer page ``html`` run, and no more."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {_CDN} {hashes}; "
        f"style-src 'self' {_CDN} 'unsafe-inline'; img-src 'self' data: {_FAVICON}; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
