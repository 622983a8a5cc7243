"""Symptom reports from home. Stored now; triage comes with the home-monitoring issue.

A phone may retry a POST: the same idempotency key for the same patient stores one report
and answers the first one again.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from blina.domain.errors import InvalidInput
from blina.services.access import patient_for
from blina.services.actors import Actor
from blina.services.audit import append_audit
from blina.store.tables import SymptomReport

__all__ = ["SubmittedReport", "list_reports", "submit_report"]


@dataclass(frozen=True, slots=True)
class SubmittedReport:
    report: SymptomReport
    replayed: bool


def submit_report(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    patient_id: int,
    idempotency_key: str,
    report: dict[str, Any],
) -> SubmittedReport:
    if not 1 <= len(idempotency_key) <= 100:
        raise InvalidInput("Idempotency-Key", idempotency_key, "1 to 100 characters")
    patient_for(session, actor, patient_id)
    existing = session.execute(
        select(SymptomReport).where(
            SymptomReport.patient_id == patient_id, SymptomReport.idempotency_key == idempotency_key
        )
    ).scalar_one_or_none()
    if existing is not None:
        return SubmittedReport(existing, replayed=True)
    stored = SymptomReport(
        patient_id=patient_id,
        submitted_by=actor.user_id,
        submitted_at=now,
        idempotency_key=idempotency_key,
        report=report,
    )
    session.add(stored)
    session.flush()
    append_audit(
        session,
        at=now,
        actor=actor,
        action="symptom-report.submit",
        subject_type="symptom_report",
        subject_id=stored.id,
        after={"patient_id": patient_id, "report": report},
    )
    return SubmittedReport(stored, replayed=False)


def list_reports(session: Session, *, actor: Actor, patient_id: int) -> list[SymptomReport]:
    patient_for(session, actor, patient_id)
    query = (
        select(SymptomReport)
        .where(SymptomReport.patient_id == patient_id)
        .order_by(SymptomReport.id)
    )
    return list(session.execute(query).scalars())
