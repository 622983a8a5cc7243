"""A course of a therapy beside blinatumomab from the patient's page (physician): pick the
therapy, fill in its inputs with the plan following the form (the ``/plan`` page's fields
and preview), start the course; then record what happens (the same fields, holding the
course's inputs as they stand) and end it. The patient page shows the course's plan
(``care_team.render_patient_page``).

Blinatumomab keeps its own course planner (``courses``); the picker links there.
"""

from collections.abc import Callable

from fastapi import APIRouter, Response
from starlette.datastructures import FormData

from blina.domain.errors import BlinaError, InvalidInput
from blina.services import patients, therapy_courses
from blina.services.access import require_role
from blina.services.actors import Role
from blina.services.errors import Conflict
from blina.services.storage import RecordId, Session
from blina.services.therapy_catalog import TherapyInfo, therapy_catalog, therapy_info
from blina.services.therapy_planning import plan_therapy
from blina.web.deps import FormDep, PageDep, QueryFormDep, ReadDep, WriteDep
from blina.web.form_errors import FormError, Problem
from blina.web.render import Ctx, redirect, render
from blina.web.routes._common import WebRoute, submit, text_field
from blina.web.routes.care_team import render_patient_page
from blina.web.routes.therapy_planner import inputs_from_form, plan_values

__all__ = ["router"]

router = APIRouter(route_class=WebRoute, include_in_schema=False)

_REFUSED: dict[type[BlinaError], int] = {InvalidInput: 422, Conflict: 409}


def _chosen(ctx: Ctx, key: str) -> TherapyInfo:
    info = therapy_info(ctx.state.knowledge, key)
    if info is None or not info.planned_here:
        raise InvalidInput("therapy", key, "a therapy from the list on this page")
    return info


def _errors(error: BlinaError) -> dict[str, str]:
    """The refusal beside its field (the form's fields carry the planner's names; a
    stored input's path ends in its name), or the form's as a whole (a conflict)."""
    if isinstance(error, InvalidInput):
        return {error.field.split(".")[-1].split("[")[0]: str(error)}
    return {"form": str(error)}


