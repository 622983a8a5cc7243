"""Lists a page at a time: ``?limit=`` (at most ``LIMIT_MAX``) records in id order, from
after ``?after=`` (an id); when more follow, a ``Link: <...>; rel="next"`` header (RFC 8288)
gives the next page's address. The answer stays a list, so a client that reads one page
reads what it read before, and one that follows the links reads everything."""

from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

from fastapi import Query, Request, Response

from blina.services.storage import MAX_RECORD_ID

__all__ = ["LIMIT_DEFAULT", "LIMIT_MAX", "After", "Limit", "one_page"]

LIMIT_DEFAULT = 100
LIMIT_MAX = 500

Limit = Annotated[
    int, Query(ge=1, le=LIMIT_MAX, description=f"records per page (at most {LIMIT_MAX})")
]
After = Annotated[
    int | None,
    Query(ge=0, le=MAX_RECORD_ID, description="the last id of the previous page"),
]

T = TypeVar("T")


def one_page(
    request: Request, response: Response, found: Sequence[T], limit: int, id_of: Callable[[T], int]
) -> Sequence[T]:
    """The first ``limit`` of ``found`` (a query asked for one more, to know whether more
    follow), with the next page's link when they do."""
    if len(found) <= limit:
        return found
    page = found[:limit]
    following = request.url.include_query_params(after=id_of(page[-1]), limit=limit)
    response.headers["Link"] = f'<{following}>; rel="next"'
    return page
