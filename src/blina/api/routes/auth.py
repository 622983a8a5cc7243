"""Sign in and out: a session cookie for the web app, a bearer token for API clients."""

from fastapi import APIRouter, Request, Response

from blina.api.deps import ActorDep, StateDep, token_of
from blina.api.schemas import LoginRequest, LoginResponse, MePublic
from blina.services.accounts import SESSION_COOKIE, log_in, log_out, session_cookie
from blina.services.actors import Actor
from blina.store.session import transaction

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
def login(body: LoginRequest, response: Response, state: StateDep) -> LoginResponse:
    """Sign in; repeated failures lock the account for a while."""
    now = state.clock.now()
    with transaction(state.sessions) as session:
        outcome = log_in(
            session,
            settings=state.settings,
            now=now,
            username=body.username,
            password=body.password,
            kind=body.kind,
        )
    if outcome.refusal is not None:
        raise outcome.refusal
    assert outcome.token is not None
    assert outcome.user is not None
    if body.kind == "session":
        response.set_cookie(**session_cookie(state.settings, outcome.token))
    user = outcome.user
    me = MePublic(
        id=user.id,
        username=user.username,
        role=user.role,
        clinic_id=user.clinic_id,
        patient_id=user.patient_id,
    )
    return LoginResponse(token=outcome.token, token_type=body.kind, user=me)


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
