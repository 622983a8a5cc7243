"""What the pages show, computed once from the services' answers.

A page and its htmx fragment render the same view model, so they cannot drift apart.
Nothing here decides a clinical rule: plans, bags and triage come from the domain and
the services; these functions only pick and arrange what to show.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from blina.domain.planning import CoursePlan, PlanDay, Span
from blina.domain.replanning import Replan
from blina.domain.triage import Symptom, TriageRules
from blina.store.tables import Alert, Patient

__all__ = [
    "AlertError",
    "AlertRow",
    "BagRow",
    "CalendarRow",
    "CourseStatusView",
    "DecisionRow",
    "FormError",
    "Segment",
    "TodayView",
    "alert_row",
    "calendar_rows",
    "course_status",
    "decision_rows",
    "red_flags",
    "timeline",
    "today_view",
]


@dataclass(frozen=True, slots=True)
class CourseStatusView:
    """Where a course stands on a day: cycle X, day Y of the cycle's infusion days."""

    course_id: int
    regimen: str
    status: str
    cycle: int | None
    cycle_day: int | None
    infusion_days: int | None
    infusing: bool
    inpatient: bool
    dose: str
    on_plan: bool


def course_status(course_id: int, status: str, plan: CoursePlan, day: date) -> CourseStatusView:
    if not plan.first_day <= day <= plan.last_day:
        return CourseStatusView(
            course_id, plan.regimen.name, status, None, None, None, False, False, "", False
        )
    today = plan.day(day)
    infusion_days = None
    if today.cycle is not None:
        cycle = plan.cycles[today.cycle - 1]
        infusion_days = (cycle.last_infusion_day - cycle.start).days + 1
    return CourseStatusView(
        course_id,
        plan.regimen.name,
        status,
        today.cycle,
        today.cycle_day,
        infusion_days,
        today.infusing,
        today.inpatient,
        str(today.dose) if today.infusing else "",
        True,
    )


@dataclass(frozen=True, slots=True)
class Segment:
    """One span of the course on the timeline, placed in percent of the whole course."""

    first: date
    last: date
    kind: str  # hospital | home | treatment-free | between-cycles
    cycle: int | None
    x_percent: str
    width_percent: str
    days: int


def _kind(span: Span) -> str:
    if span.cycle is None:
        return "between-cycles"
    if not span.infusing:
        return "treatment-free"
    return "hospital" if span.inpatient else "home"


def timeline(plan: CoursePlan) -> list[Segment]:
    total = (plan.last_day - plan.first_day).days + 1
    segments = []
    for span in plan.spans:
        offset = (span.first - plan.first_day).days
        segments.append(
            Segment(
                span.first,
                span.last,
                _kind(span),
                span.cycle,
                f"{100 * offset / total:.3f}",
                f"{100 * span.length_days / total:.3f}",
                span.length_days,
            )
        )
    return segments


@dataclass(frozen=True, slots=True)
class CalendarRow:
    first: date
    last: date
    cycle: int | None
    first_cycle_day: int | None
    last_cycle_day: int | None
    phase: str
    kind: str
    dose: str
    premedication: tuple[str, ...]
    bag_changes: tuple[str, ...]


