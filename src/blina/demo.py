"""blina's demo clinic: the same patients behind ``blina demo``, docs and tests.

The people are invented; their plans come from the real knowledge data. Demo passwords
are for a local demo only.
"""

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.therapies.cycle_doses import Transplant
from blina.domain.therapies.inputs import TherapyInputs
from blina.knowledge import Knowledge
from blina.services.accounts import create_user, to_actor
from blina.services.actors import Role
from blina.services.audit import append_audit
from blina.services.courses import CourseRequest, record_event, start_course
from blina.services.patients import create_patient
from blina.services.records import CourseRecord
from blina.services.therapy_courses import start_therapy_course
from blina.store.session import transaction
from blina.store.tables import Clinic, Patient, User

__all__ = [
    "DEMO_CLINIC",
    "DEMO_PASSWORD",
    "DEMO_PATIENTS",
    "DEMO_THERAPY_PATIENTS",
    "DEMO_USERS",
    "DEMO_USER_PHONES",
    "DEMO_ZONE",
    "DemoPatient",
    "DemoTherapyPatient",
    "seed_demo_clinic",
]

DEMO_ZONE = ZoneInfo("Europe/Paris")
DEMO_CLINIC = "Demo clinic (not for clinical use)"
DEMO_PASSWORD = "demo-password"  # a local demo only

# username -> role; the patient and caregiver users are tied to a patient (DEMO_FAMILY).
DEMO_USERS = {
    "admin": Role.ADMIN,
    "dr.lee": Role.PHYSICIAN,
    "nurse.kim": Role.NURSE,
    "pharm.ana": Role.PHARMACIST,
    "pharm.ben": Role.PHARMACIST,
    "alex": Role.PATIENT,
    "alex.partner": Role.CAREGIVER,
    "robin": Role.PATIENT,
    "robin.partner": Role.CAREGIVER,
}
# A family user's patient, by the patient's code: Alex on blinatumomab, Robin on CAR-T.
DEMO_FAMILY = {
    "alex": "P-001",
    "alex.partner": "P-001",
    "robin": "P-005",
    "robin.partner": "P-005",
}
# The family's own numbers, fictional (the +1 555 01xx range is kept for fiction): a
# check-in from alex.partner is called back on theirs, one from alex on the patient's.
DEMO_USER_PHONES = {"alex.partner": "+1 555 0111"}


@dataclass(frozen=True, slots=True)
class DemoPatient:
    code: str
    name: str
    indication: str
    weight_kg: Decimal
    height_cm: Decimal
    age_years: Decimal
    bag_hours: int
    days_into_course: int
    interrupted: bool = False
    phone: str | None = None  # fictional; one patient has none, to show how that reads


DEMO_PATIENTS = (
    DemoPatient(
        "P-001",
        "Alex (adult, in hospital on cycle 1)",
        "relapsed-refractory",
        Decimal(72),
        Decimal(178),
        Decimal(41),
        24,
        2,
        phone="+1 555 0101",
    ),
    DemoPatient(
        "P-002",
        "Maria (adult, at home mid-cycle)",
        "mrd-positive",
        Decimal(64),
        Decimal(165),
        Decimal(33),
        168,
        14,
        phone="+1 555 0102",
    ),
    DemoPatient(
        "P-003",
        "Sam (child, dosed per m2)",
        "relapsed-refractory",
        Decimal("21.5"),
        Decimal(118),
        Decimal(7),
        48,
        10,
        phone="+1 555 0103",
    ),
    DemoPatient(
        "P-004",
        "Jordan (adult, infusion interrupted)",
        "consolidation",
        Decimal(80),
        Decimal(182),
        Decimal(52),
        24,
        5,
        interrupted=True,
    ),
)


@dataclass(frozen=True, slots=True)
class DemoTherapyPatient:
    """A patient on a course of another therapy: its inputs, their dates counted in
    days from the demo's today (``days``: field -> offset)."""

    code: str
    name: str
    inputs: TherapyInputs
    days: tuple[tuple[str, int], ...]


