"""Patients: create and list, within the actor's reach.

The web pages read records (``patient_record``, ``patient_records``, ``check_ins``); the
API's people routes copy what ``get_patient``, ``list_patients`` and ``create_patient``
answer into records (``records.copy_of``) before they read it.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from blina.domain.errors import InvalidInput
from blina.services.access import patient_for, require_role
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.errors import PermissionDenied
from blina.services.phones import check_phone
from blina.services.records import PatientRecord, ReportRecord, copy_of
from blina.services.reports import list_reports
from blina.store.tables import Patient

__all__ = [
    "CODE_MAX",
    "NAME_MAX",
    "PHONE_SETTING",
    "REGISTERING",
    "check_ins",
    "clinic_patients",
    "create_patient",
    "get_patient",
    "list_patients",
    "may_register",
    "patient_record",
    "patient_records",
    "require_registering",
    "set_patient_phone",
]


# Who registers a patient: the care team that meets them, and the admin who runs the clinic.
REGISTERING = (Role.PHYSICIAN, Role.NURSE, Role.ADMIN)
# Who changes a patient's number later: the care team that calls them back.
PHONE_SETTING = (Role.PHYSICIAN, Role.NURSE)
CODE_MAX = 64
NAME_MAX = 200


def may_register(actor: Actor) -> bool:
    return actor.role in REGISTERING


def require_registering(actor: Actor) -> None:
    require_role(actor, *REGISTERING, doing="register a patient")


def create_patient(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    code: str,
    display_name: str,
    phone: str | None = None,
) -> Patient:
    """A new patient of the actor's clinic; ``phone``: the patient's or family's number to
    call back (``phones.check_phone``; empty or None: none)."""
    require_registering(actor)
    code = code.strip()
    if not code or len(code) > CODE_MAX:
        raise InvalidInput("code", code, f"1 to {CODE_MAX} characters")
    if not display_name.strip() or len(display_name) > NAME_MAX:
        raise InvalidInput("display_name", display_name, f"1 to {NAME_MAX} characters")
    phone = check_phone("phone", phone)
    taken = select(Patient.id).where(Patient.clinic_id == actor.clinic_id, Patient.code == code)
    if session.execute(taken).first() is not None:
        raise InvalidInput("code", code, "a code no other patient of the clinic has")
    patient = Patient(
        clinic_id=actor.clinic_id,
        code=code,
        display_name=display_name.strip(),
        created_at=now,
        phone=phone,
    )
    session.add(patient)
    session.flush()
    append_audit(
        session,
        at=now,
        actor=actor,
        action="patient.create",
        subject_type="patient",
        subject_id=patient.id,
        after={"code": code, "display_name": patient.display_name, "phone": phone},
    )
    return patient


def set_patient_phone(
    session: Session, *, actor: Actor, now: datetime, patient_id: int, phone: str | None
) -> PatientRecord:
    """The patient's number to call back, changed by a physician or nurse of their clinic
    (empty or None: no number). Audited with the number before and after; the same
    number again changes and records nothing."""
    require_role(actor, *PHONE_SETTING, doing="change a patient's phone number")
    patient = patient_for(session, actor, patient_id)
    phone = check_phone("phone", phone)
    if patient.phone != phone:
        before = patient.phone
        patient.phone = phone
        session.flush()
        append_audit(
            session,
            at=now,
            actor=actor,
            action="patient.phone",
            subject_type="patient",
            subject_id=patient.id,
            before={"phone": before},
            after={"phone": phone},
        )
    return copy_of(PatientRecord, patient)


def get_patient(session: Session, *, actor: Actor, patient_id: int) -> Patient:
    return patient_for(session, actor, patient_id)


def list_patients(
    session: Session, *, actor: Actor, after: int | None = None, limit: int | None = None
) -> list[Patient]:
    """The patients the actor may see, by id, from after ``after``, at most ``limit``
    (None: all)."""
    query = (
        select(Patient)
        .where(Patient.clinic_id == actor.clinic_id)
        .order_by(Patient.id)
        .limit(limit)
    )
    if not actor.is_staff:
        query = query.where(Patient.id == actor.patient_id)
    if after is not None:
        query = query.where(Patient.id > after)
    return list(session.execute(query).scalars())


def patient_record(session: Session, *, actor: Actor, patient_id: int) -> PatientRecord:
    """The patient, when the actor may see them (else ``NotFound``)."""
    return copy_of(PatientRecord, patient_for(session, actor, patient_id))


def patient_records(session: Session, *, actor: Actor) -> list[PatientRecord]:
    """The patients the actor may see, by id."""
    return [copy_of(PatientRecord, row) for row in list_patients(session, actor=actor)]


def clinic_patients(session: Session, *, actor: Actor) -> list[PatientRecord]:
    """The clinic's patients, by id, for its staff (the page that registers them and
    invites their families)."""
    if not actor.is_staff:
        raise PermissionDenied("only the clinic's staff list its patients")
    return patient_records(session, actor=actor)


def check_ins(
    session: Session, *, actor: Actor, patient_id: int, before: int | None = None, limit: int
) -> list[ReportRecord]:
    """The patient's check-ins, each with its triage, newest first: at most ``limit``, of
    those that came before the check-in ``before`` (None: the newest)."""
    return list_reports(
        session, actor=actor, patient_id=patient_id, before=before, limit=limit, newest_first=True
    )
