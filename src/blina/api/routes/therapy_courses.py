"""Courses of the therapies beside blinatumomab: start one for a patient, read it with
its current plan (the shape of ``POST /calc/therapy-plan``'s answer), record what happens
as a change of its inputs at the version read, end it.

The physician starts, changes and ends; the clinic's staff and the patient's family read.
A patient has one active treatment: a course of any therapy beside an active one answers
409 naming it. A field's type and magnitude are checked here; its clinical range by the
planner (422 naming the field and the range), before anything is written.
"""

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from blina.api.deps import ActorDep, ReadDep, StateDep, TxDep
from blina.api.routes.therapies import (
    TherapyFields,
    TherapyPlanPublic,
    TherapyPlanRequest,
    plan_answer,
)
from blina.api.schemas import BoundedInteger, RequestBody
from blina.interop.json.therapy_inputs import therapy_inputs_to_dict
from blina.knowledge import Knowledge
from blina.services import therapy_courses
from blina.services.storage import RecordId

__all__ = ["router"]

router = APIRouter(tags=["therapy courses"])


class TherapyCoursePublic(BaseModel):
    id: int
    patient_id: int
    therapy: str
    name: str = Field(description="The therapy's name, e.g. Inotuzumab ozogamicin (BESPONSA)")
    status: str = Field(description="active, completed, discontinued or cancelled")
    ended_reason: str | None
    version: int = Field(description="Send it back with a change; a newer one answers 409")
    prescribed_by: int
    created_at: datetime
    updated_at: datetime
    inputs: dict[str, Any] = Field(
        description="The planning inputs given, as stored: decimals as strings, dates "
        "ISO 8601, dose dates by their day (C1D8)"
    )
    plan: TherapyPlanPublic = Field(description="The plan derived from the inputs now")


class TherapyCourseChange(TherapyFields):
    """What happened, as a change of the course's inputs: only the fields sent change
    (null: no longer given), the others stay. The response after a cycle, a dose's actual
    date, the transplant plan; the CAR-T product ready, bridging, lymphodepletion, the
    marrow blasts, the first infusion's grades, the second infusion withheld or moved,
    the site's stay-near and no-driving days; the host courses' day 1 dates."""

    version: BoundedInteger = Field(
        ge=1, description="The version you read; a newer one answers 409"
    )


class TherapyCourseEnd(RequestBody):
    """End the active therapy course: completed, discontinued (a reason) or cancelled as
    entered in error (a reason). Nothing is deleted."""

    version: BoundedInteger = Field(
        ge=1, description="The version you read; a newer one answers 409"
    )
    outcome: Literal["completed", "discontinued", "cancelled"]
    reason: str = Field(default="", max_length=2000)


def _public(knowledge: Knowledge, view: therapy_courses.TherapyCourseView) -> TherapyCoursePublic:
    course = view.course
    return TherapyCoursePublic(
        id=course.id,
        patient_id=course.patient_id,
        therapy=course.therapy,
        name=view.name,
        status=course.status,
        ended_reason=course.ended_reason,
        version=course.version,
        prescribed_by=course.prescribed_by,
        created_at=course.created_at,
        updated_at=course.updated_at,
        inputs=therapy_inputs_to_dict(view.inputs),
        plan=TherapyPlanPublic.model_validate(plan_answer(knowledge, view.plan)),
    )


@router.post("/patients/{patient_id}/therapy-courses", status_code=201)
def start_therapy_course(
    patient_id: RecordId,
    body: TherapyPlanRequest,
    session: TxDep,
    state: StateDep,
    actor: ActorDep,
) -> TherapyCoursePublic:
    """Start a course of a therapy other than blinatumomab (physician), with the inputs of
    ``POST /calc/therapy-plan``. The plan is made before anything is stored; a patient
    with an active course of any therapy answers 409."""
    view = therapy_courses.start_therapy_course(
        session,
        actor=actor,
        now=state.clock.now(),
        knowledge=state.knowledge,
        patient_id=patient_id,
        inputs=body.inputs(),
    )
    return _public(state.knowledge, view)


@router.get("/patients/{patient_id}/therapy-courses")
def list_therapy_courses(
    patient_id: RecordId, session: ReadDep, state: StateDep, actor: ActorDep
) -> list[TherapyCoursePublic]:
    """A patient's therapy courses, oldest first, each with its current plan."""
    views = therapy_courses.list_therapy_courses(
        session, actor=actor, knowledge=state.knowledge, patient_id=patient_id
    )
    return [_public(state.knowledge, view) for view in views]


@router.get("/therapy-courses/{therapy_course_id}")
def get_therapy_course(
    therapy_course_id: RecordId, session: ReadDep, state: StateDep, actor: ActorDep
) -> TherapyCoursePublic:
    """A therapy course with its current plan."""
    view = therapy_courses.get_therapy_course(
        session, actor=actor, knowledge=state.knowledge, therapy_course_id=therapy_course_id
    )
    return _public(state.knowledge, view)


@router.patch("/therapy-courses/{therapy_course_id}")
def change_therapy_course(
    therapy_course_id: RecordId,
    body: TherapyCourseChange,
    session: TxDep,
    state: StateDep,
    actor: ActorDep,
) -> TherapyCoursePublic:
    """Record what happened (physician): the fields sent replace the course's inputs, the
    course is re-planned, and the answer carries the new plan. Send the version you read;
    if it changed since, 409."""
    sent = body.model_fields_set - {"version"}
    view = therapy_courses.change_therapy_course(
        session,
        actor=actor,
        now=state.clock.now(),
        knowledge=state.knowledge,
        therapy_course_id=therapy_course_id,
        expected_version=body.version,
        changes=body.input_values(sorted(sent)),
    )
    return _public(state.knowledge, view)


@router.post("/therapy-courses/{therapy_course_id}/end")
def end_therapy_course(
    therapy_course_id: RecordId,
    body: TherapyCourseEnd,
    session: TxDep,
    state: StateDep,
    actor: ActorDep,
) -> TherapyCoursePublic:
    """End the active therapy course (physician): completed, discontinued or cancelled as
    entered in error, with a reason."""
    view = therapy_courses.end_therapy_course(
        session,
        actor=actor,
        now=state.clock.now(),
        knowledge=state.knowledge,
        therapy_course_id=therapy_course_id,
        expected_version=body.version,
        outcome=body.outcome,
        reason=body.reason,
    )
    return _public(state.knowledge, view)
