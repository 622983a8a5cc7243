"""The pharmacy's pages: preparing and verifying a bag, a stored bag's worksheet."""

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from blina.domain.errors import InvalidInput
from blina.interop.recipe_json import read_recipe_dict
from blina.interop.worksheet import FilledIn, Signature, render_worksheet_sections
from blina.services import (
    pharmacy,
)
from blina.services.access import course_for
from blina.services.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
)
from blina.store.session import read_only, transaction
from blina.store.tables import BagPreparation, User
from blina.store.types import RecordId
from blina.web.render import context_of, redirect, render
from blina.web.routes._common import (
    WebRoute,
    audit_denial,
    clinic_of,
    decimal_field,
    posted_form,
    text_field,
)
from blina.web.routes.care_team import render_patient_page

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# --- the pharmacy ----------------------------------------------------------------------


@router.post("/courses/{course_id}/bags")
async def prepare_bag(request: Request, course_id: RecordId) -> Response:
    ctx, form = await posted_form(request)
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
            return render_patient_page(
                ctx, patient_id, status=422, bag_error=(None, str(error)), override_codes=codes
            )
        except pharmacy.HardStop as error:
            return render_patient_page(ctx, patient_id, status=422, bag_error=(None, str(error)))
        except Conflict as error:
            return render_patient_page(ctx, patient_id, status=409, bag_error=(None, str(error)))
        return redirect(ctx, f"/patients/{patient_id}#bags")

    return await run_in_threadpool(save)


@router.post("/bags/{bag_id}/verify")
async def verify_bag(request: Request, bag_id: RecordId) -> Response:
    ctx, _ = await posted_form(request)
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
                pharmacy.verify_bag(
                    session,
                    actor=actor,
                    now=ctx.state.clock.now(),
                    knowledge=ctx.state.knowledge,
                    bag_id=bag_id,
                )
        except PermissionDenied as error:
            audit_denial(ctx, str(error))
            return render_patient_page(ctx, patient_id, status=403, bag_error=(bag_id, str(error)))
        except Conflict as error:
            return render_patient_page(ctx, patient_id, status=409, bag_error=(bag_id, str(error)))
        return redirect(ctx, f"/patients/{patient_id}#bags")

    return await run_in_threadpool(save)


@router.post("/patients/{patient_id}/bags/hang")
async def hang_bag(request: Request, patient_id: RecordId) -> Response:
    """Hang a bag by its code (scanned or typed) with the pump's program as entered: every
    mismatch is a hard stop shown on the page, naming the difference."""
    ctx, form = await posted_form(request)
    actor = ctx.signed_in()

    def save() -> Response:
        try:
            rate = decimal_field(form, "rate_ml_per_h")
            volume = decimal_field(form, "volume_ml")
            assert rate is not None
            assert volume is not None
            with transaction(ctx.state.sessions) as session:
                pharmacy.hang_bag(
                    session,
                    actor=actor,
                    now=ctx.state.clock.now(),
                    knowledge=ctx.state.knowledge,
                    patient_id=patient_id,
                    code=text_field(form, "code"),
                    rate_ml_per_h=rate,
                    volume_ml=volume,
                )
        except (InvalidInput, pharmacy.HardStop, NotFound) as error:
            return render_patient_page(ctx, patient_id, status=422, bag_error=("hang", str(error)))
        return redirect(ctx, f"/patients/{patient_id}#state")

    return await run_in_threadpool(save)


# --- a stored bag's worksheet (the clinic's staff) ----------------------------------------


@router.get("/bags/{bag_id}/worksheet")
def bag_worksheet(request: Request, bag_id: RecordId) -> Response:
    """The printable pharmacy worksheet of a stored bag, rebuilt from its stored recipe,
    with the patient, the preparer and the checker filled in."""
    ctx = context_of(request)
    actor = ctx.signed_in()
    with read_only(ctx.state.sessions) as session:
        bag, patient = pharmacy.get_bag(session, actor=actor, bag_id=bag_id)
        zone = ZoneInfo(clinic_of(session, actor).zone)
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
