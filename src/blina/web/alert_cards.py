"""The care team's alert cards and hand-over list, arranged from the alerts service's
read models: one card per patient (its alerts most urgent first, the patient's course
now and the number to call back), each alert with the check-ins behind it as reported,
and the acknowledged alerts with what was done.

Nothing here decides a level or a rule: the triage stored with each check-in says which
rule fired and on what; this module only picks what a nurse reads first.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from blina.domain.course_state import CourseState
from blina.services.alert_cards import AlertCard, CallBack, GatheredCheckIn, call_back
from blina.services.alerts import OUTCOMES
from blina.services.courses import CourseView
from blina.services.records import AlertRecord
from blina.services.therapy_courses import TherapyNow
from blina.web.viewmodels import CourseStatusView, course_status

__all__ = [
    "AcknowledgeError",
    "AlertLine",
    "CheckInLine",
    "CourseNow",
    "HandledRow",
    "PatientCard",
    "SymptomLine",
    "course_now",
    "handled_rows",
    "minutes_between",
    "patient_cards",
]


@dataclass(frozen=True, slots=True)
class SymptomLine:
    """A reported symptom: its severity (None: a yes/no sign, or "not sure"), its trend
    against the check-in before (new, worse, persisting), and whether a rule fired on it."""

    id: str
    name: str
    severity: int | None
    has_severity: bool
    history: str
    fired: bool


@dataclass(frozen=True, slots=True)
class CheckInLine:
    """One check-in as a nurse reads it on the card: when, who sent it, the level it got,
    the temperature as entered, the symptoms (those that fired first), the free text,
    the rules that fired, and the course as triage saw it then."""

    id: int
    submitted_at: datetime
    minutes_ago: int
    reporter: str
    reporter_role: str
    level: str
    alerted: bool
    temperature: str | None
    temperature_fired: bool
    symptoms: tuple[SymptomLine, ...]
    free_text: str
    reasons: tuple[str, ...]
    cycle_day: int | None
    infusing: bool | None
    in_hospital: bool | None


@dataclass(frozen=True, slots=True)
class AlertLine:
    """An open alert on its patient's card."""

    id: int
    level: str
    reason: str
    created_at: datetime
    age_minutes: int
    escalation_step: int
    check_ins: int
    report_id: int | None
    lines: tuple[CheckInLine, ...]

    @property
    def age(self) -> tuple[int, int, int]:
        """The age as (days, hours, minutes)."""
        hours, minutes = divmod(self.age_minutes, 60)
        days, hours = divmod(hours, 24)
        return days, hours, minutes

    @property
    def shown(self) -> int:
        """How many of its alerting check-ins the card lists."""
        return sum(1 for line in self.lines if line.alerted)


@dataclass(frozen=True, slots=True)
class CourseNow:
    """The patient's course now as the patient page's "Now" says it, read from the same
    two places: its state (the dose running and since when, stopped since when, or over)
    and where its plan stands today (``course_status``: the cycle day, a hospital day)."""

    state: CourseState
    status: CourseStatusView
    zone: ZoneInfo

    @property
    def in_hospital(self) -> bool | None:
        """Whether today is a hospital day of the plan (blina keeps no admission record);
        None when the course is over or today is outside its plan."""
        if self.state.stopped or not self.status.on_plan:
            return None
        return self.status.inpatient


def course_now(view: CourseView) -> CourseNow:
    zone = view.plan.zone
    day = view.state.at.astimezone(zone).date()
    status = course_status(view.course.id, view.course.status, view.plan, day)
    return CourseNow(view.state, status, zone)


@dataclass(frozen=True, slots=True)
class PatientCard:
    """A patient's open alerts on one card, the most urgent level on top; the reporters
    are the people who sent its check-ins, ``call_back`` the number to call (None: none
    on file), ``course`` the patient's course now (None: no course)."""

    patient_id: int
    code: str
    name: str
    age_years: Decimal | None
    course_start: date | None
    level: str
    alerts: tuple[AlertLine, ...]
    reporters: tuple[tuple[str, str], ...]
    course: CourseNow | None = None
    call_back: CallBack | None = None
    therapy: TherapyNow | None = None  # an active course of another therapy

    @property
    def age(self) -> str | None:
        """The age in years as entered with the course ("41", "7.5")."""
        return None if self.age_years is None else format(self.age_years.normalize(), "f")

    @property
    def latest(self) -> CheckInLine | None:
        """The newest check-in of the card (the course as triage last saw it)."""
        lines = [line for alert in self.alerts for line in alert.lines]
        return max(lines, key=lambda line: line.id) if lines else None


@dataclass(frozen=True, slots=True)
class HandledRow:
    """An acknowledged alert on the hand-over list: ``outcome`` is the choice made and
    ``note`` the free note that came with it."""

    id: int
    patient_id: int
    patient_code: str
    patient_name: str
    level: str
    reason: str
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    outcome: str
    note: str
    what_was_done: str | None


