"""The care team's pages: the clinic's home (tasks, alerts, patients), a patient's
page and audit trail, acknowledging an alert."""

from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response

from blina.domain.errors import BlinaError, InvalidInput
from blina.domain.modifications import AdverseReaction
from blina.domain.therapies.today import clinic_entries, therapy_today
from blina.domain.toxicity.crs import Hypotension, OxygenSupport
from blina.domain.toxicity.icans import CerebralEdema, Consciousness, Seizure
from blina.services import (
    alert_cards,
    alerts,
    audit_reading,
    clinic_settings,
    courses,
    labs,
    patient_search,
    patients,
    pharmacy,
    premedication,
    tasks,
    therapy_courses,
    toxicity,
    users,
)
from blina.services.actors import Actor, Role
from blina.services.errors import Conflict
from blina.services.records import PatientRecord
from blina.services.storage import MAX_RECORD_ID, RecordId, Session
from blina.services.therapy_catalog import therapy_info
from blina.web.alert_cards import AcknowledgeError, handled_rows, patient_cards
from blina.web.charts import temperature_chart
from blina.web.deps import FormDep, PageDep, ReadDep, WriteDep
from blina.web.form_errors import Problem
from blina.web.formatting import formatter_for
from blina.web.render import Ctx, redirect, render
from blina.web.routes._common import (
    WebRoute,
    course_views,
    phone_problem,
    submit,
    text_field,
)
from blina.web.routes.therapy_planner import form_values, plan_values
from blina.web.viewmodels import (
    BagRow,
    CourseStatusView,
    FormError,
    GradingRow,
    LabRow,
    alerting_temperature_rules,
    banner,
    calendar_rows,
    course_status,
    decision_rows,
    grading_rows,
    lab_rows,
    lab_term_options,
    logged_course_status,
    masking_given,
    temperature_readings,
    timeline,
    today_mark,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# --- the care team ---------------------------------------------------------------------


@router.get("/")
def home(ctx: PageDep, session: ReadDep) -> Response:
    if not ctx.signed_in().is_staff:
        return redirect(ctx, "/today")
    return _home_page(ctx, session)


# Clinic today shows the patients a page at a time, and the acknowledged alerts (the
# hand-over list) a shorter page at a time: the page stays a few screens long in a
# clinic of hundreds of patients.
PATIENTS_PER_PAGE = 25
HANDLED_PER_PAGE = 10


def _home_page(
    ctx: Ctx, session: Session, *, status: int = 200, alert_error: AcknowledgeError | None = None
) -> Response:
    actor = ctx.signed_in()
    now = ctx.state.clock.now()
    given = ctx.request.query_params
    search_error = None
    try:
        text = patient_search.search_text(given.get("q", ""))
    except InvalidInput as refused:
        text, search_error, status = "", str(refused), 422
    after = _record_id(given.get("after"))
    day = tasks.clinic_today(session, actor=actor, now=now)
    task_rows = [
        task
        for task in tasks.tasks_for_day(
            session, actor=actor, day=day, now=now, knowledge=ctx.state.knowledge
        )
        if patient_search.matches(text, task.patient_code, task.patient_name)
    ]
    zone = ZoneInfo(clinic_settings.clinic_of(session, actor=actor).zone)
    found = patient_search.find_patients(
        session, actor=actor, text=text, after=after, limit=PATIENTS_PER_PAGE + 1
    )
    cards = patient_cards(
        alert_cards.open_alert_cards(session, actor=actor, now=now, knowledge=ctx.state.knowledge),
        now,
    )
    handled = alerts.acknowledged_alerts(
        session,
        actor=actor,
        before=_record_id(given.get("handled_before")),
        limit=HANDLED_PER_PAGE + 1,
    )
    return render(
        ctx,
        "pages/home.html",
        status=status,
        day=day,
        tasks=task_rows,
        patients=_with_status(ctx, session, found[:PATIENTS_PER_PAGE], day),
        search=text,
        search_error=search_error,
        first_page=None if after is None else _here(ctx, after=None),
        next_page=_here(ctx, after=found[PATIENTS_PER_PAGE - 1].id)
        if len(found) > PATIENTS_PER_PAGE
        else None,
        zone=zone,
        cards=cards,
        open_ids=[alert.id for card in cards for alert in card.alerts],
        handled=handled_rows(handled[:HANDLED_PER_PAGE]),
        handled_first=None if "handled_before" not in given else _here(ctx, handled_before=None),
        handled_next=_here(ctx, handled_before=handled[HANDLED_PER_PAGE - 1].id)
        if len(handled) > HANDLED_PER_PAGE
        else None,
        severity_words=ctx.state.knowledge.triage.severity_words,
        alert_error=alert_error,
        outcomes=alerts.OUTCOMES,
        what_was_done_max=alerts.WHAT_WAS_DONE_MAX,
        may_acknowledge=actor.role in (Role.NURSE, Role.PHYSICIAN),
    )


def _with_status(
    ctx: Ctx, session: Session, patients: list[PatientRecord], day: date
) -> list[tuple[PatientRecord, CourseStatusView | None]]:
    """Each patient with their latest course as the list shows it (None: no course): an
    interrupted or discontinued one shows that, not a cycle and day. The courses of the
    whole page are read at once."""
    latest = courses.latest_views(
        session,
        actor=ctx.signed_in(),
        now=ctx.state.clock.now(),
        knowledge=ctx.state.knowledge,
        patient_ids=[patient.id for patient in patients],
    )
    shown: list[tuple[PatientRecord, CourseStatusView | None]] = []
    for patient in patients:
        view, events = latest.get(patient.id, (None, []))
        status = (
            None
            if view is None
            else logged_course_status(view.course.id, view.course.status, view.plan, day, events)
        )
        shown.append((patient, status))
    return shown


def _record_id(given: str | None) -> int | None:
    """A paging cursor (a record id) from the query; anything else is the first page."""
    if not given or not given.isascii() or not given.isdigit() or len(given) > 10:
        return None
    number = int(given)
    return number if 0 < number <= MAX_RECORD_ID else None


def _here(ctx: Ctx, **changes: int | None) -> str:
    """This page's address with the query's ``changes`` (None: left out)."""
    query = {k: v for k, v in ctx.request.query_params.items() if k not in changes}
    query |= {k: str(v) for k, v in changes.items() if v is not None}
    return f"/?{urlencode(query)}" if query else "/"


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(
    alert_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep
) -> Response:
    """A nurse or physician takes an alert, saying what was done; it leaves the clinic's
    open list for the acknowledged one."""
    actor = ctx.signed_in()
    outcome, note = text_field(form, "outcome"), text_field(form, "note")
    done = text_field(form, "what_was_done")

    def again(reading: Session, error: BlinaError, status: int) -> Response:
        field = error.field if isinstance(error, InvalidInput) else None
        failed = AcknowledgeError(alert_id, str(error), field, outcome, note, done)
        return _home_page(ctx, reading, status=status, alert_error=failed)

    submit(
        ctx,
        lambda: alerts.acknowledge_alert(
            session,
            actor=actor,
            now=ctx.state.clock.now(),
            alert_id=alert_id,
            outcome=outcome,
            note=note,
            what_was_done=done,
        ),
        refused={InvalidInput: 422, Conflict: 409},
        again=again,
    )
    return redirect(ctx, "/#alerts")


def _bag_rows(session: Session, actor: Actor, course_id: int, zone: ZoneInfo) -> list[BagRow]:
    found = pharmacy.list_bags(session, actor=actor, course_id=course_id)
    ids = {b.prepared_by for b in found} | {b.verified_by for b in found if b.verified_by}
    names = users.usernames(session, actor=actor, ids=ids)
    rows = []
    for bag in found:
        recipe = bag.recipe
        start = datetime.fromisoformat(str(recipe.get("bag_start")))
        rows.append(
            BagRow(
                bag.id,
                start.astimezone(zone),
                str(recipe.get("prescription", {}).get("dose_mcg_per_day", "")),
                str(recipe.get("total_ml", "")),
                str(recipe.get("rate_ml_per_h", "")),
                names.get(bag.prepared_by, str(bag.prepared_by)),
                bag.prepared_at.astimezone(zone),
                bag.prepared_by,
                None if bag.verified_by is None else names.get(bag.verified_by, "?"),
                None if bag.verified_at is None else bag.verified_at.astimezone(zone),
                dict(recipe.get("overrides", {})),
                bag.code,
                bag.status,
                bag.do_not_hang,
            )
        )
    return rows


# The check-ins listed on a patient's page at a time (older ones a page further), and the
# newest whose temperatures the chart draws: a patient with a thousand check-ins still
# gets a page of a few screens.
CHECK_INS_SHOWN = 20
CHECK_INS_CHARTED = 200


def _check_ins_before(ctx: Ctx) -> int | None:
    """The ``?check_ins_before=`` of an older page of check-ins; anything but a record id
    is the newest page."""
    given = ctx.request.query_params.get("check_ins_before", "")
    if not given.isascii() or not given.isdigit() or len(given) > len(str(MAX_RECORD_ID)):
        return None
    number = int(given)
    return number if 0 < number <= MAX_RECORD_ID else None


def exposure_view(view: courses.CourseView) -> dict[str, object]:
    """What the exposure section needs: whether the model can run (it needs the body
    surface area, so a height), and on what: the bags as hung once one was, else the
    plan."""
    delivered = any(day.hours > 0 for day in view.state.delivered)
    return {
        "course_id": view.course.id,
        "possible": view.plan.body.bsa is not None,
        "basis": "delivered" if delivered else "planned",
    }


def render_patient_page(
    ctx: Ctx,
    session: Session,
    patient_id: int,
    *,
    status: int = 200,
    override_codes: list[str] | None = None,
    form_error: FormError | None = None,
) -> Response:
    actor = ctx.signed_in()
    now = ctx.state.clock.now()
    patient = patients.patient_record(session, actor=actor, patient_id=patient_id)
    views = course_views(ctx, session, patient_id)
    zone = ZoneInfo(clinic_settings.clinic_of(session, actor=actor).zone)
    before = _check_ins_before(ctx)
    # The newest page is the start of what the chart draws: one read for both.
    charted = patients.check_ins(
        session, actor=actor, patient_id=patient_id, limit=CHECK_INS_CHARTED
    )
    shown = (
        charted[: CHECK_INS_SHOWN + 1]
        if before is None
        else patients.check_ins(
            session, actor=actor, patient_id=patient_id, before=before, limit=CHECK_INS_SHOWN + 1
        )
    )
    older = shown[CHECK_INS_SHOWN - 1].id if len(shown) > CHECK_INS_SHOWN else None
    shown = shown[:CHECK_INS_SHOWN]
    latest = courses.current_view(views)
    bags = (
        _bag_rows(session, actor, latest.course.id, zone)
        if latest is not None and actor.is_staff
        else []
    )
    gradings, lab_values = (
        ([], []) if latest is None else _course_records(session, actor, latest.course.id, zone)
    )
    given_rows = (
        []
        if latest is None
        else premedication.list_given(session, actor=actor, course_id=latest.course.id)
    )
    given = [(g.drug, g.due) for g in given_rows]
    day = now.astimezone(zone).date()
    triage_rules = ctx.state.knowledge.triage
    return render(
        ctx,
        "pages/patient.html",
        status=status,
        patient=patient,
        **_therapy_course_values(ctx, session, patient_id, day),
        view=latest,
        banner=None
        if latest is None
        else banner(latest.state, latest.plan, given, premedication.GIVEN_WINDOW),
        masking_given=[]
        if latest is None
        else masking_given(latest.plan, [(g.drug, g.due, g.given_at) for g in given_rows], now),
        status_view=None
        if latest is None
        else course_status(latest.course.id, latest.course.status, latest.plan, day),
        segments=[] if latest is None else timeline(latest.plan),
        today_mark=None if latest is None else today_mark(latest.plan, day),
        day_label=formatter_for(ctx.language).day,
        rows=[] if latest is None else calendar_rows(latest.plan),
        decisions=[] if latest is None else decision_rows(latest.replanned),
        reports=[(r, r.submitted_at.astimezone(zone)) for r in shown],
        exposure=None if latest is None or not actor.is_staff else exposure_view(latest),
        older_check_ins=older,
        paging_check_ins=before is not None,
        triage_rules=triage_rules,
        bags=bags,
        override_codes=override_codes or [],
        today=day,
        form_error=form_error,
        gradings=gradings,
        labs=lab_values,
        lab_terms=lab_term_options(labs.lab_terms(ctx.state.knowledge.toxicity.ctcae)),
        chart=temperature_chart(
            temperature_readings(reversed(charted), zone), alerting_temperature_rules(triage_rules)
        ),
        now_local=now.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        choices={
            "hypotension": list(Hypotension),
            "oxygen": list(OxygenSupport),
            "consciousness": list(Consciousness),
            "seizure": list(Seizure),
            "cerebral_edema": list(CerebralEdema),
            "cause": list(AdverseReaction),
        },
    )


def _therapy_course_values(
    ctx: Ctx, session: Session, patient_id: int, day: date
) -> dict[str, Any]:
    """The patient's therapy course the page shows (the active one, else the latest), its
    plan as ``_therapy_plan.html`` reads it, what the physician's forms open with, and,
    for the active one, its plan read on ``day`` ("Now": today's entries the care team
    acts on, the next dose, the restrictions holding)."""
    views = therapy_courses.list_therapy_courses(
        session, actor=ctx.signed_in(), knowledge=ctx.state.knowledge, patient_id=patient_id
    )
    shown = therapy_courses.current_therapy_view(views)
    if shown is None:
        return {"therapy": None}
    return {
        "therapy": shown,
        "therapy_info": therapy_info(ctx.state.knowledge, shown.course.therapy),
        "therapy_values": form_values(shown.inputs),
        "therapy_plan": plan_values(ctx, shown.plan, {}),
        "therapy_now": therapy_today(shown.plan, day) if shown.course.status == "active" else None,
        "clinic_entries": clinic_entries,
    }


def _course_records(
    session: Session, actor: Actor, course_id: int, zone: ZoneInfo
) -> tuple[list[GradingRow], list[LabRow]]:
    """The course's recorded gradings (the latest first) and its lab values."""
    assessments = toxicity.list_assessments(session, actor=actor, course_id=course_id)
    names = users.usernames(session, actor=actor, ids={a.assessed_by for a in assessments})
    gradings = [a for a in assessments if a.scale != labs.LAB_SCALE]
    values = labs.list_lab_values(session, actor=actor, course_id=course_id)
    return grading_rows(gradings, names, zone), lab_rows(values, names, zone)


@router.get("/patients/{patient_id}")
def patient_page(patient_id: RecordId, ctx: PageDep, session: ReadDep) -> Response:
    return render_patient_page(ctx, session, patient_id)


@router.post("/patients/{patient_id}/phone")
def set_patient_phone(
    patient_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep
) -> Response:
    """A physician or nurse changes the patient's number to call back (empty: none)."""
    phone = text_field(form, "phone")

    def again(reading: Session, _: InvalidInput, status: int) -> Response:
        message = phone_problem(ctx)
        failed = FormError(
            "phone",
            {"phone": message},
            {"phone": phone},
            (Problem("phone", "patient-phone", message),),
        )
        return render_patient_page(ctx, reading, patient_id, status=status, form_error=failed)

    submit(
        ctx,
        lambda: patients.set_patient_phone(
            session,
            actor=ctx.signed_in(),
            now=ctx.state.clock.now(),
            patient_id=patient_id,
            phone=phone,
        ),
        refused={InvalidInput: 422},
        again=again,
    )
    return redirect(ctx, f"/patients/{patient_id}#phone")


@router.get("/patients/{patient_id}/audit")
def audit_page(patient_id: RecordId, ctx: PageDep, session: ReadDep) -> Response:
    actor = ctx.signed_in()
    events = audit_reading.events_for_patient(session, actor=actor, patient_id=patient_id)
    patient = patients.patient_record(session, actor=actor, patient_id=patient_id)
    zone = ZoneInfo(clinic_settings.clinic_of(session, actor=actor).zone)
    ids = {e.actor_id for e in events if e.actor_id is not None}
    names = users.usernames(session, actor=actor, ids=ids)
    return render(
        ctx,
        "pages/audit.html",
        patient=patient,
        events=[
            (e, None if e.actor_id is None else names.get(e.actor_id), e.at.astimezone(zone))
            for e in events
        ],
    )
