"""Escalation end to end: a real SMTP server and an HTTP receiver on loopback, the real
service in a subprocess, and a hard restart between the alert and its escalation."""

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest
from aiosmtpd.controller import Controller
from tests.api.test_crash_safety import Server, _free_port

from blina.demo import DEMO_PASSWORD
from blina.services.clock import SystemClock


class Inbox:
    """An SMTP handler that keeps every message (aiosmtpd calls handle_DATA)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode()))
        return "250 OK"

    def to(self, address: str) -> int:
        return sum(1 for rcpt, _ in self.messages if address in rcpt)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[list[dict[str, Any]], str]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield received, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def _wait(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def test_alert_escalates_after_a_restart_and_each_contact_is_told_once(
    tmp_path: Path, smtp: tuple[Inbox, int], webhook: tuple[list[dict[str, Any]], str]
) -> None:
    inbox, smtp_port = smtp
    hooks, hook_url = webhook
    env = {
        **os.environ,
        "BLINA_DATA_DIR": str(tmp_path),
        "BLINA_SMTP_PORT": str(smtp_port),
        "BLINA_WORKER_INTERVAL_SECONDS": "0.2",
    }
    env.pop("BLINA_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "blina", "demo"], env=env, check=True, capture_output=True
    )
    server = Server(env, _free_port())
    server.start()
    try:

        def login(user: str) -> dict[str, str]:
            body = {"username": user, "password": DEMO_PASSWORD}
            token = httpx2.post(f"{server.url}/auth/login", json=body).json()["token"]
            return {"Authorization": f"Bearer {token}"}

        chain = {
            "contacts": [
                {"name": "on-call nurse", "email": "oncall@clinic.test", "webhook_url": hook_url},
                {"name": "haematologist", "email": "haem@clinic.test"},
            ],
            "minutes": {"emergency": 5, "call-now": 5},
        }
        assert (
            httpx2.put(
                f"{server.url}/clinic/escalation", json=chain, headers=login("admin")
            ).status_code
            == 200
        )
        family = login("alex.partner")
        patient = httpx2.get(f"{server.url}/patients", headers=family).json()[0]["id"]
        answer = httpx2.post(
            f"{server.url}/patients/{patient}/symptom-reports",
            json={"temperature": 39.0, "symptoms": {"fever": None, "confusion": 2}},
            headers={**family, "Idempotency-Key": "night-1"},
        )
        assert answer.json()["alert_id"] is not None
        _wait(lambda: inbox.to("oncall@clinic.test") == 1 and len(hooks) == 1)
        assert inbox.to("haem@clinic.test") == 0
        server.kill()
    finally:
        if server.process is not None and server.process.poll() is None:
            server.kill()

    # Time passes while the service is down: the alert's acknowledgement time runs out.
    past = (SystemClock().now() - timedelta(minutes=1)).replace(tzinfo=None).isoformat(sep=" ")
    with sqlite3.connect(tmp_path / "blina.sqlite3") as db:
        db.execute("UPDATE alert SET next_escalation_at = ? WHERE status = 'open'", (past,))

    server.start()
    try:
        _wait(lambda: inbox.to("haem@clinic.test") == 1)
        time.sleep(1)  # a few more worker passes: nothing is sent twice
        assert inbox.to("oncall@clinic.test") == 1
        assert inbox.to("haem@clinic.test") == 1
        assert len(hooks) == 1
        assert "alert" in hooks[0]["subject"]
    finally:
        server.kill()
    verify = subprocess.run(
        [sys.executable, "-m", "blina", "audit", "verify"], env=env, capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stderr
