"""A small clinic built through the services, for tests that call the services directly.

Every service test starts from the same world, so that a test reads as the call it makes
and what it checks: a clinic in Europe/Paris with one member of staff of each role (two
pharmacists, since a bag is verified by a second one), two patients each with a caregiver,
and another clinic with a physician and a patient of its own (what the first clinic's
people must not see). Courses and bags are added on top with the builders below, each
with defaults that make a valid one; a test overrides only what it tests.

``NOW`` is 10:30 in Paris on 10 December 2026; a default course starts that day at 09:00,
so its first 24-h bag is the one running now.
"""

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.config import Settings
from blina.domain.pharmacy.resolution import ResolvedLibrary
from blina.domain.therapies.cycle_doses import Transplant
from blina.domain.therapies.inputs import TherapyInputs
from blina.knowledge import Knowledge
from blina.services.accounts import LoginOutcome, create_user, log_in, to_actor
from blina.services.actors import Actor
from blina.services.courses import CourseRequest, start_course
from blina.services.login_limits import LoginLimits
from blina.services.patients import create_patient
from blina.services.pharmacy import prepare_course_bag, verify_bag
from blina.services.therapy_courses import start_therapy_course
from blina.store.tables import AuditEvent, Clinic
from tests.factories import PASSWORD

__all__ = [
    "NOW",
    "PASSWORD",
    "World",
    "add_bag",
    "add_course",
    "add_therapy_course",
    "add_world",
    "adult_course",
    "audited",
    "car_t_course",
    "child_course",
    "inotuzumab_course",
    "sign_in",
]

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
ZONE = "Europe/Paris"


@dataclass(frozen=True)
class World:
    """Clinic A's people (``patient`` is "P1", ``other_patient`` "P2", each with their
    caregiver) and clinic B's (``outsider`` is a physician there, ``outsider_patient``
    their patient)."""

    clinic_id: int
    admin: Actor
    physician: Actor
    nurse: Actor
    pharmacist: Actor
    checker: Actor  # the second pharmacist
    patient: int
    family: Actor
    other_patient: int
    other_family: Actor
    outsider_clinic_id: int
    outsider: Actor
    outsider_patient: int


def add_world(session: Session, *, now: datetime = NOW) -> World:
    """Both clinics and their people, every one signing in with ``PASSWORD``."""
    a = _clinic(session, "clinic a", now)
    b = _clinic(session, "clinic b", now)
    staff = {
        role: _user(session, a, role, role=kind, now=now)
        for role, kind in (
            ("admin", "admin"),
            ("physician", "physician"),
            ("nurse", "nurse"),
            ("pharmacist", "pharmacist"),
            ("checker", "pharmacist"),
        )
    }
    p1 = create_patient(session, actor=staff["nurse"], now=now, code="P1", display_name="Alex")
    p2 = create_patient(session, actor=staff["nurse"], now=now, code="P2", display_name="Sam")
    outsider = _user(session, b, "outsider", role="physician", now=now)
    pb = create_patient(session, actor=outsider, now=now, code="P1", display_name="Kim")
    return World(
        clinic_id=a,
        **staff,
        patient=p1.id,
        family=_user(session, a, "family", role="caregiver", now=now, patient_id=p1.id),
        other_patient=p2.id,
        other_family=_user(session, a, "other.family", role="caregiver", now=now, patient_id=p2.id),
        outsider_clinic_id=b,
        outsider=outsider,
        outsider_patient=pb.id,
    )


def sign_in(
    sessions: sessionmaker[Session],
    username: str,
    *,
    password: str = PASSWORD,
    now: datetime = NOW,
    settings: Settings | None = None,
    kind: str = "bearer",
    source: str = "192.0.2.1",
) -> LoginOutcome:
    """A sign-in through the accounts service, as the API's would be (default settings
    unless ``settings``) from the address ``source``: a token and who it signs in, or the
    refusal."""
    settings = Settings() if settings is None else settings
    return log_in(
        sessions,
        limits=LoginLimits(settings),
        settings=settings,
        now=now,
        username=username,
        password=password,
        kind=kind,
        source=source,
    )


