"""Issue 16: the server refuses a request whose head is too large as it reads it (431),
and `blina serve` runs with that limit."""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from blina.api.serving import BoundedHttpTools, bounded_http_tools
from blina.cli import app as cli
from blina.cli import service
from blina.config import Settings

LIMIT = 8192


async def _ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body and answers its length."""
    size = 0
    more = True
    while more:
        message = await receive()
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    body = str(size).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free: int = sock.getsockname()[1]
    config = uvicorn.Config(
        _ok,
        host="127.0.0.1",
        port=free,
        http=bounded_http_tools(LIMIT),
        lifespan="off",
        log_level="error",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    yield free
    server.should_exit = True
    thread.join(timeout=10)


def _connect(port: int) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    return connection


def _answer(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def _request(body: bytes = b"", **headers: str) -> bytes:
    lines = ["POST / HTTP/1.1", "Host: localhost", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_heads_within_the_limit_and_large_bodies_are_served(port: int) -> None:
    body = b"x" * 60_000  # arrives with the head (and the next head), and is no part of it
    with _connect(port) as connection:
        connection.sendall(_request(body, Padding="p" * (LIMIT // 2)) + _request(body))
        answers = b""
        while answers.count(b"\r\n\r\n60000") < 2:
            chunk = connection.recv(65536)
            assert chunk, answers
            answers += chunk

    assert answers.count(b"HTTP/1.1 200 OK") == 2


def test_head_past_the_limit_answers_431_and_is_not_read_whole(port: int) -> None:
    sent = 0
    with _connect(port) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Padding: ")
        try:
            while sent < 50 * 1024 * 1024:  # a 50 MB header
                sent += connection.send(b"p" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _answer(connection)

    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"connection: close" in answer
    assert sent < 10 * 1024 * 1024


def test_serve_runs_uvicorn_with_the_head_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: dict[str, Any] = {}
    monkeypatch.setenv("BLINA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BLINA_MAX_HEADER_BYTES", "12345")
    monkeypatch.delenv("BLINA_DATABASE_URL", raising=False)
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: ran.update(options))
    monkeypatch.setattr(service.gc, "freeze", lambda: None)

    result = CliRunner().invoke(cli, ["serve"])

    assert result.exit_code == 0, result.output
    assert issubclass(ran["http"], BoundedHttpTools)
    assert ran["http"].max_head_bytes == 12345 == Settings().max_header_bytes
