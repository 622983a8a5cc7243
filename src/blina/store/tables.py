"""Tables. Rows only: no behaviour. Services map them to domain objects.

A patient row holds the least identifying data the work needs: a clinic-chosen code
and a display name, no birth date, no address. Body measurements belong to a course,
as the prescriber entered them.
"""

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from blina.store.types import ExactDecimal, UTCDateTime

__all__ = [
    "Alert",
    "AlertPolicy",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditHead",
    "BagPreparation",
    "Base",
    "CalendarFeed",
    "Clinic",
    "ClinicContact",
    "Course",
    "CourseEvent",
    "CourseTask",
    "Invitation",
    "LoginToken",
    "Notification",
    "PasswordReset",
    "Patient",
    "PremedicationGiven",
    "SymptomReport",
    "TherapyCourse",
    "ToxicityAssessment",
    "User",
]


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads it as a class attribute)
        datetime: UTCDateTime(),
        Decimal: ExactDecimal(),
        dict[str, Any]: JSON(),
    }


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for statements built once and run with parameters."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


class Clinic(Base):
    __tablename__ = "clinic"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    zone: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(64), default="")
    # Shown with a check-in's answer: the number for emergency services where the clinic
    # is (112 in France, 999 in the UK, 911 in the US) and a crisis line for thoughts of
    # self-harm; empty when not set (the answer then says "your emergency number").
    emergency_number: Mapped[str] = mapped_column(String(32), server_default="")
    crisis_line: Mapped[str] = mapped_column(String(64), server_default="")
    created_at: Mapped[datetime]


class Patient(Base):
    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("clinic_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    # The patient's or family's number to call back (services.phones); None: none given.
    phone: Mapped[str | None] = mapped_column(String(32))


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    # Written by the sign-in that let the user in (bookkeeping, not an audited column: the
    # audit trail has each sign-in).
    last_login_at: Mapped[datetime | None]
    # The audit key's HMAC of the audited columns (blina.services.sealed_rows); None
    # when written without a key.
    audit_mac: Mapped[str | None] = mapped_column(String(64))
    # The user's own number (a patient's or caregiver's, to call back; services.phones).
    phone: Mapped[str | None] = mapped_column(String(32))


class LoginToken(Base):
    """A session (cookie) or bearer token; only its SHA-256 is stored."""

    __tablename__ = "login_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class PasswordReset(Base):
    """A one-time link an admin issued for a user to set a new password. Only the SHA-256
    of its token is stored; it works until ``expires_at``, once (``used_at``), and not
    after a newer link, a deactivation or a password change revoked it (``revoked_at``).
    Used and revoked links stay, for the record."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Invitation(Base):
    """A one-time link the care team issued for a family member to make their own account,
    as the patient or a caregiver of ``patient_id``, under ``username``. As a reset link:
    only the SHA-256 of its token is stored; it works until ``expires_at``, once
    (``used_at``, and ``user_id`` is the account it made), and not after a newer
    invitation of the same username in the clinic or a revocation (``revoked_at``)."""

    __tablename__ = "invitation"
    __table_args__ = (Index("ix_invitation_clinic_username", "clinic_id", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    username: Mapped[str] = mapped_column(String(120))
    display_name: Mapped[str] = mapped_column(String(200))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    issued_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


# The statuses that hold a slot or a patient: a partial unique index keeps one of each.
_LIVE_BAG = text("status NOT IN ('discarded', 'voided')")
_ACTIVE_COURSE = text("status = 'active'")


class Course(Base):
    """A prescribed course. The plan is derived from these fields and the event log.

    Status: active, completed, discontinued, or cancelled (entered in error); a patient has
    at most one active course. ``ended_reason`` says why a course was ended by hand;
    ``backdated`` records that its start was confirmed as a date in the past. ``plan_end``
    is when the current plan's last bag ends, rewritten with the task index whenever the
    plan changes (None for a course whose plan has not changed since before it was kept).
    """

    __tablename__ = "course"
    __table_args__ = (
        Index(
            "ux_course_active_patient",
            "patient_id",
            unique=True,
            sqlite_where=_ACTIVE_COURSE,
            postgresql_where=_ACTIVE_COURSE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    regimen_id: Mapped[str] = mapped_column(String(64))
    start: Mapped[date]
    start_time: Mapped[time]
    bag_hours: Mapped[int]
    cycles: Mapped[int]
    cycle_starts: Mapped[dict[str, Any]]
    weight_kg: Mapped[Decimal]
    height_cm: Mapped[Decimal | None]
    age_years: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(20))
    ended_reason: Mapped[str | None] = mapped_column(Text)
    backdated: Mapped[bool] = mapped_column(default=False)
    plan_end: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    prescribed_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The audit key's HMAC of the audited columns (blina.services.sealed_rows); None
    # when written without a key.
    audit_mac: Mapped[str | None] = mapped_column(String(64))

    # UPDATE ... WHERE version = <read version>: a concurrent change makes the write fail.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class TherapyCourse(Base):
    """A course of a therapy other than blinatumomab (inotuzumab, rituximab, gemtuzumab,
    a CAR-T product): the physician's planning inputs as JSON
    (``blina.interop.json.therapy_inputs``), re-planned on every read; what happens
    (a response, a dose given, the product ready, a reaction graded) is a change of the
    inputs at a new version.

    Status as a course's: active, completed, discontinued, or cancelled (entered in
    error), ``ended_reason`` saying why. A patient has at most one active therapy course
    (the index below) and, by the services' rule, no active therapy course beside an
    active course of blinatumomab.
    """

    __tablename__ = "therapy_course"
    __table_args__ = (
        Index(
            "ux_therapy_course_active_patient",
            "patient_id",
            unique=True,
            sqlite_where=_ACTIVE_COURSE,
            postgresql_where=_ACTIVE_COURSE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    therapy: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20))
    ended_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    prescribed_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The audit key's HMAC of the audited columns (blina.services.sealed_rows); None
    # when written without a key.
    audit_mac: Mapped[str | None] = mapped_column(String(64))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class CourseEvent(Base):
    """One entry of a course's event log (interruption, restart, discontinuation)."""

    __tablename__ = "course_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime]
    details: Mapped[dict[str, Any]]
    recorded_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime]


