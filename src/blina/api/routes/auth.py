"""Sign in and out: a session cookie for the web app, a bearer token for API clients."""

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from blina.api.deps import ActorDep, StateDep, token_of
from blina.api.schemas import LoginRequest, LoginResponse, MePublic, PasswordChange
from blina.services.accounts import (
    SESSION_COOKIE,
    change_password,
    log_in,
    log_out,
    session_cookie,
)
from blina.services.actors import Actor
from blina.services.errors import LoginThrottled
from blina.services.storage import transaction

router = APIRouter(tags=["auth"])


def me_of(actor: Actor) -> MePublic:
    return MePublic(
        id=actor.user_id,
        username=actor.username,
        role=str(actor.role),
        clinic_id=actor.clinic_id,
        patient_id=actor.patient_id,
    )


@router.post("/auth/login")
async def login(
    body: LoginRequest, request: Request, response: Response, state: StateDep
) -> LoginResponse:
    """Sign in; repeated failures pause the account for a while, and too many failures
    from one address or naming one username answer 429 with Retry-After."""
    # async, and in a thread of the pool only for the login's own work: the password is
    # checked outside any transaction, in turns (services.login_limits).
    outcome = await run_in_threadpool(
        log_in,
        state.sessions,
        limits=state.logins,
        settings=state.settings,
        now=state.clock.now(),
        username=body.username,
        password=body.password,
        kind=body.kind,
        source=request.client.host if request.client else "",
    )
    if outcome.refusal is not None:
        if isinstance(outcome.refusal, LoginThrottled):
            # Held before it is sent, at no cost: a client retrying at once (a flood) sends
            # one login a second per connection, not hundreds.
            await anyio.sleep(state.settings.login_refusal_delay_seconds)
        raise outcome.refusal
    assert outcome.token is not None
    assert outcome.actor is not None
    if body.kind == "session":
        response.set_cookie(**session_cookie(state.settings, outcome.token))
    return LoginResponse(token=outcome.token, token_type=body.kind, user=me_of(outcome.actor))


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, state: StateDep, actor: ActorDep) -> None:
    """Sign out: the token stops working."""
    token = token_of(request)
    assert token is not None
    with transaction(state.sessions) as session:
        log_out(session, token=token)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/me")
def me(actor: ActorDep) -> MePublic:
    """Who is signed in."""
    return me_of(actor)


@router.post("/me/password", status_code=204)
async def change_my_password(
    body: PasswordChange, request: Request, state: StateDep, actor: ActorDep
) -> None:
    """Change one's own password, giving the current one: every other session and token
    of one's own ends; this one stays signed in. A wrong current password counts as a
    failed sign-in (422 naming current_password; repeated, the account pauses: 429)."""
    token = token_of(request)
    assert token is not None  # the actor was signed in by it
    try:
        # As a login: the passwords are hashed outside any transaction, in turns.
        await run_in_threadpool(
            change_password,
            state.sessions,
            limits=state.logins,
            settings=state.settings,
            now=state.clock.now(),
            actor=actor,
            token=token,
            current_password=body.current_password,
            new_password=body.new_password,
            source=request.client.host if request.client else "",
        )
    except LoginThrottled:
        await anyio.sleep(state.settings.login_refusal_delay_seconds)
        raise
