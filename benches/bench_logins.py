"""The service while a flood of bogus logins hits it (issue 16).

Seeds a small clinic (a nurse, a family, a patient on a course), starts `blina serve` in
a subprocess (one process) and measures, with wrk, GET /health and POST symptom reports
(a family's check-ins) at CLIENTS connections, first alone (the baseline), then while
another wrk holds FLOOD connections posting logins with made-up usernames and passwords.
The server's resident memory (VmRSS, sampled every 50 ms) and CPU time are read from
/proc. Alone and flooded are measured in turn for ROUNDS rounds (the machine's speed
drifts, and it is shared); the last line gives the medians.

Two floods, each against a server of its own with its own baseline:

- from one address: the per-address limit (``login_failures_per_source``) answers 429
  after the first failures, without hashing;
- from many addresses, each under its limit: modelled by lifting the per-address limit
  (``BLINA_LOGIN_FAILURES_PER_SOURCE``), so that every login reaches argon2 and only the
  turns at hashing (``services.login_limits``) bound the work.

Before issue 16, 48 such connections pushed /health to 5-30 s and check-ins to 11-28 s
on SQLite, and 64 grew a process from 116 MiB to 2.0 GiB. Targets: /health and check-ins
p99 <= 250 ms during the flood, RSS < 400 MiB. Never fails on time; it prints the
figures.

SQLite in a temporary folder; with ``--postgres URL`` also on that PostgreSQL database,
whose public schema is dropped and made anew (give it an empty, throw-away database).
"""

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx2

from bench_service import CHECK_IN_SCRIPT, drive, wrk_path
from blina.config import Settings
from blina.knowledge import load_knowledge
from blina.services.accounts import create_user, to_actor
from blina.services.clock import SystemClock
from blina.services.courses import CourseRequest, start_course
from blina.services.patients import create_patient
from blina.store import migrate
from blina.store.session import make_engine, make_session_factory, transaction
from blina.store.tables import Clinic

CLIENTS = 8
FLOOD = 64
ROUNDS = 3
PASSWORD = "bench password 1"
# wrk, FLOOD connections: logins with a new made-up username and password each; counts
# the answers by status.
FLOOD_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local name = "bogus" .. math.random(1, 1000000000)
  local body = '{"username": "' .. name .. '", "password": "guess ' .. math.random() .. '"}'
  return wrk.format(nil, nil, nil, body)
end
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do io.write(string.format("status %d %d\\n", status, count)) end
end
"""


def seed(database_url: str) -> int:
    """The clinic, a nurse, a patient on a one-cycle course and the patient's family."""
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    now = SystemClock().now()
    with transaction(sessions) as session:
        clinic = Clinic(name="bench", zone="UTC", created_at=now)
        session.add(clinic)
        session.flush()
        staff = {
            role: create_user(
                session,
                actor=None,
                now=now,
                clinic_id=clinic.id,
                username=role,
                display_name=role,
                role=role,
                password=PASSWORD,
            )
            for role in ("physician", "nurse")
        }
        actor = to_actor(staff["physician"])
        patient = create_patient(session, actor=actor, now=now, code="B1", display_name="bench")
        start_course(
            session,
            actor=actor,
            now=now,
            knowledge=load_knowledge(),
            patient_id=patient.id,
            request=CourseRequest(
                confirm_past_start=True,
                regimen_id="mrd-positive",
                start=now.date() - timedelta(days=3),
                weight_kg=Decimal(70),
                age_years=Decimal(40),
                bag_hours=96,
                cycles=1,
            ),
        )
        create_user(
            session,
            actor=None,
            now=now,
            clinic_id=clinic.id,
            username="family",
            display_name="family",
            role="caregiver",
            password=PASSWORD,
            patient_id=patient.id,
        )
        patient_id = patient.id
    engine.dispose()
    return patient_id


def rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


@dataclass
class Usage:
    """The server's peak resident memory and its CPU time over a block."""

    peak_mib: float = 0.0
    cpu_seconds: float = 0.0
    seconds: float = 0.0


