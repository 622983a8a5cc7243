"""What every page handler shares: the error page, the route class that turns a
domain or service error into a page, the form skeleton (``submit``), and small form
readers.

Every number, date and text a form sends is read through ``blina.domain.bounds``, as the
API and the CLI read theirs: the same value is refused at every door, in the same words.
"""

from collections.abc import Callable, Coroutine, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from blina.domain import bounds
from blina.domain.errors import BlinaError, InvalidInput
from blina.services import courses
from blina.services.actors import Actor
from blina.services.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from blina.services.phones import PHONE_MAX, PHONE_MIN_DIGITS
from blina.services.storage import Session, read_only
from blina.web.deps import CsrfRefused, checked_form, query_form, undo_request
from blina.web.form_errors import FormError, refused_form
from blina.web.render import Ctx, WebState, context_of, moment_for, redirect, render

__all__ = [
    "CsrfRefused",
    "ShownAgain",
    "WebRoute",
    "audit_denial",
    "date_field",
    "decimal_field",
    "error_page",
    "home_for",
    "local_target",
    "moment_field",
    "phone_problem",
    "posted_form",
    "public_url_for",
    "query_form",
    "refused",
    "submit",
    "text_field",
    "whole_field",
]


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
    """Answers a domain or service error with a page, never a JSON body or a traceback,
    and a refused form with the form again (``ShownAgain``). Either way the request's unit
    of work is rolled back (``blina.web.deps``): the handler raised."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except ShownAgain as refused:
                undo_request(request)
                return await run_in_threadpool(refused.show)
            except (BlinaError, RequestValidationError) as error:
                undo_request(request)
                return await run_in_threadpool(error_page, request, error)

        return guarded


def phone_problem(ctx: Ctx) -> str:
    """Why a phone number was refused (``services.phones``), in the page's language."""
    return ctx.gettext(
        "Give a phone number of digits, spaces and + - ( ) . with at least %(digits)s digits "
        "and at most %(max)s characters, or leave it empty."
    ) % {"digits": PHONE_MIN_DIGITS, "max": PHONE_MAX}


# --- the form skeleton -------------------------------------------------------------------

T = TypeVar("T")
E = TypeVar("E", bound=BlinaError)


class ShownAgain(Exception):
    """A refused form, to show again: raised out of the handler, so that the request's
    unit of work is rolled back, then ``show`` renders the page in a unit of work of its
    own (it reads what is stored, nothing of the refused write)."""

    def __init__(self, ctx: Ctx, page: Callable[[Session], Response]) -> None:
        super().__init__()
        self.ctx, self.page = ctx, page

    def show(self) -> Response:
        with read_only(self.ctx.state.sessions) as session:
            return self.page(session)


def submit(
    ctx: Ctx,
    save: Callable[[], T],
    *,
    refused: Mapping[type[E], int],
    again: Callable[[Session, E, int], Response],
) -> T:
    """Every form's skeleton: ``save`` reads the form and calls its service in the
    request's unit of work; a refusal of a kind in ``refused`` shows the form ``again``
    with that status (with the values it held and the message beside the field named),
    and writes nothing. A refusal by the access rules is audited, as on the error page."""
    try:
        return save()
    except tuple(refused) as error:
        status = next(code for kind, code in refused.items() if isinstance(error, kind))
        if isinstance(error, PermissionDenied):
            audit_denial(ctx, str(error))
        refusal = error  # ``error`` is unbound once this block ends
        raise ShownAgain(ctx, lambda session: again(session, refusal, status)) from error


# --- helpers ---------------------------------------------------------------------------


def local_target(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or a full URL) may be a redirect target."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def posted_form(request: Request) -> tuple[Ctx, FormData]:
    """The request's context and form, after the CSRF check, for a handler that asks for
    neither as a dependency (signing in, which opens no unit of work of its own)."""
    ctx = await run_in_threadpool(context_of, request)
    return ctx, await checked_form(request, ctx)


def public_url_for(request: Request, name: str, **path_params: str) -> str:
    """The full address of a page for someone outside to open (a calendar feed): under
    ``BLINA_PUBLIC_URL``; from the request itself (its Host header, which its sender
    chooses) only in the local environment when no public address is set."""
    state: WebState = request.app.state.blina
    return state.settings.address_for(
        request.app.url_path_for(name, **path_params),
        as_requested=str(request.url_for(name, **path_params)),
    )


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


def refused(
    ctx: Ctx,
    zone: ZoneInfo,
    form: str,
    error: BlinaError,
    values: Mapping[str, str] | None = None,
    *,
    whole: str | None = None,
    fields_of: str | None = None,
    suffix: str = "",
) -> FormError:
    """A refused form of the patient page, in the reader's words and the clinic's time
    (``blina.web.form_errors``)."""
    moment = moment_for(ctx.language)
    return refused_form(
        form,
        error,
        values or {},
        ctx.gettext,
        lambda at: moment(at, zone),
        whole=whole,
        fields_of=fields_of,
        suffix=suffix,
    )


def home_for(actor: Actor) -> str:
    return "/" if actor.is_staff else "/today"


def course_views(ctx: Ctx, session: Session, patient_id: int) -> list[courses.CourseView]:
    """The patient's courses as their pages show them: each with its plan and its state
    now."""
    return courses.list_courses(
        session,
        actor=ctx.signed_in(),
        now=ctx.state.clock.now(),
        knowledge=ctx.state.knowledge,
        patient_id=patient_id,
    )
