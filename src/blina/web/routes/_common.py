"""What every page handler shares: the error page, the route class that turns a
domain or service error into a page, the CSRF-checked form, and small form readers."""

from collections.abc import Callable, Coroutine
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from blina.domain.errors import BlinaError, InvalidInput
from blina.services import (
    courses,
)
from blina.services.actors import Actor
from blina.services.audit import append_denial
from blina.services.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from blina.store.session import transaction
from blina.store.tables import Clinic
from blina.web.render import Ctx, context_of, redirect, render
from blina.web.security import CSRF_COOKIE, CSRF_FIELD, csrf_valid


class CsrfRefused(BlinaError):
    pass


def error_page(request: Request, error: Exception) -> Response:
    """The page for an error: a sign-in for ``NotAuthenticated``, else the message."""
    ctx = context_of(request)
    if isinstance(error, NotAuthenticated):
        return redirect(ctx, f"/login?next={local_target(request.url.path)}")
    if isinstance(error, PermissionDenied):
        audit_denial(ctx, str(error))
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


# --- helpers ---------------------------------------------------------------------------


def local_target(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a full URL) may be a redirect target."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def posted_form(request: Request) -> tuple[Ctx, FormData]:
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


def query_form(request: Request) -> FormData:
    """The query string read as a form: the live previews send the form with a GET."""
    return FormData(list[tuple[str, str | UploadFile]](request.query_params.multi_items()))


def text_field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def decimal_field(form: FormData, name: str, *, required: bool = True) -> Decimal | None:
    text = text_field(form, name).replace(",", ".")
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


def audit_denial(ctx: Ctx, reason: str) -> None:
    with transaction(ctx.state.sessions) as session:
        append_denial(
            session,
            at=ctx.state.clock.now(),
            actor=ctx.actor,
            request_line=f"{ctx.request.method} {ctx.request.url.path}",
            after={"reason": reason, "via": "web"},
        )


def clinic_of(session: Session, actor: Actor) -> Clinic:
    return session.execute(select(Clinic).where(Clinic.id == actor.clinic_id)).scalar_one()


def course_views(
    session: Session, ctx: Ctx, actor: Actor, patient_id: int
) -> list[courses.CourseView]:
    return courses.list_courses(
        session,
        actor=actor,
        now=ctx.state.clock.now(),
        knowledge=ctx.state.knowledge,
        patient_id=patient_id,
    )


def home_for(actor: Actor) -> str:
    return "/" if actor.is_staff else "/today"
