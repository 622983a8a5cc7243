"""Dependencies of the web pages as Annotated aliases, as the API has its own
(``blina.api.deps``): a handler's signature lists what it needs, and a handler is a plain
function that FastAPI runs in its thread pool.

- ``PageDep``: the request's context (who, which language, the form's CSRF token).
- ``FormDep``: the posted form, once its CSRF token is checked; ``QueryFormDep``: the
  query string read as a form (the live previews send their form with a GET).
- ``ReadDep`` and ``WriteDep``: the request's one unit of work. A writing one begins only
  after the form's CSRF check (it depends on ``FormDep``), so a forged form never reaches
  the database. Both end before the answer is sent (``scope="function"``): the page a
  redirect leads to reads what was written. The unit of work is committed when the
  handler answered, and rolled back when it raised, also when ``WebRoute`` turned the
  error into a page (``undo_request``): a refused form writes nothing.
"""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData, UploadFile

from blina.domain import bounds
from blina.domain.errors import BlinaError
from blina.services.storage import Session, read_only, transaction
from blina.web.render import Ctx, WebState, context_of
from blina.web.security import CSRF_COOKIE, CSRF_FIELD, csrf_valid

__all__ = [
    "CsrfRefused",
    "FormDep",
    "PageDep",
    "QueryFormDep",
    "ReadDep",
    "WriteDep",
    "checked_form",
    "query_form",
    "undo_request",
]


class CsrfRefused(BlinaError):
    pass


def _page(request: Request) -> Ctx:
    return context_of(request)


PageDep = Annotated[Ctx, Depends(_page)]


async def checked_form(request: Request, ctx: Ctx) -> FormData:
    """The request's form, after the CSRF check (before anything else runs); a field or a
    value holding a NUL character is refused (422) before any is read."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    if not csrf_valid(
        secret=ctx.state.settings.secret_key.get_secret_value(),
        nonce=request.cookies.get(CSRF_COOKIE),
        session_token=ctx.session_token,
        sent=sent if isinstance(sent, str) else "",
    ):
        raise CsrfRefused("the form's CSRF token is missing or wrong")
    return _without_nul(form)


async def _form(request: Request, page: PageDep) -> FormData:
    return await checked_form(request, page)


FormDep = Annotated[FormData, Depends(_form)]


def query_form(request: Request) -> FormData:
    """The query string read as a form: the live previews send the form with a GET."""
    return _without_nul(
        FormData(list[tuple[str, str | UploadFile]](request.query_params.multi_items()))
    )


QueryFormDep = Annotated[FormData, Depends(query_form)]


def _without_nul(form: FormData) -> FormData:
    """``form``, once no field name or text value holds a NUL: PostgreSQL cannot store or
    compare one (a NUL in the sign-in's username was a server error there)."""
    for name, value in form.multi_items():
        bounds.check_text("field name", name)
        if isinstance(value, str):
            bounds.check_text(name, value)
    return form


def undo_request(request: Request) -> None:
    """The request's unit of work is rolled back when it ends: its handler raised, and the
    error was answered with a page (``WebRoute``)."""
    request.state.undone = True


class _Undone(Exception):
    """Raised inside a unit of work to roll it back."""


def _reading(request: Request) -> Iterator[Session]:
    with read_only(_state(request).sessions) as session:
        yield session


def _writing(request: Request, form: FormDep) -> Iterator[Session]:
    try:
        with transaction(_state(request).sessions) as session:
            yield session
            if getattr(request.state, "undone", False):
                raise _Undone
    except _Undone:
        pass


def _state(request: Request) -> WebState:
    state: WebState = request.app.state.blina
    return state


ReadDep = Annotated[Session, Depends(_reading, scope="function")]
WriteDep = Annotated[Session, Depends(_writing, scope="function")]