class BagPreparation(Base):
    """A bag from the bench to the pump (``blina.domain.course_state.BagStatus``).

    ``slot_start`` and ``dose_mcg_per_day`` name the bag of the plan it was made for (its
    slot); one bag holds a slot until it is discarded or voided. ``do_not_hang`` is the reason, set
    whenever the plan changes, why the course's current plan no longer has this bag.
    """

    __tablename__ = "bag_preparation"
    __table_args__ = (
        Index(
            "ux_bag_live_slot",
            "course_id",
            "slot_start",
            "dose_mcg_per_day",
            unique=True,
            sqlite_where=_LIVE_BAG,
            postgresql_where=_LIVE_BAG,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    slot_start: Mapped[datetime]
    dose_mcg_per_day: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(20))
    do_not_hang: Mapped[str | None] = mapped_column(Text)
    recipe: Mapped[dict[str, Any]]
    prepared_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    prepared_at: Mapped[datetime]
    verified_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    verified_at: Mapped[datetime | None]
    dispensed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    dispensed_at: Mapped[datetime | None]
    dispensed_to: Mapped[str | None] = mapped_column(String(10))
    hung_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    hung_at: Mapped[datetime | None]
    pump_rate_ml_per_h: Mapped[Decimal | None]
    pump_volume_ml: Mapped[Decimal | None]
    removed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    removed_at: Mapped[datetime | None]
    volume_left_ml: Mapped[Decimal | None]
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(Text)
    # The audit key's HMAC of the audited columns (blina.services.sealed_rows); None
    # when written without a key.
    audit_mac: Mapped[str | None] = mapped_column(String(64))


class PremedicationGiven(Base):
    """A premedication dose of the plan recorded as given: what, how much, when, by whom."""

    __tablename__ = "premedication_given"
    __table_args__ = (UniqueConstraint("course_id", "due", "drug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    due: Mapped[datetime]
    drug: Mapped[str] = mapped_column(String(100))
    dose: Mapped[str] = mapped_column(String(60))
    given_at: Mapped[datetime]
    given_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    recorded_at: Mapped[datetime]


class ToxicityAssessment(Base):
    __tablename__ = "toxicity_assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    scale: Mapped[str] = mapped_column(String(30))
    inputs: Mapped[dict[str, Any]]
    grade: Mapped[int]
    decision: Mapped[dict[str, Any]]
    assessed_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    assessed_at: Mapped[datetime]
    # The audit key's HMAC of the audited columns (blina.services.sealed_rows); None
    # when written without a key.
    audit_mac: Mapped[str | None] = mapped_column(String(64))


class CalendarFeed(Base):
    """A patient's calendar subscription: a secret address a phone's calendar polls
    without signing in. Only the SHA-256 of the token is stored; a revoked feed stays,
    for the record, and answers nothing."""

    __tablename__ = "calendar_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime]
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    revoked_at: Mapped[datetime | None]


class SymptomReport(Base):
    """A check-in. ``idempotency_key`` is the sender's (unique per patient and
    submitter); ``request_sha256`` the hash of the canonical request sent under it (None
    for reports stored before it was kept)."""

    __tablename__ = "symptom_report"
    __table_args__ = (
        UniqueConstraint(
            "patient_id", "submitted_by", "idempotency_key", name="uq_symptom_report_submitter_key"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    submitted_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    submitted_at: Mapped[datetime]
    idempotency_key: Mapped[str] = mapped_column(String(100))
    request_sha256: Mapped[str | None] = mapped_column(String(64))
    # What was entered, and its triage: the record of what the family was told.
    report: Mapped[dict[str, Any]]
    # The time and the answers again, as columns: each later check-in's triage reads
    # them for the patient's latest few (from the JSON, every report was parsed whole).
    observed_at: Mapped[datetime]
    symptoms: Mapped[dict[str, Any]]
    # The audit key's HMAC of the audited columns (blina.services.sealed_rows); None
    # when written without a key.
    audit_mac: Mapped[str | None] = mapped_column(String(64))


class Alert(Base):
    """An alert for the care team. While open, ``next_escalation_at`` says when it moves
    to the next contact; the escalation job reads it, so it survives restarts. While open
    it gathers the patient's further alerting check-ins: ``check_ins`` counts them (its
    own included), ``latest_report_id`` is the newest, ``level`` the most urgent seen."""

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_due", "status", "next_escalation_at"),
        Index("ix_alert_acknowledged_at", "acknowledged_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    symptom_report_id: Mapped[int | None] = mapped_column(ForeignKey("symptom_report.id"))
    check_ins: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    latest_report_id: Mapped[int | None] = mapped_column(
        ForeignKey("symptom_report.id", name="fk_alert_latest_report_id_symptom_report")
    )
    level: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    escalation_step: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    acknowledged_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    # The acknowledger's own short line for the hand-over (None: not asked, see 0016).
    what_was_done: Mapped[str | None] = mapped_column(String(280))


class ClinicContact(Base):
    """One step of the clinic's escalation chain: who is told, by email and/or webhook."""

    __tablename__ = "clinic_contact"
    __table_args__ = (UniqueConstraint("clinic_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    webhook_url: Mapped[str | None] = mapped_column(String(500))


class AlertPolicy(Base):
    """The clinic's time to acknowledge an alert of one level before it escalates (a site
    parameter: the clinical reference gives none)."""

    __tablename__ = "alert_policy"
    __table_args__ = (UniqueConstraint("clinic_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    level: Mapped[str] = mapped_column(String(20))
    minutes: Mapped[int]


class Notification(Base):
    """The outbox: a message to send, kept until it is sent (at least once). Status:
    pending, sending (claimed by a worker), sent or failed (for good).

    It keeps a copy of whom it went to (``contact_name``, ``channel``, ``target``) rather
    than a reference to the contact: the clinic's chain can then be changed at any time,
    and the record still says where each message went.
    """

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_pending", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # While "sending": when a worker took it. A claim older than the lease was lost with
    # its worker, and the notification is taken again (at least once).
    claimed_at: Mapped[datetime | None]
    # While "pending" after a failed try: not taken again before then (backoff).
    next_attempt_at: Mapped[datetime | None]


class AuditHead(Base):
    """The single row that serializes appends to the audit hash chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    # The first event that carries a MAC (the audit key's); every later one must.
    mac_from: Mapped[int | None] = mapped_column(Integer)


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_subject", "subject_type", "subject_id"),
        # the clinic's trail, newest first, a page at a time
        Index("ix_audit_clinic_seq", "clinic_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # indexed with seq (ix_audit_clinic_seq), which also serves lookups by clinic alone
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("clinic.id"))
    action: Mapped[str] = mapped_column(String(60))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # HMAC-SHA256 of ``hash`` (and of the head's ``mac_from``) with the audit key; None
    # before the trail was keyed.
    mac: Mapped[str | None] = mapped_column(String(64))


class AuditCheckpoint(Base):
    """How far a clinic's trail was verified (by its audit page): the clinic's newest event
    then and its hash, signed with the audit key. The next verification starts after it."""

    __tablename__ = "audit_checkpoint"

    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64))


class CourseTask(Base):
    """One task of a course on one day (bag change, premedication, admission, ...).

    An index of the plan for the clinic's task list, rewritten in the same transaction
    whenever the course or its event log changes; the plan itself stays derived.
    """

    __tablename__ = "course_task"
    __table_args__ = (Index("ix_course_task_clinic_day", "clinic_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    day: Mapped[date]
    at: Mapped[datetime | None]
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)
    # What the task's state is read from: the premedication's drug; a bag change's dose in
    # mcg/day (its bag is found by its course, its slot's key and this dose).
    ref: Mapped[str] = mapped_column(String(100), default="")
    # A bag change's slot key (``Bag.key``): its start before late hangs moved it.
    slot_key: Mapped[datetime | None]
    # The figures and names the task's words are written from (see
    # ``blina.services.tasks.TaskRow.params``), so that a page writes them in its reader's
    # language; None for a row written before they were kept (its ``text`` is shown).
    params: Mapped[dict[str, Any] | None]
