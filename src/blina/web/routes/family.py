"""The family's pages: today, the calendar (page, .ics and subscription feeds), the
symptom check-in and its triage answer.

A check-in from the page (the form, or an emergency sign's button) is written by the
app's check-in writer (``services.check_ins``), as a phone's through the API is: the same
sign-in, idempotency, hourly limit, triage and alert, in the writer's transaction."""

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from anyio import from_thread
from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from blina.domain.errors import BlinaError, InvalidInput
from blina.domain.triage.rulebook import TriageRules
from blina.domain.triage.rules import TriageLevel
from blina.interop.ical import plan_to_ical
from blina.interop.therapy_ical import therapy_plan_to_ical
from blina.services import (
    calendar_feeds,
    clinic_settings,
    courses,
    patients,
    reports,
    therapy_courses,
    users,
)
from blina.services.check_ins import PostedCheckIn
from blina.services.errors import (
    CheckInsThrottled,
    NotFound,
)
from blina.services.records import ClinicRecord
from blina.services.storage import RecordId, Session
from blina.web.deps import FormDep, PageDep, ReadDep, WriteDep
from blina.web.family_views import (
    emergency_sign_views,
    emergency_symptom,
    group_views,
    sent_check_in,
    symptom_areas,
    therapy_signs,
    with_emergency_sign,
)
from blina.web.formatting import formatter_for
from blina.web.render import Ctx, WebState, redirect, render
from blina.web.routes._common import (
    WebRoute,
    course_views,
    decimal_field,
    public_url_for,
    submit,
    text_field,
    whole_field,
)
from blina.web.therapy_family import (
    therapy_calendar_rows,
    therapy_today_view,
)
from blina.web.viewmodels import (
    calendar_rows,
    feed_rows,
    timeline,
    today_mark,
    today_view,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# --- the family ------------------------------------------------------------------------


def _family_patient(ctx: Ctx) -> int:
    actor = ctx.signed_in()
    if actor.patient_id is None:
        raise NotFound("this page is for a patient or their family")
    return actor.patient_id


@router.get("/today")
def today_page(ctx: PageDep, session: ReadDep) -> Response:
    actor = ctx.signed_in()
    if actor.is_staff:
        return redirect(ctx, "/")
    patient_id = _family_patient(ctx)
    now = ctx.state.clock.now()
    patient = patients.patient_record(session, actor=actor, patient_id=patient_id)
    clinic = clinic_settings.clinic_of(session, actor=actor)
    zone = ZoneInfo(clinic.zone)
    therapy = therapy_courses.therapy_now(
        session,
        actor=actor,
        knowledge=ctx.state.knowledge,
        patient_id=patient_id,
        day=now.astimezone(zone).date(),
    )
    if therapy is not None:
        return _therapy_today_page(ctx, therapy, patient, clinic)
    views = course_views(ctx, session, patient_id)
    latest = courses.current_view(views)
    return render(
        ctx,
        "pages/today.html",
        therapy_today=None,
        therapy_signs=None,
        state=None if latest is None else latest.state,
        clinic_zone=ZoneInfo(clinic.zone),
        patient=patient,
        clinic=clinic,
        today=None
        if latest is None
        else today_view(latest.course.id, latest.course.status, latest.plan, now),
        signs=emergency_sign_views(ctx.state.knowledge.triage),
        call_now=group_views(ctx.state.knowledge.triage, red_flag=True),
        report_if=group_views(ctx.state.knowledge.triage, red_flag=False),
    )


def _therapy_today_page(
    ctx: Ctx, therapy: therapy_courses.TherapyNow, patient: Any, clinic: ClinicRecord
) -> Response:
    """Today for a patient whose active course is another therapy: that therapy's day,
    what happens, its next dose day and restrictions, read from the one plan."""
    rules = ctx.state.knowledge.triage
    key = therapy.view.course.therapy
    return render(
        ctx,
        "pages/today.html",
        state=None,
        clinic_zone=ZoneInfo(clinic.zone),
        patient=patient,
        clinic=clinic,
        today=None,
        therapy_today=therapy_today_view(therapy.view.name, therapy.view.plan, therapy.today),
        therapy_signs=therapy_signs(rules, key),
        signs=emergency_sign_views(rules),
        call_now=group_views(rules, red_flag=True, therapy=key),
        report_if=group_views(rules, red_flag=False, therapy=key),
    )


@router.get("/patients/{patient_id}/calendar")
def calendar_page(patient_id: RecordId, ctx: PageDep, session: ReadDep) -> Response:
    return _calendar_page(ctx, session, patient_id)


def _calendar_page(
    ctx: Ctx,
    session: Session,
    patient_id: int,
    *,
    status: int = 200,
    feed_url: str | None = None,
    feed_label: str = "",
    feed_error: str | None = None,
) -> Response:
    """The calendar, with the patient's calendar feeds; ``feed_url`` is a new feed's
    address, shown this once."""
    actor = ctx.signed_in()
    patient = patients.patient_record(session, actor=actor, patient_id=patient_id)
    views = course_views(ctx, session, patient_id)
    zone = ZoneInfo(clinic_settings.clinic_of(session, actor=actor).zone)
    feeds = calendar_feeds.list_feeds(session, actor=actor, patient_id=patient_id)
    names = users.usernames(session, actor=actor, ids={feed.created_by for feed in feeds})
    latest = courses.current_view(views)
    day = ctx.state.clock.now().astimezone(zone).date()
    therapy = therapy_courses.therapy_now(
        session, actor=actor, knowledge=ctx.state.knowledge, patient_id=patient_id, day=day
    )
    response = render(
        ctx,
        "pages/calendar.html",
        status=status,
        patient=patient,
        therapy=None if therapy is None else therapy.view,
        therapy_rows=[] if therapy is None else therapy_calendar_rows(therapy.view.plan),
        view=latest,
        segments=[] if latest is None else timeline(latest.plan),
        today=day,
        today_mark=None if latest is None else today_mark(latest.plan, day),
        day_label=formatter_for(ctx.language).day,
        rows=[] if latest is None else calendar_rows(latest.plan),
        feeds=feed_rows(feeds, names, zone),
        feed_url=feed_url,
        webcal_url=None if feed_url is None else "webcal://" + feed_url.split("://", 1)[1],
        feed_label=feed_label,
        feed_error=feed_error,
        label_max=calendar_feeds.LABEL_MAX,
    )
    if feed_url is not None:
        response.headers["cache-control"] = "no-store"  # the secret address, shown once
    return response


@router.get("/patients/{patient_id}/calendar.ics")
def calendar_ics(patient_id: RecordId, ctx: PageDep, session: ReadDep) -> Response:
    """The patient's active course of another therapy, else their latest course."""
    now = ctx.state.clock.now()
    therapy = therapy_courses.therapy_now(
        session,
        actor=ctx.signed_in(),
        knowledge=ctx.state.knowledge,
        patient_id=patient_id,
        day=now.date(),
    )
    if therapy is not None:
        body = therapy_plan_to_ical(therapy.view.plan, therapy.view.name, generated_at=now)
    else:
        views = course_views(ctx, session, patient_id)
        if not views:
            raise NotFound(f"patient {patient_id} has no course")
        body = plan_to_ical(views[-1].plan, generated_at=now)
    return Response(
        body,
        media_type="text/calendar",
        headers={"content-disposition": f'attachment; filename="blina-{patient_id}.ics"'},
    )


def _check_in_form(
    ctx: Ctx,
    session: Session,
    patient_id: int,
    *,
    errors: dict[str, str],
    values: dict[str, Any],
    status: int = 200,
    wait_minutes: int | None = None,
) -> Response:
    """The check-in form: the emergency signs first (each a button that sends the
    check-in at once), then the temperature, the symptoms by body area and the note.
    ``wait_minutes``: the patient's check-ins reached the hourly limit, and this one was
    not stored."""
    actor = ctx.signed_in()
    patient = patients.patient_record(session, actor=actor, patient_id=patient_id)
    clinic = clinic_settings.clinic_of(session, actor=actor)
    rules = ctx.state.knowledge.triage
    on = therapy_courses.therapy_now(
        session,
        actor=actor,
        knowledge=ctx.state.knowledge,
        patient_id=patient_id,
        day=ctx.state.clock.now().astimezone(ZoneInfo(clinic.zone)).date(),
    )
    therapy = None if on is None else on.view.course.therapy
    return render(
        ctx,
        "pages/check_in.html",
        status=status,
        patient=patient,
        clinic=clinic,
        signs=emergency_sign_views(rules),
        areas=symptom_areas(rules, values.get("symptoms", []), therapy),
        severity_words=rules.severity_words,
        follow_up=rules.follow_up,
        errors=errors,
        values=values,
        key=uuid.uuid4().hex,
        sign_key=uuid.uuid4().hex,
        wait_minutes=wait_minutes,
    )


@router.get("/patients/{patient_id}/check-in")
def check_in_page(patient_id: RecordId, ctx: PageDep, session: ReadDep) -> Response:
    return _check_in_form(
        ctx,
        session,
        patient_id,
        errors={},
        values={"unit": "C", "symptoms": [], "severity": {}, "interferes": {}},
    )


# The follow-up to a "not sure" severity, as the form sends it.
_INTERFERES = {"yes": True, "no": False}


def _check_in(form: FormData, rules: TriageRules) -> reports.CheckInRequest:
    """The check-in as entered; the follow-up answer ("Is it getting in the way of daily
    activities?") counts only for a symptom ticked with its severity left "not sure", and
    a severity only for a symptom ticked. A "yes" to an emergency sign (its button) adds
    the sign at the severity at which it alone is an emergency."""
    symptoms: dict[str, int | None] = {}
    interferes: dict[str, bool] = {}
    for value in form.getlist("symptom"):
        if isinstance(value, str):
            symptoms[value] = whole_field(form, f"severity-{value}")
            answer = _INTERFERES.get(text_field(form, f"interferes-{value}"))
            if symptoms[value] is None and answer is not None:
                interferes[value] = answer
    if "emergency_sign" in form:
        sign, severity = emergency_symptom(rules, text_field(form, "emergency_sign"))
        symptoms = with_emergency_sign(symptoms, sign, severity)
    return reports.CheckInRequest(
        symptoms=symptoms,
        temperature=decimal_field(form, "temperature", required=False),
        temperature_unit=text_field(form, "temperature_unit") or "C",
        note=text_field(form, "note"),
        interferes=interferes,
    )


def _entered(form: FormData) -> dict[str, Any]:
    """The form's values as entered, to show the form again with them."""
    return {
        "temperature": text_field(form, "temperature"),
        "unit": text_field(form, "temperature_unit") or "C",
        "note": text_field(form, "note"),
        "symptoms": [v for v in form.getlist("symptom") if isinstance(v, str)],
        "severity": {
            str(k).removeprefix("severity-"): str(v)
            for k, v in form.multi_items()
            if str(k).startswith("severity-")
        },
        "interferes": {
            str(k).removeprefix("interferes-"): str(v)
            for k, v in form.multi_items()
            if str(k).startswith("interferes-")
        },
    }


def _write(
    ctx: Ctx, patient_id: int, key: str, check_in: reports.CheckInRequest
) -> reports.SubmittedReport:
    """The check-in handed to the app's writer (``services.check_ins``), as the API's
    are: it signs the session in, checks, triages, stores and alerts in a transaction of
    its own. Called from the request's worker thread, it waits there for the writer."""
    posted = PostedCheckIn(
        token=ctx.session_token or "",
        patient_id=patient_id,
        idempotency_key=key,
        check_in=check_in,
    )
    return from_thread.run(ctx.state.check_ins.write, posted)


# Where a refused field's message is shown on the form.
_ERROR_PLACE = {"note": "note", "free_text": "note", "emergency_sign": "emergency"}


@router.post("/patients/{patient_id}/check-in")
def submit_check_in(
    patient_id: RecordId, ctx: PageDep, form: FormDep, session: ReadDep
) -> Response:
    """A check-in from the form, or from an emergency sign's button: written through the
    app's check-in writer, with the same idempotency, hourly limit and alerting as a
    check-in from a phone."""
    actor = ctx.signed_in()
    values = _entered(form)
    clinic = clinic_settings.clinic_of(session, actor=actor)

    def save() -> reports.SubmittedReport:
        wanted = _check_in(form, ctx.state.knowledge.triage)
        key = text_field(form, "idempotency_key") or uuid.uuid4().hex
        try:
            return _write(ctx, patient_id, key, wanted)
        except reports.KeyReused:
            # The form's key guards against a double click or a reload; a form sent
            # again with other answers (Back, changed, sent) is a new check-in.
            return _write(ctx, patient_id, uuid.uuid4().hex, wanted)

    def again(reading: Session, error: BlinaError, status: int) -> Response:
        if isinstance(error, CheckInsThrottled):
            refused = _check_in_form(
                ctx,
                reading,
                patient_id,
                errors={},
                values=values,
                status=status,
                wait_minutes=-(-error.retry_after // 60),
            )
            refused.headers["Retry-After"] = str(error.retry_after)
            return refused
        assert isinstance(error, InvalidInput)
        field = error.field
        key = "temperature" if field.startswith("temperature") else "symptoms"
        key = _ERROR_PLACE.get(field, key)
        return _check_in_form(
            ctx, reading, patient_id, errors={key: str(error)}, values=values, status=status
        )

    submitted = submit(ctx, save, refused={CheckInsThrottled: 429, InvalidInput: 422}, again=again)
    return _triage_page(ctx, patient_id, submitted, clinic)


def _triage_page(
    ctx: Ctx, patient_id: int, submitted: reports.SubmittedReport, clinic: ClinicRecord
) -> Response:
    """The triage answer the service stored with the report (``Triage.to_dict()``), with
    the clinic's numbers it showed (``contacts``; a report stored before them takes the
    clinic's phone as it is now)."""
    answer: dict[str, Any] = dict(submitted.report.get("triage") or {})
    level = TriageLevel(str(answer.get("level", TriageLevel.ROUTINE)))
    contacts: dict[str, str] = {"care_team_phone": clinic.phone, "emergency_number": ""}
    contacts.update(submitted.report.get("contacts") or {})
    return render(
        ctx,
        "pages/check_in_answer.html",
        patient_id=patient_id,
        sent=sent_check_in(ctx.state.knowledge.triage, submitted.report, ctx.language),
        follow_up=ctx.state.knowledge.triage.follow_up,
        answer=answer,
        level=str(level),
        guide=ctx.state.knowledge.triage.levels[level],
        alerted=submitted.alert_id is not None,
        contacts=contacts,
        in_hospital=(answer.get("context") or {}).get("in_hospital") is True,
        crisis_line=answer.get("crisis_line") is True,
        report_id=submitted.id,
    )


# --- calendar feeds: the calendar for a phone, without a session -------------------------


@router.post("/patients/{patient_id}/calendar-feeds")
def create_calendar_feed(
    patient_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep
) -> Response:
    """A new feed (the patient, a caregiver or staff); its address is shown once."""
    actor = ctx.signed_in()
    label = text_field(form, "label")

    def again(reading: Session, error: InvalidInput, status: int) -> Response:
        return _calendar_page(
            ctx, reading, patient_id, status=status, feed_label=label, feed_error=str(error)
        )

    made = submit(
        ctx,
        lambda: calendar_feeds.create_feed(
            session, actor=actor, now=ctx.state.clock.now(), patient_id=patient_id, label=label
        ),
        refused={InvalidInput: 422},
        again=again,
    )
    url = public_url_for(ctx.request, "calendar_feed", token=made.token)
    return _calendar_page(ctx, session, patient_id, status=201, feed_url=url)


@router.post("/calendar-feeds/{feed_id}/revoke")
def revoke_calendar_feed(feed_id: RecordId, ctx: PageDep, session: WriteDep) -> Response:
    feed = calendar_feeds.revoke_feed(
        session, actor=ctx.signed_in(), now=ctx.state.clock.now(), feed_id=feed_id
    )
    return redirect(ctx, f"/patients/{feed.patient_id}/calendar#feeds")


@router.get("/calendar/{token}.ics")
def calendar_feed(token: str, request: Request, session: ReadDep) -> Response:
    """The patient's calendar by a feed's token, no sign-in needed; an unknown and a
    revoked token both answer 404."""
    state: WebState = request.app.state.blina
    now = state.clock.now()
    plan = calendar_feeds.feed_plan(session, token=token, now=now, knowledge=state.knowledge)
    if isinstance(plan, therapy_courses.TherapyCourseView):
        body = therapy_plan_to_ical(plan.plan, plan.name, generated_at=now)
    else:
        body = plan_to_ical(plan, generated_at=now)
    return Response(
        body,
        media_type="text/calendar",
        headers={"cache-control": "private, no-store"},
    )
