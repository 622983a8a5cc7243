"""What a clinic's task list pays for its courses of the other therapies.

A course of another therapy has no task index: ``tasks_for_day`` re-plans each active
therapy course of the clinic from its stored inputs (as every other reader does) and
keeps the day's entries. This seeds a clinic (SQLite in a temporary folder) with N
active therapy courses, half obecabtagene journeys and half inotuzumab cycles, and prints
the time of one task list for a day with N = 0, 50, 200 and 1,000, and the planning rate
alone. The API keeps the list per audit position and minute (``api/routes/home.py``), so
a ward screen's poll pays this once per change, not per request. Never fails on time; it
prints the figures.
"""

import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from blina.domain.therapies.cycle_doses import Transplant
from blina.domain.therapies.inputs import TherapyInputs
from blina.knowledge import load_knowledge
from blina.services.accounts import create_user, to_actor
from blina.services.patients import create_patient
from blina.services.tasks import tasks_for_day
from blina.services.therapy_courses import start_therapy_course
from blina.services.therapy_planning import plan_therapy
from blina.store.migrate import upgrade
from blina.store.session import make_engine, make_session_factory, read_only, transaction
from blina.store.tables import Clinic

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
DAY = date(2026, 12, 14)
CAR_T = TherapyInputs(
    therapy="obecabtagene",
    start=DAY,
    weight_kg=Decimal(60),
    marrow_blasts_percent=Decimal(12),
)
INOTUZUMAB = TherapyInputs(
    therapy="inotuzumab", bsa_m2=Decimal("1.72"), start=DAY, transplant=Transplant.PLANNED
)


def main() -> None:
    knowledge = load_knowledge()
    for inputs in (CAR_T, INOTUZUMAB):
        began, count = time.perf_counter(), 0
        while time.perf_counter() - began < 1.0:
            plan_therapy(knowledge, inputs)
            count += 1
        rate = count / (time.perf_counter() - began)
        print(f"plan_therapy {inputs.therapy:<14} {rate:8.0f} plans/s")
    for courses in (0, 50, 200, 1000):
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
            upgrade(engine)
            sessions = make_session_factory(engine)
            with transaction(sessions) as session:
                clinic = Clinic(name="bench", zone="Europe/Paris", created_at=NOW)
                session.add(clinic)
                session.flush()
                users = {
                    role: to_actor(
                        create_user(
                            session,
                            actor=None,
                            now=NOW,
                            clinic_id=clinic.id,
                            username=role,
                            display_name=role,
                            role=role,
                            password=None,
                        )
                    )
                    for role in ("physician", "nurse")
                }
                for n in range(courses):
                    patient = create_patient(
                        session,
                        actor=users["physician"],
                        now=NOW,
                        code=f"T{n:05}",
                        display_name="x",
                    )
                    inputs = CAR_T if n % 2 else INOTUZUMAB
                    start_therapy_course(
                        session,
                        actor=users["physician"],
                        now=NOW,
                        knowledge=knowledge,
                        patient_id=patient.id,
                        inputs=replace(inputs, start=DAY - timedelta(days=n % 7)),
                    )
            times = []
            for _ in range(3):
                with read_only(sessions) as session:
                    began = time.perf_counter()
                    rows = tasks_for_day(
                        session, actor=users["nurse"], day=DAY, now=NOW, knowledge=knowledge
                    )
                    times.append(time.perf_counter() - began)
            engine.dispose()
        print(
            f"tasks_for_day, {courses:>5} therapy courses: {min(times) * 1000:8.1f} ms "
            f"({len(rows)} rows)"
        )


if __name__ == "__main__":
    main()
