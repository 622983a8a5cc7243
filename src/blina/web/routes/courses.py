"""A course's forms (physician and nurse): starting one with the planner preview,
grading CRS and ICANS, lab values with their CTCAE grades, interruptions and restarts.

About 600 lines: five forms that share one parsing of the course's fields and one way
back to the patient's page when refused; split by form, each would import the others'
helpers.
"""

from collections.abc import Callable
from dataclasses import asdict
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Response
from starlette.datastructures import FormData

from blina.domain import bounds
from blina.domain.body import measure_body
from blina.domain.errors import BlinaError, InvalidInput, UnknownId
from blina.domain.modifications import AdverseReaction
from blina.domain.planning import plan_course
from blina.domain.toxicity import Grading
from blina.domain.toxicity.crs import CrsFindings, Hypotension, OxygenSupport
from blina.domain.toxicity.icans import CerebralEdema, Consciousness, IcansFindings, Seizure
from blina.knowledge import Knowledge
from blina.services import (
    clinic_settings,
    courses,
    labs,
    patients,
    premedication,
    toxicity,
)
from blina.services.access import require_role
from blina.services.actors import Actor, Role
from blina.services.errors import Conflict, PermissionDenied
from blina.services.gradings import grade_crs_findings, grade_icans_findings
from blina.services.storage import RecordId, Session
from blina.services.therapy_catalog import therapy_catalog
from blina.web.deps import FormDep, PageDep, QueryFormDep, ReadDep, WriteDep
from blina.web.form_errors import FormError, premedication_suffix
from blina.web.render import Ctx, redirect, render
from blina.web.routes._common import (
    E,
    WebRoute,
    date_field,
    decimal_field,
    moment_field,
    refused,
    submit,
    text_field,
    whole_field,
)
from blina.web.routes.care_team import render_patient_page
from blina.web.viewmodels import calendar_rows

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# --- starting a course -----------------------------------------------------------------

_COURSE_FIELDS = ("indication", "start", "start_time", "weight_kg", "height_cm", "age_years")


def _course_request(form: FormData) -> courses.CourseRequest:
    start = date_field(form, "start")
    start_time = bounds.parse_time("start_time", text_field(form, "start_time") or "09:00")
    bag_hours = whole_field(form, "bag_hours")
    weight, age = decimal_field(form, "weight_kg"), decimal_field(form, "age_years")
    assert weight is not None
    assert age is not None
    return courses.CourseRequest(
        regimen_id=text_field(form, "indication"),
        start=start,
        weight_kg=weight,
        age_years=age,
        height_cm=decimal_field(form, "height_cm", required=False),
        bag_hours=24 if bag_hours is None else bag_hours,
        cycles=whole_field(form, "cycles"),
        start_time=start_time,
        confirm_past_start=text_field(form, "confirm_past_start") == "yes",
    )


def _course_refused(
    ctx: Ctx, zone: ZoneInfo, error: BlinaError, values: dict[str, str]
) -> FormError:
    """The course form's message beside its field, in the form's words (``form``: the
    form as a whole)."""
    if isinstance(error, InvalidInput):
        # a course's own field path names the field first (``weight.kg``)
        first = error.field.split(".")[0].split("[")[0]
        error = InvalidInput(first, error.value, error.allowed)
    return refused(ctx, zone, "course", error, values, whole="form")


def _course_form(
    ctx: Ctx,
    session: Session,
    patient_id: int,
    *,
    values: dict[str, str],
    failed: FormError | None = None,
    status: int = 200,
) -> Response:
    patient = patients.patient_record(session, actor=ctx.signed_in(), patient_id=patient_id)
    return render(
        ctx,
        "pages/course_new.html",
        status=status,
        patient=patient,
        therapies=therapy_catalog(ctx.state.knowledge),
        regimens=list(ctx.state.knowledge.regimens_by_id.values()),
        bag_hours=sorted(
            {b.hours for r in ctx.state.knowledge.regimens_by_id.values() for b in r.bag_options}
        ),
        values=values,
        errors=failed.errors if failed else {},
        failed=failed,
        preview=None,
    )


