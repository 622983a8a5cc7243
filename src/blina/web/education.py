""" "About your treatment": plain-language pages for patients and families.

Open to everyone, signed in or not, and they show no patient data. The text comes from
``education_content`` in the reader's language; ``?for=parent`` switches to the version
for the parent of a child, and a cookie remembers the choice.
"""

from fastapi import APIRouter, Response

from blina.services.errors import NotFound
from blina.web.deps import PageDep
from blina.web.education_content import AboutContent, Audience, Page, about_content
from blina.web.render import Ctx, render
from blina.web.routes import WebRoute

__all__ = ["AUDIENCE_COOKIE", "choose_audience", "router"]

AUDIENCE_COOKIE = "blina_about_for"

_AUDIENCES = frozenset(audience.value for audience in Audience)

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def choose_audience(asked: str | None, remembered: str | None) -> Audience:
    """The ``for`` query if valid, else the remembered choice, else the adult patient."""
    for value in (asked, remembered):
        if value in _AUDIENCES:
            return Audience(value)
    return Audience.ADULT


@router.get("/about")
def about_index(ctx: PageDep) -> Response:
    audience = _audience(ctx)
    content = _content(ctx)
    response = render(
        ctx,
        "pages/about_index.html",
        audience=str(audience),
        intro=content.intro.blocks_for(audience),
        pages=content.pages,
    )
    return _remember(ctx, response, audience)


@router.get("/about/{slug}")
def about_page(slug: str, ctx: PageDep) -> Response:
    audience = _audience(ctx)
    content = _content(ctx)
    page = content.page(slug)
    if page is None:
        raise NotFound(f"no page {slug!r} about the treatment")
    before, after = content.neighbours(slug)
    response = render(
        ctx,
        "pages/about_page.html",
        audience=str(audience),
        page=page,
        sections=[(section, section.blocks_for(audience)) for section in page.sections],
        sources=_sources(content, page),
        before=before,
        after=after,
    )
    return _remember(ctx, response, audience)


def _audience(ctx: Ctx) -> Audience:
    request = ctx.request
    return choose_audience(request.query_params.get("for"), request.cookies.get(AUDIENCE_COOKIE))


def _content(ctx: Ctx) -> AboutContent:
    return about_content()[ctx.language]


def _sources(content: AboutContent, page: Page) -> list[tuple[str, str]]:
    """(citation, title shown to the reader) for each source the page cites."""
    return [(c.id, content.sources[c.document]) for c in page.citations()]


def _remember(ctx: Ctx, response: Response, audience: Audience) -> Response:
    """Keep a choice made with ``?for=`` for the next page opened without it."""
    asked = ctx.request.query_params.get("for")
    if asked == audience and ctx.request.cookies.get(AUDIENCE_COOKIE) != audience:
        response.set_cookie(
            AUDIENCE_COOKIE,
            str(audience),
            max_age=365 * 24 * 3600,
            httponly=True,
            secure=ctx.state.settings.cookie_secure,
            samesite="strict",
        )
    return response
