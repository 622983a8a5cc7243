"""A course's estimated exposure: concentration over time from the population PK model,
for the clinic's staff. Labelled everywhere as a model-based estimate."""

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from blina.api.deps import ActorDep, ReadDep, StateDep
from blina.domain.bounds import MAX_RECORD_ID
from blina.interop.pk_json import exposure_to_dict
from blina.services import exposure

router = APIRouter(tags=["exposure"])

CourseId = Annotated[int, Path(ge=1, le=MAX_RECORD_ID)]


@router.get("/courses/{course_id}/exposure")
def course_exposure(
    course_id: CourseId,
    session: ReadDep,
    state: StateDep,
    actor: ActorDep,
    basis: Annotated[
        exposure.Basis,
        Query(description="planned (the re-planned course) or delivered (the bags' times)"),
    ] = exposure.Basis.PLANNED,
    step_hours: Annotated[float, Query(ge=0.05, le=24, description="Output every N hours")] = 1.0,
    population: Annotated[int | None, Query(ge=1, le=exposure.MAX_API_POPULATION)] = None,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> dict[str, Any]:
    """The course's estimated blinatumomab concentration (pg/mL) over time, its steady
    states, AUC per day, flush peaks and interruptions, with the course's events; and
    with ``population``, percentile bands of virtual patients like this one. A
    model-based estimate (Clements 2020 population PK), never a measured level."""
    found = exposure.course_exposure(
        session,
        actor=actor,
        now=state.clock.now(),
        knowledge=state.knowledge,
        course_id=course_id,
        basis=basis,
        step_hours=Decimal(str(step_hours)),
        population=population,
        seed=seed,
    )
    return {
        "basis": str(found.basis),
        **exposure_to_dict(
            model=found.model,
            course=found.course,
            exposure=found.exposure,
            bands=found.bands,
            zone=found.zone,
        ),
    }
