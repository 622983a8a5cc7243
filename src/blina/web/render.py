"""The request's context (who, which language, the CSRF token) and page rendering."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from blina.config import Settings
from blina.knowledge import Knowledge
from blina.services.accounts import SESSION_COOKIE, authenticate
from blina.services.actors import Actor
from blina.services.check_ins import CheckInWriter
from blina.services.clock import Clock
from blina.services.denials import DenialLog
from blina.services.errors import NotAuthenticated
from blina.services.login_limits import LoginLimits
from blina.services.phones import PHONE_MAX, PHONE_MIN_DIGITS, dialable
from blina.services.storage import Sessions, read_only
from blina.services.treatments import END_OUTCOMES, END_REASON_MAX
from blina.web import sentences
from blina.web.formatting import Formatter, install
from blina.web.i18n import (
    LANG_COOKIE,
    LANGUAGES,
    Gettext,
    choose_language,
    clinical_gettext_for,
    gettext_for,
)
from blina.web.security import CSRF_COOKIE, CSRF_FIELD, csrf_token, new_nonce
from blina.web.therapy_family import day_label_parts

__all__ = ["TEMPLATE_DIR", "Ctx", "WebState", "context_of", "moment_for", "redirect", "render"]

TEMPLATE_DIR = Path(__file__).parent / "templates"

_ENV = sentences.install(
    install(
        Environment(
            loader=FileSystemLoader(TEMPLATE_DIR),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    )
)
# A phone number's bounds (its inputs say them) and its tel: link.
# day_label_parts: a therapy plan's day label read for _therapy_words.html's day_label
# end_outcomes, end_reason_max: how a course of either kind ends (_end_form.html's choices)
# and the longest reason it takes
_ENV.globals.update(
    phone_max=PHONE_MAX,
    phone_min_digits=PHONE_MIN_DIGITS,
    day_label_parts=day_label_parts,
    end_outcomes=END_OUTCOMES,
    end_reason_max=END_REASON_MAX,
)
_ENV.filters["tel"] = lambda phone: f"tel:{dialable(phone)}"


class WebState(Protocol):
    """What the web pages need from the running app (``app.state.blina``)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def sessions(self) -> Sessions: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def knowledge(self) -> Knowledge: ...
    @property
    def logins(self) -> LoginLimits: ...
    @property
    def denials(self) -> DenialLog: ...
    @property
    def check_ins(self) -> CheckInWriter: ...


@dataclass(slots=True)
class Ctx:
    request: Request
    state: WebState
    language: str
    gettext: Gettext
    session_token: str | None
    nonce: str
    new_nonce: bool
    actor: Actor | None = None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def csrf(self) -> str:
        return csrf_token(
            secret=self.state.settings.secret_key.get_secret_value(),
            nonce=self.nonce,
            session_token=self.session_token,
        )

    def signed_in(self) -> Actor:
        """The signed-in actor; ``NotAuthenticated`` sends the browser to the login page."""
        if self.actor is None:
            raise NotAuthenticated("sign in first")
        return self.actor


def context_of(request: Request) -> Ctx:
    state: WebState = request.app.state.blina
    language = choose_language(
        request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")
    )
    nonce = request.cookies.get(CSRF_COOKIE)
    token = request.cookies.get(SESSION_COOKIE)
    ctx = Ctx(
        request,
        state,
        language,
        gettext_for(language),
        token,
        nonce or new_nonce(),
        nonce is None,
    )
    if token:
        try:
            with read_only(state.sessions) as session:
                ctx.actor = authenticate(session, now=state.clock.now(), token=token)
        except NotAuthenticated:
            ctx.session_token = None
    return ctx


def moment_for(language: str) -> Callable[[datetime, tzinfo], str]:
    """A moment as people read it in the page's language and the clinic's zone: the
    weekday, day, month and time ("Mon 7 Dec 09:00", "lun 7 dic 09:00")."""
    return Formatter(language, gettext_for(language)).moment


def render(ctx: Ctx, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    fmt = Formatter(ctx.language, ctx.gettext)
    page = _ENV.get_template(template).render(
        _=ctx.gettext,
        fmt=fmt,
        moment=fmt.moment,
        clinical=clinical_gettext_for(ctx.language),
        lang=ctx.language,
        languages=LANGUAGES,
        actor=ctx.actor,
        csrf_field=CSRF_FIELD,
        csrf=ctx.csrf,
        path=ctx.request.url.path,
        path_quoted=quote(_here(ctx.request), safe=""),
        **values,
    )
    response = HTMLResponse(page, status_code=status)
    _keep_nonce(ctx, response)
    return response


def redirect(ctx: Ctx, to: str) -> RedirectResponse:
    response = RedirectResponse(to, status_code=303)
    _keep_nonce(ctx, response)
    return response


def _keep_nonce(ctx: Ctx, response: HTMLResponse | RedirectResponse) -> None:
    if ctx.new_nonce:
        response.set_cookie(
            CSRF_COOKIE,
            ctx.nonce,
            httponly=True,
            secure=ctx.state.settings.cookie_secure,
            samesite="strict",
        )


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")
