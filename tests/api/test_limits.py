"""Issue 16: request limits, short error replies, cache headers, /docs, the task list's
ETag per clinic."""

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.api.conftest import World

from blina.api.docs import DOCS_PATH, docs_policy
from blina.api.errors import EXCERPT, MAX_PROBLEMS
from blina.app import create_app
from blina.config import Settings
from blina.knowledge import Knowledge

LIMIT = Settings().max_json_body_bytes


def _check_in_path(world: World) -> str:
    return f"/api/v1/patients/{world.patient_a1}/symptom-reports"


# --- bodies: 413 before they are read -----------------------------------------------------


def _call(
    app: FastAPI, path: str, headers: dict[str, str], chunk: bytes, chunks: int
) -> tuple[int, dict[str, str], bytes, int]:
    """POST ``path`` on the app itself, the body arriving as ``chunks`` chunks, each handed
    over only when the app asks; the status, headers, body and the chunks it took."""
    taken = 0

    async def receive() -> dict[str, Any]:
        nonlocal taken
        if taken == chunks:
            return {"type": "http.disconnect"}
        taken += 1
        return {"type": "http.request", "body": chunk, "more_body": taken < chunks}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "state": {},
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    answer_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], answer_headers, body, taken


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/patients/1/symptom-reports"])
def test_body_past_its_content_length_limit_answers_413_unread(world: World, path: str) -> None:
    status, headers, body, taken = _call(
        world.client.app,  # type: ignore[arg-type]
        path,
        {"Content-Type": "application/json", "Content-Length": str(100 * 1024 * 1024)},
        b"x" * (1024 * 1024),
        chunks=100,
    )

    assert status == 413
    assert taken == 0  # not a byte of the 100 MB was asked for
    assert headers["connection"] == "close"
    assert len(body) < 200
    assert b'"status":413' in body


def test_chunked_body_answers_413_as_soon_as_it_passes_the_limit(world: World) -> None:
    chunk = b"x" * 16384
    status, headers, _, taken = _call(
        world.client.app,  # type: ignore[arg-type]
        "/api/v1/auth/login",
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        chunk,
        chunks=6400,  # 100 MB
    )

    assert status == 413
    assert taken == LIMIT // len(chunk) + 1
    assert headers["connection"] == "close"


