"""Symptom check-ins from home: stored, triaged, and turned into alerts for the care team.

A phone may retry a POST: the same idempotency key from the same sender for the same
patient, with the same check-in, stores one report and answers the first one again. The
key is kept with the SHA-256 of the canonical check-in: the same key with a different
check-in is refused (``KeyReused``), never answered with the first one's triage, and a key
is the sender's own (a caregiver re-using the patient's key gets nothing of the patient's).

The stored report keeps what was entered, its triage, and the clinic's numbers the answer
showed (``contacts``: the care team's phone, the emergency number and the crisis line,
as the clinic set them; empty when not set). Triage reads the course state: the cycle
day, whether the infusion runs, the days since the latest cycle start, step-up or
restart, and whether today is a hospital day of the plan (the patient is then told to
call the nurse, not an ambulance).
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from blina.domain.course_plan import CoursePlan
from blina.domain.course_state import CoursePhase
from blina.domain.errors import InvalidInput
from blina.domain.therapies.today import days_since_cell_infusion
from blina.domain.triage.check_in import CheckIn, Context, Temperature, TemperatureUnit
from blina.domain.triage.engine import triage
from blina.knowledge import Knowledge
from blina.services.access import patient_for, require_patient
from blina.services.actors import Actor
from blina.services.alerts import lock_patient, raise_alert
from blina.services.audit import append_audit
from blina.services.courses import get_course, plan_for
from blina.services.errors import CheckInsThrottled
from blina.services.records import ReportRecord, copy_of
from blina.services.sealed_rows import with_audit_mac
from blina.services.therapy_courses import active_therapy_course
from blina.store.prepared import Prepared
from blina.store.tables import (
    Alert,
    BagPreparation,
    Clinic,
    Course,
    CourseEvent,
    Patient,
    SymptomReport,
    table_of,
)

__all__ = [
    "CHECK_INS_PER_HOUR",
    "IDEMPOTENCY_KEY_LENGTH",
    "CheckInRequest",
    "KeyReused",
    "SubmittedReport",
    "list_reports",
    "request_hash",
    "submit_report",
]

# Earlier check-ins that tell whether a symptom is new, worse or persisting.
_RECENT = timedelta(days=7)
_RECENT_COUNT = 3


@dataclass(frozen=True, slots=True)
class CheckInRequest:
    """A check-in as entered. ``interferes`` answers the follow-up question for the
    severities left "not sure" ("Is it getting in the way of daily activities?")."""

    symptoms: dict[str, int | None]
    temperature: Decimal | None = None
    temperature_unit: str = "C"
    note: str = ""
    observed_at: datetime | None = None
    interferes: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SubmittedReport:
    """The stored check-in (``report`` holds what was entered and its triage), whether it
    was stored before under the same key, and the alert it raised, if any."""

    id: int
    patient_id: int
    submitted_at: datetime
    report: dict[str, Any]
    replayed: bool
    alert_id: int | None


class KeyReused(InvalidInput):
    """The idempotency key was sent before with a different check-in."""

    def __init__(self, key: str, first: datetime) -> None:
        super().__init__(
            "Idempotency-Key",
            key,
            "a new key for a new check-in: this key came with a different check-in at "
            f"{first.isoformat()}, which stays as it was",
        )


def request_hash(check_in: CheckInRequest) -> str:
    """The SHA-256 of the check-in as sent, in one canonical JSON form (sorted keys, a
    temperature as its normalised decimal, an instant in UTC): a retry of the same request
    hashes alike, any change of an answer does not."""
    temperature = check_in.temperature
    canonical = {
        "symptoms": check_in.symptoms,
        "temperature": None if temperature is None else format(temperature.normalize(), "f"),
        "temperature_unit": check_in.temperature_unit,
        "note": check_in.note,
        "observed_at": None
        if check_in.observed_at is None
        else check_in.observed_at.astimezone(UTC).isoformat(),
        "interferes": check_in.interferes,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def submit_report(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    patient_id: int,
    idempotency_key: str,
    check_in: CheckInRequest,
) -> SubmittedReport:
    if not 1 <= len(idempotency_key) <= IDEMPOTENCY_KEY_LENGTH:
        raise InvalidInput(
            "Idempotency-Key", idempotency_key, f"1 to {IDEMPOTENCY_KEY_LENGTH} characters"
        )
    now_row = _PATIENT_NOW.first(session, {"patient_id": patient_id})
    require_patient(actor, patient_id, None if now_row is None else now_row.clinic_id)
    assert now_row is not None
    clinic_id: int = now_row.clinic_id
    observed = _check_in(check_in, now)
    context = _context(session, actor, knowledge, now_row, now)
    answer = triage(observed, context, knowledge.triage, now=now)
    if not answer.alert_care_team:
        _refuse_past_the_hourly_limit(session, actor, patient_id, idempotency_key, now)
    else:
        # The patient's row is locked before the report is written: the report's foreign
        # key takes a share lock on that row, and two alerting check-ins of one patient
        # each holding one while asking for the lock to join or open the alert would wait
        # for each other (a deadlock on PostgreSQL, one of them lost).
        lock_patient(session, patient_id)
    # A second insert with the same key stores nothing; the first report is answered again
    # when the check-in is the same.
    sent = request_hash(check_in)
    report = {
        **_as_entered(check_in, observed),
        "triage": answer.to_dict(),
        "contacts": _contacts(now_row),
    }
    insert_new = _INSERT_NEW[session.get_bind().dialect.name == "postgresql"]
    report_id = insert_new.scalar(
        session,
        with_audit_mac(
            session,
            SymptomReport,
            {
                "patient_id": patient_id,
                "submitted_by": actor.user_id,
                "submitted_at": now,
                "idempotency_key": idempotency_key,
                "request_sha256": sent,
                "report": report,
                "observed_at": observed.observed_at,
                "symptoms": report["symptoms"],
            },
        ),
    )
    if report_id is None:
        return _replayed(session, patient_id, actor.user_id, idempotency_key, sent)
    alert_id = raise_alert(
        session,
        now=now,
        patient_id=patient_id,
        clinic_id=clinic_id,
        report_id=report_id,
        triage=answer,
    )
    append_audit(
        session,
        at=now,
        actor=actor,
        action="symptom-report.submit",
        subject_type="symptom_report",
        subject_id=report_id,
        after={"patient_id": patient_id, "level": str(answer.level), "alert": alert_id},
    )
    return SubmittedReport(report_id, patient_id, now, report, replayed=False, alert_id=alert_id)


def _refuse_past_the_hourly_limit(
    session: Session, actor: Actor, patient_id: int, key: str, now: datetime
) -> None:
    """A patient's check-ins are stored up to ``CHECK_INS_PER_HOUR`` within an hour; past
    it one that does not alert the care team is refused, saying when to send again and
    whom to call (one that alerts is always stored: it joins the open alert). A retry of
    one already stored is answered as before."""
    oldest: datetime | None = _HOUR_AGO.scalar(session, {"patient_id": patient_id})
    if oldest is None or oldest <= now - _HOUR:
        return
    if _KEY_SENT.scalar(
        session, {"patient_id": patient_id, "submitted_by": actor.user_id, "key": key}
    ):
        return
    wait = max(1, int((oldest + _HOUR - now).total_seconds()) + 1)
    raise CheckInsThrottled(
        f"{CHECK_INS_PER_HOUR} check-ins were sent for this patient within the hour: this one "
        f"was not stored. Send it again in {-(-wait // 60)} min, or call the care team now if "
        "you are worried (in an emergency, the emergency number).",
        retry_after=wait,
    )


def _replayed(
    session: Session, patient_id: int, submitted_by: int, idempotency_key: str, sent: str
) -> SubmittedReport:
    existing = session.execute(
        select(SymptomReport).where(
            SymptomReport.patient_id == patient_id,
            SymptomReport.submitted_by == submitted_by,
            SymptomReport.idempotency_key == idempotency_key,
        )
    ).scalar_one()
    # A report stored before hashes were kept has none: refused too, the safe side.
    if existing.request_sha256 != sent:
        raise KeyReused(idempotency_key, existing.submitted_at)
    alert_id = session.execute(
        select(Alert.id).where(Alert.symptom_report_id == existing.id)
    ).scalar()
    return SubmittedReport(
        existing.id,
        existing.patient_id,
        existing.submitted_at,
        existing.report,
        replayed=True,
        alert_id=alert_id,
    )


def list_reports(
    session: Session,
    *,
    actor: Actor,
    patient_id: int,
    after: int | None = None,
    before: int | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[ReportRecord]:
    """The patient's check-ins in the order they came (``newest_first``: the other way),
    those after the id ``after`` and before the id ``before``, at most ``limit`` (None:
    all)."""
    patient_for(session, actor, patient_id)
    order = SymptomReport.id.desc() if newest_first else SymptomReport.id
    query = (
        select(SymptomReport)
        .where(SymptomReport.patient_id == patient_id)
        .order_by(order)
        .limit(limit)
    )
    if after is not None:
        query = query.where(SymptomReport.id > after)
    if before is not None:
        query = query.where(SymptomReport.id < before)
    return [copy_of(ReportRecord, row) for row in session.execute(query).scalars()]


def _check_in(request: CheckInRequest, now: datetime) -> CheckIn:
    unit_names = [u.value for u in TemperatureUnit]
    if request.temperature_unit not in unit_names:
        raise InvalidInput(
            "temperature_unit", request.temperature_unit, f"one of {', '.join(unit_names)}"
        )
    temperature = (
        None
        if request.temperature is None
        else Temperature(request.temperature, TemperatureUnit(request.temperature_unit))
    )
    return CheckIn.of(
        observed_at=request.observed_at or now,
        symptoms=request.symptoms,
        temperature=temperature,
        free_text=request.note,
        interferes=request.interferes,
    )


def _as_entered(request: CheckInRequest, observed: CheckIn) -> dict[str, Any]:
    entered = {
        "observed_at": observed.observed_at.isoformat(),
        "temperature": None if request.temperature is None else str(request.temperature),
        "temperature_unit": request.temperature_unit,
        "symptoms": dict(request.symptoms),
        "note": request.note,
    }
    if request.interferes:
        entered["interferes"] = dict(request.interferes)
    return entered


def _contacts(clinic: Any) -> dict[str, str]:
    """The clinic's numbers as set (``clinic`` is the patient's row of ``_PATIENT_NOW``)."""
    return {
        "care_team_phone": clinic.phone,
        "emergency_number": clinic.emergency_number,
        "crisis_line": clinic.crisis_line,
    }


def _context(
    session: Session, actor: Actor, knowledge: Knowledge, course: Any, now: datetime
) -> Context:
    """The course now, as triage needs it; unknown where the patient has no active course.
    ``course`` is the patient's row of ``_PATIENT_NOW``. A patient without an active
    course of blinatumomab may have an active course of another therapy: its therapy and,
    for a CAR-T journey, the days since its latest cell infusion, from its plan."""
    recent = tuple(_earlier(session, course.patient_id, now))
    if course.id is None:
        therapy = active_therapy_course(session, course.patient_id, knowledge=knowledge)
        # A therapy the triage rules do not know (none today: every planned therapy has
        # its entry) is triaged by the rules for everyone rather than refused.
        guide = None if therapy is None else knowledge.triage.therapies.get(therapy.course.therapy)
        if therapy is None or guide is None:
            return Context(recent=recent)
        today = now.astimezone(ZoneInfo(course.zone)).date()
        return Context(
            recent=recent,
            therapy=guide.id,
            days_since_cell_infusion=days_since_cell_infusion(therapy.plan, today)
            if guide.cell_therapy
            else None,
        )
    running = True
    restarts: tuple[datetime, ...] = ()
    if course.replanned:  # through the log or late hangs (rare: the plan is read otherwise)
        view = get_course(session, actor=actor, now=now, knowledge=knowledge, course_id=course.id)
        plan = view.plan
        # the course state, not the day's plan: an interrupted infusion is not running
        running = view.state.phase is CoursePhase.INFUSING
        if view.state.restarted is not None:
            restarts = (view.state.restarted[1].at,)
    else:
        plan = plan_for(knowledge, course, ZoneInfo(course.zone))
        # At this instant, not by the day: before the first bag's hour, or after the last
        # bag ended, nothing runs (the course state's own rule).
        running = any(bag.start <= now < bag.end for bag in plan.bags)
    today = now.astimezone(plan.zone).date()
    if not plan.first_day <= today <= plan.last_day:
        return Context(age_group=plan.body.age_group, recent=recent)
    # From the spans, not plan.day(): one day must not expand the whole course.
    span = next(s for s in plan.spans if s.first <= today <= s.last)
    cycle_day = (
        None if span.first_cycle_day is None else span.first_cycle_day + (today - span.first).days
    )
    return Context(
        cycle_day=cycle_day,
        infusing=running,
        days_since_start_or_step_up=_days_since_start_or_step_up(plan, today, restarts),
        age_group=plan.body.age_group,
        recent=recent,
        # The plan's hospital day is what blina records of a stay (no admission record).
        in_hospital=span.inpatient,
    )


# Built once (a check-in runs them every time): the patient with their clinic's zone,
# and their active course (if any) with the columns its plan is derived from (see
# services.courses.Prescribed) and whether it is re-planned (its log has events, or a bag
# was hung after its time).
_COURSES = table_of(Course)
_EVENTS = table_of(CourseEvent)
_BAGS = table_of(BagPreparation)
_PATIENTS = table_of(Patient)
_CLINICS = table_of(Clinic)
_PATIENT_NOW = Prepared(
    select(
        _PATIENTS.c.id.label("patient_id"),
        _PATIENTS.c.clinic_id,
        _CLINICS.c.zone,
        _CLINICS.c.phone,
        _CLINICS.c.emergency_number,
        _CLINICS.c.crisis_line,
        _COURSES.c.id,
        _COURSES.c.regimen_id,
        _COURSES.c.start,
        _COURSES.c.start_time,
        _COURSES.c.bag_hours,
        _COURSES.c.cycles,
        _COURSES.c.cycle_starts,
        _COURSES.c.weight_kg,
        _COURSES.c.height_cm,
        _COURSES.c.age_years,
        (
            select(_EVENTS.c.id).where(_EVENTS.c.course_id == _COURSES.c.id).exists()
            # a bag hung after its slot's key: the re-plan moved the rest of the cycle
            | select(_BAGS.c.id)
            .where(_BAGS.c.course_id == _COURSES.c.id, _BAGS.c.hung_at > _BAGS.c.slot_start)
            .exists()
        ).label("replanned"),
    )
    .select_from(_PATIENTS)
    .join(_CLINICS, _CLINICS.c.id == _PATIENTS.c.clinic_id)
    .outerjoin(
        _COURSES, (_COURSES.c.patient_id == _PATIENTS.c.id) & (_COURSES.c.status == "active")
    )
    .where(_PATIENTS.c.id == bindparam("patient_id"))
    .order_by(_COURSES.c.start.desc(), _COURSES.c.id.desc())
    .limit(1)
)
_REPORTS = table_of(SymptomReport)
# The longest Idempotency-Key, as the table declares it.
_KEY_TYPE = _REPORTS.c.idempotency_key.type
assert isinstance(_KEY_TYPE, String)
assert _KEY_TYPE.length is not None
IDEMPOTENCY_KEY_LENGTH: int = _KEY_TYPE.length
# Past this many check-ins of a patient within the hour, one that does not alert the care
# team is refused (issue 16: one patient sent 1,454). Not a clinical number: a bound on
# traffic, far above a worried family checking in often.
CHECK_INS_PER_HOUR = 30
_HOUR = timedelta(hours=1)
# The patient's CHECK_INS_PER_HOUR-th newest check-in's time: within the hour, the limit
# is reached.
_HOUR_AGO = Prepared(
    select(_REPORTS.c.submitted_at)
    .where(_REPORTS.c.patient_id == bindparam("patient_id"))
    .order_by(_REPORTS.c.id.desc())
    .limit(1)
    .offset(CHECK_INS_PER_HOUR - 1)
)
_KEY_SENT = Prepared(
    select(_REPORTS.c.id).where(
        _REPORTS.c.patient_id == bindparam("patient_id"),
        _REPORTS.c.submitted_by == bindparam("submitted_by"),
        _REPORTS.c.idempotency_key == bindparam("key"),
    )
)
# Newest by id: reports are stored in the order they arrive (one writer at a time), and
# the patient index walks backwards by id without sorting the patient's history.
_EARLIER = Prepared(
    select(_REPORTS.c.observed_at, _REPORTS.c.symptoms)
    .where(
        _REPORTS.c.patient_id == bindparam("patient_id"),
        _REPORTS.c.submitted_at >= bindparam("since"),
    )
    .order_by(_REPORTS.c.id.desc())
    .limit(bindparam("count"))
)
# INSERT ... ON CONFLICT DO NOTHING for SQLite [False] and PostgreSQL [True]: the unique
# (patient, key) index decides a retry, also between processes.
_INSERT_NEW = tuple(
    Prepared(
        dialect_insert(_REPORTS)
        .on_conflict_do_nothing(index_elements=["patient_id", "submitted_by", "idempotency_key"])
        .returning(_REPORTS.c.id),
        columns=[
            "patient_id",
            "submitted_by",
            "submitted_at",
            "idempotency_key",
            "request_sha256",
            "report",
            "observed_at",
            "symptoms",
            "audit_mac",
        ],
    )
    for dialect_insert in (sqlite_insert, postgresql_insert)
)


def _days_since_start_or_step_up(
    plan: CoursePlan, today: date, restarts: tuple[datetime, ...] = ()
) -> int | None:
    """Days since the latest cycle start, step-up or restart on or before ``today``."""
    moments = [c.start for c in plan.cycles] + [
        s.astimezone(plan.zone).date() for s in (*plan.step_ups, *restarts)
    ]
    passed = [moment for moment in moments if moment <= today]
    return None if not passed else (today - max(passed)).days


def _earlier(session: Session, patient_id: int, now: datetime) -> list[CheckIn]:
    # Triage compares with the latest earlier check-in; a few are read, not the whole week.
    rows = _EARLIER.all(
        session, {"patient_id": patient_id, "since": now - _RECENT, "count": _RECENT_COUNT}
    )
    return [
        CheckIn.of(observed_at=observed_at, symptoms=symptoms)
        for observed_at, symptoms in reversed(rows)
    ]
