"""What the pages show, computed once from the services' answers.

A page and its htmx fragment render the same view model, so they cannot drift apart.
Nothing here decides a clinical rule: plans, bags and triage come from the domain and
the services; these functions only pick and arrange what to show.

About 640 lines, one function per thing a page shows (banner, calendar rows, timeline,
decisions, bag rows, alert cards, chart readings): small functions that several pages
share. Split by page, a shared one would sit in one page's module and be imported by
the others; the next split, when it grows, is one module per area (course, bags,
check-ins).
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from blina.domain.course_plan import CoursePlan, PlanDay, PremedicationDose, Span
from blina.domain.course_state import CourseState, DeliveredDay, SlotState, SlotStatus
from blina.domain.replanning.decisions import Replan
from blina.domain.replanning.events import Discontinuation, Event, Interruption
from blina.domain.toxicity import Relative
from blina.domain.toxicity.ctcae import CtcaeTerm
from blina.domain.triage.check_in import Temperature, TemperatureUnit
from blina.domain.triage.rulebook import TriageRules
from blina.domain.triage.rules import Symptom, TemperatureRule
from blina.services.records import (
    AssessmentRecord,
    AuditRecord,
    FeedRecord,
    ReportRecord,
)
from blina.web.form_errors import FormError

__all__ = [
    "AuditChange",
    "AuditRow",
    "BagRow",
    "Banner",
    "CalendarRow",
    "CourseStatusView",
    "DecisionRow",
    "FeedRow",
    "FormError",
    "GradingRow",
    "LabRow",
    "LabTermOption",
    "PremedicationLine",
    "Segment",
    "TodayView",
    "alerting_temperature_rules",
    "audit_row",
    "banner",
    "calendar_rows",
    "course_status",
    "decision_rows",
    "feed_rows",
    "grading_rows",
    "lab_rows",
    "lab_term_options",
    "logged_course_status",
    "masking_given",
    "red_flags",
    "temperature_readings",
    "timeline",
    "today_mark",
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
    # from the course's event log (``logged_course_status``); else as planned
    interrupted_since: datetime | None = None
    discontinued: bool = False
    discontinued_at: datetime | None = None


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


def today_mark(plan: CoursePlan, today: date) -> str | None:
    """Where today is on the timeline (percent of the course, the middle of the day), or
    None when the course is not running today (not begun, or over)."""
    if not plan.first_day <= today <= plan.last_day:
        return None
    total = (plan.last_day - plan.first_day).days + 1
    return f"{100 * ((today - plan.first_day).days + 0.5) / total:.3f}"


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
    premedication: tuple["PremedicationLine", ...]
    # each bag change in the span (clinic time); the page lists up to 3, else the count
    # and the first
    bag_changes: tuple[datetime, ...]


def calendar_rows(plan: CoursePlan) -> list[CalendarRow]:
    """The plan's spans as rows, as ``blina plan --format table`` shows them."""
    zone = plan.zone
    hung = [bag.start.astimezone(zone) for bag in plan.bags]
    rows = []
    for span in plan.spans:
        bags = tuple(moment for moment in hung if span.first <= moment.date() <= span.last)
        premedication = tuple(
            PremedicationLine(dose.due.astimezone(zone), dose.drug, str(dose.dose), dose.timing)
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
class PremedicationLine:
    """A premedication due soon: when (clinic time), the drug, the dose and the timing,
    kept apart so that the page can translate the drug's name and the timing."""

    due: datetime
    drug: str
    dose: str
    timing: str


@dataclass(frozen=True, slots=True)
class TodayView:
    """The family's "today": where the course stands and what comes next.

    ``precautions`` and the premedication's drug and timing are the knowledge files'
    English text; the page translates them (the ``clinical`` catalog)."""

    status: CourseStatusView
    next_bag: datetime | None
    hospital_days_ahead: tuple[date, ...]
    premedication: tuple[PremedicationLine, ...]
    precautions: tuple[str, ...]


def today_view(course_id: int, status: str, plan: CoursePlan, now: datetime) -> TodayView:
    zone = plan.zone
    day = now.astimezone(zone).date()
    upcoming = [bag.start for bag in plan.bags if bag.start > now]
    ahead: list[PlanDay] = [
        d for d in plan.days if d.date >= day and d.inpatient and d.date <= day + timedelta(28)
    ]
    premedication = tuple(
        PremedicationLine(dose.due.astimezone(zone), dose.drug, str(dose.dose), dose.timing)
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
    bag_start: datetime
    dose_mcg_per_day: str
    total_ml: str
    rate_ml_per_h: str
    prepared_by: str
    prepared_at: datetime
    prepared_by_id: int
    verified_by: str | None
    verified_at: datetime | None
    overrides: dict[str, Any]
    code: str = ""
    status: str = ""
    do_not_hang: str | None = None


@dataclass(frozen=True, slots=True)
class GradingRow:
    """A recorded grading: when, by whom, the grade, the criteria that set it and the
    label's action recorded with it (None for grade 0)."""

    id: int
    at: datetime
    by: str
    scale: str
    grade: int
    decisive: tuple[tuple[str, str], ...]  # (criterion, finding)
    action: str | None
    action_rule: str | None
    needs_confirmation: bool


def grading_rows(
    assessments: Iterable[AssessmentRecord], names: dict[int, str], zone: ZoneInfo
) -> list[GradingRow]:
    """Recorded gradings, the latest first, as the service stored them."""
    rows = []
    for a in sorted(assessments, key=lambda a: (a.assessed_at, a.id), reverse=True):
        graded: dict[str, Any] = a.decision.get("grading") or {}
        action: dict[str, Any] = a.decision.get("action") or {}
        rows.append(
            GradingRow(
                a.id,
                a.assessed_at.astimezone(zone),
                names.get(a.assessed_by, str(a.assessed_by)),
                str(graded.get("scale", a.scale)),
                a.grade,
                tuple(
                    (str(c["domain"]), str(c["finding"]))
                    for c in graded.get("criteria", ())
                    if c.get("decisive")
                ),
                action.get("kind"),
                action.get("rule"),
                bool(action.get("needs_confirmation")),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class LabTermOption:
    """A CTCAE lab term the lab form offers: its unit and what its bands are set against
    (``lln``, ``uln``, ``baseline``), as the knowledge file says."""

    id: str
    term: str
    unit: str
    against: tuple[str, ...]


def lab_term_options(terms: Iterable[CtcaeTerm]) -> list[LabTermOption]:
    order = (Relative.LLN, Relative.ULN, Relative.BASELINE)
    return [
        LabTermOption(t.id, t.term, t.unit or "", tuple(str(r) for r in order if r in t.relatives))
        for t in terms
    ]


@dataclass(frozen=True, slots=True)
class LabRow:
    """A recorded lab value with its CTCAE grade and the rule (the scale's cell) that
    decided it."""

    id: int
    taken_at: datetime
    term_id: str
    term: str
    value: str
    unit: str
    references: tuple[tuple[str, str], ...]  # (lln | uln | baseline, value)
    grade: int
    rule: str
    notes: tuple[str, ...]
    by: str
    findings: tuple[str, ...] = ()  # the criteria's findings, each as stored


def lab_rows(
    values: Iterable[AssessmentRecord], names: dict[int, str], zone: ZoneInfo
) -> list[LabRow]:
    """Lab values in the order given (the service gives the latest sample first)."""
    rows = []
    for v in values:
        graded: dict[str, Any] = v.decision.get("grading") or {}
        criteria: list[dict[str, Any]] = list(graded.get("criteria") or [])
        inputs = v.inputs
        rows.append(
            LabRow(
                v.id,
                datetime.fromisoformat(str(inputs["taken_at"])).astimezone(zone),
                str(inputs.get("term", "")),
                str(criteria[0]["domain"]) if criteria else str(inputs.get("term", "")),
                str(inputs.get("value", "")),
                str(inputs.get("unit") or ""),
                tuple(
                    (name, str(inputs[name]))
                    for name in ("lln", "uln", "baseline")
                    if name in inputs
                ),
                v.grade,
                "; ".join(str(c["finding"]) for c in criteria),
                tuple(str(n) for n in graded.get("notes") or ()),
                names.get(v.assessed_by, str(v.assessed_by)),
                tuple(str(c["finding"]) for c in criteria),
            )
        )
    return rows


def temperature_readings(
    reports: Iterable[ReportRecord], zone: ZoneInfo
) -> list[tuple[datetime, Temperature]]:
    """The temperatures of the check-ins, as entered, at the time each was observed."""
    readings = []
    for r in reports:
        entered = r.report.get("temperature")
        if entered is None:
            continue
        observed = r.report.get("observed_at")
        at = r.submitted_at if observed is None else datetime.fromisoformat(str(observed))
        unit = TemperatureUnit(str(r.report.get("temperature_unit") or TemperatureUnit.C))
        readings.append((at.astimezone(zone), Temperature(Decimal(str(entered)), unit)))
    return readings


def alerting_temperature_rules(rules: TriageRules) -> list[TemperatureRule]:
    """The temperature thresholds whose level alerts the care team (call now, emergency),
    in the knowledge file's order: the lines of the temperature chart."""
    return [r for r in rules.temperature_rules if rules.levels[r.level].alert_care_team]


def logged_course_status(
    course_id: int, status: str, plan: CoursePlan, day: date, events: Sequence[Event]
) -> CourseStatusView:
    """``course_status``, unless the course's event log (oldest first) says it stands
    still: discontinued, or interrupted since the last event with no restart after it."""
    planned = course_status(course_id, status, plan, day)
    last = events[-1] if events else None
    if status == "discontinued" or isinstance(last, Discontinuation):
        at = last.at.astimezone(plan.zone) if isinstance(last, Discontinuation) else None
        return replace(planned, discontinued=True, discontinued_at=at)
    if isinstance(last, Interruption):
        return replace(planned, interrupted_since=last.at.astimezone(plan.zone))
    return planned


@dataclass(frozen=True, slots=True)
class AuditChange:
    """One field of an audited change, as text; None where that side does not have it."""

    key: str
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True, slots=True)
class AuditRow:
    """An audit event as the trail shows it: who, when, what, about what, and the fields
    before and after (the changed ones first)."""

    seq: int
    at: datetime
    who: str | None  # None: the system
    action: str
    subject_type: str
    subject_id: str
    changes: tuple[AuditChange, ...]


def audit_row(event: AuditRecord, who: str | None, zone: ZoneInfo) -> AuditRow:
    before, after = event.before, event.after
    keys = sorted({*(before or {}), *(after or {})})
    changes = [
        AuditChange(
            key,
            None if before is None or key not in before else _readable(before[key]),
            None if after is None or key not in after else _readable(after[key]),
        )
        for key in keys
    ]
    changes.sort(key=lambda c: not c.changed)  # stable: alphabetical within each group
    return AuditRow(
        event.seq,
        event.at.astimezone(zone),
        who,
        event.action,
        event.subject_type,
        event.subject_id,
        tuple(changes),
    )


def _readable(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


@dataclass(frozen=True, slots=True)
class FeedRow:
    """A calendar feed that still answers: its label, who made it and when."""

    id: int
    label: str
    created_by: str
    created_at: datetime


def feed_rows(feeds: Iterable[FeedRecord], names: dict[int, str], zone: ZoneInfo) -> list[FeedRow]:
    return [
        FeedRow(f.id, f.label, names.get(f.created_by, "?"), f.created_at.astimezone(zone))
        for f in feeds
    ]


@dataclass(frozen=True, slots=True)
class DeliveredRow:
    """One clinic day: what the plan infuses up to now beside what the hung bags did."""

    date: date
    planned_hours: Decimal
    planned_mcg: Decimal
    hours: Decimal
    mcg: Decimal

    @property
    def short(self) -> bool:
        """Less than the plan by more than a quarter of an hour's infusion."""
        return self.planned_hours - self.hours > Decimal("0.25")


@dataclass(frozen=True, slots=True)
class Banner:
    """The patient page's opening lines, besides what the course state says itself: the
    bag on the pump and when it ends, the next premedication and hospital day, the bag
    slots that need someone now (blocked or overdue), and planned against delivered."""

    running: SlotState | None
    premedication_due: tuple[PremedicationDose, ...]
    next_premedication: PremedicationDose | None
    next_hospital_day: date | None
    to_do: tuple[SlotState, ...]
    delivered: tuple[DeliveredRow, ...]


# How many recent days the banner's planned-against-delivered table shows.
_DELIVERED_DAYS = 7


def banner(
    state: CourseState,
    plan: CoursePlan,
    given: Iterable[tuple[str, datetime]],
    window: timedelta,
) -> Banner:
    """``given``: the premedication doses recorded as given (drug, due); ``window``: how
    far from its time a dose may be recorded as given (it is "due" that long either side,
    then it is the task list's)."""
    now = state.at
    today = now.astimezone(plan.zone).date()
    hung = state.hung
    running = None
    if hung is not None:
        running = next((s for s in state.slots if s.bag is not None and s.bag.id == hung.id), None)
    done = set(given)
    due = tuple(
        p
        for p in plan.premedication
        if abs(p.due - now) <= window and (p.drug, p.due) not in done and not state.stopped
    )
    return Banner(
        running=running,
        premedication_due=due,
        next_premedication=None
        if state.stopped
        else next((p for p in plan.premedication if p.due > now and p not in due), None),
        next_hospital_day=None
        if state.stopped
        else next((d.date for d in plan.days if d.inpatient and d.date >= today), None),
        to_do=tuple(
            s for s in state.upcoming if s.status in (SlotStatus.BLOCKED, SlotStatus.OVERDUE)
        ),
        delivered=_delivered_rows(state.planned, state.delivered)[-_DELIVERED_DAYS:],
    )


def _delivered_rows(
    planned: Sequence[DeliveredDay], delivered: Sequence[DeliveredDay]
) -> tuple[DeliveredRow, ...]:
    zero = Decimal(0)
    plan = {d.date: d for d in planned}
    done = {d.date: d for d in delivered}
    return tuple(
        DeliveredRow(
            day,
            plan[day].hours if day in plan else zero,
            plan[day].mcg if day in plan else zero,
            done[day].hours if day in done else zero,
            done[day].mcg if day in done else zero,
        )
        for day in sorted(plan.keys() | done.keys())
    )


# How far back the CRS form looks for a dose that may mask fever. A prompt for the
# clinician, who answers; not a grading rule.
_MASKING_LOOKBACK = timedelta(hours=24)


def masking_given(
    plan: CoursePlan, given: Sequence[tuple[str, datetime, datetime]], now: datetime
) -> list[tuple[str, datetime]]:
    """Doses that may mask a fever, given (or planned) in the last 24 h, latest first: the
    premedications recorded as given (drug, due, given at), and those the plan had due
    that are not recorded (blina's premedications are corticosteroids)."""
    since = now - _MASKING_LOOKBACK
    recorded = {(drug, due) for drug, due, _ in given}
    found = [(drug, at) for drug, _, at in given if since <= at <= now]
    found += [
        (p.drug, p.due)
        for p in plan.premedication
        if since <= p.due <= now and (p.drug, p.due) not in recorded
    ]
    return sorted(found, key=lambda item: item[1], reverse=True)