def cpu_seconds(pid: int) -> float:
    """User and system time of the whole server process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def usage(pid: int) -> Iterator[Usage]:
    """Samples the server's RSS every 50 ms; the figures are complete once the block is
    left."""
    used = Usage(peak_mib=rss_mib(pid))
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            used.peak_mib = max(used.peak_mib, rss_mib(pid))

    sampler = threading.Thread(target=sample)
    began, cpu = time.perf_counter(), cpu_seconds(pid)
    sampler.start()
    try:
        yield used
    finally:
        stop.set()
        sampler.join()
        used.cpu_seconds = cpu_seconds(pid) - cpu
        used.seconds = time.perf_counter() - began


@contextmanager
def flood(url: str, seconds: float) -> Iterator[None]:
    """FLOOD connections posting bogus logins for ``seconds``; prints what they got."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(FLOOD_SCRIPT)
        script.flush()
        command = [wrk_path(), "-t1", f"-c{FLOOD}", f"-d{seconds:.0f}s", "--timeout", "30s"]
        flooding = subprocess.Popen(
            [*command, "-s", script.name, url], stdout=subprocess.PIPE, text=True
        )
        time.sleep(2)  # the flood is at full strength before anything is measured
        try:
            yield
        finally:
            out, _ = flooding.communicate()
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    statuses = ", ".join(
        f"{count} x {status}"
        for status, count in sorted(re.findall(r"^status (\d+) (\d+)$", out, re.M))
    )
    print(
        f"{'  the flood: logins':<34} {float(rate.group(1)) if rate else 0:>8.0f} req/s"
        f"   ({statuses})"
    )


def measure(name: str, base: str, pid: int, script: Path, env: dict[str, str]) -> None:
    """Health and check-ins alone, then under the flood, ROUNDS times in turn (the
    machine's speed drifts); the medians of the p99s and the peaks last."""
    rows: dict[str, list[tuple[float, float, float, float]]] = {"alone": [], "flooded": []}
    for round_ in range(1, ROUNDS + 1):
        for phase, rounds in rows.items():
            print(f"{name}, {phase} ({round_})")
            flooded = phase == "flooded"
            with (
                usage(pid) as used,
                flood(f"{base}/auth/login", seconds=18) if flooded else nullcontext(),
            ):
                health = drive("  GET /health", f"{base}/health", clients=CLIENTS)
                check_ins = drive(
                    "  POST symptom report",
                    f"{base}/patients/{env['BENCH_FIRST_PATIENT']}/symptom-reports",
                    script=script,
                    env={**env, "BENCH_RUN": f"{name}-{phase}-{round_}"},
                    clients=CLIENTS,
                )
            share = used.cpu_seconds / used.seconds
            print(
                f"{'  server RSS, peak; CPU':<34} {used.peak_mib:>8.0f} MiB   {share:.0%} of a core"
            )
            rounds.append((health.p99_ms, check_ins.p99_ms, used.peak_mib, share))
    alone, flooded_ = (
        [statistics.median(column) for column in zip(*rows[key], strict=True)]
        for key in ("alone", "flooded")
    )
    print(
        f"{name}, median of {ROUNDS} rounds, alone -> flooded: "
        f"p99 /health {alone[0]:.0f} -> {flooded_[0]:.0f} ms, "
        f"check-ins {alone[1]:.0f} -> {flooded_[1]:.0f} ms, "
        f"peak RSS {alone[2]:.0f} -> {flooded_[2]:.0f} MiB, "
        f"CPU {alone[3]:.0%} -> {flooded_[3]:.0%} of a core "
        "(targets: p99 <= 250 ms, RSS < 400 MiB)"
    )


def serve(env: dict[str, str], patient: int, folder: str, name: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = Path(folder) / "server.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "blina", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        began = time.perf_counter()
        while True:
            try:
                if httpx2.get(f"{base}/health").status_code == 200:
                    break
            except httpx2.TransportError:
                if server.poll() is not None or time.perf_counter() - began > 120:
                    sys.exit(f"the server did not start:\n{log.read_text()}")
                time.sleep(0.1)
        family = httpx2.post(
            f"{base}/auth/login",
            json={"username": "family", "password": PASSWORD},
            timeout=30,
        ).json()
        script = Path(folder) / "check_in.lua"
        script.write_text(CHECK_IN_SCRIPT)
        posting = {
            "BENCH_FIRST_PATIENT": str(patient),
            "BENCH_SPREAD": "0",
            "BENCH_PATIENTS": "1",
            "BENCH_AUTHORIZATION": f"Bearer {family['token']}",
        }
        measure(name, base, server.pid, script, posting)
    finally:
        server.kill()
        server.wait()


def run(database: str, url: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "BLINA_DATA_DIR": folder}
        if url is not None:
            env["BLINA_DATABASE_URL"] = url
        settings = Settings(data_dir=Path(folder), database_url=url or "")
        patient = seed(settings.effective_database_url)
        serve(env, patient, folder, f"{database}, flood from one address")
        lifted = {**env, "BLINA_LOGIN_FAILURES_PER_SOURCE": str(10**9)}
        serve(lifted, patient, folder, f"{database}, flood from many addresses")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--postgres", metavar="URL", help="also on this throw-away database")
    arguments = parser.parse_args()
    wrk_path()  # installed before anything is measured
    print(
        f"wrk: {CLIENTS} connections per measured endpoint, {FLOOD} flooding; "
        f"one server process; {os.cpu_count()} cores"
    )
    run("SQLite", None)
    if arguments.postgres:
        run("PostgreSQL", arguments.postgres)


if __name__ == "__main__":
    main()
