"""Bags for a course: prepare (pharmacist), verify (a second pharmacist), list."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from blina.api.deps import ActorDep, ReadDep, StateDep, TxDep
from blina.services import pharmacy
from blina.store.tables import BagPreparation
from blina.store.types import RecordId

router = APIRouter(tags=["pharmacy"])


class BagCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bag_start: datetime | None = None
    override_reasons: dict[str, str] = {}


class BagPublic(BaseModel):
    id: int
    course_id: int
    prepared_by: int
    prepared_at: datetime
    verified_by: int | None
    verified_at: datetime | None
    recipe: dict[str, Any]


def _public(row: BagPreparation) -> BagPublic:
    return BagPublic.model_validate(row, from_attributes=True)


@router.post("/courses/{course_id}/bags", status_code=201)
def prepare(
    course_id: RecordId, body: BagCreate, session: TxDep, state: StateDep, actor: ActorDep
) -> BagPublic:
    """Prepare a bag of the course (the next one, or the one hung at ``bag_start``).
    A hard stop stores nothing (422 with its reasons); each soft check needs a reason."""
    library = pharmacy.library_for(state.settings, state.knowledge)
    row = pharmacy.prepare_course_bag(
        session,
        actor=actor,
        now=state.clock.now(),
        knowledge=state.knowledge,
        library=library,
        course_id=course_id,
        bag_start=body.bag_start,
        override_reasons=body.override_reasons,
    )
    return _public(row)


@router.get("/courses/{course_id}/bags")
def list_bags(course_id: RecordId, session: ReadDep, actor: ActorDep) -> list[BagPublic]:
    return [_public(row) for row in pharmacy.list_bags(session, actor=actor, course_id=course_id)]


@router.post("/bags/{bag_id}/verify")
def verify(bag_id: RecordId, session: TxDep, state: StateDep, actor: ActorDep) -> BagPublic:
    """Verify a bag: a pharmacist other than the one who prepared it."""
    return _public(pharmacy.verify_bag(session, actor=actor, now=state.clock.now(), bag_id=bag_id))
