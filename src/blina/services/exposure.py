"""One course's estimated exposure (issue 21): the blinatumomab concentration the
population PK model expects from the course as planned (re-planned through its event
log) or as delivered (its bags' hang and removal times), and optionally the bands of
virtual patients like this one. For the clinic's staff; a model-based estimate, never a
measured level. Reads only: nothing is written or audited.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from blina.domain.course_state import delivered_pieces
from blina.domain.errors import InvalidInput
from blina.domain.pk import Exposure, PkModel, exposure, individual_clearance
from blina.domain.pk_course import CourseInputs, inputs_from_delivery, inputs_from_plan
from blina.domain.pk_population import Bands, BsaDistribution, bands
from blina.knowledge import Knowledge
from blina.services.access import require_role
from blina.services.actors import Actor, Role
from blina.services.courses import bag_records, events_of, get_course

__all__ = ["MAX_API_POPULATION", "Basis", "CourseExposure", "course_exposure"]

# A request answers within a second or so: virtual patients per request are bounded.
MAX_API_POPULATION = 10_000
_WASHOUT_H = 24.0
_MAX_POINTS = 50_000


class Basis(StrEnum):
    PLANNED = "planned"
    DELIVERED = "delivered"


@dataclass(frozen=True)
class CourseExposure:
    model: PkModel
    course: CourseInputs
    exposure: Exposure
    bands: Bands | None
    zone: ZoneInfo
    basis: Basis


def course_exposure(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    course_id: int,
    basis: Basis,
    step_hours: Decimal,
    population: int | None = None,
    seed: int = 0,
) -> CourseExposure:
    """The course's exposure on an output grid of ``step_hours`` from its first infusion
    to a day after the last; ``population`` virtual patients of the patient's BSA (the
    model's variability on clearance) when given."""
    require_role(
        actor,
        Role.NURSE,
        Role.PHARMACIST,
        Role.PHYSICIAN,
        Role.ADMIN,
        doing="see a course's estimated exposure",
    )
    view = get_course(session, actor=actor, now=now, knowledge=knowledge, course_id=course_id)
    plan = view.plan
    if plan.body.bsa is None:
        raise InvalidInput(
            "height_cm",
            "(missing)",
            "recorded for the course: the model's clearance depends on body surface area",
        )
    events = events_of(session, course_id)
    if basis is Basis.DELIVERED:
        bags = bag_records(session, course_id)
        if not delivered_pieces(bags, events, now):
            raise InvalidInput("basis", basis.value, "planned: no bag of this course was hung yet")
        course = inputs_from_delivery(bags, events=events, now=now)
    else:
        course = inputs_from_plan(plan, events=events)
    if not Decimal("0.05") <= step_hours <= 24:
        raise InvalidInput("step_hours", step_hours, ">= 0.05 and <= 24")
    end = course.inputs.end_h + _WASHOUT_H
    if end / float(step_hours) > _MAX_POINTS:
        raise InvalidInput("step_hours", step_hours, f"large enough for <= {_MAX_POINTS:,} points")
    times = np.arange(0.0, end, float(step_hours))
    bsa = float(plan.body.bsa.value)
    model = knowledge.pk
    found = exposure(
        model,
        course.inputs,
        times,
        clearance=float(individual_clearance(model, bsa_m2=bsa)),
        interruptions_h=course.interruptions_h,
    )
    crowd = None
    if population is not None:
        if not 1 <= population <= MAX_API_POPULATION:
            raise InvalidInput("population", population, f">= 1 and <= {MAX_API_POPULATION:,}")
        crowd = bands(
            model,
            course.inputs,
            times,
            count=population,
            seed=seed,
            bsa=BsaDistribution(median_m2=bsa),
        )
    return CourseExposure(model, course, found, crowd, plan.zone, basis)
