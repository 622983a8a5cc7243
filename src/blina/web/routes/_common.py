"""What every page handler shares: the error page, the route class that turns a
domain or service error into a page, the CSRF-checked form, and small form readers.

Every number, date and text a form sends is read through ``blina.domain.bounds``, as the
API and the CLI read theirs: the same value is refused at every door, in the same words.
"""

from collections.abc import Callable, Coroutine
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from blina.domain import bounds
from blina.domain.errors import BlinaError, InvalidInput
from blina.services import (
    courses,
)
from blina.services.actors import Actor
from blina.services.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from blina.store.tables import Clinic
from blina.web.render import Ctx, WebState, context_of, redirect, render
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
        message = {
            404: ctx.gettext("Not found."),
            413: ctx.gettext("This form is too long to send. Shorten the text and try again."),
        }.get(error.status_code, str(error.detail))
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
        InvalidInput: 422,
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
    """The request's context and form, after the CSRF check (before anything else runs);
    a field or a value holding a NUL character is refused (422) before any is read."""
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
    return ctx, _without_nul(form)


def public_url_for(request: Request, name: str, **path_params: str) -> str:
    """The full address of a page for someone outside to open (a calendar feed): under
    ``BLINA_PUBLIC_URL``; from the request itself (its Host header, which its sender
    chooses) only in the local environment when no public address is set."""
    state: WebState = request.app.state.blina
    return state.settings.address_for(
        request.app.url_path_for(name, **path_params),
        as_requested=str(request.url_for(name, **path_params)),
    )


def query_form(request: Request) -> FormData:
    """The query string read as a form: the live previews send the form with a GET."""
    return _without_nul(
        FormData(list[tuple[str, str | UploadFile]](request.query_params.multi_items()))
    )


def _without_nul(form: FormData) -> FormData:
    """``form``, once no field name or text value holds a NUL: PostgreSQL cannot store or
    compare one (a NUL in the sign-in's username was a server error there)."""
    for name, value in form.multi_items():
        bounds.check_text("field name", name)
        if isinstance(value, str):
            bounds.check_text(name, value)
    return form


def text_field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def decimal_field(form: FormData, name: str, *, required: bool = True) -> Decimal | None:
    """The field's number (a decimal comma read as a point), or None when left empty."""
    text = _given(form, name, required)
    return None if text is None else bounds.parse_decimal(name, text.replace(",", "."))


def whole_field(form: FormData, name: str) -> int | None:
    """The field's whole number (one an INTEGER column holds), or None when left empty;
    the domain checks its own range afterwards (a grade 1-4, a severity 0-4)."""
    text = text_field(form, name)
    return bounds.parse_integer(name, text) if text else None


def date_field(form: FormData, name: str) -> date:
    """The field's calendar date (YYYY-MM-DD); required."""
    return bounds.parse_date(name, _required(form, name))


def moment_field(form: FormData, name: str, zone: ZoneInfo) -> datetime:
    """The field's date and time: ISO with an offset, or clinic time without one (as a
    datetime-local field sends it); required."""
    at = bounds.parse_moment(name, _required(form, name))
    return at.replace(tzinfo=zone) if at.tzinfo is None else at


def _given(form: FormData, name: str, required: bool) -> str | None:
    """The field's text, or None when it is left empty and need not be given."""
    return _required(form, name) if required else text_field(form, name) or None


def _required(form: FormData, name: str) -> str:
    text = text_field(form, name)
    if not text:
        raise InvalidInput(name, "(missing)", "given")
    return text


def audit_denial(ctx: Ctx, reason: str) -> None:
    """Counted, and audited by a thread of its own (services.denials)."""
    ctx.state.denials.record(
        at=ctx.state.clock.now(),
        actor=ctx.actor,
        request_line=f"{ctx.request.method} {ctx.request.url.path}",
        reason=reason,
        via="web",
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
