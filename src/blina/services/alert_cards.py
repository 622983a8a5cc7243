"""An open alert as the care team's card reads it: the patient's age as blina keeps it,
their course now (the one course state the patient page shows), the check-ins behind the
alert with who sent each, and the number to call back (``open_alert_cards``,
``call_back``).

Kept apart from ``alerts`` (raising, escalating, acknowledging): this is a read model
only, read once per Clinic today page, in a number of queries that does not grow with
the number of cards.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from blina.domain.therapies.today import therapy_today
from blina.knowledge import Knowledge
from blina.services.actors import Actor, Role
from blina.services.alerts import list_alerts
from blina.services.courses import CourseView, current_views
from blina.services.records import AlertRecord
from blina.services.therapy_courses import TherapyNow, active_therapy_courses
from blina.store.tables import Alert, Clinic, Patient, SymptomReport, User

__all__ = [
    "CARD_CHECK_INS",
    "AlertCard",
    "CallBack",
    "GatheredCheckIn",
    "call_back",
    "open_alert_cards",
]

# The newest check-ins an alert card shows (a patient's flood of check-ins stays a card).
CARD_CHECK_INS = 5


@dataclass(frozen=True, slots=True)
class GatheredCheckIn:
    """A check-in of an alert's patient since the alert was raised: what was reported
    and its triage (``report``, as ``reports.submit_report`` stored it), and who sent it
    (``reporter_role``: patient, caregiver, or a staff role)."""

    id: int
    submitted_at: datetime
    observed_at: datetime
    reporter_id: int
    reporter_name: str
    reporter_role: str
    report: dict[str, Any]
    reporter_phone: str | None = None  # the reporter's own number, if they gave one

    @property
    def alerted(self) -> bool:
        return bool(self.report.get("triage", {}).get("alert"))


@dataclass(frozen=True, slots=True)
class AlertCard:
    """An open alert with what the care team needs to act on it: the patient's course as
    their page shows it now (``course``: the active one, else the latest; None without a
    course), the check-ins from the one that raised it to its newest, newest first, at
    most ``CARD_CHECK_INS`` (``alert.check_ins`` counts the alerting ones in all), and
    the patient's number to call back (None: none on file)."""

    alert: AlertRecord
    course: CourseView | None
    check_ins: tuple[GatheredCheckIn, ...]
    patient_phone: str | None = None
    # the patient's active course of another therapy, read on the clinic's today
    therapy: TherapyNow | None = None

    @property
    def age_years(self) -> Decimal | None:
        """The patient's age as blina keeps it: given with the course, when prescribed."""
        return None if self.course is None else self.course.course.age_years

    @property
    def course_start(self) -> date | None:
        """The start of the course the age is from."""
        return None if self.course is None else self.course.course.start


@dataclass(frozen=True, slots=True)
class CallBack:
    """The number to call back and whose it is: the reporter's own (``whose`` "reporter":
    a patient or caregiver who sent the newest check-in, by ``name`` and ``role``), or the
    patient's on file (``whose`` "patient": the patient's or family's number, ``name`` the
    patient's)."""

    phone: str
    whose: Literal["reporter", "patient"]
    name: str
    role: str


# The reporters whose own number is the one to call: the family, not a staff member who
# entered a check-in for them.
_CALLED_BACK = (Role.PATIENT.value, Role.CAREGIVER.value)


def call_back(
    check_ins: Iterable[GatheredCheckIn], *, patient_name: str, patient_phone: str | None
) -> CallBack | None:
    """Whom to call about a patient's alerts: the reporter of the newest of
    ``check_ins`` on their own number when they are the patient or a caregiver and gave
    one, else the patient's number; None when neither is on file."""
    newest = max(check_ins, key=lambda c: c.id, default=None)
    if newest is not None and newest.reporter_role in _CALLED_BACK and newest.reporter_phone:
        return CallBack(
            newest.reporter_phone, "reporter", newest.reporter_name, newest.reporter_role
        )
    if patient_phone:
        return CallBack(patient_phone, "patient", patient_name, Role.PATIENT.value)
    return None


def open_alert_cards(
    session: Session, *, actor: Actor, now: datetime, knowledge: Knowledge
) -> list[AlertCard]:
    """The clinic's open alerts as ``list_alerts`` orders them, each with its card; the
    courses are read for all the cards' patients at once (``courses.current_views``)."""
    found = list_alerts(session, actor=actor)
    if not found:
        return []
    patient_ids = {a.patient_id for a in found}
    views = current_views(
        session, actor=actor, now=now, knowledge=knowledge, patient_ids=patient_ids
    )
    phones = _phones(session, patient_ids)
    gathered = _gathered(session, [a.id for a in found])
    therapies = _therapies(session, actor, now, knowledge, patient_ids)
    return [
        AlertCard(
            alert,
            views.get(alert.patient_id),
            tuple(gathered.get(alert.id, ())),
            phones.get(alert.patient_id),
            therapies.get(alert.patient_id),
        )
        for alert in found
    ]


def _therapies(
    session: Session, actor: Actor, now: datetime, knowledge: Knowledge, patient_ids: set[int]
) -> dict[int, TherapyNow]:
    """The cards' patients' active courses of another therapy, read on the clinic's today
    (one query for all of them; ``list_alerts`` has checked the actor sees the clinic)."""
    views = active_therapy_courses(
        session, actor.clinic_id, knowledge=knowledge, patient_ids=patient_ids
    )
    if not views:
        return {}
    today = now.astimezone(ZoneInfo(session.get_one(Clinic, actor.clinic_id).zone)).date()
    return {v.patient.id: TherapyNow(v, therapy_today(v.plan, today)) for v in views}


def _phones(session: Session, patient_ids: set[int]) -> dict[int, str | None]:
    rows = session.execute(select(Patient.id, Patient.phone).where(Patient.id.in_(patient_ids)))
    return dict(rows.all())


def _gathered(session: Session, alert_ids: list[int]) -> dict[int, list[GatheredCheckIn]]:
    """The newest ``CARD_CHECK_INS`` check-ins of each alert's span (its first check-in
    to its newest), read in one query."""
    newest = func.coalesce(Alert.latest_report_id, Alert.symptom_report_id)
    rank = (
        func.row_number()
        .over(partition_by=Alert.id, order_by=SymptomReport.id.desc())
        .label("rank")
    )
    spans = (
        select(Alert.id.label("alert_id"), SymptomReport.id.label("report_id"), rank)
        .join(
            SymptomReport,
            and_(
                SymptomReport.patient_id == Alert.patient_id,
                SymptomReport.id >= Alert.symptom_report_id,
                SymptomReport.id <= newest,
            ),
        )
        .where(Alert.id.in_(alert_ids))
        .subquery()
    )
    rows = session.execute(
        select(spans.c.alert_id, SymptomReport, User.display_name, User.role, User.phone)
        .join(SymptomReport, SymptomReport.id == spans.c.report_id)
        .join(User, User.id == SymptomReport.submitted_by)
        .where(spans.c.rank <= CARD_CHECK_INS)
        .order_by(spans.c.alert_id, SymptomReport.id.desc())
    )
    found: dict[int, list[GatheredCheckIn]] = {}
    for alert_id, report, name, role, phone in rows:
        found.setdefault(alert_id, []).append(
            GatheredCheckIn(
                report.id,
                report.submitted_at,
                report.observed_at,
                report.submitted_by,
                name,
                role,
                report.report,
                phone,
            )
        )
    return found
