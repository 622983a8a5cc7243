"""The clinic's numbers shown with a check-in's answer: the care team's phone, the
emergency number and the crisis line (the admin sets them; the clinic's staff read them)."""

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from blina.domain.errors import InvalidInput
from blina.services import clinic_settings
from blina.services.actors import Role
from blina.services.clinic_settings import ClinicNumbers
from blina.store.session import read_only, transaction
from blina.web.render import Ctx, context_of, redirect, render
from blina.web.routes._common import WebRoute, posted_form, text_field

router = APIRouter(route_class=WebRoute, include_in_schema=False)

_FIELDS = ("phone", "emergency_number", "crisis_line")


@router.get("/clinic/numbers")
def clinic_numbers_page(request: Request) -> Response:
    ctx = context_of(request)
    with read_only(ctx.state.sessions) as session:
        numbers = clinic_settings.clinic_numbers(session, actor=ctx.signed_in())
    values = {name: getattr(numbers, name) for name in _FIELDS}
    return _page(ctx, values, {})


@router.post("/clinic/numbers")
async def set_clinic_numbers(request: Request) -> Response:
    ctx, form = await posted_form(request)
    actor = ctx.signed_in()
    values = {name: text_field(form, name) for name in _FIELDS}

    def save() -> Response:
        try:
            with transaction(ctx.state.sessions) as session:
                clinic_settings.set_clinic_numbers(
                    session, actor=actor, now=ctx.state.clock.now(), numbers=ClinicNumbers(**values)
                )
        except InvalidInput as error:
            return _page(ctx, values, {error.field: str(error)}, status=422)
        return redirect(ctx, "/clinic/numbers?saved=1")

    return await run_in_threadpool(save)


def _page(ctx: Ctx, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Response:
    return render(
        ctx,
        "pages/clinic_numbers.html",
        status=status,
        values=values,
        errors=errors,
        can_edit=ctx.signed_in().role is Role.ADMIN,
        saved=ctx.request.query_params.get("saved") == "1",
    )
