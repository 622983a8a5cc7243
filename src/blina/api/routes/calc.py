"""The CLI's calculators as stateless endpoints: same domain functions, same answers."""

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter

from blina.api.deps import ActorDep, StateDep
from blina.api.schemas import PlanRequest
from blina.domain.body import measure_body
from blina.domain.errors import InvalidInput
from blina.domain.planning import plan_course
from blina.interop.plan_json import plan_to_dict, to_json_ready

router = APIRouter(prefix="/calc", tags=["calculators"])


@router.post("/plan")
def plan(body: PlanRequest, state: StateDep, actor: ActorDep) -> dict[str, Any]:
    """Plan a course day by day, as `blina plan --format json` does; nothing is stored."""
    knowledge = state.knowledge
    measured = measure_body(
        weight_kg=body.weight_kg,
        height_cm=body.height_cm,
        age_years=body.age_years,
        rules=knowledge.body_rules,
    )
    course = plan_course(
        regimen=knowledge.regimen(body.indication),
        body=measured,
        start=body.start,
        bag_hours=body.bag_hours,
        zone=_zone(body.zone),
        start_time=body.start_time,
        cycles=body.cycles,
        cycle_starts=body.cycle_starts,
    )
    result: dict[str, Any] = to_json_ready(plan_to_dict(course))
    return result


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("zone", name, "an IANA time zone name such as Europe/Paris") from None