DEMO_THERAPY_PATIENTS = (
    DemoTherapyPatient(
        "P-005",
        "Robin (adult, CAR-T: obecabtagene in 4 days)",
        TherapyInputs(
            therapy="obecabtagene",
            weight_kg=Decimal(68),
            age_years=Decimal(34),
            marrow_blasts_percent=Decimal(8),
            bridging="inotuzumab",
        ),
        (
            ("start", 4),
            ("leukapheresis_on", -26),
            ("product_ready_on", -1),
            ("bridging_start", -20),
        ),
    ),
    DemoTherapyPatient(
        "P-006",
        "Chris (adult, inotuzumab cycle 1)",
        TherapyInputs(
            therapy="inotuzumab",
            bsa_m2=Decimal("1.86"),
            age_years=Decimal(52),
            transplant=Transplant.PLANNED,
        ),
        (("start", -7),),
    ),
)


def seed_demo_clinic(
    sessions: sessionmaker[Session], *, now: datetime, knowledge: Knowledge
) -> bool:
    """Create the demo clinic, its users and patients; False when it already exists."""
    with transaction(sessions) as session:
        if session.execute(select(Clinic.id).where(Clinic.name == DEMO_CLINIC)).first() is not None:
            return False
        clinic = Clinic(
            name=DEMO_CLINIC, zone=DEMO_ZONE.key, phone="+00 000 000 000 (demo)", created_at=now
        )
        session.add(clinic)
        session.flush()
        append_audit(
            session,
            at=now,
            actor=None,
            clinic_id=clinic.id,
            action="clinic.create",
            subject_type="clinic",
            subject_id=clinic.id,
            after={"name": DEMO_CLINIC},
        )
        staff = {
            name: create_user(
                session,
                actor=None,
                now=now,
                clinic_id=clinic.id,
                username=name,
                display_name=name,
                role=role,
                password=DEMO_PASSWORD,
            )
            for name, role in DEMO_USERS.items()
            if role not in (Role.PATIENT, Role.CAREGIVER)
        }
        physician = to_actor(staff["dr.lee"])
        today = now.astimezone(DEMO_ZONE).date()
        for demo in DEMO_PATIENTS:
            patient = create_patient(
                session,
                actor=physician,
                now=now,
                code=demo.code,
                display_name=demo.name,
                phone=demo.phone,
            )
            request = CourseRequest(
                confirm_past_start=True,
                regimen_id=demo.indication,
                start=today - timedelta(days=demo.days_into_course),
                weight_kg=demo.weight_kg,
                age_years=demo.age_years,
                height_cm=demo.height_cm,
                bag_hours=demo.bag_hours,
                start_time=time(9, 0),
            )
            view = start_course(
                session,
                actor=physician,
                now=now,
                knowledge=knowledge,
                patient_id=patient.id,
                request=request,
            )
            if demo.interrupted:
                _interrupt(session, view.course, staff["dr.lee"], now, knowledge)
        for therapy in DEMO_THERAPY_PATIENTS:
            patient = create_patient(
                session, actor=physician, now=now, code=therapy.code, display_name=therapy.name
            )
            dates: dict[str, Any] = {
                name: today + timedelta(days=offset) for name, offset in therapy.days
            }
            start_therapy_course(
                session,
                actor=physician,
                now=now,
                knowledge=knowledge,
                patient_id=patient.id,
                inputs=replace(therapy.inputs, **dates),
            )
        _add_families(session, clinic.id, now)
        return True


def _add_families(session: Session, clinic_id: int, now: datetime) -> None:
    """The patient and caregiver users, each tied to their patient (``DEMO_FAMILY``)."""
    found = session.execute(
        select(Patient.code, Patient.id).where(Patient.clinic_id == clinic_id)
    ).all()
    codes: dict[str, int] = dict(found)
    for name, code in DEMO_FAMILY.items():
        create_user(
            session,
            actor=None,
            now=now,
            clinic_id=clinic_id,
            username=name,
            display_name=name,
            role=DEMO_USERS[name],
            password=DEMO_PASSWORD,
            patient_id=codes[code],
            phone=DEMO_USER_PHONES.get(name),
        )


def _interrupt(
    session: Session, course: CourseRecord, physician: User, now: datetime, knowledge: Knowledge
) -> None:
    """Record an interruption six hours ago (cytokine release syndrome, grade 3)."""
    at = now - timedelta(hours=6)
    record_event(
        session,
        actor=to_actor(physician),
        now=now,
        knowledge=knowledge,
        course_id=course.id,
        expected_version=course.version,
        event={"at": at.isoformat(), "kind": "interrupt", "cause": "crs", "grade": 3},
    )
