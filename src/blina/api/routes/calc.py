"""The CLI's calculators as stateless endpoints: same domain functions, same answers."""

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from blina.api.deps import ActorDep, StateDep
from blina.api.schemas import (
    BoundedDateTime,
    BoundedDecimal,
    BoundedInteger,
    CourseEventIn,
    PlanRequest,
    RequestBody,
)
from blina.api.state import AppState
from blina.domain.body import measure_body
from blina.domain.course_plan import CoursePlan
from blina.domain.pharmacy.prescription import prescribe
from blina.domain.pharmacy.recipe import Refusal, prepare_bag
from blina.domain.pharmacy.reference import label_dose_rules
from blina.domain.planning import plan_course, zone_named
from blina.domain.replanning.replay import replan
from blina.interop.json.plan import plan_to_dict
from blina.interop.json.recipe import recipe_to_dict, refusal_to_dict
from blina.interop.json.replanning import event_from_dict, replan_to_dict
from blina.interop.json.values import to_json_ready
from blina.services.pharmacy import library_for

router = APIRouter(prefix="/calc", tags=["calculators"])


@router.post("/plan")
def plan(body: PlanRequest, state: StateDep, actor: ActorDep) -> dict[str, Any]:
    """Plan a course day by day, as `blina plan --format json` does; nothing is stored."""
    result: dict[str, Any] = to_json_ready(plan_to_dict(_plan(body, state)))
    return result


def _plan(body: PlanRequest, state: AppState) -> CoursePlan:
    knowledge = state.knowledge
    measured = measure_body(
        weight_kg=body.weight_kg,
        height_cm=body.height_cm,
        age_years=body.age_years,
        rules=knowledge.body_rules,
    )
    return plan_course(
        regimen=knowledge.regimen(body.indication),
        body=measured,
        start=body.start,
        bag_hours=body.bag_hours,
        zone=zone_named(body.zone),
        start_time=body.start_time,
        cycles=body.cycles,
        cycle_starts=body.cycle_starts,
    )


class BagRequest(RequestBody):
    """`blina bag` as JSON: a dose in mcg/day, or per m2 with a BSA."""

    hours: BoundedInteger
    weight_kg: BoundedDecimal
    dose_mcg_per_day: BoundedDecimal | None = None
    dose_mcg_per_m2_per_day: BoundedDecimal | None = None
    bsa_m2: BoundedDecimal | None = None


@router.post("/bag")
def bag(body: BagRequest, state: StateDep, actor: ActorDep) -> dict[str, Any]:
    """A bag recipe from the site library, as `blina bag --format json` answers; a hard
    stop is an answer too (``hard_stop: true`` with its reasons). Nothing is stored."""
    knowledge = state.knowledge
    prescription = prescribe(
        bag_hours=body.hours,
        weight_kg=body.weight_kg,
        rules=label_dose_rules(knowledge.regimens_by_id.values()),
        bsa_max=knowledge.pharmacy.bsa_max.value,
        dose_mcg_per_day=body.dose_mcg_per_day,
        dose_mcg_per_m2_per_day=body.dose_mcg_per_m2_per_day,
        bsa_m2=body.bsa_m2,
    )
    library = library_for(state.settings, knowledge)
    result = prepare_bag(prescription=prescription, library=library)
    data = refusal_to_dict(result) if isinstance(result, Refusal) else recipe_to_dict(result)
    answer: dict[str, Any] = to_json_ready(data)
    return answer


class ReplanRequest(PlanRequest):
    """`blina replan`'s COURSE.json with the plan's fields at the top level, plus the log."""

    events: list[CourseEventIn] = Field(default_factory=list)
    now: BoundedDateTime | None = None


@router.post("/replan")
def replan_course(body: ReplanRequest, state: StateDep, actor: ActorDep) -> dict[str, Any]:
    """Re-plan a course from its event log, as `blina replan --format json`; nothing is stored."""
    knowledge = state.knowledge
    planned = _plan(body, state)
    events = [event_from_dict(e.as_log_entry(), f"events[{n}]") for n, e in enumerate(body.events)]
    result = replan(
        planned, events, rules=knowledge.toxicity.modifications, now=body.now or state.clock.now()
    )
    answer: dict[str, Any] = to_json_ready(replan_to_dict(result))
    return answer
