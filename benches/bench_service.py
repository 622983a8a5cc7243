"""The running service on loopback under concurrent clients.

Seeds a clinic with 10,000 patients on active courses (SQLite in a temporary folder, or
BLINA_DATABASE_URL), starts `blina serve` in a subprocess (one process), and drives it
with wrk (a C load generator, installed from the system packages when missing) holding
32 connections for a few seconds per endpoint:

- GET /health (the bare figure the others are compared with)
- POST /patients/{id}/symptom-reports (authenticated, stored, audited): from one family,
  and spread over the 10,000 patients
- GET /clinic/tasks (today's tasks for the 10,000-patient clinic): kept while nothing
  changes, so also measured rebuilt, one request after each write

wrk costs the two cores little, so the figures are the server's: a client written in
Python spends about as much CPU per request as the server does and would bound the
health figure by itself. Prints requests per second and p50/p99 latency. Health and the
check-ins are measured in turn for three rounds and compared round by round (the
machine's speed drifts); the last line gives the medians. Targets (issue 5): the POST
reaches >= 40% of the health endpoint's requests per second with p99 <= 50 ms at 32
clients; the task list answers in <= 100 ms p50. Never fails on time; it prints the
figures.
"""

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx2
from pydantic import SecretStr

from blina.config import Settings
from blina.knowledge import load_knowledge
from blina.services.accounts import create_user, to_actor
from blina.services.audit_key import audit_key_of, use_audit_key
from blina.services.clock import SystemClock
from blina.services.courses import CourseRequest, start_course
from blina.services.patients import create_patient
from blina.store import migrate
from blina.store.session import make_engine, make_session_factory, transaction
from blina.store.tables import Clinic

PATIENTS = 10_000
CLIENTS = 32
SECONDS = 5.0
ROUNDS = 3
WARM_UP = 1.0
PASSWORD = "bench password 1"
AUDIT_KEY = "bench audit key, only for this benchmark"


def seed(settings: Settings) -> int:
    """The clinic, a nurse, a caregiver and 10,000 patients on one-cycle courses."""
    engine = make_engine(settings.effective_database_url)
    migrate.upgrade(engine)
    sessions = use_audit_key(make_session_factory(engine), audit_key_of(settings))
    knowledge = load_knowledge()
    now = SystemClock().now()
    today = now.date()
    with transaction(sessions) as session:
        clinic = Clinic(name="bench", zone="UTC", created_at=now)
        session.add(clinic)
        session.flush()
        physician = create_user(
            session,
            actor=None,
            now=now,
            clinic_id=clinic.id,
            username="doc",
            display_name="doc",
            role="physician",
            password=PASSWORD,
        )
        create_user(
            session,
            actor=None,
            now=now,
            clinic_id=clinic.id,
            username="nurse",
            display_name="nurse",
            role="nurse",
            password=PASSWORD,
        )
        actor = to_actor(physician)
        began = time.perf_counter()
        first_patient = 0
        for number in range(PATIENTS):
            patient = create_patient(
                session, actor=actor, now=now, code=f"B{number:05d}", display_name="bench"
            )
            first_patient = first_patient or patient.id
            request = CourseRequest(
                confirm_past_start=True,
                regimen_id="mrd-positive",
                start=today - timedelta(days=number % 42),
                weight_kg=Decimal(70),
                age_years=Decimal(40),
                bag_hours=96,
                cycles=1,
            )
            start_course(
                session,
                actor=actor,
                now=now,
                knowledge=knowledge,
                patient_id=patient.id,
                request=request,
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
            patient_id=first_patient,
        )
    print(f"seeded {PATIENTS} patients with courses in {time.perf_counter() - began:.1f} s")
    engine.dispose()
    return first_patient


