"""The care team's alert queue, and the clinic's escalation chain and numbers (admin)."""

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from blina.api.deps import ActorDep, ReadDep, StateDep, TxDep
from blina.services import alerts, clinic_settings, escalation
from blina.services.escalation import MINUTES_ALLOWED, MINUTES_MAX, MINUTES_MIN
from blina.services.records import AlertRecord
from blina.services.storage import RecordId

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
    check_ins: int = Field(description="The patient's alerting check-ins it gathered")
    latest_report_id: int | None = Field(description="The newest of them")
    acknowledged_by: int | None
    acknowledged_at: datetime | None
    outcome: str | None
    patient_name: str
    acknowledged_by_name: str | None = Field(description="Who acknowledged it, by name")
    what_was_done: str | None = Field(
        description="The acknowledger's line for the hand-over (None: not given)"
    )


class Acknowledgement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal[
        "advice-given",
        "patient-called-in",
        "escalated-to-physician",
        "grading-recorded",
        "sent-to-emergency",
        "admitted",
    ]
    note: str = Field(default="", max_length=2000)
    what_was_done: str | None = Field(
        default=None,
        min_length=1,
        max_length=alerts.WHAT_WAS_DONE_MAX,
        description="What was done, in a few words for the hand-over (the pages ask for it)",
    )


class NotificationPublic(BaseModel):
    """Whom an alert was sent to, as the contact was then; a webhook by its host only."""

    id: int
    contact_name: str
    channel: Literal["email", "webhook"]
    where: str
    status: Literal["pending", "sending", "sent", "failed"]
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None


class ContactIn(BaseModel):
    """A step of the chain, told by email, webhook or both; each address is checked
    (``blina.services.escalation``) and a 422 names the one refused."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=200, examples=["oncall@clinic.org"])
    webhook_url: str | None = Field(
        default=None, max_length=500, examples=["https://pager.clinic.org/hook"]
    )


def _whole_range(value: object, handler: ValidatorFunctionWrapHandler) -> int:
    """pydantic's words name only the bound that was crossed; the answer names the range."""
    try:
        minutes: int = handler(value)
    except ValidationError:
        raise PydanticCustomError("minutes_range", MINUTES_ALLOWED) from None
    return minutes


Minutes = Annotated[
    int, Field(strict=True, ge=MINUTES_MIN, le=MINUTES_MAX), WrapValidator(_whole_range)
]


class EscalationChain(BaseModel):
    """The contacts in order, and the minutes each level may wait before moving on."""

    model_config = ConfigDict(extra="forbid")

    contacts: list[ContactIn] = Field(min_length=1)
    minutes: dict[Literal["emergency", "call-now", "same-day", "routine"], Minutes] = Field(
        default_factory=dict
    )


def _public(alert: AlertRecord) -> AlertPublic:
    return AlertPublic(
        id=alert.id,
        patient_id=alert.patient_id,
        patient_code=alert.patient_code,
        level=alert.level,
        reason=alert.reason,
        status=alert.status,
        created_at=alert.created_at,
        escalation_step=alert.escalation_step,
        next_escalation_at=alert.next_escalation_at,
        check_ins=alert.check_ins,
        latest_report_id=alert.latest_report_id or alert.symptom_report_id,
        acknowledged_by=alert.acknowledged_by,
        acknowledged_at=alert.acknowledged_at,
        outcome=alert.outcome,
        patient_name=alert.patient_name,
        acknowledged_by_name=alert.acknowledged_by_name,
        what_was_done=alert.what_was_done,
    )


@router.get("/clinic/alerts")
def list_alerts(
    session: ReadDep, actor: ActorDep, status: Literal["open", "acknowledged"] = "open"
) -> list[AlertPublic]:
    """The clinic's alerts, most urgent first, then oldest first."""
    return [_public(alert) for alert in alerts.list_alerts(session, actor=actor, status=status)]


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
        what_was_done=body.what_was_done,
    )
    return _public(alert)


@router.get("/alerts/{alert_id}/notifications")
def alert_notifications(
    alert_id: RecordId, session: ReadDep, actor: ActorDep
) -> list[NotificationPublic]:
    """Whom an alert was sent to and how it went, oldest first: a message failed for good
    says why (``last_error``)."""
    sent = alerts.alert_notifications(session, actor=actor, alert_id=alert_id)
    return [NotificationPublic.model_validate(asdict(note)) for note in sent]


@router.put("/clinic/escalation")
def set_escalation(
    body: EscalationChain, session: TxDep, state: StateDep, actor: ActorDep
) -> EscalationChain:
    """Set the clinic's escalation chain and acknowledgement times (admin); answers the
    chain as kept (e-mail addresses in their normal form). It can be changed at any time:
    the alerts already sent keep whom they went to."""
    chain = escalation.Chain(
        contacts=[escalation.ChainContact(c.name, c.email, c.webhook_url) for c in body.contacts],
        minutes={str(level): minutes for level, minutes in body.minutes.items()},
    )
    kept = escalation.set_escalation_chain(session, actor=actor, now=state.clock.now(), chain=chain)
    return EscalationChain.model_validate(asdict(kept))


class ClinicNumbersBody(BaseModel):
    """The numbers a family is shown with a check-in's answer; each is empty (not set) or
    a number to dial, checked by ``blina.services.clinic_settings`` (a 422 names it)."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(default="", max_length=64, description="The care team's phone")
    emergency_number: str = Field(
        default="",
        max_length=32,
        description="Emergency services where the clinic is (112 in France, 999 in the UK)",
    )
    crisis_line: str = Field(
        default="", max_length=64, description="A crisis line for thoughts of self-harm"
    )


@router.get("/clinic/numbers")
def get_clinic_numbers(session: ReadDep, actor: ActorDep) -> ClinicNumbersBody:
    """The clinic's phone, emergency number and crisis line (the clinic's staff)."""
    numbers = clinic_settings.clinic_numbers(session, actor=actor)
    return ClinicNumbersBody.model_validate(asdict(numbers))


@router.put("/clinic/numbers")
def set_clinic_numbers(
    body: ClinicNumbersBody, session: TxDep, state: StateDep, actor: ActorDep
) -> ClinicNumbersBody:
    """Set the clinic's phone, emergency number and crisis line (admin); answers them as
    kept. A check-in's answer shows the numbers as they were when it was given."""
    kept = clinic_settings.set_clinic_numbers(
        session,
        actor=actor,
        now=state.clock.now(),
        numbers=clinic_settings.ClinicNumbers(body.phone, body.emergency_number, body.crisis_line),
    )
    return ClinicNumbersBody.model_validate(asdict(kept))
