"""Bags for a course: prepared by one pharmacist, verified by another, both recorded.

The recipe comes from the pharmacy domain (mass balance, independent re-check, site
library); a hard stop stores nothing; a soft check needs an override reason, which is
stored with the recipe and audited.
"""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from blina.config import Settings
from blina.domain.checks import CheckLevel
from blina.domain.druglib import label_dose_rules, prescribe
from blina.domain.errors import BlinaError, InvalidInput
from blina.domain.planning import Bag, CoursePlan
from blina.domain.preparation import Recipe, Refusal, ResolvedLibrary, prepare_bag
from blina.interop.plan_json import to_json_ready
from blina.interop.recipe_json import recipe_to_dict
from blina.knowledge import Knowledge
from blina.knowledge._pharmacy import DEMO_LIBRARY, load_site_library
from blina.services.access import course_for, require_role
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.courses import plan_for
from blina.services.errors import Conflict, NotFound, PermissionDenied
from blina.store.tables import BagPreparation, Clinic, Patient

__all__ = [
    "HardStop",
    "get_bag",
    "library_for",
    "list_bags",
    "prepare_course_bag",
    "site_library",
    "verify_bag",
]


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
) -> BagPreparation:
    """Prepare the course's bag hung at ``bag_start`` (default: the next one from ``now``)."""
    require_role(actor, Role.PHARMACIST, doing="prepare a bag")
    course, patient = course_for(session, actor, course_id)
    zone = session.execute(select(Clinic.zone).where(Clinic.id == patient.clinic_id)).scalar_one()
    plan = plan_for(knowledge, course, ZoneInfo(zone))
    bag = _bag(plan, bag_start, now)
    result = prepare_bag(
        prescription=_prescription(plan, bag, course.bag_hours, knowledge), library=library
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
    row = BagPreparation(
        course_id=course.id,
        recipe=recipe,
        prepared_by=actor.user_id,
        prepared_at=now,
        verified_by=None,
        verified_at=None,
    )
    session.add(row)
    session.flush()
    append_audit(
        session,
        at=now,
        actor=actor,
        action="bag.prepare",
        subject_type="bag",
        subject_id=row.id,
        after={
            "course_id": course.id,
            "bag_start": recipe["bag_start"],
            "dose_mcg_per_day": recipe["prescription"]["dose_mcg_per_day"],
            "overrides": recipe["overrides"],
        },
    )
    return row


def verify_bag(session: Session, *, actor: Actor, now: datetime, bag_id: int) -> BagPreparation:
    """A second pharmacist checks the bag: never the one who prepared it."""
    require_role(actor, Role.PHARMACIST, doing="verify a bag")
    row = session.get(BagPreparation, bag_id, with_for_update=True)
    if row is None:
        raise NotFound(f"bag {bag_id} not found")
    course_for(session, actor, row.course_id)
    if row.prepared_by == actor.user_id:
        raise PermissionDenied(
            "a bag is verified by a second pharmacist, never by the one who prepared it"
        )
    if row.verified_by is not None:
        raise Conflict(f"bag {bag_id} was already verified")
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
    return row


def _bag(plan: CoursePlan, bag_start: datetime | None, now: datetime) -> Bag:
    if bag_start is None:
        upcoming = [b for b in plan.bags if b.start >= now - timedelta(hours=1)]
        if not upcoming:
            raise InvalidInput(
                "bag_start", "(next)", "given: the course has no bag left to prepare"
            )
        return upcoming[0]
    for bag in plan.bags:
        if bag.start == bag_start:
            return bag
    raise InvalidInput(
        "bag_start", bag_start.isoformat(), "the start of one of the course's bags (see its plan)"
    )


def _prescription(plan: CoursePlan, bag: Bag, bag_hours: int, knowledge: Knowledge) -> Any:
    rules = label_dose_rules(knowledge.regimens_by_id.values())
    body = plan.body
    bsa_max = knowledge.pharmacy.bsa_max.value
    if plan.dose_basis == "fixed" or body.bsa is None:
        return prescribe(
            bag_hours=bag_hours,
            weight_kg=body.weight.value,
            rules=rules,
            bsa_max=bsa_max,
            dose_mcg_per_day=bag.dose.value,
        )
    cycle = next(c for c in plan.cycles if c.number == bag.cycle)
    day = (bag.start - cycle.infusion_start) // timedelta(days=1) + 1
    spec = plan.regimen.cycles[bag.cycle - 1]
    step = next(s for s in spec.steps if s.first_day <= day <= s.last_day)
    return prescribe(
        bag_hours=bag_hours,
        weight_kg=body.weight.value,
        rules=rules,
        bsa_max=bsa_max,
        dose_mcg_per_m2_per_day=step.per_m2.value,
        bsa_m2=body.bsa.value,
    )


def _reasons(checks: Any, level: CheckLevel) -> list[dict[str, str]]:
    return [
        {"code": c.code, "reason": c.reason, "source": c.source} for c in checks if c.level is level
    ]


def _stored(recipe: Recipe, bag: Bag, overrides: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = to_json_ready(recipe_to_dict(recipe))
    data["bag_start"] = bag.start.isoformat()
    data["overrides"] = overrides
    return data


def list_bags(session: Session, *, actor: Actor, course_id: int) -> list[BagPreparation]:
    course_for(session, actor, course_id)
    query = (
        select(BagPreparation)
        .where(BagPreparation.course_id == course_id)
        .order_by(BagPreparation.id)
    )
    return list(session.execute(query).scalars())


def get_bag(session: Session, *, actor: Actor, bag_id: int) -> tuple[BagPreparation, Patient]:
    """A stored bag and its patient, for the clinic's staff (the family sees no bags)."""
    require_role(actor, Role.NURSE, Role.PHARMACIST, Role.PHYSICIAN, Role.ADMIN, doing="see a bag")
    row = session.get(BagPreparation, bag_id)
    if row is None:
        raise NotFound(f"bag {bag_id} not found")
    try:
        _, patient = course_for(session, actor, row.course_id)
    except NotFound:
        raise NotFound(f"bag {bag_id} not found") from None
    return row, patient
