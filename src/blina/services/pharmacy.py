"""Bags for a course, from the bench to the pump.

A bag is made for a slot of the course's *current* plan (re-planned through its event
log): prepared by one pharmacist, verified by another, dispensed to the ward or home,
hung by a nurse after the hang checks, removed, or discarded or voided with a reason.
One bag holds a slot until it is discarded or voided. Every step is audited.

The recipe comes from the pharmacy domain (mass balance, independent re-check, site
library); a hard stop stores nothing; a soft check needs an override reason, which is
stored with the recipe and audited.
"""

import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from blina.config import Settings
from blina.domain.checks import CheckLevel
from blina.domain.course_plan import Bag, CoursePlan
from blina.domain.course_state import BagRecord, BagStatus, CoursePhase, CourseState, Slot
from blina.domain.errors import BlinaError, InvalidInput
from blina.domain.hanging import hang_problems
from blina.domain.pharmacy.prescription import prescribe
from blina.domain.pharmacy.recipe import Recipe, Refusal, prepare_bag
from blina.domain.pharmacy.reference import label_dose_rules
from blina.domain.pharmacy.resolution import ResolvedLibrary
from blina.domain.units import McgPerDay, Ml, MlPerHour
from blina.interop.json.recipe import infusion_from_dict, read_recipe_dict, recipe_to_dict
from blina.interop.json.values import to_json_ready
from blina.knowledge import Knowledge
from blina.knowledge._pharmacy import DEMO_LIBRARY, load_site_library
from blina.services.access import course_for, require_role
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.courses import CourseView, events_of, sync_course, view_of
from blina.services.errors import Conflict, NotFound, PermissionDenied
from blina.services.records import BagPreparationRecord, PatientRecord, copy_of
from blina.store.tables import BagPreparation, Course, Patient

__all__ = [
    "DISPENSE_TO",
    "HANG_EARLY",
    "HardStop",
    "bag_patient",
    "dispense_bag",
    "end_bag",
    "get_bag",
    "hang_bag",
    "hang_by",
    "library_for",
    "list_bags",
    "new_bag_code",
    "prepare_course_bag",
    "remove_bag",
    "site_library",
    "verify_bag",
]

DISPENSE_TO = ("ward", "home")
# A bag may be hung this long before its slot starts (the nurse's working margin; a
# site working rule, not a clinical number).
HANG_EARLY = timedelta(hours=1)
_MAX_RATE = Decimal(1000)
_MAX_VOLUME = Decimal(5000)
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class HardStop(BlinaError):
    """A safety rule blocks the bag; ``reasons`` say why. Nothing is stored."""

    def __init__(self, reasons: list[dict[str, str]]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(r["reason"] for r in reasons))


_LIBRARIES: dict[tuple[Path, int], ResolvedLibrary] = {}


def library_for(settings: Settings, knowledge: Knowledge) -> ResolvedLibrary:
    """The site's library (``BLINA_SITE_LIBRARY``), or the demo library when none is set."""
    return site_library(settings.site_library or DEMO_LIBRARY, knowledge)


def site_library(path: Path, knowledge: Knowledge) -> ResolvedLibrary:
    """The site library at ``path``, resolved against the reference once per process."""
    key = (path, id(knowledge))
    if key not in _LIBRARIES:
        rules = label_dose_rules(knowledge.regimens_by_id.values())
        _LIBRARIES[key] = load_site_library(
            path, reference=knowledge.pharmacy, dose_rules=rules, sources=knowledge.sources
        )
    return _LIBRARIES[key]


# --- preparing and verifying --------------------------------------------------------------


