"""Sign in and out: a session cookie for the web app, a bearer token for API clients."""

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from blina.api.deps import ActorDep, ReadDep, StateDep, TxDep, token_of
from blina.api.schemas import (
    AccountPublic,
    LoginRequest,
    LoginResponse,
    MePublic,
    PasswordChange,
    PhoneChange,
)
from blina.services.accounts import (
    SESSION_COOKIE,
    change_password,
    log_in,
    log_out,
    own_account,
    session_cookie,
    set_own_phone,
)
from blina.services.actors import Actor
from blina.services.errors import LoginThrottled
from blina.services.records import UserRecord
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


def _account(user: UserRecord) -> AccountPublic:
    return AccountPublic(
        id=user.id,
        username=user.username,
        role=user.role,
        clinic_id=user.clinic_id,
        patient_id=user.patient_id,
        phone=user.phone,
    )


@router.get("/me")
def me(session: ReadDep, actor: ActorDep) -> AccountPublic:
    """Who is signed in, and their own phone number."""
    return _account(own_account(session, actor=actor))


@router.put("/me/phone")
def set_my_phone(
    body: PhoneChange, session: TxDep, state: StateDep, actor: ActorDep
) -> AccountPublic:
    """One's own number for the care team to call back, empty or null for none (a
    patient or caregiver); audited."""
    return _account(set_own_phone(session, actor=actor, now=state.clock.now(), phone=body.phone))


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
