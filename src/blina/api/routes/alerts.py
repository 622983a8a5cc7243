"""The care team's alert queue, and the clinic's escalation chain (admin)."""

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete

from blina.api.deps import ActorDep, ReadDep, StateDep, TxDep
from blina.services import alerts
from blina.services.access import require_role
from blina.services.actors import Role
from blina.services.audit import append_audit
from blina.store.tables import Alert, AlertPolicy, ClinicContact, Patient
from blina.store.types import RecordId

router = APIRouter(tags=["alerts"])


class AlertPublic(BaseModel):
    id: int
    patient_id: int
    patient_code: str
    level: str
    reason: str
    status: str
    created_at: datetime
    escalation_step: int
    next_escalation_at: datetime | None
    acknowledged_by: int | None
    acknowledged_at: datetime | None
    outcome: str | None


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal[
        "advice-given", "patient-called-in", "escalated-to-physician", "grading-recorded"
    ]
    note: str = Field(default="", max_length=2000)


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=200)
    webhook_url: str | None = Field(default=None, max_length=500, pattern=r"^https?://")


class EscalationChain(BaseModel):
    """The contacts in order, and the minutes each level may wait before moving on."""

    model_config = ConfigDict(extra="forbid")

    contacts: list[ContactIn] = Field(min_length=1)
    minutes: dict[Literal["emergency", "call-now", "same-day", "routine"], int] = Field(
        default_factory=dict
    )


def _public(alert: Alert, patient: Patient) -> AlertPublic:
    return AlertPublic(
        id=alert.id,
        patient_id=alert.patient_id,
        patient_code=patient.code,
        level=alert.level,
        reason=alert.reason,
        status=alert.status,
        created_at=alert.created_at,
        escalation_step=alert.escalation_step,
        next_escalation_at=alert.next_escalation_at,
        acknowledged_by=alert.acknowledged_by,
        acknowledged_at=alert.acknowledged_at,
        outcome=alert.outcome,
    )


@router.get("/clinic/alerts")
def list_alerts(
    session: ReadDep, actor: ActorDep, status: Literal["open", "acknowledged"] = "open"
) -> list[AlertPublic]:
    """The clinic's alerts, most urgent first, then oldest first."""
    return [_public(a, p) for a, p in alerts.list_alerts(session, actor=actor, status=status)]


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge(
    alert_id: RecordId, body: Acknowledgement, session: TxDep, state: StateDep, actor: ActorDep
) -> AlertPublic:
    """Take an alert (nurse or physician) and record what was done; escalation stops."""
    alert = alerts.acknowledge_alert(
        session,
        actor=actor,
        now=state.clock.now(),
        alert_id=alert_id,
        outcome=body.outcome,
        note=body.note,
    )
    patient = session.get(Patient, alert.patient_id)
    assert patient is not None
    return _public(alert, patient)


@router.put("/clinic/escalation")
def set_escalation(
    body: EscalationChain, session: TxDep, state: StateDep, actor: ActorDep
) -> EscalationChain:
    """Set the clinic's escalation chain and acknowledgement times (admin)."""
    require_role(actor, Role.ADMIN, doing="set the clinic's escalation chain")
    clinic = actor.clinic_id
    session.execute(delete(AlertPolicy).where(AlertPolicy.clinic_id == clinic))
    session.execute(delete(ClinicContact).where(ClinicContact.clinic_id == clinic))
    session.flush()
    for position, contact in enumerate(body.contacts, start=1):
        session.add(ClinicContact(clinic_id=clinic, position=position, **contact.model_dump()))
    for level, minutes in body.minutes.items():
        session.add(AlertPolicy(clinic_id=clinic, level=level, minutes=minutes))
    append_audit(
        session,
        at=state.clock.now(),
        actor=actor,
        action="clinic.escalation",
        subject_type="clinic",
        subject_id=clinic,
        after=body.model_dump(),
    )
    return body