@router.get("/patients/{patient_id}/courses/new")
def new_course(patient_id: RecordId, ctx: PageDep, session: ReadDep) -> Response:
    require_role(ctx.signed_in(), Role.PHYSICIAN, doing="prescribe a course")
    today = ctx.state.clock.now().date()
    values = {"start": today.isoformat(), "start_time": "09:00", "bag_hours": "24"}
    return _course_form(ctx, session, patient_id, values=values)


@router.get("/patients/{patient_id}/courses/preview")
def preview_course(
    patient_id: RecordId, ctx: PageDep, form: QueryFormDep, session: ReadDep
) -> Response:
    """The planner's answer for the form as filled so far (an htmx fragment); stores nothing."""
    actor = ctx.signed_in()
    patients.patient_record(session, actor=actor, patient_id=patient_id)
    zone = ZoneInfo(clinic_settings.clinic_of(session, actor=actor).zone)
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
        errors = _course_refused(ctx, zone, error, {}).errors
        return render(ctx, "_plan_preview.html", plan=None, rows=[], errors=errors)
    return render(ctx, "_plan_preview.html", plan=planned, rows=calendar_rows(planned), errors={})


@router.post("/patients/{patient_id}/courses")
def create_course(patient_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep) -> Response:
    actor = ctx.signed_in()
    values = {
        name: text_field(form, name)
        for name in (*_COURSE_FIELDS, "bag_hours", "cycles", "confirm_past_start")
    }

    zone = _clinic_zone(session, actor)

    def again(reading: Session, error: BlinaError, status: int) -> Response:
        # a conflict (the patient has an active course) is the form's as a whole
        failed = _course_refused(ctx, zone, error, values)
        return _course_form(ctx, reading, patient_id, values=values, failed=failed, status=status)

    submit(
        ctx,
        lambda: courses.start_course(
            session,
            actor=actor,
            now=ctx.state.clock.now(),
            knowledge=ctx.state.knowledge,
            patient_id=patient_id,
            request=_course_request(form),
        ),
        refused={InvalidInput: 422, UnknownId: 422, Conflict: 409},
        again=again,
    )
    return redirect(ctx, f"/patients/{patient_id}")


# --- gradings and course events (physician and nurse) ------------------------------------