def _form_page(
    ctx: Ctx,
    session: Session,
    patient_id: int,
    info: TherapyInfo | None,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    patient = patients.patient_record(session, actor=ctx.signed_in(), patient_id=patient_id)
    return render(
        ctx,
        "pages/therapy_course_new.html",
        status=status,
        patient=patient,
        therapies=therapy_catalog(ctx.state.knowledge),
        info=info,
        values=values,
        **plan_values(ctx, None, errors or {}),
    )


@router.get("/patients/{patient_id}/therapy-courses/new")
def new_therapy_course(
    patient_id: RecordId, ctx: PageDep, form: QueryFormDep, session: ReadDep
) -> Response:
    """The therapy picker and, once a therapy is picked, its inputs."""
    require_role(ctx.signed_in(), Role.PHYSICIAN, doing="start a therapy course")
    key = text_field(form, "therapy")
    info = _chosen(ctx, key) if key else None
    values = {"start": ctx.state.clock.now().date().isoformat()}
    return _form_page(ctx, session, patient_id, info, values)


@router.get("/patients/{patient_id}/therapy-courses/preview")
def preview_therapy_course(
    patient_id: RecordId, ctx: PageDep, form: QueryFormDep, session: ReadDep
) -> Response:
    """The plan for the form as filled so far (an htmx fragment); stores nothing."""
    patients.patient_record(session, actor=ctx.signed_in(), patient_id=patient_id)
    info = _chosen(ctx, text_field(form, "therapy"))
    try:
        plan = plan_therapy(ctx.state.knowledge, inputs_from_form(info, form))
    except InvalidInput as error:
        return render(ctx, "_therapy_plan.html", **plan_values(ctx, None, _errors(error)))
    return render(ctx, "_therapy_plan.html", **plan_values(ctx, plan, {}))


@router.post("/patients/{patient_id}/therapy-courses")
def create_therapy_course(
    patient_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep
) -> Response:
    actor = ctx.signed_in()
    require_role(actor, Role.PHYSICIAN, doing="start a therapy course")
    info = _chosen(ctx, text_field(form, "therapy"))
    values = _sent(form)

    def again(reading: Session, error: BlinaError, status: int) -> Response:
        return _form_page(
            ctx, reading, patient_id, info, values, errors=_errors(error), status=status
        )

    submit(
        ctx,
        lambda: therapy_courses.start_therapy_course(
            session,
            actor=actor,
            now=ctx.state.clock.now(),
            knowledge=ctx.state.knowledge,
            patient_id=patient_id,
            inputs=inputs_from_form(info, form),
        ),
        refused=_REFUSED,
        again=again,
    )
    return redirect(ctx, f"/patients/{patient_id}#therapy")


@router.post("/therapy-courses/{therapy_course_id}/change")
def change_therapy_course(
    therapy_course_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep
) -> Response:
    """Record what happened: the form holds every input of the course, as it stands or as
    the physician changed it; the course is re-planned from them."""
    actor = ctx.signed_in()
    require_role(actor, Role.PHYSICIAN, doing="change a therapy course")
    view = therapy_courses.get_therapy_course(
        session, actor=actor, knowledge=ctx.state.knowledge, therapy_course_id=therapy_course_id
    )
    info = _chosen(ctx, view.course.therapy)
    values = _sent(form)

    def save() -> None:
        inputs = inputs_from_form(info, form)
        therapy_courses.change_therapy_course(
            session,
            actor=actor,
            now=ctx.state.clock.now(),
            knowledge=ctx.state.knowledge,
            therapy_course_id=therapy_course_id,
            expected_version=_version(form),
            changes={name: getattr(inputs, name) for name in therapy_courses.CHANGEABLE},
        )

    submit(ctx, save, refused=_REFUSED, again=_on_patient_page(ctx, view, "therapy-change", values))
    return redirect(ctx, f"/patients/{view.course.patient_id}#therapy")


@router.post("/therapy-courses/{therapy_course_id}/end")
def end_therapy_course(
    therapy_course_id: RecordId, ctx: PageDep, form: FormDep, session: WriteDep
) -> Response:
    """End the active therapy course: completed, discontinued or cancelled as entered in
    error, with a reason; nothing is deleted."""
    actor = ctx.signed_in()
    require_role(actor, Role.PHYSICIAN, doing="end a therapy course")
    view = therapy_courses.get_therapy_course(
        session, actor=actor, knowledge=ctx.state.knowledge, therapy_course_id=therapy_course_id
    )
    values = {"outcome": text_field(form, "outcome"), "reason": text_field(form, "reason")}
    submit(
        ctx,
        lambda: therapy_courses.end_therapy_course(
            session,
            actor=actor,
            now=ctx.state.clock.now(),
            knowledge=ctx.state.knowledge,
            therapy_course_id=therapy_course_id,
            expected_version=_version(form),
            outcome=values["outcome"],
            reason=values["reason"],
        ),
        refused=_REFUSED,
        again=_on_patient_page(ctx, view, "therapy-end", values),
    )
    return redirect(ctx, f"/patients/{view.course.patient_id}#therapy")


def _on_patient_page(
    ctx: Ctx, view: therapy_courses.TherapyCourseView, form: str, values: dict[str, str]
) -> Callable[[Session, BlinaError, int], Response]:
    """A refused form of the patient page's therapy course: the page again, the form as
    it was sent and the message beside its field."""

    def again(session: Session, error: BlinaError, status: int) -> Response:
        errors = _errors(error)
        [(field, text)] = errors.items()
        failed = FormError(
            form, errors, values, (Problem("" if field == "form" else field, "", text),)
        )
        return render_patient_page(
            ctx, session, view.course.patient_id, status=status, form_error=failed
        )

    return again


def _version(form: FormData) -> int:
    """The course version the page was built from (a newer one is a conflict)."""
    text = text_field(form, "version")
    if not text.isdigit() or len(text) > 9:
        raise InvalidInput("version", text or "(missing)", "the course version from the page")
    return int(text)


def _sent(form: FormData) -> dict[str, str]:
    """The form as sent, to show again when refused."""
    return {
        name: value
        for name, value in form.multi_items()
        if isinstance(value, str) and name not in ("csrf_token", "version")
    }
