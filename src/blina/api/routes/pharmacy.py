"""Bags for a course, from the bench to the pump: prepare (pharmacist), verify (a second
pharmacist), dispense, hang (nurse, after the hang checks), remove, void or discard."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from blina.api.deps import ActorDep, ReadDep, StateDep, TxDep
from blina.api.schemas import BoundedDateTime, BoundedDecimal, RequestBody
from blina.services import pharmacy
from blina.services.records import BagPreparationRecord
from blina.services.storage import RecordId

router = APIRouter(tags=["pharmacy"])


class BagCreate(RequestBody):
    bag_start: BoundedDateTime | None = None
    override_reasons: dict[str, str] = Field(default_factory=dict)


class BagDispense(RequestBody):
    to: Literal["ward", "home"]


class BagHang(RequestBody):
    """The bag's code as scanned or typed, and the pump program as entered on the pump."""

    code: str = Field(min_length=1, max_length=32)
    rate_ml_per_h: BoundedDecimal = Field(gt=0, le=1000)
    volume_ml: BoundedDecimal = Field(gt=0, le=5000)


class BagRemove(RequestBody):
    volume_left_ml: BoundedDecimal | None = Field(default=None, ge=0, le=5000)


class BagEnd(RequestBody):
    outcome: Literal["voided", "discarded"]
    reason: str = Field(min_length=1, max_length=2000)


class BagPublic(BaseModel):
    id: int
    course_id: int
    code: str
    slot_start: datetime
    dose_mcg_per_day: Decimal
    status: str
    do_not_hang: str | None
    prepared_by: int
    prepared_at: datetime
    verified_by: int | None
    verified_at: datetime | None
    dispensed_to: str | None
    dispensed_at: datetime | None
    hung_by: int | None
    hung_at: datetime | None
    pump_rate_ml_per_h: Decimal | None
    pump_volume_ml: Decimal | None
    removed_at: datetime | None
    volume_left_ml: Decimal | None
    ended_at: datetime | None
    ended_reason: str | None
    recipe: dict[str, Any]


def _public(row: BagPreparationRecord) -> BagPublic:
    return BagPublic.model_validate(row, from_attributes=True)


@router.post("/courses/{course_id}/bags", status_code=201)
def prepare(
    course_id: RecordId, body: BagCreate, session: TxDep, state: StateDep, actor: ActorDep
) -> BagPublic:
    """Prepare a bag of the course's current plan (the next slot with no bag, or the one
    hung at ``bag_start``). A hard stop stores nothing (422 with its reasons); each soft
    check needs a reason; a stopped or interrupted course, or a slot that has a bag, 409."""
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
    """Verify a bag: a pharmacist other than the one who prepared it; re-checked against
    the course's current plan (a bag it no longer has answers 409)."""
    row = pharmacy.verify_bag(
        session, actor=actor, now=state.clock.now(), knowledge=state.knowledge, bag_id=bag_id
    )
    return _public(row)


@router.post("/bags/{bag_id}/dispense")
def dispense(
    bag_id: RecordId, body: BagDispense, session: TxDep, state: StateDep, actor: ActorDep
) -> BagPublic:
    """A verified bag leaves the pharmacy, to the ward or to the patient's home."""
    row = pharmacy.dispense_bag(
        session,
        actor=actor,
        now=state.clock.now(),
        knowledge=state.knowledge,
        bag_id=bag_id,
        to=body.to,
    )
    return _public(row)


@router.post("/patients/{patient_id}/bags/hang")
def hang(
    patient_id: RecordId, body: BagHang, session: TxDep, state: StateDep, actor: ActorDep
) -> BagPublic:
    """Hang the bag with this code on the patient's pump. Any mismatch (another patient's
    bag, not verified, not in the current plan, expired, a pump program that is not the
    bag's) is a hard stop, 422, naming the difference; nothing is stored."""
    row = pharmacy.hang_bag(
        session,
        actor=actor,
        now=state.clock.now(),
        knowledge=state.knowledge,
        patient_id=patient_id,
        code=body.code,
        rate_ml_per_h=body.rate_ml_per_h,
        volume_ml=body.volume_ml,
    )
    return _public(row)


@router.post("/bags/{bag_id}/remove")
def remove(
    bag_id: RecordId, body: BagRemove, session: TxDep, state: StateDep, actor: ActorDep
) -> BagPublic:
    """Take a hung bag off the pump, with the volume left if measured."""
    row = pharmacy.remove_bag(
        session,
        actor=actor,
        now=state.clock.now(),
        bag_id=bag_id,
        volume_left_ml=body.volume_left_ml,
    )
    return _public(row)


@router.post("/bags/{bag_id}/end")
def end(
    bag_id: RecordId, body: BagEnd, session: TxDep, state: StateDep, actor: ActorDep
) -> BagPublic:
    """Void (pharmacist; frees the slot for a new bag) or discard a bag not yet hung."""
    row = pharmacy.end_bag(
        session,
        actor=actor,
        now=state.clock.now(),
        bag_id=bag_id,
        outcome=body.outcome,
        reason=body.reason,
    )
    return _public(row)