def adult_course(**changes: object) -> CourseRequest:
    """One relapsed/refractory cycle for a 70-kg adult (fixed dose), 24-h bags, starting
    on ``NOW``'s day at 09:00 in the clinic."""
    request = CourseRequest(
        regimen_id="relapsed-refractory",
        start=date(2026, 12, 10),
        weight_kg=Decimal(70),
        age_years=Decimal(40),
        cycles=1,
    )
    return replace(request, **changes)


def child_course(**changes: object) -> CourseRequest:
    """As ``adult_course``, for a 20-kg, 110-cm, 6-year-old child (dose per m2)."""
    return adult_course(
        weight_kg=Decimal(20), height_cm=Decimal(110), age_years=Decimal(6), **changes
    )


def add_course(
    session: Session,
    world: World,
    knowledge: Knowledge,
    *,
    now: datetime = NOW,
    request: CourseRequest | None = None,
    patient: int | None = None,
    as_: Actor | None = None,
) -> int:
    """A course started by the physician (``as_``: another one), by default
    ``adult_course()`` for "P1"; its id."""
    view = start_course(
        session,
        actor=world.physician if as_ is None else as_,
        now=now,
        knowledge=knowledge,
        patient_id=world.patient if patient is None else patient,
        request=adult_course() if request is None else request,
    )
    return view.course.id


def inotuzumab_course(**changes: object) -> TherapyInputs:
    """Inotuzumab for a 1.72-m2 adult, no transplant planned, cycle 1 day 1 on ``NOW``'s
    day (doses on days 1, 8 and 15)."""
    inputs = TherapyInputs(
        therapy="inotuzumab",
        bsa_m2=Decimal("1.72"),
        start=date(2026, 12, 10),
        transplant=Transplant.NOT_PLANNED,
    )
    return replace(inputs, **changes)


def car_t_course(**changes: object) -> TherapyInputs:
    """Obecabtagene for a 60-kg adult with 12 % marrow blasts, its first infusion (Day 1)
    four days after ``NOW``'s day."""
    inputs = TherapyInputs(
        therapy="obecabtagene",
        start=date(2026, 12, 14),
        weight_kg=Decimal(60),
        marrow_blasts_percent=Decimal(12),
    )
    return replace(inputs, **changes)


def add_therapy_course(
    session: Session,
    world: World,
    knowledge: Knowledge,
    *,
    now: datetime = NOW,
    inputs: TherapyInputs | None = None,
    patient: int | None = None,
) -> int:
    """A therapy course started by the physician, by default ``inotuzumab_course()`` for
    "P1"; its id."""
    view = start_therapy_course(
        session,
        actor=world.physician,
        now=now,
        knowledge=knowledge,
        patient_id=world.patient if patient is None else patient,
        inputs=inotuzumab_course() if inputs is None else inputs,
    )
    return view.course.id


def add_bag(
    session: Session,
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course_id: int,
    *,
    now: datetime = NOW,
    bag_start: datetime | None = None,
    verified: bool = True,
) -> int:
    """A bag prepared by the pharmacist (the next slot, or the one at ``bag_start``) and,
    unless ``verified`` is False, verified by the checker; its id."""
    bag = prepare_course_bag(
        session,
        actor=world.pharmacist,
        now=now,
        knowledge=knowledge,
        library=library,
        course_id=course_id,
        bag_start=bag_start,
        override_reasons={},
    )
    if verified:
        verify_bag(session, actor=world.checker, now=now, knowledge=knowledge, bag_id=bag.id)
    return bag.id


def audited(session: Session, action: str) -> list[AuditEvent]:
    """The audit trail's events of ``action``, oldest first."""
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
    return list(session.execute(query).scalars())


def _clinic(session: Session, name: str, now: datetime) -> int:
    clinic = Clinic(name=name, zone=ZONE, created_at=now)
    session.add(clinic)
    session.flush()
    return clinic.id


def _user(
    session: Session,
    clinic_id: int,
    username: str,
    *,
    role: str,
    now: datetime,
    patient_id: int | None = None,
) -> Actor:
    user = create_user(
        session,
        actor=None,
        now=now,
        clinic_id=clinic_id,
        username=username,
        display_name=username,
        role=role,
        password=PASSWORD,
        patient_id=patient_id,
    )
    return to_actor(user)
