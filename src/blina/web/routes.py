"""The web pages and their htmx fragments. Every rule is a service's or the domain's:
a route reads the form, calls one service, and renders a view model."""

import uuid
from collections.abc import Callable, Coroutine
from dataclasses import asdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from blina.domain.body import measure_body
from blina.domain.errors import BlinaError, InvalidInput, UnknownId
from blina.domain.modifications import AdverseReaction
from blina.domain.planning import plan_course
from blina.domain.toxicity import Grading
from blina.domain.toxicity.crs import CrsFindings, Hypotension, OxygenSupport
from blina.domain.toxicity.icans import CerebralEdema, Consciousness, IcansFindings, Seizure
from blina.domain.triage import TriageLevel
from blina.interop.ical import plan_to_ical
from blina.interop.recipe_json import read_recipe_dict
from blina.interop.worksheet import FilledIn, Signature, render_worksheet_sections
from blina.knowledge import Knowledge
from blina.services import (
    alerts,
    audit,
    calendar_feeds,
    courses,
    labs,
    patients,
    pharmacy,
    reports,
    tasks,
    toxicity,
)
from blina.services.access import course_for, patient_for, require_role
from blina.services.accounts import log_in, log_out
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.errors import (
    Conflict,
    LoginThrottled,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from blina.services.gradings import grade_crs_findings, grade_icans_findings
from blina.store.session import read_only, transaction
from blina.store.tables import BagPreparation, Clinic, User
from blina.store.types import RecordId
from blina.web.charts import temperature_chart
from blina.web.i18n import LANG_COOKIE, LANGUAGES, clinical_gettext_for
from blina.web.render import Ctx, WebState, context_of, redirect, render
from blina.web.security import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, csrf_valid
from blina.web.viewmodels import (
    AlertError,
    BagRow,
    FormError,
    GradingRow,
    LabRow,
    alert_row,
    alerting_temperature_rules,
    audit_row,
    calendar_rows,
    course_status,
    decision_rows,
    feed_rows,
    grading_rows,
    lab_rows,
    lab_term_options,
    logged_course_status,
    red_flags,
    temperature_readings,
    timeline,
    today_view,
)

__all__ = ["WebRoute", "error_page", "router"]


class CsrfRefused(BlinaError):
    pass


def error_page(request: Request, error: Exception) -> Response:
    """The page for an error: a sign-in for ``NotAuthenticated``, else the message."""
    ctx = context_of(request)
    if isinstance(error, NotAuthenticated):
        return redirect(ctx, f"/login?next={_local(request.url.path)}")
    if isinstance(error, PermissionDenied):
        _audit_denial(ctx, str(error))
    if isinstance(error, HTTPException):
        message = ctx.gettext("Not found.") if error.status_code == 404 else str(error.detail)
        return render(
            ctx,
            "pages/error.html",
            status=error.status_code,
            status_code=error.status_code,
            message=message,
        )
    status = {
        PermissionDenied: 403,
        CsrfRefused: 403,
        NotFound: 404,
        RequestValidationError: 404,
        Conflict: 409,
    }.get(type(error), 400)
    message = (
        ctx.gettext("This form has expired. Go back, reload the page and try again.")
        if isinstance(error, CsrfRefused)
        else ctx.gettext("Not found.")
        if isinstance(error, RequestValidationError)
        else str(error)
    )
    return render(ctx, "pages/error.html", status=status, status_code=status, message=message)


class WebRoute(APIRoute):
    """Answers a domain or service error with a page, never a JSON body or a traceback."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except (BlinaError, RequestValidationError) as error:
                return await run_in_threadpool(error_page, request, error)

        return guarded


router = APIRouter(route_class=WebRoute, include_in_schema=False)


# --- helpers ---------------------------------------------------------------------------


def _local(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a full URL) may be a redirect target."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def _posted(request: Request) -> tuple[Ctx, FormData]:
    """The request's context and form, after the CSRF check (before anything else runs)."""
    ctx = await run_in_threadpool(context_of, request)
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not csrf_valid(
        secret=ctx.state.settings.secret_key.get_secret_value(),
        nonce=request.cookies.get(CSRF_COOKIE),
        session_token=ctx.session_token,
        sent=sent if isinstance(sent, str) else "",
    ):
        raise CsrfRefused("the form's CSRF token is missing or wrong")
    return ctx, form


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _decimal(form: FormData, name: str, *, required: bool = True) -> Decimal | None:
    text = _text(form, name).replace(",", ".")
    if not text:
        if required:
            raise InvalidInput(name, "(missing)", "given")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(name, text, "a number such as 70 or 70.5") from None
    if not value.is_finite():
        raise InvalidInput(name, text, "a finite number")
    return value


def _audit_denial(ctx: Ctx, reason: str) -> None:
    with transaction(ctx.state.sessions) as session:
        append_audit(
            session,
            at=ctx.state.clock.now(),
            actor=ctx.actor,
            action="access.denied",
            subject_type="request",
            subject_id=f"{ctx.request.method} {ctx.request.url.path}"[:40],
            after={"reason": reason, "via": "web"},
        )


def _clinic(session: Session, actor: Actor) -> Clinic:
    return session.execute(select(Clinic).where(Clinic.id == actor.clinic_id)).scalar_one()


def _course_views(
    session: Session, ctx: Ctx, actor: Actor, patient_id: int
) -> list[courses.CourseView]:
    return courses.list_courses(
        session,
        actor=actor,
        now=ctx.state.clock.now(),
        knowledge=ctx.state.knowledge,
        patient_id=patient_id,
    )


def _home_for(actor: Actor) -> str:
    return "/" if actor.is_staff else "/today"


# --- signing in and out; language -------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    ctx = context_of(request)
    if ctx.actor is not None:
        return redirect(ctx, _home_for(ctx.actor))
    return render(ctx, "pages/login.html", next=_local(next), error=None, username="")


@router.post("/login")
async def login(request: Request) -> Response:
    ctx, form = await _posted(request)
    username, password = _text(form, "username"), _text(form, "password")
    state = ctx.state

    def attempt() -> Any:
        with transaction(state.sessions) as session:
            return log_in(
                session,
                settings=state.settings,
                now=state.clock.now(),
                username=username,
                password=password,
                kind="session",
            )

    outcome = await run_in_threadpool(attempt)
    if outcome.refusal is not None:
        message = (
            ctx.gettext("Too many failed attempts. Try again later.")
            if isinstance(outcome.refusal, LoginThrottled)
            else ctx.gettext("Wrong username or password.")
        )
        status = 429 if isinstance(outcome.refusal, LoginThrottled) else 401
        return render(
            ctx,
            "pages/login.html",
            status=status,
            next=_local(_text(form, "next")),
            error=message,
            username=username,
        )
    target = _local(_text(form, "next"))
    if target in ("/", "/login"):
        target = "/" if outcome.user.role not in ("patient", "caregiver") else "/today"
    response = redirect(ctx, target)
    response.set_cookie(
        SESSION_COOKIE,
        outcome.token,
        max_age=state.settings.session_hours * 3600,
        httponly=True,
        secure=state.settings.cookie_secure,
        samesite="strict",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    ctx, _ = await _posted(request)
    token = ctx.session_token
    if token is not None:

        def forget() -> None:
            with transaction(ctx.state.sessions) as session:
                log_out(session, token=token)

        await run_in_threadpool(forget)
    response = redirect(ctx, "/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/lang")
def switch_language(request: Request, to: str = "en", next: str = "/") -> Response:
    ctx = context_of(request)
    response = redirect(ctx, _local(next))
    if to in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            to,
            max_age=365 * 24 * 3600,
            httponly=True,
            secure=ctx.state.settings.cookie_secure,
            samesite="strict",
        )
    return response


# --- the care team ---------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    ctx = context_of(request)
    if not ctx.signed_in().is_staff:
        return redirect(ctx, "/today")
    return _home_page(ctx)


def _home_page(ctx: Ctx, *, status: int = 200, alert_error: AlertError | None = None) -> Response:
    actor = ctx.signed_in()
    now = ctx.state.clock.now()
    with read_only(ctx.state.sessions) as session:
        day = tasks.clinic_today(session, actor=actor, now=now)
        task_rows = tasks.tasks_for_day(session, actor=actor, day=day)
        zone = ZoneInfo(_clinic(session, actor).zone)
        open_alerts = [
            alert_row(alert, patient, now)
            for alert, patient in alerts.list_alerts(session, actor=actor)
        ]
        rows = []
        for patient in patients.list_patients(session, actor=actor):
            views = _course_views(session, ctx, actor, patient.id)
            status_view = None
            if views:
                # an interrupted or discontinued course shows that, not a cycle and day
                latest = views[-1].course
                status_view = logged_course_status(
                    latest.id,
                    latest.status,
                    views[-1].plan,
                    day,
                    courses.events_of(session, latest.id),
                )
            rows.append((patient, status_view))
    return render(
        ctx,
        "pages/home.html",
        status=status,
        day=day,
        tasks=task_rows,
        patients=rows,
        zone=zone,
        alerts=open_alerts,
        alert_error=alert_error,
        outcomes=alerts.OUTCOMES,
        clinical=clinical_gettext_for(ctx.language),
        may_acknowledge=actor.role in (Role.NURSE, Role.PHYSICIAN),
    )


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge_alert(request: Request, alert_id: RecordId) -> Response:
    """A nurse or physician takes an alert; it leaves the clinic's open list."""
    ctx, form = await _posted(request)
    actor = ctx.signed_in()
    outcome, note = _text(form, "outcome"), _text(form, "note")

    def save() -> Response:
        try:
            with transaction(ctx.state.sessions) as session:
                alerts.acknowledge_alert(
                    session,
                    actor=actor,
                    now=ctx.state.clock.now(),
                    alert_id=alert_id,
                    outcome=outcome,
                    note=note,
                )
        except InvalidInput as error:
            failed = AlertError(alert_id, str(error), outcome, note)
            return _home_page(ctx, status=422, alert_error=failed)
        except Conflict as error:
            failed = AlertError(alert_id, str(error), outcome, note)
            return _home_page(ctx, status=409, alert_error=failed)
        return redirect(ctx, "/#alerts")

    return await run_in_threadpool(save)


def _bag_rows(session: Session, actor: Actor, course_id: int, zone: ZoneInfo) -> list[BagRow]:
    found = pharmacy.list_bags(session, actor=actor, course_id=course_id)
    ids = {b.prepared_by for b in found} | {b.verified_by for b in found if b.verified_by}
    names = _usernames(session, ids)
    rows = []
    for bag in found:
        recipe = bag.recipe
        start = datetime.fromisoformat(str(recipe.get("bag_start")))
        rows.append(
            BagRow(
                bag.id,
                f"{start.astimezone(zone):%d %b %Y %H:%M}",
                str(recipe.get("prescription", {}).get("dose_mcg_per_day", "")),
                str(recipe.get("total_ml", "")),
                str(recipe.get("rate_ml_per_h", "")),
                names.get(bag.prepared_by, str(bag.prepared_by)),
                bag.prepared_at.astimezone(zone),
                bag.prepared_by,
                None if bag.verified_by is None else names.get(bag.verified_by, "?"),
                None if bag.verified_at is None else bag.verified_at.astimezone(zone),
                dict(recipe.get("overrides", {})),
            )
        )
    return rows


def _patient_page(
    ctx: Ctx,
    patient_id: int,
    *,
    status: int = 200,
    bag_error: tuple[int | None, str] | None = None,
    override_codes: list[str] | None = None,
    form_error: FormError | None = None,
) -> Response:
    actor = ctx.signed_in()
    now = ctx.state.clock.now()
    with read_only(ctx.state.sessions) as session:
        patient = patients.get_patient(session, actor=actor, patient_id=patient_id)
        views = _course_views(session, ctx, actor, patient_id)
        zone = ZoneInfo(_clinic(session, actor).zone)
        history = reports.list_reports(session, actor=actor, patient_id=patient_id)
        latest = views[-1] if views else None
        bags = (
            _bag_rows(session, actor, latest.course.id, zone)
            if latest is not None and actor.is_staff
            else []
        )
        gradings, lab_values = (
            ([], []) if latest is None else _course_records(session, actor, latest.course.id, zone)
        )
    day = now.astimezone(zone).date()
    triage_rules = ctx.state.knowledge.triage
    return render(
        ctx,
        "pages/patient.html",
        status=status,
        patient=patient,
        view=latest,
        status_view=None
        if latest is None
        else course_status(latest.course.id, latest.course.status, latest.plan, day),
        segments=[] if latest is None else timeline(latest.plan),
        rows=[] if latest is None else calendar_rows(latest.plan),
        decisions=[] if latest is None else decision_rows(latest.replanned),
        reports=[(r, r.submitted_at.astimezone(zone)) for r in reversed(history)],
        triage_rules=triage_rules,
        clinical=clinical_gettext_for(ctx.language),
        bags=bags,
        bag_error=bag_error,
        override_codes=override_codes or [],
        today=day,
        form_error=form_error,
        gradings=gradings,
        labs=lab_values,
        lab_terms=lab_term_options(labs.lab_terms(ctx.state.knowledge.toxicity.ctcae)),
        chart=temperature_chart(
            temperature_readings(history, zone), alerting_temperature_rules(triage_rules)
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


def _course_records(
    session: Session, actor: Actor, course_id: int, zone: ZoneInfo
) -> tuple[list[GradingRow], list[LabRow]]:
    """The course's recorded gradings (the latest first) and its lab values."""
    assessments = toxicity.list_assessments(session, actor=actor, course_id=course_id)
    names = _usernames(session, {a.assessed_by for a in assessments})
    gradings = [a for a in assessments if a.scale != labs.LAB_SCALE]
    values = labs.list_lab_values(session, actor=actor, course_id=course_id)
    return grading_rows(gradings, names, zone), lab_rows(values, names, zone)


@router.get("/patients/{patient_id}")
def patient_page(request: Request, patient_id: RecordId) -> Response:
    return _patient_page(context_of(request), patient_id)


@router.get("/patients/{patient_id}/audit")
def audit_page(request: Request, patient_id: RecordId) -> Response:
    ctx = context_of(request)
    actor = ctx.signed_in()
    with read_only(ctx.state.sessions) as session:
        events = audit.events_for_patient(session, actor=actor, patient_id=patient_id)
        patient = patient_for(session, actor, patient_id)
        zone = ZoneInfo(_clinic(session, actor).zone)
        names = _usernames(session, {e.actor_id for e in events if e.actor_id is not None})
    return render(
        ctx,
        "pages/audit.html",
        patient=patient,
        events=[
            (e, None if e.actor_id is None else names.get(e.actor_id), e.at.astimezone(zone))
            for e in events
        ],
    )


def _usernames(session: Session, ids: set[int]) -> dict[int, str]:
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


# --- starting a course -----------------------------------------------------------------

_COURSE_FIELDS = ("indication", "start", "start_time", "weight_kg", "height_cm", "age_years")


def _course_request(form: FormData) -> courses.CourseRequest:
    start_text = _text(form, "start")
    try:
        start = date.fromisoformat(start_text)
    except ValueError:
        raise InvalidInput("start", start_text or "(missing)", "a date (YYYY-MM-DD)") from None
    time_text = _text(form, "start_time") or "09:00"
    try:
        start_time = time.fromisoformat(time_text)
    except ValueError:
        raise InvalidInput("start_time", time_text, "a time (HH:MM)") from None
    bag_text = _text(form, "bag_hours") or "24"
    cycles_text = _text(form, "cycles")
    if not bag_text.isdigit():
        raise InvalidInput("bag_hours", bag_text, "a whole number of hours")
    if cycles_text and not cycles_text.isdigit():
        raise InvalidInput("cycles", cycles_text, "a whole number")
    weight, age = _decimal(form, "weight_kg"), _decimal(form, "age_years")
    assert weight is not None
    assert age is not None
    return courses.CourseRequest(
        regimen_id=_text(form, "indication"),
        start=start,
        weight_kg=weight,
        age_years=age,
        height_cm=_decimal(form, "height_cm", required=False),
        bag_hours=int(bag_text),
        cycles=int(cycles_text) if cycles_text else None,
        start_time=start_time,
    )


def _field_errors(error: BlinaError) -> dict[str, str]:
    if isinstance(error, UnknownId):
        return {"indication": str(error)}
    if isinstance(error, InvalidInput):
        field = error.field.split(".")[0].split("[")[0]
        aliases = {"weight": "weight_kg", "height": "height_cm", "age": "age_years"}
        return {aliases.get(field, field): str(error)}
    return {"form": str(error)}


def _course_form(
    ctx: Ctx,
    patient_id: int,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    actor = ctx.signed_in()
    with read_only(ctx.state.sessions) as session:
        patient = patient_for(session, actor, patient_id)
    return render(
        ctx,
        "pages/course_new.html",
        status=status,
        patient=patient,
        regimens=list(ctx.state.knowledge.regimens_by_id.values()),
        bag_hours=sorted(
            {b.hours for r in ctx.state.knowledge.regimens_by_id.values() for b in r.bag_options}
        ),
        values=values,
        errors=errors,
        preview=None,
    )


@router.get("/patients/{patient_id}/courses/new")
def new_course(request: Request, patient_id: RecordId) -> Response:
    ctx = context_of(request)
    require_role(ctx.signed_in(), Role.PHYSICIAN, doing="prescribe a course")
    today = ctx.state.clock.now().date()
    values = {"start": today.isoformat(), "start_time": "09:00", "bag_hours": "24"}
    return _course_form(ctx, patient_id, values=values, errors={})


@router.get("/patients/{patient_id}/courses/preview")
async def preview_course(request: Request, patient_id: RecordId) -> Response:
    """The planner's answer for the form as filled so far (an htmx fragment); stores nothing."""
    ctx = await run_in_threadpool(context_of, request)
    actor = ctx.signed_in()
    form = FormData(list[tuple[str, str | UploadFile]](request.query_params.multi_items()))

    def plan() -> Response:
        with read_only(ctx.state.sessions) as session:
            patient_for(session, actor, patient_id)
            zone = ZoneInfo(_clinic(session, actor).zone)
        try:
            wanted = _course_request(form)
            knowledge = ctx.state.knowledge
            planned = plan_course(
                regimen=knowledge.regimen(wanted.regimen_id),
                body=measure_body(
                    weight_kg=wanted.weight_kg,
                    height_cm=wanted.height_cm,
                    age_years=wanted.age_years,
                    rules=knowledge.body_rules,
                ),
                start=wanted.start,
                bag_hours=wanted.bag_hours,
                zone=zone,
                start_time=wanted.start_time,
                cycles=wanted.cycles,
            )
        except (InvalidInput, UnknownId) as error:
            return render(
                ctx, "_plan_preview.html", plan=None, rows=[], errors=_field_errors(error)
            )
        return render(
            ctx, "_plan_preview.html", plan=planned, rows=calendar_rows(planned), errors={}
        )

    return await run_in_threadpool(plan)


@router.post("/patients/{patient_id}/courses")
async def create_course(request: Request, patient_id: RecordId) -> Response:
    ctx, form = await _posted(request)
    actor = ctx.signed_in()
    values = {name: _text(form, name) for name in (*_COURSE_FIELDS, "bag_hours", "cycles")}

    def save() -> Response:
        try:
            wanted = _course_request(form)
            with transaction(ctx.state.sessions) as session:
                courses.start_course(
                    session,
                    actor=actor,
                    now=ctx.state.clock.now(),
                    knowledge=ctx.state.knowledge,
                    patient_id=patient_id,
                    request=wanted,
                )
        except (InvalidInput, UnknownId) as error:
            return _course_form(
                ctx, patient_id, values=values, errors=_field_errors(error), status=422
            )
        return redirect(ctx, f"/patients/{patient_id}")

    return await run_in_threadpool(save)


# --- the pharmacy ----------------------------------------------------------------------


@router.post("/courses/{course_id}/bags")
async def prepare_bag(request: Request, course_id: RecordId) -> Response:
    ctx, form = await _posted(request)
    actor = ctx.signed_in()
    overrides = {
        str(key).removeprefix("override-"): str(value).strip()
        for key, value in form.multi_items()
        if str(key).startswith("override-") and isinstance(value, str) and value.strip()
    }

    def save() -> Response:
        with read_only(ctx.state.sessions) as session:
            # Only the patient is needed here; prepare_course_bag plans the course itself.
            _, patient = course_for(session, actor, course_id)
            patient_id = patient.id
        library = pharmacy.library_for(ctx.state.settings, ctx.state.knowledge)
        try:
            with transaction(ctx.state.sessions) as session:
                pharmacy.prepare_course_bag(
                    session,
                    actor=actor,
                    now=ctx.state.clock.now(),
                    knowledge=ctx.state.knowledge,
                    library=library,
                    course_id=course_id,
                    bag_start=None,
                    override_reasons=overrides,
                )
        except InvalidInput as error:
            codes = (
                [c.strip() for c in str(error.value).split(",")]
                if error.field == "override_reasons"
                else []
            )
            return _patient_page(
                ctx, patient_id, status=422, bag_error=(None, str(error)), override_codes=codes
            )
        except pharmacy.HardStop as error:
            return _patient_page(ctx, patient_id, status=422, bag_error=(None, str(error)))
        return redirect(ctx, f"/patients/{patient_id}#bags")

    return await run_in_threadpool(save)


@router.post("/bags/{bag_id}/verify")
async def verify_bag(request: Request, bag_id: RecordId) -> Response:
    ctx, _ = await _posted(request)
    actor = ctx.signed_in()

    def save() -> Response:
        with read_only(ctx.state.sessions) as session:
            row = session.get(BagPreparation, bag_id)
            if row is None:
                raise NotFound(f"bag {bag_id} not found")
            _, patient = course_for(session, actor, row.course_id)
            patient_id = patient.id
        try:
            with transaction(ctx.state.sessions) as session:
                pharmacy.verify_bag(session, actor=actor, now=ctx.state.clock.now(), bag_id=bag_id)
        except PermissionDenied as error:
            _audit_denial(ctx, str(error))
            return _patient_page(ctx, patient_id, status=403, bag_error=(bag_id, str(error)))
        except Conflict as error:
            return _patient_page(ctx, patient_id, status=409, bag_error=(bag_id, str(error)))
        return redirect(ctx, f"/patients/{patient_id}#bags")

    return await run_in_threadpool(save)


# --- the family ------------------------------------------------------------------------


def _family_patient(ctx: Ctx) -> int:
    actor = ctx.signed_in()
    if actor.patient_id is None:
        raise NotFound("this page is for a patient or their family")
    return actor.patient_id


@router.get("/today")
def today_page(request: Request) -> Response:
    ctx = context_of(request)
    actor = ctx.signed_in()
    if actor.is_staff:
        return redirect(ctx, "/")
    patient_id = _family_patient(ctx)
    now = ctx.state.clock.now()
    with read_only(ctx.state.sessions) as session:
        patient = patients.get_patient(session, actor=actor, patient_id=patient_id)
        views = _course_views(session, ctx, actor, patient_id)
        clinic = _clinic(session, actor)
    latest = views[-1] if views else None
    return render(
        ctx,
        "pages/today.html",
        patient=patient,
        clinic=clinic,
        today=None
        if latest is None
        else today_view(latest.course.id, latest.course.status, latest.plan, now),
        flags=red_flags(ctx.state.knowledge.triage),
        clinical=clinical_gettext_for(ctx.language),
    )


@router.get("/patients/{patient_id}/calendar")
def calendar_page(request: Request, patient_id: RecordId) -> Response:
    return _calendar_page(context_of(request), patient_id)


def _calendar_page(
    ctx: Ctx,
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
    with read_only(ctx.state.sessions) as session:
        patient = patients.get_patient(session, actor=actor, patient_id=patient_id)
        views = _course_views(session, ctx, actor, patient_id)
        zone = ZoneInfo(_clinic(session, actor).zone)
        feeds = calendar_feeds.list_feeds(session, actor=actor, patient_id=patient_id)
        names = _usernames(session, {feed.created_by for feed in feeds})
    latest = views[-1] if views else None
    response = render(
        ctx,
        "pages/calendar.html",
        status=status,
        patient=patient,
        view=latest,
        segments=[] if latest is None else timeline(latest.plan),
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
def calendar_ics(request: Request, patient_id: RecordId) -> Response:
    ctx = context_of(request)
    actor = ctx.signed_in()
    with read_only(ctx.state.sessions) as session:
        views = _course_views(session, ctx, actor, patient_id)
    if not views:
        raise NotFound(f"patient {patient_id} has no course")
    body = plan_to_ical(views[-1].plan, generated_at=ctx.state.clock.now())
    return Response(
        body,
        media_type="text/calendar",
        headers={"content-disposition": f'attachment; filename="blina-{patient_id}.ics"'},
    )


def _check_in_form(
    ctx: Ctx,
    patient_id: int,
    *,
    errors: dict[str, str],
    values: dict[str, Any],
    status: int = 200,
) -> Response:
    actor = ctx.signed_in()
    with read_only(ctx.state.sessions) as session:
        patient = patients.get_patient(session, actor=actor, patient_id=patient_id)
    rules = ctx.state.knowledge.triage
    groups = [
        (group, [s for s in rules.symptoms.values() if s.group == group.id])
        for group in rules.groups.values()
    ]
    return render(
        ctx,
        "pages/check_in.html",
        status=status,
        patient=patient,
        groups=[(g, s) for g, s in groups if s],
        severity_words=rules.severity_words,
        clinical=clinical_gettext_for(ctx.language),
        errors=errors,
        values=values,
        key=uuid.uuid4().hex,
    )


@router.get("/patients/{patient_id}/check-in")
def check_in_page(request: Request, patient_id: RecordId) -> Response:
    ctx = context_of(request)
    return _check_in_form(
        ctx, patient_id, errors={}, values={"unit": "C", "symptoms": [], "severity": {}}
    )


def _check_in(form: FormData) -> reports.CheckInRequest:
    symptoms: dict[str, int | None] = {}
    for value in form.getlist("symptom"):
        if isinstance(value, str):
            severity = _text(form, f"severity-{value}")
            symptoms[value] = int(severity) if severity.isdigit() else None
    return reports.CheckInRequest(
        symptoms=symptoms,
        temperature=_decimal(form, "temperature", required=False),
        temperature_unit=_text(form, "temperature_unit") or "C",
        note=_text(form, "note"),
    )


@router.post("/patients/{patient_id}/check-in")
async def submit_check_in(request: Request, patient_id: RecordId) -> Response:
    ctx, form = await _posted(request)
    actor = ctx.signed_in()
    now = ctx.state.clock.now()
    values = {
        "temperature": _text(form, "temperature"),
        "unit": _text(form, "temperature_unit") or "C",
        "note": _text(form, "note"),
        "symptoms": [v for v in form.getlist("symptom") if isinstance(v, str)],
        "severity": {
            str(k).removeprefix("severity-"): str(v)
            for k, v in form.multi_items()
            if str(k).startswith("severity-")
        },
    }

    def save() -> Response:
        with read_only(ctx.state.sessions) as session:
            clinic = _clinic(session, actor)
        try:
            wanted = _check_in(form)
            with transaction(ctx.state.sessions) as session:
                submitted = reports.submit_report(
                    session,
                    actor=actor,
                    now=now,
                    knowledge=ctx.state.knowledge,
                    patient_id=patient_id,
                    idempotency_key=_text(form, "idempotency_key") or uuid.uuid4().hex,
                    check_in=wanted,
                )
        except InvalidInput as error:
            field = error.field
            key = "temperature" if field.startswith("temperature") else "symptoms"
            if field in ("note", "free_text"):
                key = "note"
            return _check_in_form(
                ctx, patient_id, errors={key: str(error)}, values=values, status=422
            )
        return _triage_page(ctx, patient_id, submitted, clinic)

    return await run_in_threadpool(save)


def _triage_page(
    ctx: Ctx, patient_id: int, submitted: reports.SubmittedReport, clinic: Clinic
) -> Response:
    """The triage answer the service stored with the report (``Triage.to_dict()``)."""
    answer: dict[str, Any] = dict(submitted.report.report.get("triage") or {})
    level = TriageLevel(str(answer.get("level", TriageLevel.ROUTINE)))
    return render(
        ctx,
        "pages/check_in_answer.html",
        patient_id=patient_id,
        answer=answer,
        level=str(level),
        guide=ctx.state.knowledge.triage.levels[level],
        alerted=submitted.alert_id is not None,
        clinic=clinic,
        report_id=submitted.report.id,
        clinical=clinical_gettext_for(ctx.language),
    )


# --- gradings and course events (physician and nurse) ------------------------------------

_GRADE_FIELDS = {
    "crs": ("temperature_c", "fever_masked", "hypotension", "oxygen", "oxygen_flow_l_per_min"),
    "icans": (
        "age_years",
        "consciousness",
        "ice_score",
        "capd_score",
        "developmental_delay",
        "seizure",
        "motor_weakness",
        "cerebral_edema",
    ),
}
# a domain field named in InvalidInput -> the form field it is shown beside
_GRADE_ALIASES = {"ice_items": "ice_score", "capd_answers": "capd_score"}
_EVENT_FIELDS = ("kind", "at", "cause", "grade", "dose_mcg_per_day", "reason")


_E = TypeVar("_E", bound=StrEnum)


def _choice(form: FormData, name: str, enum: type[_E], default: _E) -> _E:
    text = _text(form, name)
    if not text:
        return default
    try:
        return enum(text)
    except ValueError:
        raise InvalidInput(name, text, f"one of {', '.join(e.value for e in enum)}") from None


def _whole(form: FormData, name: str) -> int | None:
    text = _text(form, name)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(name, text, "a whole number") from None


def _flag(form: FormData, name: str) -> bool:
    return _text(form, name) in ("on", "yes", "true", "1")


def _grade_form(
    form: FormData, knowledge: Knowledge
) -> tuple[str, Grading, AdverseReaction, dict[str, Any]]:
    """The scale, its grading, the reaction and the inputs as stored (from a form)."""
    scale = _text(form, "scale")
    if scale == "crs":
        temperature = _decimal(form, "temperature_c")
        assert temperature is not None
        crs = CrsFindings(
            temperature_c=temperature,
            hypotension=_choice(form, "hypotension", Hypotension, Hypotension.NONE),
            oxygen=_choice(form, "oxygen", OxygenSupport, OxygenSupport.NONE),
            fever_masked=_flag(form, "fever_masked"),
            oxygen_flow_l_per_min=_decimal(form, "oxygen_flow_l_per_min", required=False),
        )
        grading, reaction = grade_crs_findings(crs, knowledge)
        return scale, grading, reaction, {"scale": scale, **asdict(crs)}
    if scale == "icans":
        age = _decimal(form, "age_years")
        assert age is not None
        consciousness_text = _text(form, "consciousness")
        if not consciousness_text:
            raise InvalidInput("consciousness", "(missing)", "given")
        icans = IcansFindings(
            age_years=age,
            consciousness=_choice(form, "consciousness", Consciousness, Consciousness.AWAKE),
            ice_score=_whole(form, "ice_score"),
            capd_score=_whole(form, "capd_score"),
            developmental_delay=_flag(form, "developmental_delay"),
            seizure=_choice(form, "seizure", Seizure, Seizure.NONE),
            motor_weakness=_flag(form, "motor_weakness"),
            cerebral_edema=_choice(form, "cerebral_edema", CerebralEdema, CerebralEdema.NONE),
        )
        grading, reaction = grade_icans_findings(icans, knowledge)
        inputs = {k: v for k, v in asdict(icans).items() if v is not None and k != "icp_signs"}
        return scale, grading, reaction, {"scale": scale, **inputs}
    raise InvalidInput("scale", scale or "(missing)", "crs or icans")


def _grade_errors(error: InvalidInput) -> dict[str, str]:
    field = error.field.split(".")[0].split("[")[0]
    return {_GRADE_ALIASES.get(field, field): str(error)}


@router.get("/courses/{course_id}/grade")
async def grade_preview(request: Request, course_id: RecordId) -> Response:
    """The grade for the form as filled so far, with the label's action (an htmx
    fragment); stores nothing."""
    ctx = await run_in_threadpool(context_of, request)
    actor = ctx.signed_in()
    require_role(actor, Role.PHYSICIAN, Role.NURSE, doing="grade a reaction")
    form = FormData(list[tuple[str, str | UploadFile]](request.query_params.multi_items()))
    scale = _text(form, "scale")

    def grade() -> Response:
        with read_only(ctx.state.sessions) as session:
            course_for(session, actor, course_id)
            try:
                scale_, grading, reaction, _ = _grade_form(form, ctx.state.knowledge)
            except InvalidInput as error:
                return render(
                    ctx,
                    "_grade_result.html",
                    scale=scale,
                    grading=None,
                    action=None,
                    errors=_grade_errors(error),
                    fields=_GRADE_FIELDS.get(scale, ()),
                    oob=True,
                )
            action = toxicity.action_for(
                session,
                actor=actor,
                now=ctx.state.clock.now(),
                knowledge=ctx.state.knowledge,
                course_id=course_id,
                reaction=reaction,
                grading=grading,
            )
        return render(
            ctx,
            "_grade_result.html",
            scale=scale_,
            grading=grading,
            action=action,
            errors={},
            fields=_GRADE_FIELDS[scale_],
            oob=True,
        )

    return await run_in_threadpool(grade)


@router.post("/courses/{course_id}/assessments")
async def record_grading(request: Request, course_id: RecordId) -> Response:
    """Record a CRS or ICANS grading with the label's action (physician or nurse)."""
    ctx, form = await _posted(request)
    actor = ctx.signed_in()
    require_role(actor, Role.PHYSICIAN, Role.NURSE, doing="record a grading")
    scale = _text(form, "scale")
    values = {name: _text(form, name) for name in _GRADE_FIELDS.get(scale, ())}

    def save() -> Response:
        with read_only(ctx.state.sessions) as session:
            _, patient = course_for(session, actor, course_id)
            patient_id = patient.id
        try:
            _, grading, reaction, inputs = _grade_form(form, ctx.state.knowledge)
            with transaction(ctx.state.sessions) as session:
                toxicity.record_assessment(
                    session,
                    actor=actor,
                    now=ctx.state.clock.now(),
                    knowledge=ctx.state.knowledge,
                    course_id=course_id,
                    reaction=reaction,
                    grading=grading,
                    inputs=inputs,
                )
        except InvalidInput as error:
            failed = FormError(scale, _grade_errors(error), values)
            return _patient_page(ctx, patient_id, status=422, form_error=failed)
        return redirect(ctx, f"/patients/{patient_id}#gradings")

    return await run_in_threadpool(save)


# --- lab values with their CTCAE grades (physician and nurse) ------------------------------

_LAB_FIELDS = ("term", "value", "lln", "uln", "baseline", "symptomatic", "taken_at")


def _lab_request(form: FormData, zone: ZoneInfo) -> labs.LabRequest:
    """The lab value the form describes; a taken-at time without an offset is clinic time."""
    symptomatic = _text(form, "symptomatic")
    if symptomatic not in ("", "yes", "no"):
        raise InvalidInput("symptomatic", symptomatic, "yes, no or empty (not stated)")
    taken_text = _text(form, "taken_at")
    taken_at = None
    if taken_text:
        try:
            taken_at = datetime.fromisoformat(taken_text)
        except ValueError:
            raise InvalidInput("taken_at", taken_text, "a date and time") from None
        if taken_at.tzinfo is None:
            taken_at = taken_at.replace(tzinfo=zone)
    return labs.LabRequest(
        term=_text(form, "term"),
        value=_decimal(form, "value", required=False),
        uln=_decimal(form, "uln", required=False),
        lln=_decimal(form, "lln", required=False),
        baseline=_decimal(form, "baseline", required=False),
        symptomatic=None if not symptomatic else symptomatic == "yes",
        taken_at=taken_at,
    )


def _lab_errors(error: InvalidInput) -> dict[str, str]:
    return {error.field if error.field in _LAB_FIELDS else "value": str(error)}


@router.get("/courses/{course_id}/labs/grade")
async def lab_grade_preview(request: Request, course_id: RecordId) -> Response:
    """The CTCAE grade of the lab value as filled so far (an htmx fragment); stores
    nothing."""
    ctx = await run_in_threadpool(context_of, request)
    actor = ctx.signed_in()
    require_role(actor, Role.PHYSICIAN, Role.NURSE, doing="grade a lab value")
    form = FormData(list[tuple[str, str | UploadFile]](request.query_params.multi_items()))

    def grade() -> Response:
        with read_only(ctx.state.sessions) as session:
            course_for(session, actor, course_id)
            zone = ZoneInfo(_clinic(session, actor).zone)
        try:
            grading = labs.grade_lab(_lab_request(form, zone), ctx.state.knowledge)
        except InvalidInput as error:
            grading, errors = None, _lab_errors(error)
        else:
            errors = {}
        return render(
            ctx,
            "_grade_result.html",
            scale="lab",
            grading=grading,
            action=None,
            errors=errors,
            fields=_LAB_FIELDS,
            oob=True,
        )

    return await run_in_threadpool(grade)


@router.post("/courses/{course_id}/labs")
async def record_lab_value(request: Request, course_id: RecordId) -> Response:
    """Record a lab value with its CTCAE grade (physician or nurse)."""
    ctx, form = await _posted(request)
    actor = ctx.signed_in()
    require_role(actor, Role.PHYSICIAN, Role.NURSE, doing="record a lab value")
    values = {name: _text(form, name) for name in _LAB_FIELDS}

    def save() -> Response:
        with read_only(ctx.state.sessions) as session:
            _, patient = course_for(session, actor, course_id)
            patient_id = patient.id
            zone = ZoneInfo(_clinic(session, actor).zone)
        try:
            wanted = _lab_request(form, zone)
            with transaction(ctx.state.sessions) as session:
                labs.record_lab_value(
                    session,
                    actor=actor,
                    now=ctx.state.clock.now(),
                    knowledge=ctx.state.knowledge,
                    course_id=course_id,
                    request=wanted,
                )
        except InvalidInput as error:
            failed = FormError("lab", _lab_errors(error), values)
            return _patient_page(ctx, patient_id, status=422, form_error=failed)
        return redirect(ctx, f"/patients/{patient_id}#labs")

    return await run_in_threadpool(save)


def _event(form: FormData, zone: ZoneInfo) -> dict[str, Any]:
    """The course event the form describes, as ``record_event`` reads it."""
    kind = _text(form, "kind")
    if kind not in ("interrupt", "restart", "discontinue"):
        raise InvalidInput("kind", kind or "(missing)", "one of interrupt, restart, discontinue")
    at_text = _text(form, "at")
    try:
        at = datetime.fromisoformat(at_text)
    except ValueError:
        raise InvalidInput("at", at_text or "(missing)", "a date and time") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone)
    event: dict[str, Any] = {"at": at.isoformat(), "kind": kind}
    if kind == "interrupt":
        event["cause"] = _choice(form, "cause", AdverseReaction, AdverseReaction.CRS).value
        grade = _whole(form, "grade")
        if grade is None:
            raise InvalidInput("grade", "(missing)", "given (1 to 4)")
        event["grade"] = grade
    elif kind == "restart":
        dose = _decimal(form, "dose_mcg_per_day", required=False)
        if dose is not None:
            event["dose_mcg_per_day"] = dose
    elif _text(form, "reason"):
        event["reason"] = _text(form, "reason")
    return event


@router.post("/courses/{course_id}/events")
async def record_course_event(request: Request, course_id: RecordId) -> Response:
    """Record an interruption, a restart or a discontinuation (physician); the course is
    re-planned and the page shows the decisions."""
    ctx, form = await _posted(request)
    actor = ctx.signed_in()
    require_role(
        actor, Role.PHYSICIAN, doing="record an interruption, a restart or a discontinuation"
    )
    values = {name: _text(form, name) for name in _EVENT_FIELDS}

    def save() -> Response:
        with read_only(ctx.state.sessions) as session:
            _, patient = course_for(session, actor, course_id)
            patient_id = patient.id
            zone = ZoneInfo(_clinic(session, actor).zone)
        try:
            version = _whole(form, "version")
            if version is None:
                raise InvalidInput("version", "(missing)", "the course version from the page")
            event = _event(form, zone)
            with transaction(ctx.state.sessions) as session:
                courses.record_event(
                    session,
                    actor=actor,
                    now=ctx.state.clock.now(),
                    knowledge=ctx.state.knowledge,
                    course_id=course_id,
                    expected_version=version,
                    event=event,
                )
        except InvalidInput as error:
            field = error.field.rsplit(".", 1)[-1]
            field = field if field in _EVENT_FIELDS else "event"
            failed = FormError("event", {field: str(error)}, values)
            return _patient_page(ctx, patient_id, status=422, form_error=failed)
        except Conflict as error:
            failed = FormError("event", {"event": str(error)}, values)
            return _patient_page(ctx, patient_id, status=409, form_error=failed)
        return redirect(ctx, f"/patients/{patient_id}#decisions")

    return await run_in_threadpool(save)


# --- the clinic's audit trail (admin and physician) --------------------------------------

_AUDIT_PAGE_SIZE = 100
_AUDIT_FILTERS = ("who", "action", "from", "to")


def _audit_filters(
    request: Request, zone: ZoneInfo
) -> tuple[audit.AuditFilters, dict[str, str], dict[str, str]]:
    """The filters the address asks for, what the form held, and the message beside
    each field that could not be read. Dates are the clinic's days, both included."""
    values = {name: request.query_params.get(name, "").strip() for name in _AUDIT_FILTERS}
    errors: dict[str, str] = {}
    who = values["who"]
    if who and not who.isdigit():
        errors["who"] = str(InvalidInput("who", who, "one of the clinic's users"))
    days: dict[str, date] = {}
    for name in ("from", "to"):
        if values[name]:
            try:
                days[name] = date.fromisoformat(values[name])
            except ValueError:
                errors[name] = str(InvalidInput(name, values[name], "a date (YYYY-MM-DD)"))
    filters = audit.AuditFilters(
        actor_id=int(who) if who.isdigit() else None,
        action=values["action"] or None,
        since=_midnight(days["from"], zone) if "from" in days else None,
        until=_midnight(days["to"] + timedelta(days=1), zone) if "to" in days else None,
    )
    return filters, values, errors


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


@router.get("/audit")
def clinic_audit_page(
    request: Request, before: int | None = None, after: int | None = None
) -> Response:
    """Everything audited in the clinic, newest first, a page at a time, with the hash
    chain's verdict (admin and physician)."""
    ctx = context_of(request)
    actor = ctx.signed_in()
    require_role(actor, Role.ADMIN, Role.PHYSICIAN, doing="read the clinic's audit trail")
    with read_only(ctx.state.sessions) as session:
        zone = ZoneInfo(_clinic(session, actor).zone)
        filters, values, errors = _audit_filters(request, zone)
        choices = audit.audit_choices(session, actor=actor)
        found = (
            audit.AuditPage([], None, None)
            if errors
            else audit.clinic_events(
                session,
                actor=actor,
                filters=filters,
                before=before,
                after=after,
                limit=_AUDIT_PAGE_SIZE,
            )
        )
        names = _usernames(session, {e.actor_id for e in found.events if e.actor_id is not None})
        chain = audit.verify_chain(session)
    kept = {name: value for name, value in values.items() if value}

    def page_of(cursor: str, seq: int | None) -> str | None:
        return None if seq is None else "/audit?" + urlencode({**kept, cursor: seq})

    return render(
        ctx,
        "pages/clinic_audit.html",
        status=422 if errors else 200,
        rows=[
            audit_row(e, None if e.actor_id is None else names.get(e.actor_id), zone)
            for e in found.events
        ],
        chain=chain,
        choices=choices,
        values=values,
        errors=errors,
        newer=page_of("after", found.newer),
        older=page_of("before", found.older),
        zone=zone,
    )


# --- calendar feeds: the calendar for a phone, without a session -------------------------


@router.post("/patients/{patient_id}/calendar-feeds")
async def create_calendar_feed(request: Request, patient_id: RecordId) -> Response:
    """A new feed (the patient, a caregiver or staff); its address is shown once."""
    ctx, form = await _posted(request)
    actor = ctx.signed_in()
    label = _text(form, "label")

    def save() -> Response:
        try:
            with transaction(ctx.state.sessions) as session:
                made = calendar_feeds.create_feed(
                    session,
                    actor=actor,
                    now=ctx.state.clock.now(),
                    patient_id=patient_id,
                    label=label,
                )
        except InvalidInput as error:
            return _calendar_page(
                ctx, patient_id, status=422, feed_label=label, feed_error=str(error)
            )
        url = str(request.url_for("calendar_feed", token=made.token))
        return _calendar_page(ctx, patient_id, status=201, feed_url=url)

    return await run_in_threadpool(save)


@router.post("/calendar-feeds/{feed_id}/revoke")
async def revoke_calendar_feed(request: Request, feed_id: RecordId) -> Response:
    ctx, _ = await _posted(request)
    actor = ctx.signed_in()

    def save() -> Response:
        with transaction(ctx.state.sessions) as session:
            feed = calendar_feeds.revoke_feed(
                session, actor=actor, now=ctx.state.clock.now(), feed_id=feed_id
            )
            patient_id = feed.patient_id
        return redirect(ctx, f"/patients/{patient_id}/calendar#feeds")

    return await run_in_threadpool(save)


@router.get("/calendar/{token}.ics")
def calendar_feed(request: Request, token: str) -> Response:
    """The patient's calendar by a feed's token, no session needed; an unknown and a
    revoked token both answer 404."""
    state: WebState = request.app.state.blina
    now = state.clock.now()
    with read_only(state.sessions) as session:
        plan = calendar_feeds.feed_plan(session, token=token, now=now, knowledge=state.knowledge)
    return Response(
        plan_to_ical(plan, generated_at=now),
        media_type="text/calendar",
        headers={"cache-control": "private, no-store"},
    )


# --- a stored bag's worksheet (the clinic's staff) ----------------------------------------


@router.get("/bags/{bag_id}/worksheet")
def bag_worksheet(request: Request, bag_id: RecordId) -> Response:
    """The printable pharmacy worksheet of a stored bag, rebuilt from its stored recipe,
    with the patient, the preparer and the checker filled in."""
    ctx = context_of(request)
    actor = ctx.signed_in()
    with read_only(ctx.state.sessions) as session:
        bag, patient = pharmacy.get_bag(session, actor=actor, bag_id=bag_id)
        zone = ZoneInfo(_clinic(session, actor).zone)
        people = _people(session, {bag.prepared_by, bag.verified_by or bag.prepared_by})
    recipe = read_recipe_dict(bag.recipe)

    def signed(user_id: int | None, at: datetime | None) -> Signature | None:
        if user_id is None or at is None:
            return None
        return Signature(people.get(user_id, str(user_id)), f"{at.astimezone(zone):%Y-%m-%d %H:%M}")

    filled = FilledIn(
        patient_name=patient.display_name,
        patient_identifier=patient.code,
        prepared_by=signed(bag.prepared_by, bag.prepared_at),
        checked_by=signed(bag.verified_by, bag.verified_at),
        overrides={str(k): str(v) for k, v in dict(recipe.get("overrides") or {}).items()},
    )
    sections = render_worksheet_sections(
        recipe, printed_at=ctx.state.clock.now().astimezone(zone), filled=filled
    )
    return render(
        ctx,
        "pages/worksheet.html",
        bag=bag,
        patient=patient,
        hung_at=datetime.fromisoformat(str(recipe.get("bag_start"))).astimezone(zone),
        # HTML that blina.interop.worksheet's own templates rendered and autoescaped
        sections=Markup(sections),
    )


def _people(session: Session, ids: set[int]) -> dict[int, str]:
    """Names to sign with: the display name, and the username when it differs."""
    found = session.execute(
        select(User.id, User.display_name, User.username).where(User.id.in_(ids))
    ).all()
    return {
        user_id: name if name == username else f"{name} ({username})"
        for user_id, name, username in found
    }
