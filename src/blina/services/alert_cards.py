"""An open alert as the care team's card reads it: the patient's age as blina keeps it,
and the check-ins behind the alert with who sent each (``open_alert_cards``).

Kept apart from ``alerts`` (raising, escalating, acknowledging): this is a read model
only, read once per Clinic today page.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from blina.services.actors import Actor
from blina.services.alerts import list_alerts
from blina.services.records import AlertRecord
from blina.store.tables import Alert, Course, SymptomReport, User

__all__ = ["CARD_CHECK_INS", "AlertCard", "GatheredCheckIn", "open_alert_cards"]

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

    @property
    def alerted(self) -> bool:
        return bool(self.report.get("triage", {}).get("alert"))


@dataclass(frozen=True, slots=True)
class AlertCard:
    """An open alert with what the care team needs to act on it: the patient's age as
    blina keeps it (``age_years`` of the patient's latest course, given when it was
    prescribed; None without a course) and the check-ins from the one that raised it to
    its newest, newest first, at most ``CARD_CHECK_INS`` (``alert.check_ins`` counts the
    alerting ones in all)."""

    alert: AlertRecord
    age_years: Decimal | None
    course_start: date | None  # the start of the course the age is from
    check_ins: tuple[GatheredCheckIn, ...]


def open_alert_cards(session: Session, *, actor: Actor) -> list[AlertCard]:
    """The clinic's open alerts as ``list_alerts`` orders them, each with its card."""
    found = list_alerts(session, actor=actor)
    if not found:
        return []
    ages = _ages(session, {a.patient_id for a in found})
    gathered = _gathered(session, [a.id for a in found])
    cards = []
    for alert in found:
        age, start = ages.get(alert.patient_id, (None, None))
        cards.append(AlertCard(alert, age, start, tuple(gathered.get(alert.id, ()))))
    return cards


def _ages(session: Session, patient_ids: set[int]) -> dict[int, tuple[Decimal, date]]:
    """Each patient's age at the start of their latest course, and that start."""
    rows = session.execute(
        select(Course.patient_id, Course.age_years, Course.start)
        .where(Course.patient_id.in_(patient_ids))
        .order_by(Course.start, Course.id)
    )
    return {patient_id: (age, start) for patient_id, age, start in rows}


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
        select(spans.c.alert_id, SymptomReport, User.display_name, User.role)
        .join(SymptomReport, SymptomReport.id == spans.c.report_id)
        .join(User, User.id == SymptomReport.submitted_by)
        .where(spans.c.rank <= CARD_CHECK_INS)
        .order_by(spans.c.alert_id, SymptomReport.id.desc())
    )
    found: dict[int, list[GatheredCheckIn]] = {}
    for alert_id, report, name, role in rows:
        found.setdefault(alert_id, []).append(
            GatheredCheckIn(
                report.id,
                report.submitted_at,
                report.observed_at,
                report.submitted_by,
                name,
                role,
                report.report,
            )
        )
    return found
