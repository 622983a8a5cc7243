"""Dependencies as Annotated aliases: a route's signature lists what it needs."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from blina.api.state import AppState
from blina.services.accounts import SESSION_COOKIE, authenticate
from blina.services.actors import Actor
from blina.services.errors import NotAuthenticated
from blina.services.storage import Session, read_only, transaction

__all__ = [
    "ActorDep",
    "ReadDep",
    "StateDep",
    "TxDep",
    "authenticated",
    "token_of",
]


async def _state(request: Request) -> AppState:
    # async: a trivial lookup must not cost a trip through the thread pool
    state: AppState = request.app.state.blina
    return state


StateDep = Annotated[AppState, Depends(_state)]


def _transaction(state: StateDep) -> Iterator[Session]:
    """One transaction per request that may write: committed when the route returns,
    rolled back on error."""
    with transaction(state.sessions) as session:
        yield session


def _reading(state: StateDep) -> Iterator[Session]:
    """One read-only transaction per request."""
    with read_only(state.sessions) as session:
        yield session


TxDep = Annotated[Session, Depends(_transaction)]
ReadDep = Annotated[Session, Depends(_reading)]


def token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


def authenticated(request: Request, state: AppState, session: Session | None = None) -> Actor:
    """The signed-in actor (also recorded on the request for the denial audit), read in
    ``session`` when the caller has one open, else in a read-only one of its own."""
    token = token_of(request)
    if token is None:
        raise NotAuthenticated("sign in first")
    if session is None:
        with read_only(state.sessions) as reading:
            actor = authenticate(reading, now=state.clock.now(), token=token)
    else:
        actor = authenticate(session, now=state.clock.now(), token=token)
    request.state.actor = actor
    return actor


def _actor(request: Request, state: StateDep) -> Actor:
    return authenticated(request, state)


ActorDep = Annotated[Actor, Depends(_actor)]
