"""Escalation end to end: a real SMTP server and an HTTP receiver on loopback, the real
service in a subprocess, and a hard restart between the alert and its escalation. Then the
chain through the API: checked on entry, and changeable at any time."""

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
from sqlalchemy import select
from tests.api.conftest import World
from tests.api.test_crash_safety import Server, _free_port

from blina.demo import DEMO_PASSWORD
from blina.services.clock import SystemClock
from blina.store.tables import ClinicContact


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
                {
                    "name": "on-call nurse",
                    "email": "oncall@clinic.example",
                    "webhook_url": hook_url,
                },
                {"name": "haematologist", "email": "haem@clinic.example"},
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
        _wait(lambda: inbox.to("oncall@clinic.example") == 1 and len(hooks) == 1)
        assert inbox.to("haem@clinic.example") == 0
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
        _wait(lambda: inbox.to("haem@clinic.example") == 1)
        time.sleep(1)  # a few more worker passes: nothing is sent twice
        assert inbox.to("oncall@clinic.example") == 1
        assert inbox.to("haem@clinic.example") == 1
        assert len(hooks) == 1
        assert "alert" in hooks[0]["subject"]
    finally:
        server.kill()
    verify = subprocess.run(
        [sys.executable, "-m", "blina", "audit", "verify"], env=env, capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stderr


# --- the chain through the API: checked on entry, changeable at any time (issue 16) -------


def _put_chain(world: World, chain: dict[str, Any]) -> httpx2.Response:
    return world.client.put(  # type: ignore[return-value]
        "/api/v1/clinic/escalation", json=chain, headers=world.as_("admin_a")
    )


def _stored_chain(world: World) -> list[tuple[str, str | None, str | None]]:
    with world.client.app.state.blina.sessions() as session:  # type: ignore[attr-defined]
        return [
            (c.name, c.email, c.webhook_url)
            for c in session.execute(
                select(ClinicContact).order_by(ClinicContact.clinic_id, ClinicContact.position)
            ).scalars()
        ]


NURSE = {"name": "on-call nurse", "email": "oncall@clinic.example"}


@pytest.mark.parametrize(
    ("contact", "field", "allowed"),
    [
        # every address the chain refuses: services/test_escalation_chain
        # (test_a_chain_out_of_bounds_is_refused_naming_the_field)
        (
            {"name": "mail", "email": "x@clinic.example\r\nBcc: everyone@clinic.example"},
            "email",
            "an e-mail address such as name@clinic.org",
        ),
    ],
)
def test_a_contact_that_cannot_be_sent_to_is_refused_naming_the_field(
    world: World, contact: dict[str, str], field: str, allowed: str
) -> None:
    assert _put_chain(world, {"contacts": [NURSE]}).status_code == 200
    before = _stored_chain(world)

    answer = _put_chain(world, {"contacts": [NURSE, contact]})

    assert answer.status_code == 422, answer.text
    error = answer.json()["errors"][0]
    assert error["field"] == f"contacts.1.{field}"
    assert allowed in error["allowed"]
    assert answer.json()["error"].startswith(f"contacts.1.{field} ")
    assert _stored_chain(world) == before


def test_the_chain_is_kept_with_each_address_in_its_normal_form(world: World) -> None:
    chain = {
        "contacts": [
            {"name": "on-call nurse", "email": "OnCall@Clinic.Example"},
            {"name": "pager", "webhook_url": "https://[::1]:8443/hook?key=s3cret"},
        ],
        "minutes": {"emergency": 1, "call-now": 10080},
    }

    answer = _put_chain(world, chain)

    assert answer.status_code == 200, answer.text
    assert answer.json()["contacts"][0]["email"] == "OnCall@clinic.example"
    assert answer.json()["minutes"] == {"emergency": 1, "call-now": 10080}
    assert _stored_chain(world) == [
        ("on-call nurse", "OnCall@clinic.example", None),
        ("pager", None, "https://[::1]:8443/hook?key=s3cret"),
    ]


@pytest.mark.parametrize("minutes", [2**62, 0, -5, 10081, 2.5, "10", True])
def test_an_escalation_time_outside_a_week_or_not_whole_is_refused(
    world: World, minutes: object
) -> None:
    answer = _put_chain(world, {"contacts": [NURSE], "minutes": {"call-now": minutes}})

    assert answer.status_code == 422, answer.text
    error = answer.json()["errors"][0]
    assert error["field"] == "minutes.call-now"
    assert error["allowed"] == "a whole number of minutes from 1 to 10080 (7 days)"
    assert answer.json()["error"] == (
        f"minutes.call-now {minutes} is not allowed: must be "
        "a whole number of minutes from 1 to 10080 (7 days)"
    )


@pytest.mark.parametrize(
    ("who", "status"), [("nurse_a", 200), ("caregiver_a", 403), ("physician_b", 404)]
)
def test_whom_an_alert_went_to_is_the_clinic_care_teams_to_see(
    world: World, who: str, status: int
) -> None:
    assert _put_chain(world, {"contacts": [NURSE]}).status_code == 200
    answer = world.client.post(
        f"/api/v1/patients/{world.patient_a1}/symptom-reports",
        json={"temperature": 39.0, "symptoms": {"fever": None, "confusion": 2}},
        headers={**world.as_("caregiver_a"), "Idempotency-Key": f"seen-by-{who}"},
    )
    alert_id = answer.json()["alert_id"]

    sent = world.client.get(f"/api/v1/alerts/{alert_id}/notifications", headers=world.as_(who))

    assert sent.status_code == status
    if status == 200:  # who was told, and how, as the chain was (the rule: services/
        # test_escalation_settings, test_the_chain_changes_after_notifications_went_out...)
        [told] = sent.json()
        assert (told["contact_name"], told["channel"]) == ("on-call nurse", "email")
        assert (told["where"], told["status"]) == ("oncall@clinic.example", "pending")
