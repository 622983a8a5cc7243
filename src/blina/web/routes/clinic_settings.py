"""The clinic's numbers shown with a check-in's answer: the care team's phone, the
emergency number and the crisis line (the admin sets them; the clinic's staff read them)."""

from fastapi import APIRouter, Response

from blina.domain.errors import InvalidInput
from blina.services import clinic_settings
from blina.services.actors import Role
from blina.services.clinic_settings import ClinicNumbers
from blina.services.storage import Session
from blina.web.deps import FormDep, PageDep, ReadDep, WriteDep
from blina.web.render import Ctx, redirect, render
from blina.web.routes._common import WebRoute, submit, text_field

router = APIRouter(route_class=WebRoute, include_in_schema=False)

_FIELDS = ("phone", "emergency_number", "crisis_line")


@router.get("/clinic/numbers")
def clinic_numbers_page(page: PageDep, session: ReadDep) -> Response:
    numbers = clinic_settings.clinic_numbers(session, actor=page.signed_in())
    values = {name: getattr(numbers, name) for name in _FIELDS}
    return _page(page, values, {})


@router.post("/clinic/numbers")
def set_clinic_numbers(page: PageDep, form: FormDep, session: WriteDep) -> Response:
    actor = page.signed_in()
    values = {name: text_field(form, name) for name in _FIELDS}

    def again(_: Session, error: InvalidInput, status: int) -> Response:
        return _page(page, values, {error.field: str(error)}, status=status)

    submit(
        page,
        lambda: clinic_settings.set_clinic_numbers(
            session, actor=actor, now=page.state.clock.now(), numbers=ClinicNumbers(**values)
        ),
        refused={InvalidInput: 422},
        again=again,
    )
    return redirect(page, "/clinic/numbers?saved=1")


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
