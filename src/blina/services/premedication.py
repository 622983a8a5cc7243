"""Premedication recorded as given: what, how much, when, by whom. It closes the task."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from blina.domain.errors import InvalidInput
from blina.knowledge import Knowledge
from blina.services.access import course_for, require_role
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.courses import events_of, view_of
from blina.services.errors import Conflict
from blina.services.records import PremedicationRecord, copy_of
from blina.store.tables import PremedicationGiven

__all__ = ["GIVEN_WINDOW", "list_given", "record_given"]

# A dose recorded as given more than this far from its planned time is refused as a
# different dose (a typing slip of a day or a month), not attached to this one.
GIVEN_WINDOW = timedelta(hours=12)


def record_given(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    course_id: int,
    due: datetime,
    drug: str,
    given_at: datetime,
) -> PremedicationRecord:
    """Record the plan's premedication dose ``drug`` due at ``due`` as given at
    ``given_at`` (a nurse or physician). The dose is the plan's; nothing else is taken."""
    require_role(actor, Role.NURSE, Role.PHYSICIAN, doing="record a premedication as given")
    if given_at.tzinfo is None or given_at.utcoffset() is None:
        raise InvalidInput("given_at", given_at.isoformat(), "a date-time with a UTC offset")
    if given_at > now:
        raise InvalidInput("given_at", given_at.isoformat(), f"not after now ({now.isoformat()})")
    course, patient = course_for(session, actor, course_id)
    view = view_of(session, knowledge, course, patient, events_of(session, course.id), now)
    planned = [d for d in view.plan.premedication if d.due == due and d.drug == drug]
    if not planned:
        doses = sorted({f"{d.drug} at {d.due.isoformat()}" for d in view.plan.premedication})
        raise InvalidInput(
            "due",
            due.isoformat(),
            "a premedication of the course's current plan: "
            + ("; ".join(doses[:5]) or "it has none"),
        )
    if abs(given_at - due) > GIVEN_WINDOW:
        raise InvalidInput(
            "given_at",
            given_at.isoformat(),
            f"within {GIVEN_WINDOW.seconds // 3600} h of the dose's time ({due.isoformat()})",
        )
    dose = planned[0]
    row = PremedicationGiven(
        course_id=course.id,
        due=due,
        drug=drug,
        dose=f"{dose.dose} {dose.route}",
        given_at=given_at,
        given_by=actor.user_id,
        recorded_at=now,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"{drug} due {due.isoformat()} was already recorded as given") from None
    append_audit(
        session,
        at=now,
        actor=actor,
        action="premedication.given",
        subject_type="course",
        subject_id=course.id,
        after={
            "drug": drug,
            "dose": row.dose,
            "due": due.isoformat(),
            "given_at": given_at.isoformat(),
        },
    )
    return copy_of(PremedicationRecord, row)


def list_given(session: Session, *, actor: Actor, course_id: int) -> list[PremedicationRecord]:
    course_for(session, actor, course_id)
    rows = session.execute(
        select(PremedicationGiven)
        .where(PremedicationGiven.course_id == course_id)
        .order_by(PremedicationGiven.due)
    ).scalars()
    return [copy_of(PremedicationRecord, row) for row in rows]