@dataclass(frozen=True, slots=True)
class AcknowledgeError:
    """Why acknowledging an alert failed, and what the form held (to show it again);
    ``field`` names the field refused (None: the alert itself, e.g. already taken)."""

    alert_id: int
    message: str
    field: str | None
    outcome: str
    note: str
    what_was_done: str


def minutes_between(earlier: datetime, now: datetime) -> int:
    """Whole minutes from ``earlier`` to ``now``; never negative."""
    return max(0, int((now - earlier).total_seconds() // 60))


def patient_cards(cards: Sequence[AlertCard], now: datetime) -> list[PatientCard]:
    """One card per patient in the order of ``cards`` (the open list: most urgent, then
    oldest, first): a patient's card comes where their most urgent alert does."""
    grouped: dict[int, list[AlertCard]] = {}
    for card in cards:
        grouped.setdefault(card.alert.patient_id, []).append(card)
    return [_patient_card(found, now) for found in grouped.values()]


def _patient_card(found: list[AlertCard], now: datetime) -> PatientCard:
    first = found[0]
    alerts = tuple(_alert_line(card, now) for card in found)
    reporters: dict[tuple[str, str], None] = {}
    for alert in alerts:
        for line in alert.lines:
            reporters[(line.reporter, line.reporter_role)] = None
    age, start = first.age_years, first.course_start
    if first.therapy is not None and first.therapy.view.inputs.age_years is not None:
        # the therapy course is the active one: its age, given when it was started
        therapy = first.therapy.view
        age, start = therapy.inputs.age_years, therapy.course.created_at.date()
    return PatientCard(
        first.alert.patient_id,
        first.alert.patient_code,
        first.alert.patient_name,
        age,
        start,
        first.alert.level,
        alerts,
        tuple(reporters),
        None if first.course is None else course_now(first.course),
        call_back(
            (check_in for card in found for check_in in card.check_ins),
            patient_name=first.alert.patient_name,
            patient_phone=first.patient_phone,
        ),
        first.therapy,
    )


def _alert_line(card: AlertCard, now: datetime) -> AlertLine:
    alert = card.alert
    return AlertLine(
        alert.id,
        alert.level,
        alert.reason,
        alert.created_at,
        minutes_between(alert.created_at, now),
        alert.escalation_step,
        alert.check_ins,
        alert.latest_report_id or alert.symptom_report_id,
        tuple(_check_in_line(check_in, now) for check_in in card.check_ins),
    )


def _check_in_line(check_in: GatheredCheckIn, now: datetime) -> CheckInLine:
    report = check_in.report
    triage: Mapping[str, Any] = report.get("triage") or {}
    rules = list(triage.get("rules") or [])
    fired = {str(t) for rule in rules for t in rule.get("triggers") or []}
    symptoms = sorted(
        (_symptom(s, fired) for s in triage.get("symptoms") or []),
        key=lambda s: not s.fired,
    )
    temperature = triage.get("temperature") or {}
    context: Mapping[str, Any] = triage.get("context") or {}
    return CheckInLine(
        check_in.id,
        check_in.submitted_at,
        minutes_between(check_in.submitted_at, now),
        check_in.reporter_name,
        check_in.reporter_role,
        str(triage.get("level", "")),
        check_in.alerted,
        temperature.get("as_entered"),
        "temperature" in fired,
        tuple(symptoms),
        str(report.get("note") or triage.get("free_text") or ""),
        tuple(_unique(str(rule.get("reason", "")) for rule in rules)),
        context.get("cycle_day"),
        context.get("infusing"),
        context.get("in_hospital"),
    )


def _symptom(found: Mapping[str, Any], fired: set[str]) -> SymptomLine:
    symptom = str(found.get("id", ""))
    return SymptomLine(
        symptom,
        str(found.get("name", symptom)),
        found.get("severity"),
        bool(found.get("severity_applies")),
        str(found.get("history", "")),
        symptom in fired,
    )


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(text for text in texts if text))


def handled_rows(alerts: Iterable[AlertRecord]) -> list[HandledRow]:
    return [_handled(alert) for alert in alerts]


def _handled(alert: AlertRecord) -> HandledRow:
    # Stored as "outcome: note" (``alerts.acknowledge_alert``); the outcome is one word.
    chosen, _, note = (alert.outcome or "").partition(": ")
    if chosen not in OUTCOMES:  # not written by blina as it is now: show it whole
        chosen, note = "", alert.outcome or ""
    return HandledRow(
        alert.id,
        alert.patient_id,
        alert.patient_code,
        alert.patient_name,
        alert.level,
        alert.reason,
        alert.created_at,
        alert.acknowledged_at,
        alert.acknowledged_by_name,
        chosen,
        note,
        alert.what_was_done,
    )
