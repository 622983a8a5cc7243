"""The read models the services hand to the API and the web pages: frozen copies of
stored rows, taken when a service answers.

A route or a view model reads these, never an ORM row: a column renamed or a table split
stops at the services, and a copy can neither load lazily after its transaction ended
nor be changed and written back by accident. A record holds the columns a reader may
show; what only the services use (a token's digest, a row's audit MAC) stays behind.
"""

from dataclasses import dataclass, fields
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "AlertRecord",
    "AssessmentRecord",
    "AuditRecord",
    "BagPreparationRecord",
    "ClinicRecord",
    "CourseRecord",
    "FeedRecord",
    "PatientRecord",
    "PremedicationRecord",
    "ReportRecord",
    "UserRecord",
    "copy_of",
]

R = TypeVar("R", bound="DataclassInstance")


def copy_of(kind: type[R], row: object, **more: Any) -> R:
    """A ``kind`` record of ``row``'s attributes of the same names; ``more`` gives the
    fields the row does not have."""
    names = _NAMES.get(kind)
    if names is None:
        names = _NAMES[kind] = tuple(f.name for f in fields(kind))
    return kind(**{name: getattr(row, name) for name in names if name not in more}, **more)


_NAMES: dict[type[Any], tuple[str, ...]] = {}


@dataclass(frozen=True, slots=True)
class ClinicRecord:
    id: int
    name: str
    zone: str
    phone: str
    emergency_number: str
    crisis_line: str


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user as an admin sees them (never their password hash or failure count)."""

    id: int
    clinic_id: int
    username: str
    display_name: str
    role: str
    patient_id: int | None
    active: bool
    last_login_at: datetime | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class PatientRecord:
    id: int
    clinic_id: int
    code: str
    display_name: str
    created_at: datetime
    phone: str | None


@dataclass(frozen=True, slots=True)
class CourseRecord:
    """A prescribed course as stored: its prescription, status and version (the plan is
    derived, see ``courses.CourseView``)."""

    id: int
    patient_id: int
    regimen_id: str
    start: date
    start_time: time
    bag_hours: int
    cycles: int
    cycle_starts: dict[str, Any]
    weight_kg: Decimal
    height_cm: Decimal | None
    age_years: Decimal
    status: str
    ended_reason: str | None
    backdated: bool
    version: int
    prescribed_by: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class BagPreparationRecord:
    """A bag from the bench to the pump, with its recipe and who did each step."""

    id: int
    course_id: int
    code: str
    slot_start: datetime
    dose_mcg_per_day: Decimal
    status: str
    do_not_hang: str | None
    recipe: dict[str, Any]
    prepared_by: int
    prepared_at: datetime
    verified_by: int | None
    verified_at: datetime | None
    dispensed_by: int | None
    dispensed_at: datetime | None
    dispensed_to: str | None
    hung_by: int | None
    hung_at: datetime | None
    pump_rate_ml_per_h: Decimal | None
    pump_volume_ml: Decimal | None
    removed_by: int | None
    removed_at: datetime | None
    volume_left_ml: Decimal | None
    ended_by: int | None
    ended_at: datetime | None
    ended_reason: str | None


@dataclass(frozen=True, slots=True)
class PremedicationRecord:
    id: int
    course_id: int
    due: datetime
    drug: str
    dose: str
    given_at: datetime
    given_by: int
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class AssessmentRecord:
    """A grading (CRS, ICANS) or a lab value with its CTCAE grade, as recorded."""

    id: int
    course_id: int
    scale: str
    inputs: dict[str, Any]
    grade: int
    decision: dict[str, Any]
    assessed_by: int
    assessed_at: datetime


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """A calendar feed; its token is known only when it is made (``CreatedFeed``)."""

    id: int
    patient_id: int
    label: str
    created_by: int
    created_at: datetime
    revoked_by: int | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReportRecord:
    """A check-in: what was entered and its triage (``report``)."""

    id: int
    patient_id: int
    submitted_by: int
    submitted_at: datetime
    report: dict[str, Any]
    observed_at: datetime


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An alert for the care team, with the code and name of its patient, and once
    acknowledged who took it (``acknowledged_by_name``) and what was done
    (``outcome``: the outcome chosen and the note; ``what_was_done``: the short line for
    the hand-over, None when it was not asked)."""

    id: int
    patient_id: int
    patient_code: str
    patient_name: str
    symptom_report_id: int | None
    check_ins: int
    latest_report_id: int | None
    level: str
    reason: str
    status: str
    created_at: datetime
    escalation_step: int
    next_escalation_at: datetime | None
    acknowledged_by: int | None
    acknowledged_at: datetime | None
    outcome: str | None
    what_was_done: str | None
    acknowledged_by_name: str | None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audited event: who did what to which record, before and after."""

    seq: int
    at: datetime
    actor_id: int | None
    clinic_id: int | None
    action: str
    subject_type: str
    subject_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
