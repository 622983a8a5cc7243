"""A course's estimated exposure as a picture, for the care team's patient page.

The picture is drawn on request (matplotlib, about a tenth of a second), not with the
page: the page shows it only when opened. It is a model-based estimate (the published
population pharmacokinetic model), never a measured level, and says so on the picture
and beside it. Patient data: never stored by a browser or a proxy.
"""

from decimal import Decimal

from fastapi import APIRouter, Response

from blina.domain.errors import InvalidInput
from blina.interop.pk_plot import plot_exposure
from blina.services import exposure
from blina.services.storage import RecordId
from blina.web.deps import PageDep, ReadDep
from blina.web.routes._common import WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)

# One point every hour: a 9-cycle course is about 12,000 points, drawn in well under a
# second.
_STEP_HOURS = Decimal(1)


@router.get("/courses/{course_id}/exposure.svg")
def exposure_picture(
    course_id: RecordId, page: PageDep, session: ReadDep, basis: str = "planned"
) -> Response:
    try:
        chosen = exposure.Basis(basis)
    except ValueError:
        raise InvalidInput("basis", basis, "planned or delivered") from None
    found = exposure.course_exposure(
        session,
        actor=page.signed_in(),
        now=page.state.clock.now(),
        knowledge=page.state.knowledge,
        course_id=course_id,
        basis=chosen,
        step_hours=_STEP_HOURS,
    )
    title = (
        "Estimated concentration, from the bags as hung"
        if chosen is exposure.Basis.DELIVERED
        else "Estimated concentration, from the course as planned"
    )
    picture = plot_exposure(
        model=found.model,
        exposure=found.exposure,
        marks=found.course.marks,
        title=title,
        picture="svg",
    )
    return Response(
        picture, media_type="image/svg+xml", headers={"Cache-Control": "no-store, private"}
    )