def test_chunked_body_past_the_limit_answers_413_in_the_error_shape(world: World) -> None:
    def body() -> Iterator[bytes]:
        for _ in range(LIMIT // 1024 + 10):
            yield b" " * 1024

    response = world.client.post(
        _check_in_path(world),
        content=body(),
        headers={"Content-Type": "application/json", "Idempotency-Key": "big"},
    )

    assert response.status_code == 413
    assert response.json() == {
        "ok": False,
        "error": f"the request is too large: at most {LIMIT} bytes",
        "errors": [],
        "status": 413,
    }


def test_body_within_the_limit_is_read(world: World) -> None:
    note = "é" * 2000  # the longest note, every character escaped: 12 kB
    response = world.client.post(
        _check_in_path(world),
        json={"symptoms": {"headache": 1}, "note": note},
        headers={**world.as_("caregiver_a"), "Idempotency-Key": "long-note"},
    )

    assert response.status_code == 201, response.text


def test_head_past_its_limit_answers_431(world: World) -> None:
    too_long = "x" * Settings().max_header_bytes
    response = world.client.get("/api/v1/health", headers={"X-Padding": too_long})

    assert response.status_code == 431
    assert response.json()["status"] == 431
    assert too_long not in response.text


# --- error replies: an excerpt, never the input three times -----------------------------


def test_invalid_body_answers_with_an_excerpt_only(world: World) -> None:
    note = "n" * 50_000
    response = world.client.post(
        _check_in_path(world),
        json={"note": note},
        headers={**world.as_("caregiver_a"), "Idempotency-Key": "long"},
    )

    assert response.status_code == 422
    problem = response.json()["errors"][0]
    assert problem["value"] == "n" * EXCERPT + "…"
    assert problem["message"].startswith("note (50000 characters) is not allowed: must be ")
    assert len(response.content) < 1000


def test_unparsable_body_answers_with_an_excerpt_only(world: World) -> None:
    content = b'{"note": "' + b"n" * 50_000
    response = world.client.post(
        _check_in_path(world),
        content=content,
        headers={
            **world.as_("caregiver_a"),
            "Idempotency-Key": "cut",
            "Content-Type": "application/json",
        },
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["value"] == content[:EXCERPT].decode() + "…"
    assert len(response.content) < 1000


def test_many_problems_answer_the_first_few(world: World) -> None:
    symptoms = {f"s{number}": "bad" for number in range(3000)}
    response = world.client.post(
        _check_in_path(world),
        json={"symptoms": symptoms},
        headers={**world.as_("caregiver_a"), "Idempotency-Key": "many"},
    )

    assert response.status_code == 422
    assert len(response.json()["errors"]) == MAX_PROBLEMS


def test_unknown_id_answers_with_an_excerpt_only(world: World) -> None:
    indication = "i" * 20_000
    response = world.client.post(
        "/api/v1/calc/plan",
        json={"indication": indication, "weight_kg": 70, "age_years": 40, "start": "2026-12-01"},
        headers=world.as_("nurse_a"),
    )

    assert response.status_code == 422
    answer = response.json()
    assert answer["errors"][0]["value"] == "i" * EXCERPT + "…"
    assert answer["error"].startswith("indication (20000 characters) is not known: must be ")
    assert len(response.content) < 1000


# --- headers: nothing of a patient's is stored by a cache; nothing is sniffed ------------


def test_patient_data_answers_are_not_stored_or_sniffed(world: World) -> None:
    checked_in = world.client.post(
        _check_in_path(world),
        json={"symptoms": {}},
        headers={**world.as_("caregiver_a"), "Idempotency-Key": "headers"},
    )
    listed = world.client.get(_check_in_path(world), headers=world.as_("caregiver_a"))
    refused = world.client.get(_check_in_path(world))

    for response in (checked_in, listed, refused):
        assert response.headers["cache-control"] == "no-store", response.request.url
        assert response.headers["x-content-type-options"] == "nosniff"


def test_task_list_keeps_its_own_cache_control_for_its_etag(world: World) -> None:
    response = world.client.get("/api/v1/clinic/tasks", headers=world.as_("nurse_a"))

    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"


# --- the task list's ETag: the clinic's own -------------------------------------------------

TASKS = "/api/v1/clinic/tasks?day=2026-12-08"


def _tag(world: World, who: str) -> str:
    return str(world.client.get(TASKS, headers=world.as_(who)).headers["etag"])


def test_task_list_etag_differs_by_clinic_and_stays_through_another_clinics_change(
    world: World,
) -> None:
    mine, theirs = _tag(world, "nurse_a"), _tag(world, "physician_b")
    started = world.client.post(
        f"/api/v1/patients/{world.patient_b}/courses",
        json={
            "indication": "relapsed-refractory",
            "weight_kg": 70,
            "age_years": 40,
            "start": "2026-12-08",
            "cycles": 1,
            "confirm_past_start": True,
        },
        headers=world.as_("physician_b"),
    )
    assert started.status_code == 201, started.text
    again = world.client.get(TASKS, headers={**world.as_("nurse_a"), "If-None-Match": mine})

    assert mine != theirs
    assert _tag(world, "physician_b") != theirs  # their list changed
    assert again.status_code == 304
    assert again.headers["etag"] == mine
    assert re.fullmatch(r'"[0-9a-f]{32}(-gzip)?"', mine)  # a digest: no count of writes


# --- /docs and the OpenAPI document ------------------------------------------------------


def test_docs_in_the_local_environment_carry_a_policy_that_lets_them_run(world: World) -> None:
    page = world.client.get(DOCS_PATH)
    policy = page.headers["content-security-policy"]

    assert page.status_code == 200
    assert policy == docs_policy(page.text)
    assert "'sha256-" in policy
    assert "https://cdn.jsdelivr.net/npm/swagger-ui-dist" in page.text
    assert world.client.get("/openapi.json").status_code == 200
    assert world.client.get("/redoc").status_code == 404
    # every other page keeps the site's own policy
    login = world.client.get("/login").headers["content-security-policy"]
    assert "cdn.jsdelivr.net" not in login


@pytest.fixture
def production_client(tmp_path: Path, knowledge: Knowledge) -> Iterator[TestClient]:
    """An app outside the local environment (its database is never read here)."""
    settings = Settings(
        database_url=f"sqlite+pysqlite:///{tmp_path / 'blina.sqlite3'}",
        environment="production",
        secret_key="a production secret",  # type: ignore[arg-type]
        audit_key="a production audit key of 32 characters",  # type: ignore[arg-type]
        cookie_secure=True,
        public_url="https://blina.example.org",
    )
    app = create_app(settings, knowledge=knowledge)
    with TestClient(app, base_url="https://testserver") as client:
        yield client
    app.state.blina.engine.dispose()


@pytest.mark.parametrize("path", [DOCS_PATH, "/redoc", "/openapi.json"])
def test_docs_and_openapi_are_not_served_outside_the_local_environment(
    production_client: TestClient, path: str
) -> None:
    assert production_client.get(path).status_code == 404
