"""Kill the server hard while clients submit symptom reports: after a restart every
acknowledged report is there, and the audit chain is intact."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from blina.demo import DEMO_PASSWORD


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env = env
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "blina", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx2.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                time.sleep(0.1)
        self.kill()  # never leave a stray server behind a failed start
        raise AssertionError("server did not start within 60 s")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    env = {**os.environ, "BLINA_DATA_DIR": str(tmp_path)}
    env.pop("BLINA_DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "blina", "demo"], env=env, check=True, capture_output=True
    )
    running = Server(env, _free_port())
    running.start()
    yield running
    if running.process is not None and running.process.poll() is None:
        running.kill()


def test_sigkill_during_symptom_reports_loses_no_acknowledged_report(server: Server) -> None:
    login = httpx2.post(
        f"{server.url}/auth/login", json={"username": "alex.partner", "password": DEMO_PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    patient_id = httpx2.get(f"{server.url}/patients", headers=headers).json()[0]["id"]
    acknowledged: list[str] = []
    stop = threading.Event()

    def client(name: str) -> None:
        number = 0
        with httpx2.Client(timeout=5) as http:
            while not stop.is_set():
                key = f"{name}-{number}"
                number += 1
                try:
                    response = http.post(
                        f"{server.url}/patients/{patient_id}/symptom-reports",
                        json={"temperature": 37.9, "symptoms": {"headache": 1}, "note": key},
                        headers={**headers, "Idempotency-Key": key},
                    )
                except httpx2.TransportError:
                    return
                if response.status_code == 201:
                    acknowledged.append(key)

    clients = [threading.Thread(target=client, args=(f"phone{i}",)) for i in range(4)]
    for thread in clients:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    stop.set()
    for thread in clients:
        thread.join(timeout=10)
    assert len(acknowledged) >= 40

    server.start()
    stored = httpx2.get(
        f"{server.url}/patients/{patient_id}/symptom-reports", headers=headers
    ).json()
    notes = {report["report"]["note"] for report in stored}
    assert set(acknowledged) <= notes
    server.kill()
    verify = subprocess.run(
        [sys.executable, "-m", "blina", "audit", "verify"],
        env=server.env,
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith("audit chain intact")
