"""Courses: prescribe, read with the derived plan, change with optimistic concurrency."""

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from blina.api.deps import ActorDep, ReadDep, StateDep, TxDep
from blina.api.schemas import (
    BoundedDateTime,
    CourseChange,
    CourseCreate,
    CourseEnd,
    CourseEventCreate,
    CoursePublic,
    RequestBody,
)
from blina.interop.json.course_state import course_state_to_dict
from blina.interop.json.plan import plan_to_dict
from blina.interop.json.replanning import replan_to_dict
from blina.interop.json.values import to_json_ready
from blina.services import courses, premedication
from blina.services.storage import RecordId

router = APIRouter(tags=["courses"])


def _public(view: courses.CourseView) -> CoursePublic:
    course = view.course
    return CoursePublic(
        id=course.id,
        patient_id=course.patient_id,
        regimen_id=course.regimen_id,
        start=course.start,
        bag_hours=course.bag_hours,
        cycles=course.cycles,
        status=course.status,
        version=course.version,
        weight_kg=course.weight_kg,
        height_cm=course.height_cm,
        age_years=course.age_years,
        ended_reason=course.ended_reason,
        backdated=course.backdated,
        state=course_state_to_dict(view.state),
        plan=to_json_ready(
            plan_to_dict(view.plan) if view.replanned is None else replan_to_dict(view.replanned)
        ),
    )


@router.post("/patients/{patient_id}/courses", status_code=201)
def start_course(
    patient_id: RecordId, body: CourseCreate, session: TxDep, state: StateDep, actor: ActorDep
) -> CoursePublic:
    """Prescribe a course (physician). The plan is validated before anything is stored."""
    request = courses.CourseRequest(
        regimen_id=body.indication,
        start=body.start,
        weight_kg=body.weight_kg,
        age_years=body.age_years,
        height_cm=body.height_cm,
        bag_hours=body.bag_hours,
        cycles=body.cycles,
        start_time=body.start_time,
        cycle_starts=body.cycle_starts,
        confirm_past_start=body.confirm_past_start,
    )
    view = courses.start_course(
        session,
        actor=actor,
        now=state.clock.now(),
        knowledge=state.knowledge,
        patient_id=patient_id,
        request=request,
    )
    return _public(view)


@router.get("/patients/{patient_id}/courses")
def list_courses(
    patient_id: RecordId, session: ReadDep, state: StateDep, actor: ActorDep
) -> list[CoursePublic]:
    """A patient's courses, oldest first, each with its day-by-day plan."""
    found = courses.list_courses(
        session,
        actor=actor,
        now=state.clock.now(),
        knowledge=state.knowledge,
        patient_id=patient_id,
    )
    return [_public(view) for view in found]


@router.get("/courses/{course_id}")
def get_course(
    course_id: RecordId, session: ReadDep, state: StateDep, actor: ActorDep
) -> CoursePublic:
    """A course with its day-by-day plan."""
    return _public(
        courses.get_course(
            session,
            actor=actor,
            now=state.clock.now(),
            knowledge=state.knowledge,
            course_id=course_id,
        )
    )


@router.patch("/courses/{course_id}")
def update_course(
    course_id: RecordId, body: CourseChange, session: TxDep, state: StateDep, actor: ActorDep
) -> CoursePublic:
    """Change a course (physician). Send the version you read; if it changed since, 409."""
    view = courses.update_course(
        session,
        actor=actor,
        now=state.clock.now(),
        knowledge=state.knowledge,
        course_id=course_id,
        expected_version=body.version,
        bag_hours=body.bag_hours,
        cycles=body.cycles,
        cycle_starts=body.cycle_starts,
        status=body.status,
    )
    return _public(view)


@router.post("/courses/{course_id}/events", status_code=201)
def record_event(
    course_id: RecordId, body: CourseEventCreate, session: TxDep, state: StateDep, actor: ActorDep
) -> CoursePublic:
    """Record an interruption, a restart or a discontinuation (physician) and re-plan the
    course through the label's rules; the answer carries the new plan and the decisions."""
    view = courses.record_event(
        session,
        actor=actor,
        now=state.clock.now(),
        knowledge=state.knowledge,
        course_id=course_id,
        expected_version=body.version,
        event=body.event.as_log_entry(),
    )
    return _public(view)


@router.post("/courses/{course_id}/end")
def end_course(
    course_id: RecordId, body: CourseEnd, session: TxDep, state: StateDep, actor: ActorDep
) -> CoursePublic:
    """End the patient's active course (physician): completed, discontinued or cancelled
    as entered in error, with a reason. Its bags not yet hung become do-not-hang."""
    view = courses.end_course(
        session,
        actor=actor,
        now=state.clock.now(),
        knowledge=state.knowledge,
        course_id=course_id,
        expected_version=body.version,
        outcome=body.outcome,
        reason=body.reason,
    )
    return _public(view)


class PremedicationGivenIn(RequestBody):
    due: BoundedDateTime = Field(description="The planned dose's time, as the plan gives it")
    drug: str = Field(min_length=1, max_length=100)
    given_at: BoundedDateTime


class PremedicationGivenPublic(BaseModel):
    id: int
    course_id: int
    due: datetime
    drug: str
    dose: str
    given_at: datetime
    given_by: int
    recorded_at: datetime


@router.post("/courses/{course_id}/premedication", status_code=201)
def record_premedication(
    course_id: RecordId,
    body: PremedicationGivenIn,
    session: TxDep,
    state: StateDep,
    actor: ActorDep,
) -> PremedicationGivenPublic:
    """Record a premedication dose of the plan as given (nurse or physician); closes its
    task."""
    row = premedication.record_given(
        session,
        actor=actor,
        now=state.clock.now(),
        knowledge=state.knowledge,
        course_id=course_id,
        due=body.due,
        drug=body.drug,
        given_at=body.given_at,
    )
    return PremedicationGivenPublic.model_validate(row, from_attributes=True)


@router.get("/courses/{course_id}/premedication")
def list_premedication(
    course_id: RecordId, session: ReadDep, actor: ActorDep
) -> list[PremedicationGivenPublic]:
    rows = premedication.list_given(session, actor=actor, course_id=course_id)
    return [PremedicationGivenPublic.model_validate(r, from_attributes=True) for r in rows]