def prepare_course_bag(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course_id: int,
    bag_start: datetime | None,
    override_reasons: dict[str, str],
) -> BagPreparationRecord:
    """Prepare a bag of the course's current (re-planned) plan: the one hung at
    ``bag_start``, or the next slot with no bag. Refused (``Conflict``) while the course is
    stopped or interrupted, or when the slot already has a bag; a slot that is not in the
    current plan is bad input."""
    require_role(actor, Role.PHARMACIST, doing="prepare a bag")
    course, patient = course_for(session, actor, course_id)
    view = view_of(session, knowledge, course, patient, events_of(session, course.id), now)
    slot = _slot(view.state, bag_start)
    bag = Bag(slot.cycle, slot.start, slot.end, slot.dose)
    result = prepare_bag(
        prescription=_prescription(view.plan, bag, course.bag_hours, knowledge), library=library
    )
    if isinstance(result, Refusal):
        raise HardStop(_reasons(result.checks, CheckLevel.HARD))
    soft = {c.code: c for c in result.checks if c.level is CheckLevel.SOFT}
    missing = sorted(code for code in soft if not override_reasons.get(code, "").strip())
    if missing:
        raise InvalidInput(
            "override_reasons",
            ", ".join(missing),
            "a reason for each soft check: "
            + "; ".join(f"{code}: {soft[code].reason}" for code in missing),
        )
    recipe = _stored(result, bag, {code: override_reasons[code] for code in soft})
    recipe["slot"] = {
        "number": slot.number,
        "of": len(view.state.slots),
        "end": slot.end.isoformat(),
    }
    row = BagPreparation(
        course_id=course.id,
        code=new_bag_code(),
        slot_start=slot.key,
        dose_mcg_per_day=slot.dose.value,
        status=BagStatus.PREPARED.value,
        recipe=recipe,
        prepared_by=actor.user_id,
        prepared_at=now,
        verified_by=None,
        verified_at=None,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:  # the same slot prepared at the same moment by another request
        raise Conflict(f"bag {slot.number} of the course was prepared meanwhile: reload") from None
    append_audit(
        session,
        at=now,
        actor=actor,
        action="bag.prepare",
        subject_type="bag",
        subject_id=row.id,
        after={
            "course_id": course.id,
            "code": row.code,
            "bag_start": recipe["bag_start"],
            "dose_mcg_per_day": recipe["prescription"]["dose_mcg_per_day"],
            "overrides": recipe["overrides"],
        },
    )
    return _record_of(row)


def new_bag_code() -> str:
    """A short code for a bag's label: 8 characters a person can read out and type (no
    0/O or 1/I/L), about 40 bits of chance; the column is unique besides."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))


def _slot(state: CourseState, bag_start: datetime | None) -> Slot:
    """The slot to prepare, or why none may be."""
    _refuse_stopped(state)
    if bag_start is None:
        upcoming = state.next_slot
        if upcoming is None:
            raise Conflict("the course has no bag left to prepare in its current plan")
        return upcoming.slot
    found = state.slot_at(bag_start)
    if found is None or found.slot.end <= state.at:
        ahead = [s.slot.start.isoformat() for s in state.upcoming if s.bag is None][:3]
        raise InvalidInput(
            "bag_start",
            bag_start.isoformat(),
            "the start of a bag of the course's current plan still to come"
            + (f" (next: {', '.join(ahead)})" if ahead else ": none is left"),
        )
    if found.bag is not None:
        raise Conflict(
            f"bag {found.slot.number} of the course already has bag {found.bag.code} "
            f"({found.bag.status.value}): void it first, with a reason"
        )
    return found.slot


def _refuse_stopped(state: CourseState) -> None:
    if state.stopped:
        raise Conflict(f"the course is {state.phase.value}: no bag is prepared for it")
    if state.phase is CoursePhase.INTERRUPTED:
        assert state.since is not None
        raise Conflict(
            f"the infusion is interrupted since {state.since.isoformat()} and no restart is "
            "recorded: no bag is prepared until the physician records the restart"
        )


def verify_bag(
    session: Session, *, actor: Actor, now: datetime, knowledge: Knowledge, bag_id: int
) -> BagPreparationRecord:
    """A second pharmacist checks the bag, never the one who prepared it, and against the
    course's current plan: a bag the plan no longer has is refused (void it)."""
    require_role(actor, Role.PHARMACIST, doing="verify a bag")
    row, view = _bag_and_course(session, actor, now, knowledge, bag_id)
    if row.prepared_by == actor.user_id:
        raise PermissionDenied(
            "a bag is verified by a second pharmacist, never by the one who prepared it"
        )
    if row.status != BagStatus.PREPARED:
        raise Conflict(f"bag {row.code} was already {row.status}: only a prepared bag is verified")
    _refuse_do_not_hang(view.state, row)
    row.status = BagStatus.VERIFIED.value
    row.verified_by = actor.user_id
    row.verified_at = now
    append_audit(
        session,
        at=now,
        actor=actor,
        action="bag.verify",
        subject_type="bag",
        subject_id=row.id,
        before={"verified_by": None},
        after={"verified_by": actor.user_id},
    )
    return _record_of(row)


def dispense_bag(
    session: Session, *, actor: Actor, now: datetime, knowledge: Knowledge, bag_id: int, to: str
) -> BagPreparationRecord:
    """A verified bag leaves the pharmacy, to the ward or to the patient's home."""
    require_role(actor, Role.PHARMACIST, doing="dispense a bag")
    if to not in DISPENSE_TO:
        raise InvalidInput("to", to, "one of " + ", ".join(DISPENSE_TO))
    row, view = _bag_and_course(session, actor, now, knowledge, bag_id)
    if row.status != BagStatus.VERIFIED:
        raise Conflict(f"bag {row.code} is {row.status}: only a verified bag is dispensed")
    _refuse_do_not_hang(view.state, row)
    row.status = BagStatus.DISPENSED.value
    row.dispensed_by, row.dispensed_at, row.dispensed_to = actor.user_id, now, to
    _audit_step(session, actor, now, row, "bag.dispense", BagStatus.VERIFIED, {"to": to})
    return _record_of(row)


# --- at the pump ---------------------------------------------------------------------------


def hang_bag(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    patient_id: int,
    code: str,
    rate_ml_per_h: Decimal,
    volume_ml: Decimal,
) -> BagPreparationRecord:
    """Hang the bag with ``code`` on ``patient_id``'s pump (a nurse or physician, in clinic
    or at home). Every mismatch is a ``HardStop`` naming the difference, and nothing is
    stored: another patient's bag, not verified, not in the current plan, outside its
    window, expired, or a pump program that is not the bag's. The bag hung before it on
    that course is recorded as removed at the same moment."""
    require_role(actor, Role.NURSE, Role.PHYSICIAN, doing="hang a bag")
    rate = _amount("rate_ml_per_h", rate_ml_per_h)
    volume = _amount("volume_ml", volume_ml)
    row, course, patient = _bag_by_code(session, actor, code)
    if patient.id != patient_id:
        raise HardStop([_stop(f"bag {row.code} is not this patient's: do not hang it")])
    events = events_of(session, course.id)
    view = view_of(session, knowledge, course, patient, events, now)
    recipe = read_recipe_dict(row.recipe)
    slot = view.state.slot_of(_record(row))
    problems = hang_problems(
        state=view.state,
        bag=_record(row),
        infusion=infusion_from_dict(recipe),
        rate=MlPerHour(rate),
        volume=Ml(volume),
        hang_by=hang_by(recipe, row.prepared_at),
        early=HANG_EARLY,
    )
    if problems:
        raise HardStop([_stop(problem) for problem in problems])
    before = BagStatus(row.status)
    running = select(BagPreparation).where(
        BagPreparation.course_id == course.id, BagPreparation.status == BagStatus.HUNG.value
    )
    for other in session.execute(running).scalars():
        other.status = BagStatus.REMOVED.value
        other.removed_by, other.removed_at = actor.user_id, now
        _audit_step(session, actor, now, other, "bag.remove", BagStatus.HUNG, {"by": row.code})
    row.status = BagStatus.HUNG.value
    row.hung_by, row.hung_at = actor.user_id, now
    row.pump_rate_ml_per_h, row.pump_volume_ml = rate, volume
    program = {"rate_ml_per_h": str(rate), "volume_ml": str(volume)}
    _audit_step(session, actor, now, row, "bag.hang", before, program)
    if slot is not None and now > slot.slot.start:
        # Hung after its time: the re-plan counts the time no bag ran, so the rest of the
        # cycle moves; the task index and the do-not-hang marks follow the new plan.
        session.flush()
        sync_course(session, view_of(session, knowledge, course, patient, events, now))
    return _record_of(row)


def remove_bag(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    bag_id: int,
    volume_left_ml: Decimal | None,
) -> BagPreparationRecord:
    """Take a hung bag off the pump (the infusion stopped, or the bag ran its time)."""
    require_role(actor, Role.NURSE, Role.PHYSICIAN, doing="remove a bag")
    left = None if volume_left_ml is None else _amount("volume_left_ml", volume_left_ml, zero=True)
    row, _, _ = _bag_row(session, actor, bag_id)
    if row.status != BagStatus.HUNG:
        raise Conflict(f"bag {row.code} is {row.status}: only a hung bag is removed")
    row.status = BagStatus.REMOVED.value
    row.removed_by, row.removed_at, row.volume_left_ml = actor.user_id, now, left
    details = {"volume_left_ml": None if left is None else str(left)}
    _audit_step(session, actor, now, row, "bag.remove", BagStatus.HUNG, details)
    return _record_of(row)


def end_bag(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    bag_id: int,
    outcome: str,
    reason: str,
) -> BagPreparationRecord:
    """A bag not yet hung, ``voided`` by a pharmacist (it frees its slot for a new bag) or
    ``discarded`` by the clinic's staff; always with a reason."""
    if outcome == BagStatus.VOIDED:
        require_role(actor, Role.PHARMACIST, doing="void a bag")
    elif outcome == BagStatus.DISCARDED:
        require_role(actor, Role.PHARMACIST, Role.NURSE, Role.PHYSICIAN, doing="discard a bag")
    else:
        raise InvalidInput("outcome", outcome, "voided or discarded")
    reason = reason.strip()
    if not reason or len(reason) > 2000:
        raise InvalidInput("reason", f"{len(reason)} characters", "a reason, 1 to 2000 characters")
    row, _, _ = _bag_row(session, actor, bag_id)
    before = BagStatus(row.status)
    if before not in (BagStatus.PREPARED, BagStatus.VERIFIED, BagStatus.DISPENSED):
        raise Conflict(f"bag {row.code} is {before.value}: only a bag not yet hung is {outcome}")
    row.status = outcome
    row.ended_by, row.ended_at, row.ended_reason = actor.user_id, now, reason
    action = "bag.void" if outcome == BagStatus.VOIDED else "bag.discard"
    _audit_step(session, actor, now, row, action, before, {"reason": reason})
    return _record_of(row)


def hang_by(recipe: dict[str, Any], prepared_at: datetime) -> datetime | None:
    """The latest a bag may be hung: its refrigerated beyond-use limit from preparation
    (bags wait in the refrigerator), else the room-temperature one; None when the recipe
    gives neither (a hang is then refused)."""
    limits = dict(recipe.get("expiry", {}).get("prepared-bag", {}))
    for storage in ("refrigerated", "room-temperature"):
        limit = limits.get(storage)
        if not limit:
            continue
        within = limit.get("start_within_hours")
        if within is None and not limit.get("includes_infusion"):
            within = limit.get("hours")
        if within is not None:
            return prepared_at + timedelta(hours=float(within))
    return None


# --- reading -------------------------------------------------------------------------------


def list_bags(session: Session, *, actor: Actor, course_id: int) -> list[BagPreparationRecord]:
    """A course's bags, for the clinic's staff: a bag record holds the pharmacy's recipe
    and who prepared and checked it; the family reads its bag on the Today page."""
    require_role(
        actor, Role.NURSE, Role.PHARMACIST, Role.PHYSICIAN, Role.ADMIN, doing="see the bags"
    )
    course_for(session, actor, course_id)
    query = (
        select(BagPreparation)
        .where(BagPreparation.course_id == course_id)
        .order_by(BagPreparation.id)
    )
    return [_record_of(row) for row in session.execute(query).scalars()]


def get_bag(
    session: Session, *, actor: Actor, bag_id: int
) -> tuple[BagPreparationRecord, PatientRecord]:
    """A stored bag and its patient, for the clinic's staff (the family sees no bags)."""
    _require_bag_reader(actor)
    row, _, patient = _bag_row(session, actor, bag_id, lock=False)
    return _record_of(row), copy_of(PatientRecord, patient)


def bag_patient(session: Session, *, actor: Actor, bag_id: int) -> PatientRecord:
    """The patient of a stored bag, for the clinic's staff: where a page about the bag goes
    back to. The bag itself is not read."""
    _require_bag_reader(actor)
    _, patient = _course_of_bag(session, actor, bag_id)
    return copy_of(PatientRecord, patient)


def _require_bag_reader(actor: Actor) -> None:
    require_role(actor, Role.NURSE, Role.PHARMACIST, Role.PHYSICIAN, Role.ADMIN, doing="see a bag")


# --- helpers -------------------------------------------------------------------------------


def _prescription(plan: CoursePlan, bag: Bag, bag_hours: int, knowledge: Knowledge) -> Any:
    rules = label_dose_rules(knowledge.regimens_by_id.values())
    body = plan.body
    bsa_max = knowledge.pharmacy.bsa_max.value
    bsa = body.bsa
    if plan.dose_basis != "fixed" and bsa is not None:
        # The regimen's per-m2 step this bag's dose is; a re-planned dose that is none of
        # them is prescribed as the mcg/day the current plan gives.
        steps = {step.per_m2.value for cycle in plan.regimen.cycles for step in cycle.steps}
        for per_m2 in sorted(steps):
            rx = prescribe(
                bag_hours=bag_hours,
                weight_kg=body.weight.value,
                rules=rules,
                bsa_max=bsa_max,
                dose_mcg_per_m2_per_day=per_m2,
                bsa_m2=bsa.value,
            )
            if rx.dose == bag.dose:
                return rx
    return prescribe(
        bag_hours=bag_hours,
        weight_kg=body.weight.value,
        rules=rules,
        bsa_max=bsa_max,
        dose_mcg_per_day=bag.dose.value,
    )


def _reasons(checks: Any, level: CheckLevel) -> list[dict[str, str]]:
    return [
        {"code": c.code, "reason": c.reason, "source": c.source} for c in checks if c.level is level
    ]


def _stop(reason: str) -> dict[str, str]:
    return {"code": "hang-check", "reason": reason, "source": "the bag's record and recipe"}


def _stored(recipe: Recipe, bag: Bag, overrides: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = to_json_ready(recipe_to_dict(recipe))
    data["bag_start"] = bag.start.isoformat()
    data["overrides"] = overrides
    return data


def _amount(field: str, value: Decimal, *, zero: bool = False) -> Decimal:
    most = _MAX_RATE if field == "rate_ml_per_h" else _MAX_VOLUME
    # Finite first: ordering a NaN raises decimal.InvalidOperation instead of refusing it.
    low_ok = value.is_finite() and (value >= 0 if zero else value > 0)
    if not low_ok or value > most:
        raise InvalidInput(field, value, f"{'>= 0' if zero else '> 0'} and <= {most}")
    return value


def _bag_by_code(
    session: Session, actor: Actor, code: str
) -> tuple[BagPreparation, Course, Patient]:
    wanted = code.strip().upper().replace(" ", "").replace("-", "")
    if not 1 <= len(wanted) <= 16:
        raise InvalidInput("code", code, "the bag's code: 8 letters and digits from its label")
    bag_id = session.execute(
        select(BagPreparation.id).where(BagPreparation.code == wanted)
    ).scalar_one_or_none()
    try:
        if bag_id is None:
            raise NotFound(wanted)
        return _bag_row(session, actor, bag_id)
    except NotFound:
        raise NotFound(f"no bag has the code {wanted}") from None


def _bag_row(
    session: Session, actor: Actor, bag_id: int, *, lock: bool = True
) -> tuple[BagPreparation, Course, Patient]:
    """The bag (locked for a change), its course and patient; a bag of a patient the actor
    may not see is not found, and is not read."""
    course, patient = _course_of_bag(session, actor, bag_id)
    row = session.get(BagPreparation, bag_id, with_for_update=lock)
    assert row is not None  # bags are never deleted
    return row, course, patient


def _course_of_bag(session: Session, actor: Actor, bag_id: int) -> tuple[Course, Patient]:
    """The course and patient of the bag ``bag_id``, when the actor may see the patient."""
    course_id = session.execute(
        select(BagPreparation.course_id).where(BagPreparation.id == bag_id)
    ).scalar_one_or_none()
    try:
        if course_id is None:
            raise NotFound(bag_id)
        return course_for(session, actor, course_id)
    except NotFound:
        raise NotFound(f"bag {bag_id} not found") from None


def _record_of(row: BagPreparation) -> BagPreparationRecord:
    return copy_of(BagPreparationRecord, row)


def _bag_and_course(
    session: Session, actor: Actor, now: datetime, knowledge: Knowledge, bag_id: int
) -> tuple[BagPreparation, CourseView]:
    """The bag and its course now, for a step checked against the current plan."""
    row, course, patient = _bag_row(session, actor, bag_id)
    view = view_of(session, knowledge, course, patient, events_of(session, course.id), now)
    return row, view


def _refuse_do_not_hang(state: CourseState, row: BagPreparation) -> None:
    reason = state.reason_not_to_hang(row.id)
    if reason is not None:
        raise Conflict(f"do not hang bag {row.code}: {reason}. Void it, with a reason.")


def _record(row: BagPreparation) -> BagRecord:
    return BagRecord(
        row.id,
        row.code,
        row.slot_start,
        McgPerDay(row.dose_mcg_per_day),
        BagStatus(row.status),
        row.hung_at,
        row.removed_at,
    )


def _audit_step(
    session: Session,
    actor: Actor,
    now: datetime,
    row: BagPreparation,
    action: str,
    before: BagStatus,
    details: dict[str, Any],
) -> None:
    append_audit(
        session,
        at=now,
        actor=actor,
        action=action,
        subject_type="bag",
        subject_id=row.id,
        before={"status": before.value},
        after={"status": row.status, "code": row.code, **details},
    )