def calendar_rows(plan: CoursePlan) -> list[CalendarRow]:
    """The plan's spans as rows, as ``blina plan --format table`` shows them."""
    zone = plan.zone
    hung = [bag.start.astimezone(zone) for bag in plan.bags]
    rows = []
    for span in plan.spans:
        inside = [moment for moment in hung if span.first <= moment.date() <= span.last]
        if len(inside) <= 3:
            bags = tuple(f"{moment:%d %b %H:%M}" for moment in inside)
        else:
            bags = (f"{len(inside)} x, from {inside[0]:%d %b %H:%M}",)
        premedication = tuple(
            f"{dose.due.astimezone(zone):%d %b %H:%M} {dose.drug} {dose.dose}"
            for dose in plan.premedication
            if span.first <= dose.due.astimezone(zone).date() <= span.last
        )
        last_day = (
            None if span.first_cycle_day is None else span.first_cycle_day + span.length_days - 1
        )
        rows.append(
            CalendarRow(
                span.first,
                span.last,
                span.cycle,
                span.first_cycle_day,
                last_day,
                span.phase or "",
                _kind(span),
                str(span.dose) if span.infusing else "",
                premedication,
                bags,
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class DecisionRow:
    at: datetime
    action: str
    level: str
    reasons: tuple[str, ...]
    source: str


def decision_rows(replanned: Replan | None) -> list[DecisionRow]:
    if replanned is None:
        return []
    zone = replanned.plan.zone
    return [
        DecisionRow(d.at.astimezone(zone), str(d.action), str(d.level), tuple(d.reasons), d.source)
        for d in replanned.decisions
    ]


@dataclass(frozen=True, slots=True)
class TodayView:
    """The family's "today": where the course stands and what comes next."""

    status: CourseStatusView
    next_bag: datetime | None
    hospital_days_ahead: tuple[date, ...]
    premedication: tuple[str, ...]
    precautions: tuple[str, ...]


def today_view(course_id: int, status: str, plan: CoursePlan, now: datetime) -> TodayView:
    zone = plan.zone
    day = now.astimezone(zone).date()
    upcoming = [bag.start for bag in plan.bags if bag.start > now]
    ahead: list[PlanDay] = [
        d for d in plan.days if d.date >= day and d.inpatient and d.date <= day + timedelta(28)
    ]
    premedication = tuple(
        f"{dose.due.astimezone(zone):%d %b %H:%M} {dose.drug} {dose.dose} ({dose.timing})"
        for dose in plan.premedication
        if dose.due >= now - timedelta(hours=12) and dose.due <= now + timedelta(days=7)
    )
    precautions = tuple(
        p.description for p in plan.precautions if p.until is None or p.until >= now
    )
    return TodayView(
        course_status(course_id, status, plan, day),
        None if not upcoming else min(upcoming).astimezone(zone),
        tuple(d.date for d in ahead),
        premedication,
        precautions,
    )


def red_flags(rules: TriageRules) -> list[Symptom]:
    """The signs that mean "get help now", in the knowledge file's order."""
    return [symptom for symptom in rules.symptoms.values() if symptom.red_flag]


@dataclass(frozen=True, slots=True)
class BagRow:
    id: int
    bag_start: str
    dose_mcg_per_day: str
    total_ml: str
    rate_ml_per_h: str
    prepared_by: str
    prepared_at: datetime
    prepared_by_id: int
    verified_by: str | None
    verified_at: datetime | None
    overrides: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AlertRow:
    """An open alert as the care team's queue shows it; its age in whole minutes."""

    id: int
    patient_id: int
    patient_code: str
    report_id: int | None
    level: str
    reason: str
    created_at: datetime
    age_minutes: int
    escalation_step: int

    @property
    def age(self) -> tuple[int, int, int]:
        """The age as (days, hours, minutes)."""
        hours, minutes = divmod(self.age_minutes, 60)
        days, hours = divmod(hours, 24)
        return days, hours, minutes


@dataclass(frozen=True, slots=True)
class AlertError:
    """Why acknowledging an alert failed, and what the form held (to show it again)."""

    alert_id: int
    message: str
    outcome: str
    note: str


def alert_row(alert: Alert, patient: Patient, now: datetime) -> AlertRow:
    created = alert.created_at
    minutes = max(0, int((now - created).total_seconds() // 60))
    return AlertRow(
        alert.id,
        patient.id,
        patient.code,
        alert.symptom_report_id,
        alert.level,
        alert.reason,
        created,
        minutes,
        alert.escalation_step,
    )


@dataclass(frozen=True, slots=True)
class FormError:
    """Why a form on the patient page was refused: which form, the message beside each
    field (``form`` for the form as a whole) and what it held (to show it again)."""

    form: str  # crs | icans | event
    errors: dict[str, str]
    values: dict[str, str]
