"""Symptom reports from home and the clinic's task list."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from blina.api.deps import ActorDep, StateDep, TxDep
from blina.api.schemas import ReportCreate, ReportPublic, TaskPublic
from blina.interop.plan_json import to_json_ready
from blina.services import reports, tasks
from blina.store.tables import SymptomReport

router = APIRouter()


def _report(row: SymptomReport, replayed: bool = False) -> ReportPublic:
    return ReportPublic(
        id=row.id,
        patient_id=row.patient_id,
        submitted_at=row.submitted_at,
        report=row.report,
        replayed=replayed,
    )


@router.post("/patients/{patient_id}/symptom-reports", status_code=201, tags=["home"])
def submit_report(
    patient_id: int,
    body: ReportCreate,
    idempotency_key: Annotated[str, Header(min_length=1, max_length=100)],
    response: Response,
    session: TxDep,
    state: StateDep,
    actor: ActorDep,
) -> ReportPublic:
    """Store a symptom check-in. The same Idempotency-Key again stores nothing new (200)."""
    content: dict[str, Any] = to_json_ready(body.model_dump(mode="python"))
    submitted = reports.submit_report(
        session,
        actor=actor,
        now=state.clock.now(),
        patient_id=patient_id,
        idempotency_key=idempotency_key,
        report=content,
    )
    if submitted.replayed:
        response.status_code = 200
    return _report(submitted.report, submitted.replayed)


@router.get("/patients/{patient_id}/symptom-reports", tags=["home"])
def list_reports(patient_id: int, session: TxDep, actor: ActorDep) -> list[ReportPublic]:
    return [_report(r) for r in reports.list_reports(session, actor=actor, patient_id=patient_id)]


@router.get("/clinic/tasks", tags=["clinic"])
def clinic_tasks(
    session: TxDep, state: StateDep, actor: ActorDep, day: Annotated[date | None, Query()] = None
) -> list[TaskPublic]:
    """The clinic's tasks for a day (default: today in the clinic's time zone)."""
    when = day or tasks.clinic_today(session, actor=actor, now=state.clock.now())
    rows = tasks.tasks_for_day(session, actor=actor, day=when)
    return [TaskPublic.model_validate(row, from_attributes=True) for row in rows]
