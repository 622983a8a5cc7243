"""Symptom check-ins from home: stored, triaged, and turned into alerts for the care team.

A phone may retry a POST: the same idempotency key for the same patient stores one
report and answers the first one again.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from blina.domain.errors import InvalidInput
from blina.domain.planning import CoursePlan
from blina.domain.triage import CheckIn, Context, Temperature, TemperatureUnit, triage
from blina.knowledge import Knowledge
from blina.services.access import patient_for
from blina.services.actors import Actor
from blina.services.alerts import raise_alert
from blina.services.audit import append_audit
from blina.services.courses import get_course
from blina.store.tables import Alert, Course, SymptomReport

__all__ = ["CheckInRequest", "SubmittedReport", "list_reports", "submit_report"]

# Earlier check-ins that tell whether a symptom is new, worse or persisting.
_RECENT = timedelta(days=7)
_RECENT_COUNT = 3


@dataclass(frozen=True, slots=True)
class CheckInRequest:
    symptoms: dict[str, int | None]
    temperature: Decimal | None = None
    temperature_unit: str = "C"
    note: str = ""
    observed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SubmittedReport:
    report: SymptomReport
    replayed: bool
    alert_id: int | None


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
    if not 1 <= len(idempotency_key) <= 100:
        raise InvalidInput("Idempotency-Key", idempotency_key, "1 to 100 characters")
    patient = patient_for(session, actor, patient_id)
    existing = session.execute(
        select(SymptomReport).where(
            SymptomReport.patient_id == patient_id, SymptomReport.idempotency_key == idempotency_key
        )
    ).scalar_one_or_none()
    if existing is not None:
        alert_id = session.execute(
            select(Alert.id).where(Alert.symptom_report_id == existing.id)
        ).scalar()
        return SubmittedReport(existing, replayed=True, alert_id=alert_id)
    observed = _check_in(check_in, now)
    context = _context(session, actor, knowledge, patient_id, now)
    answer = triage(observed, context, knowledge.triage, now=now)
    stored = SymptomReport(
        patient_id=patient_id,
        submitted_by=actor.user_id,
        submitted_at=now,
        idempotency_key=idempotency_key,
        report={**_as_entered(check_in, observed), "triage": answer.to_dict()},
    )
    session.add(stored)
    session.flush()
    alert = raise_alert(session, now=now, patient=patient, report_id=stored.id, triage=answer)
    append_audit(
        session,
        at=now,
        actor=actor,
        action="symptom-report.submit",
        subject_type="symptom_report",
        subject_id=stored.id,
        after={
            "patient_id": patient_id,
            "level": str(answer.level),
            "alert": None if alert is None else alert.id,
        },
    )
    return SubmittedReport(stored, replayed=False, alert_id=None if alert is None else alert.id)


def list_reports(session: Session, *, actor: Actor, patient_id: int) -> list[SymptomReport]:
    patient_for(session, actor, patient_id)
    query = (
        select(SymptomReport)
        .where(SymptomReport.patient_id == patient_id)
        .order_by(SymptomReport.id)
    )
    return list(session.execute(query).scalars())


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
    )


def _as_entered(request: CheckInRequest, observed: CheckIn) -> dict[str, Any]:
    return {
        "observed_at": observed.observed_at.isoformat(),
        "temperature": None if request.temperature is None else str(request.temperature),
        "temperature_unit": request.temperature_unit,
        "symptoms": dict(request.symptoms),
        "note": request.note,
    }


def _context(
    session: Session, actor: Actor, knowledge: Knowledge, patient_id: int, now: datetime
) -> Context:
    """The course now, as triage needs it; unknown where the patient has no active course."""
    recent = tuple(_earlier(session, patient_id, now))
    course_id = session.execute(
        select(Course.id)
        .where(Course.patient_id == patient_id, Course.status == "active")
        .order_by(Course.start.desc(), Course.id.desc())
    ).scalar()
    if course_id is None:
        return Context(recent=recent)
    plan = get_course(session, actor=actor, now=now, knowledge=knowledge, course_id=course_id).plan
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
        infusing=span.infusing,
        days_since_start_or_step_up=_days_since_start_or_step_up(plan, today),
        age_group=plan.body.age_group,
        recent=recent,
    )


def _days_since_start_or_step_up(plan: CoursePlan, today: date) -> int | None:
    moments = [c.start for c in plan.cycles] + [
        s.astimezone(plan.zone).date() for s in plan.step_ups
    ]
    passed = [moment for moment in moments if moment <= today]
    return None if not passed else (today - max(passed)).days


def _earlier(session: Session, patient_id: int, now: datetime) -> list[CheckIn]:
    # Triage compares with the latest earlier check-in; a few are read, not the whole week.
    rows = reversed(
        session.execute(
            select(SymptomReport.report)
            .where(
                SymptomReport.patient_id == patient_id, SymptomReport.submitted_at >= now - _RECENT
            )
            .order_by(SymptomReport.submitted_at.desc(), SymptomReport.id.desc())
            .limit(_RECENT_COUNT)
        )
        .scalars()
        .all()
    )
    earlier = []
    for report in rows:
        if "symptoms" not in report or "observed_at" not in report:
            continue
        earlier.append(
            CheckIn.of(
                observed_at=datetime.fromisoformat(report["observed_at"]),
                symptoms=dict(report["symptoms"]),
            )
        )
    return earlier