_GRADE_FIELDS = {
    "crs": (
        "temperature_c",
        "fever_masked",
        "crs_diagnosed",
        "hypotension",
        "oxygen",
        "oxygen_flow_l_per_min",
    ),
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
_EVENT_FIELDS = ("kind", "at", "cause", "grade", "dose_mcg_per_day", "reason")


_E = TypeVar("_E", bound=StrEnum)


def _choice(form: FormData, name: str, enum: type[_E], default: _E) -> _E:
    text = text_field(form, name)
    if not text:
        return default
    try:
        return enum(text)
    except ValueError:
        raise InvalidInput(name, text, f"one of {', '.join(e.value for e in enum)}") from None


def _version(form: FormData) -> int:
    """The course version the page was built from (a newer one is a conflict)."""
    version = whole_field(form, "version")
    if version is None:
        raise InvalidInput("version", "(missing)", "the course version from the page")
    return version


def _flag(form: FormData, name: str) -> bool:
    return text_field(form, name) in ("on", "yes", "true", "1")


def _grade_form(
    form: FormData, knowledge: Knowledge
) -> tuple[str, Grading, AdverseReaction, dict[str, Any]]:
    """The scale, its grading, the reaction and the inputs as stored (from a form)."""
    scale = text_field(form, "scale")
    if scale == "crs":
        temperature = decimal_field(form, "temperature_c")
        assert temperature is not None
        crs = CrsFindings(
            temperature_c=temperature,
            hypotension=_choice(form, "hypotension", Hypotension, Hypotension.NONE),
            oxygen=_choice(form, "oxygen", OxygenSupport, OxygenSupport.NONE),
            fever_masked=_flag(form, "fever_masked"),
            oxygen_flow_l_per_min=decimal_field(form, "oxygen_flow_l_per_min", required=False),
            crs_diagnosed=_flag(form, "crs_diagnosed"),
        )
        grading, reaction = grade_crs_findings(crs, knowledge)
        return scale, grading, reaction, {"scale": scale, **asdict(crs)}
    if scale == "icans":
        age = decimal_field(form, "age_years")
        assert age is not None
        consciousness_text = text_field(form, "consciousness")
        if not consciousness_text:
            raise InvalidInput("consciousness", "(missing)", "given")
        icans = IcansFindings(
            age_years=age,
            consciousness=_choice(form, "consciousness", Consciousness, Consciousness.AWAKE),
            ice_score=whole_field(form, "ice_score"),
            capd_score=whole_field(form, "capd_score"),
            developmental_delay=_flag(form, "developmental_delay"),
            seizure=_choice(form, "seizure", Seizure, Seizure.NONE),
            motor_weakness=_flag(form, "motor_weakness"),
            cerebral_edema=_choice(form, "cerebral_edema", CerebralEdema, CerebralEdema.NONE),
        )
        grading, reaction = grade_icans_findings(icans, knowledge)
        inputs = {k: v for k, v in asdict(icans).items() if v is not None and k != "icp_signs"}
        return scale, grading, reaction, {"scale": scale, **inputs}
    raise InvalidInput("scale", scale or "(missing)", "crs or icans")


def _grade_errors(
    ctx: Ctx, zone: ZoneInfo, scale: str, error: InvalidInput, values: dict[str, str]
) -> FormError:
    """A refused grading: the message beside its field (``scale`` for one the form does
    not have), in the form's words."""
    known = scale if scale in _GRADE_FIELDS else "crs"
    failed = refused(ctx, zone, known, error, values, whole="scale")
    return FormError(scale, failed.errors, failed.values, failed.problems)


@router.get("/courses/{course_id}/grade")
def grade_preview(
    course_id: RecordId, ctx: PageDep, form: QueryFormDep, session: ReadDep
) -> Response:
    """The grade for the form as filled so far, with the label's action (an htmx
    fragment); stores nothing."""
    actor = ctx.signed_in()
    require_role(actor, Role.PHYSICIAN, Role.NURSE, doing="grade a reaction")
    scale = text_field(form, "scale")
    zone = _course_zone(session, actor, course_id)
    try:
        scale_, grading, reaction, _ = _grade_form(form, ctx.state.knowledge)
    except InvalidInput as error:
        return render(
            ctx,
            "_grade_result.html",
            scale=scale,
            grading=None,
            action=None,
            errors=_grade_errors(ctx, zone, scale, error, {}).errors,
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


def _on_patient_page(
    ctx: Ctx, patient_id: int, form_error: Callable[[E], FormError]
) -> Callable[[Session, E, int], Response]:
    """A refused form of the patient page: the page again, with the form as it was sent
    and its message."""

    def again(session: Session, error: E, status: int) -> Response:
        failed = form_error(error)
        return render_patient_page(ctx, session, patient_id, status=status, form_error=failed)

    return again


@router.post("/courses/{course_id}/assessments")
def record_grading(course_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep) -> Response:
    """Record a CRS or ICANS grading with the label's action (physician or nurse)."""
    actor = ctx.signed_in()
    require_role(actor, Role.PHYSICIAN, Role.NURSE, doing="record a grading")
    scale = text_field(form, "scale")
    values = {name: text_field(form, name) for name in _GRADE_FIELDS.get(scale, ())}
    patient_id = courses.course_patient(session, actor=actor, course_id=course_id).id
    zone = _clinic_zone(session, actor)

    def save() -> None:
        _, grading, reaction, inputs = _grade_form(form, ctx.state.knowledge)
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

    submit(
        ctx,
        save,
        refused={InvalidInput: 422},
        again=_on_patient_page(
            ctx, patient_id, lambda error: _grade_errors(ctx, zone, scale, error, values)
        ),
    )
    return redirect(ctx, f"/patients/{patient_id}#gradings")


# --- lab values with their CTCAE grades (physician and nurse) ------------------------------

_LAB_FIELDS = ("term", "unit", "value", "lln", "uln", "baseline", "symptomatic", "taken_at")


def _lab_request(form: FormData, zone: ZoneInfo) -> labs.LabRequest:
    """The lab value the form describes; a taken-at time without an offset is clinic time."""
    symptomatic = text_field(form, "symptomatic")
    if symptomatic not in ("", "yes", "no"):
        raise InvalidInput("symptomatic", symptomatic, "yes, no or empty (not stated)")
    taken_at = moment_field(form, "taken_at", zone) if text_field(form, "taken_at") else None
    return labs.LabRequest(
        term=text_field(form, "term"),
        value=decimal_field(form, "value", required=False),
        unit=text_field(form, "unit") or None,
        uln=decimal_field(form, "uln", required=False),
        lln=decimal_field(form, "lln", required=False),
        baseline=decimal_field(form, "baseline", required=False),
        symptomatic=None if not symptomatic else symptomatic == "yes",
        taken_at=taken_at,
    )


def _lab_errors(ctx: Ctx, zone: ZoneInfo, error: InvalidInput, values: dict[str, str]) -> FormError:
    """A refused lab value: the message beside its field (beside the result for one the
    form does not have), in the form's words."""
    return refused(ctx, zone, "lab", error, values, whole="value")


@router.get("/courses/{course_id}/labs/grade")
def lab_grade_preview(
    course_id: RecordId, ctx: PageDep, form: QueryFormDep, session: ReadDep
) -> Response:
    """The CTCAE grade of the lab value as filled so far (an htmx fragment); stores
    nothing."""
    actor = ctx.signed_in()
    require_role(actor, Role.PHYSICIAN, Role.NURSE, doing="grade a lab value")
    zone = _course_zone(session, actor, course_id)
    try:
        grading = labs.grade_lab(_lab_request(form, zone), ctx.state.knowledge)
    except InvalidInput as error:
        grading, errors = None, _lab_errors(ctx, zone, error, {}).errors
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


@router.get("/courses/{course_id}/labs/units")
def lab_units(course_id: RecordId, ctx: PageDep, form: QueryFormDep, session: ReadDep) -> Response:
    """The unit choices of the lab term picked (an htmx fragment), keeping the unit
    chosen when the term has it; the term's canonical unit first. When the chosen unit
    is not the new term's, the live grade is asked again once the choices are in (a
    ``change`` event that bubbles to the form), so it does not keep the old unit."""
    actor = ctx.signed_in()
    require_role(actor, Role.PHYSICIAN, Role.NURSE, doing="grade a lab value")
    courses.course_patient(session, actor=actor, course_id=course_id)
    criteria = ctx.state.knowledge.toxicity.ctcae
    choices = labs.lab_units(criteria, text_field(form, "term"))
    chosen = text_field(form, "unit")
    response = render(ctx, "_lab_units.html", units=choices, chosen=chosen, invalid=False)
    if chosen and choices and chosen not in choices:
        response.headers["HX-Trigger-After-Settle"] = "change"
    return response


@router.post("/courses/{course_id}/labs")
def record_lab_value(
    course_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep
) -> Response:
    """Record a lab value with its CTCAE grade (physician or nurse)."""
    actor = ctx.signed_in()
    require_role(actor, Role.PHYSICIAN, Role.NURSE, doing="record a lab value")
    values = {name: text_field(form, name) for name in _LAB_FIELDS}
    patient_id = courses.course_patient(session, actor=actor, course_id=course_id).id
    zone = _clinic_zone(session, actor)
    submit(
        ctx,
        lambda: labs.record_lab_value(
            session,
            actor=actor,
            now=ctx.state.clock.now(),
            knowledge=ctx.state.knowledge,
            course_id=course_id,
            request=_lab_request(form, zone),
        ),
        refused={InvalidInput: 422},
        again=_on_patient_page(
            ctx, patient_id, lambda error: _lab_errors(ctx, zone, error, values)
        ),
    )
    return redirect(ctx, f"/patients/{patient_id}#labs")


def _clinic_zone(session: Session, actor: Actor) -> ZoneInfo:
    return ZoneInfo(clinic_settings.clinic_of(session, actor=actor).zone)


def _course_zone(session: Session, actor: Actor, course_id: int) -> ZoneInfo:
    """The clinic's zone, once the course is one the actor may see."""
    courses.course_patient(session, actor=actor, course_id=course_id)
    return _clinic_zone(session, actor)


def _event(form: FormData, zone: ZoneInfo) -> dict[str, Any]:
    """The course event the form describes, as ``record_event`` reads it."""
    kind = text_field(form, "kind")
    if kind not in ("interrupt", "restart", "discontinue"):
        raise InvalidInput("kind", kind or "(missing)", "one of interrupt, restart, discontinue")
    at = moment_field(form, "at", zone)
    event: dict[str, Any] = {"at": at.isoformat(), "kind": kind}
    if kind == "interrupt":
        event["cause"] = _choice(form, "cause", AdverseReaction, AdverseReaction.CRS).value
        grade = whole_field(form, "grade")
        if grade is None:
            raise InvalidInput("grade", "(missing)", "given (1 to 4)")
        event["grade"] = grade
    elif kind == "restart":
        dose = decimal_field(form, "dose_mcg_per_day", required=False)
        if dose is not None:
            event["dose_mcg_per_day"] = dose
    elif text_field(form, "reason"):
        event["reason"] = text_field(form, "reason")
    return event


@router.post("/courses/{course_id}/events")
def record_course_event(
    course_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep
) -> Response:
    """Record an interruption, a restart or a discontinuation (physician); the course is
    re-planned and the page shows the decisions."""
    actor = ctx.signed_in()
    require_role(
        actor, Role.PHYSICIAN, doing="record an interruption, a restart or a discontinuation"
    )
    values = {name: text_field(form, name) for name in _EVENT_FIELDS}
    patient_id = courses.course_patient(session, actor=actor, course_id=course_id).id
    zone = _clinic_zone(session, actor)

    def save() -> None:
        version = _version(form)
        courses.record_event(
            session,
            actor=actor,
            now=ctx.state.clock.now(),
            knowledge=ctx.state.knowledge,
            course_id=course_id,
            expected_version=version,
            event=_event(form, zone),
        )

    submit(
        ctx,
        save,
        refused={InvalidInput: 422, Conflict: 409},
        again=_on_patient_page(
            ctx, patient_id, lambda error: refused(ctx, zone, "event", error, values)
        ),
    )
    return redirect(ctx, f"/patients/{patient_id}#decisions")


@router.post("/courses/{course_id}/end")
def end_course(course_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep) -> Response:
    """End the active course (physician): completed, discontinued or cancelled as entered
    in error, with a reason; nothing is deleted."""
    actor = ctx.signed_in()
    require_role(actor, Role.PHYSICIAN, doing="end a course")
    patient_id = courses.course_patient(session, actor=actor, course_id=course_id).id
    zone = _clinic_zone(session, actor)
    values = {"outcome": text_field(form, "outcome"), "reason": text_field(form, "reason")}
    submit(
        ctx,
        lambda: courses.end_course(
            session,
            actor=actor,
            now=ctx.state.clock.now(),
            knowledge=ctx.state.knowledge,
            course_id=course_id,
            expected_version=_version(form),
            outcome=values["outcome"],
            reason=values["reason"],
        ),
        refused={InvalidInput: 422, Conflict: 409},
        again=_on_patient_page(
            ctx, patient_id, lambda error: refused(ctx, zone, "end", error, values)
        ),
    )
    return redirect(ctx, f"/patients/{patient_id}#state")


@router.post("/courses/{course_id}/premedication")
def premedication_given(
    course_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep
) -> Response:
    """Record the plan's premedication dose (drug, due) as given (nurse or physician), at
    the time entered (clinic time); it closes the dose's task and leaves the banner."""
    actor = ctx.signed_in()
    patient_id = courses.course_patient(session, actor=actor, course_id=course_id).id
    zone = _clinic_zone(session, actor)

    def save() -> None:
        due = moment_field(form, "due", zone)
        given_at = moment_field(form, "given_at", zone)
        premedication.record_given(
            session,
            actor=actor,
            now=ctx.state.clock.now(),
            knowledge=ctx.state.knowledge,
            course_id=course_id,
            due=due,
            drug=text_field(form, "drug"),
            given_at=given_at,
        )

    submit(
        ctx,
        save,
        refused={PermissionDenied: 403, InvalidInput: 422, Conflict: 409},
        again=_on_patient_page(
            ctx,
            patient_id,
            lambda error: refused(
                ctx,
                zone,
                "premedication",
                error,
                {name: text_field(form, name) for name in ("drug", "due", "given_at")},
                suffix=premedication_suffix(text_field(form, "drug"), text_field(form, "due")),
            ),
        ),
    )
    return redirect(ctx, f"/patients/{patient_id}#state")
