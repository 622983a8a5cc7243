"""Signing in and out, and the language switch."""

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from blina.services.accounts import SESSION_COOKIE, log_in, log_out, session_cookie
from blina.services.errors import LoginBusy, LoginThrottled
from blina.services.storage import transaction
from blina.web.i18n import LANG_COOKIE, LANGUAGES
from blina.web.render import context_of, redirect, render
from blina.web.routes._common import WebRoute, home_for, local_target, posted_form, text_field

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# --- signing in and out; language -------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    ctx = context_of(request)
    if ctx.actor is not None:
        return redirect(ctx, home_for(ctx.actor))
    return render(ctx, "pages/login.html", next=local_target(next), error=None, username="")


@router.post("/login")
async def login(request: Request) -> Response:
    ctx, form = await posted_form(request)
    username, password = text_field(form, "username"), text_field(form, "password")
    state = ctx.state
    outcome = await run_in_threadpool(
        log_in,
        state.sessions,
        limits=state.logins,
        settings=state.settings,
        now=state.clock.now(),
        username=username,
        password=password,
        kind="session",
        source=request.client.host if request.client else "",
    )
    if outcome.refusal is not None:
        throttled = isinstance(outcome.refusal, LoginThrottled)
        # A paused account answers as a wrong password does (the answer must not tell
        # which usernames exist), so the message says that a pause may be the reason.
        if isinstance(outcome.refusal, LoginBusy):
            message = ctx.gettext("Many people are signing in at once. Try again in a moment.")
        elif throttled:
            message = ctx.gettext("Too many failed attempts. Try again later.")
        else:
            message = ctx.gettext(
                "Wrong username or password. After several wrong tries, wait a few minutes."
            )
        refused = render(
            ctx,
            "pages/login.html",
            status=429 if throttled else 401,
            next=local_target(text_field(form, "next")),
            error=message,
            username=username,
        )
        if isinstance(outcome.refusal, LoginThrottled):
            refused.headers["Retry-After"] = str(outcome.refusal.retry_after)
            # Held before it is sent, as the JSON API's (api.routes.auth).
            await anyio.sleep(state.settings.login_refusal_delay_seconds)
        return refused
    assert outcome.token is not None
    assert outcome.actor is not None
    target = local_target(text_field(form, "next"))
    if target in ("/", "/login"):
        target = home_for(outcome.actor)
    response = redirect(ctx, target)
    response.set_cookie(**session_cookie(state.settings, outcome.token))
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    ctx, _ = await posted_form(request)
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
    response = redirect(ctx, local_target(next))
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
