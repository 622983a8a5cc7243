"""Gradings recorded on a course: the grade with its criteria, and the label's action."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from blina.domain.course_plan import CoursePlan
from blina.domain.modifications import Action, AdverseReaction, CourseState, decide
from blina.domain.replanning.events import Interruption
from blina.domain.toxicity import Grading
from blina.interop.json.grading import grading_to_dict
from blina.interop.json.values import to_json_ready
from blina.knowledge import Knowledge
from blina.services.access import course_for, require_role
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.courses import events_of, get_course
from blina.services.records import AssessmentRecord, copy_of
from blina.store.tables import ToxicityAssessment

__all__ = ["action_for", "action_to_dict", "list_assessments", "record_assessment"]


def record_assessment(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    course_id: int,
    reaction: AdverseReaction,
    grading: Grading,
    inputs: dict[str, Any],
) -> AssessmentRecord:
    """Store a grading and what the label says to do about it (physician or nurse)."""
    require_role(actor, Role.PHYSICIAN, Role.NURSE, doing="record a grading")
    action = action_for(
        session,
        actor=actor,
        now=now,
        knowledge=knowledge,
        course_id=course_id,
        reaction=reaction,
        grading=grading,
    )
    row = ToxicityAssessment(
        course_id=course_id,
        scale=grading.scale,
        inputs=to_json_ready(inputs),
        grade=grading.grade,
        decision={
            "grading": to_json_ready(grading_to_dict(grading)),
            "action": None if action is None else action_to_dict(action),
        },
        assessed_by=actor.user_id,
        assessed_at=now,
    )
    session.add(row)
    session.flush()
    append_audit(
        session,
        at=now,
        actor=actor,
        action="toxicity.grade",
        subject_type="course",
        subject_id=course_id,
        after={
            "assessment": row.id,
            "scale": grading.scale,
            "grade": grading.grade,
            "action": None if action is None else str(action.kind),
        },
    )
    return copy_of(AssessmentRecord, row)


def action_for(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    course_id: int,
    reaction: AdverseReaction,
    grading: Grading,
) -> Action | None:
    """What the label says to do about a grading on this course now; None for grade 0.

    Stores nothing (the live grading form shows it before the grading is recorded).
    """
    require_role(actor, Role.PHYSICIAN, Role.NURSE, doing="grade a reaction")
    view = get_course(session, actor=actor, now=now, knowledge=knowledge, course_id=course_id)
    if grading.grade == 0:
        return None
    return _decide(session, view.plan, course_id, reaction, grading, knowledge, now)


def list_assessments(session: Session, *, actor: Actor, course_id: int) -> list[AssessmentRecord]:
    course_for(session, actor, course_id)
    query = select(ToxicityAssessment).where(ToxicityAssessment.course_id == course_id)
    rows = session.execute(query.order_by(ToxicityAssessment.id)).scalars()
    return [copy_of(AssessmentRecord, row) for row in rows]


def action_to_dict(action: Action) -> dict[str, Any]:
    data = {
        "kind": str(action.kind),
        "reaction": str(action.reaction),
        "grade": action.grade,
        "corticosteroid_dose_mg": None
        if action.corticosteroid_dose is None
        else action.corticosteroid_dose.value,
        "restart_dose_mcg_per_day": None
        if action.restart_dose is None
        else action.restart_dose.value,
        "step_up_dose_mcg_per_day": None
        if action.step_up_dose is None
        else action.step_up_dose.value,
        "rule": None if action.rule is None else action.rule.text,
        "older_rule": None if action.older is None else action.older.text,
        "needs_confirmation": action.needs_confirmation,
        "reasons": list(action.reasons),
        "warnings": list(action.warnings),
        "source": action.source,
    }
    result: dict[str, Any] = to_json_ready(data)
    return result


def _decide(
    session: Session,
    plan: CoursePlan,
    course_id: int,
    reaction: AdverseReaction,
    grading: Grading,
    knowledge: Knowledge,
    now: datetime,
) -> Action:
    earlier = [e for e in events_of(session, course_id) if isinstance(e, Interruption)]
    day = (
        plan.days[0]
        if now.astimezone(plan.zone).date() < plan.first_day
        else plan.day(min(now.astimezone(plan.zone).date(), plan.last_day))
    )
    state = CourseState(
        weight=plan.body.weight,
        bsa=plan.body.bsa,
        weight_threshold=plan.regimen.weight_threshold,
        seizures=sum(1 for e in earlier if e.cause is AdverseReaction.SEIZURE)
        + (1 if reaction is AdverseReaction.SEIZURE else 0),
        earlier_episodes=sum(1 for e in earlier if e.cause is reaction and e.grade >= 3),
        dose_at_onset=day.dose if day.infusing else None,
    )
    return decide(
        reaction=reaction, grade=grading.grade, state=state, rules=knowledge.toxicity.modifications
    )