# Each request's Idempotency-Key is new (the run's name and a counter); the POST across
# the clinic walks the 10,000 patients in a scattered order.
CHECK_IN_SCRIPT = """
local counter = 0
local run = os.getenv("BENCH_RUN")
local first = tonumber(os.getenv("BENCH_FIRST_PATIENT"))
local spread = os.getenv("BENCH_SPREAD") == "1"
local patients = tonumber(os.getenv("BENCH_PATIENTS"))
wrk.method = "POST"
wrk.body = '{"temperature": 37.8, "symptoms": {"headache": 1}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("BENCH_AUTHORIZATION")
request = function()
  counter = counter + 1
  local patient = first
  if spread then patient = first + (counter * 7919) % patients end
  wrk.headers["Idempotency-Key"] = run .. "-" .. counter
  return wrk.format(nil, "/api/v1/patients/" .. patient .. "/symptom-reports")
end
"""


@dataclass(frozen=True)
class Figures:
    rate: float
    p50_ms: float
    p99_ms: float


def wrk_path() -> str:
    """wrk, installed from the system packages when missing."""
    found = shutil.which("wrk")
    if found is None:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True)
        subprocess.run(
            [*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-yqq", "wrk"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        found = shutil.which("wrk")
    if found is None:
        sys.exit("wrk is needed (apt-get install wrk)")
    return found


def drive(
    name: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    env: dict[str, str] | None = None,
    clients: int = CLIENTS,
) -> Figures:
    """Drive one endpoint with wrk; print and return its requests per second and latency."""
    command = [wrk_path(), "-t1", f"-c{clients}", "--latency", "--timeout", "10s"]
    for key, value in (headers or {}).items():
        command += ["-H", f"{key}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    environment = {**os.environ, **(env or {})}
    # A warm-up first (connections opened, statements compiled, plans cached), not counted.
    warm = {**environment, "BENCH_RUN": f"{environment.get('BENCH_RUN', '')}-warm"}
    subprocess.run([*command, f"-d{WARM_UP:.0f}s", url], env=warm, capture_output=True, check=True)
    out = subprocess.run(
        [*command, f"-d{SECONDS:.0f}s", url], env=environment, capture_output=True, text=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50, p99 = (_ms(re.search(rf"^\s+{q}%\s+(\S+)", out, re.M).group(1)) for q in (50, 99))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = re.search(r"Socket errors: (.*)", out)
    requests = re.search(r"(\d+) requests in", out)
    print(
        f"{name:<34} {rate:>8.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   "
        f"({requests.group(1) if requests else '?'} requests, "
        f"{errors.group(1) if errors else 0} errors{', ' + failed.group(1) if failed else ''})"
    )
    return Figures(rate, p50, p99)


def _ms(text: str) -> float:
    """wrk's latency ("812.00us", "12.34ms", "1.02s") in milliseconds."""
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def rebuilt(
    base: str, patient: int, today: str, as_nurse: dict[str, str], as_family: dict[str, str]
) -> None:
    """The task list as a screen sees it after every change: a write (not timed) moves the
    audit position, so each timed request builds the list anew."""
    latencies = []
    with httpx2.Client(timeout=60) as client:
        for number in range(60):
            client.post(
                f"{base}/patients/{patient}/symptom-reports",
                json={"symptoms": {"headache": 1}},
                headers={**as_family, "Idempotency-Key": f"rebuild-{number}"},
            )
            began = time.perf_counter()
            client.get(f"{base}/clinic/tasks?day={today}", headers=as_nurse)
            latencies.append(time.perf_counter() - began)
    # The first ten warm up; "inclusive": 50 samples, no quantile beyond the largest.
    cuts = statistics.quantiles(latencies[10:], n=100, method="inclusive")
    print(
        f"{'GET /clinic/tasks, rebuilt each time':<34} {'':>8}        "
        f"p50 {cuts[49] * 1000:6.1f} ms   p99 {cuts[98] * 1000:6.1f} ms   "
        f"max {max(latencies[10:]) * 1000:6.1f} ms   (50 requests, one client, after a write)"
    )


def main() -> None:
    wrk_path()  # installed before the seeding, not in the middle of the figures
    with tempfile.TemporaryDirectory() as folder:
        # Signed as outside local (BLINA_AUDIT_KEY): each check-in's event and row MACs.
        key = os.environ.get("BLINA_AUDIT_KEY") or AUDIT_KEY
        env = {**os.environ, "BLINA_DATA_DIR": folder, "BLINA_AUDIT_KEY": key}
        settings = Settings(data_dir=Path(folder), audit_key=SecretStr(key))
        patient = seed(settings)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, "-m", "blina", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}/api/v1"
        try:
            for _ in range(300):
                try:
                    if httpx2.get(f"{base}/health").status_code == 200:
                        break
                except httpx2.TransportError:
                    time.sleep(0.1)
            nurse = httpx2.post(
                f"{base}/auth/login", json={"username": "nurse", "password": PASSWORD}
            ).json()
            family = httpx2.post(
                f"{base}/auth/login", json={"username": "family", "password": PASSWORD}
            ).json()
            as_nurse = {"Authorization": f"Bearer {nurse['token']}"}
            as_family = {"Authorization": f"Bearer {family['token']}"}
            today = SystemClock().now().date().isoformat()  # the server's clock is the real one too
            script = Path(folder) / "check_in.lua"
            script.write_text(CHECK_IN_SCRIPT)
            check_ins = f"{base}/patients/{patient}/symptom-reports"

            def posting(run: str, who: dict[str, str], spread: bool) -> dict[str, str]:
                return {
                    "BENCH_RUN": run,
                    "BENCH_FIRST_PATIENT": str(patient),
                    "BENCH_SPREAD": "1" if spread else "0",
                    "BENCH_PATIENTS": str(PATIENTS),
                    "BENCH_AUTHORIZATION": who["Authorization"],
                }

            print(f"wrk, {CLIENTS} connections, {SECONDS:.0f} s per endpoint, one server process")
            # The machine is shared and its speed drifts: health and the check-ins are
            # measured in turn, round after round, and compared round by round.
            ratios: list[tuple[float, float, float, float]] = []
            for round_ in range(1, ROUNDS + 1):
                health = drive(f"GET /health ({round_})", f"{base}/health")
                from_family = drive(
                    f"POST symptom report ({round_})",
                    check_ins,
                    script=script,
                    env=posting(f"family-{round_}", as_family, spread=False),
                )
                # The same check-ins spread over the whole clinic (a nurse taking them by
                # phone): no course plan or earlier check-in is at hand twice in a row.
                spread = drive(
                    f"POST, across 10,000 patients ({round_})",
                    check_ins,
                    script=script,
                    env=posting(f"spread-{round_}", as_nurse, spread=True),
                )
                ratios.append(
                    (
                        from_family.rate / health.rate,
                        from_family.p99_ms,
                        spread.rate / health.rate,
                        spread.p99_ms,
                    )
                )
            share, share_p99, spread_share, spread_p99 = (
                statistics.median(column) for column in zip(*ratios, strict=True)
            )
            print(
                f"median of {ROUNDS} rounds: POST {share:.0%} of health (p99 {share_p99:.1f} ms),"
                f" across the clinic {spread_share:.0%} (p99 {spread_p99:.1f} ms);"
                " targets >= 40% and <= 50 ms"
            )
            task_list = f"{base}/clinic/tasks?day={today}"
            # As a ward screen's browser asks for it: compressed.
            screen = {**as_nurse, "Accept-Encoding": "gzip"}
            drive(f"GET /clinic/tasks ({PATIENTS} patients)", task_list, headers=screen)
            drive("GET /clinic/tasks, one client", task_list, headers=screen, clients=1)
            drive("GET /health, one client", f"{base}/health", clients=1)
            rebuilt(base, patient, today, as_nurse, as_family)
            tasks = httpx2.get(task_list, headers=as_nurse).json()
            print(f"the task list has {len(tasks)} tasks today")
        finally:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
