"""Lab values on a course, each graded by CTCAE v5.0 as it is recorded.

A lab value is stored as a toxicity assessment (scale ``LAB_SCALE``): the inputs hold
the value as entered (exact decimal text) with the unit it was entered in, the same value
in the term's canonical unit (``canonical_value``, ``canonical_unit``: the unit the
thresholds are written in, converted exactly), the reference values (in the entered
unit) and when the sample was taken; the decision holds the grading with the rule that
decided it. A value entered without a unit is in the term's canonical unit, as before
units were asked for; rows stored then have no ``canonical_value`` (their value is
canonical). The grade comes from ``domain.toxicity.ctcae`` with the thresholds of
``knowledge/toxicity.toml``; nothing here knows a threshold or a conversion factor.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from blina.domain.errors import InvalidInput
from blina.domain.toxicity import Grading
from blina.domain.toxicity.ctcae import CtcaeCriteria, CtcaeFindings, CtcaeTerm, grade_ctcae
from blina.interop.json.grading import grading_to_dict
from blina.interop.json.values import to_json_ready
from blina.knowledge import Knowledge
from blina.services.access import course_for, require_role
from blina.services.actors import Actor, Role
from blina.services.audit import append_audit
from blina.services.records import AssessmentRecord, copy_of
from blina.store.tables import ToxicityAssessment

__all__ = [
    "LAB_SCALE",
    "LabRequest",
    "grade_lab",
    "lab_terms",
    "lab_units",
    "list_lab_values",
    "record_lab_value",
]

# The ``scale`` column of a lab value; the CTCAE version is in the stored grading.
LAB_SCALE = "ctcae-lab"


@dataclass(frozen=True, slots=True)
class LabRequest:
    """A lab result as entered: the CTCAE term id, the value and its unit (one of the
    term's units; none is the term's canonical unit), the reference values the term's
    bands need (in the same unit), and when the sample was taken."""

    term: str
    value: Decimal | None
    unit: str | None = None
    uln: Decimal | None = None
    lln: Decimal | None = None
    baseline: Decimal | None = None
    symptomatic: bool | None = None
    taken_at: datetime | None = None


def lab_terms(criteria: CtcaeCriteria) -> list[CtcaeTerm]:
    """The CTCAE terms graded from a lab value alone (bands), in the knowledge file's order.

    Clinical terms (graded by a finding) and febrile neutropenia (a lab value with a
    temperature) are not lab values.
    """
    return [t for t in criteria.terms.values() if t.bands and t.febrile is None]


def lab_units(criteria: CtcaeCriteria, term_id: str) -> tuple[str, ...]:
    """The units a lab term's value may be entered in, its canonical unit first; none for
    an id that is not a lab term."""
    term = criteria.terms.get(term_id)
    if term is None or term.measurand is None or term.febrile is not None:
        return ()
    return tuple(unit.code for unit in term.measurand.units)


def grade_lab(request: LabRequest, knowledge: Knowledge) -> Grading:
    """The CTCAE grade of a lab value; ``InvalidInput`` names the field that is wrong."""
    criteria = knowledge.toxicity.ctcae
    known = lab_terms(criteria)
    if request.term not in {t.id for t in known}:
        allowed = f"one of {', '.join(t.id for t in known)}"
        raise InvalidInput("term", request.term or "(missing)", allowed)
    findings = CtcaeFindings(
        value=request.value,
        unit=request.unit,
        uln=request.uln,
        lln=request.lln,
        baseline=request.baseline,
        symptomatic=request.symptomatic,
    )
    return grade_ctcae(request.term, findings, criteria)


def record_lab_value(
    session: Session,
    *,
    actor: Actor,
    now: datetime,
    knowledge: Knowledge,
    course_id: int,
    request: LabRequest,
) -> ToxicityAssessment:
    """Grade a lab value and store it on the course (physician or nurse); audited."""
    require_role(actor, Role.PHYSICIAN, Role.NURSE, doing="record a lab value")
    course_for(session, actor, course_id)
    grading = grade_lab(request, knowledge)
    taken_at = _taken_at(request.taken_at, now)
    term = knowledge.toxicity.ctcae.terms[request.term]
    inputs = _inputs(request, term, taken_at)
    row = ToxicityAssessment(
        course_id=course_id,
        scale=LAB_SCALE,
        inputs=inputs,
        grade=grading.grade,
        decision={"grading": to_json_ready(grading_to_dict(grading)), "action": None},
        assessed_by=actor.user_id,
        assessed_at=now,
    )
    session.add(row)
    session.flush()
    append_audit(
        session,
        at=now,
        actor=actor,
        action="lab.record",
        subject_type="course",
        subject_id=course_id,
        after={
            "assessment": row.id,
            "term": term.id,
            "value": str(request.value),
            "unit": inputs["unit"],
            "grade": grading.grade,
            "taken_at": taken_at.astimezone(UTC).isoformat(),
        },
    )
    return row


def list_lab_values(session: Session, *, actor: Actor, course_id: int) -> list[AssessmentRecord]:
    """The course's lab values, the latest sample first."""
    course_for(session, actor, course_id)
    query = select(ToxicityAssessment).where(
        ToxicityAssessment.course_id == course_id, ToxicityAssessment.scale == LAB_SCALE
    )
    rows = session.execute(query.order_by(ToxicityAssessment.id.desc())).scalars()
    return sorted(
        (copy_of(AssessmentRecord, row) for row in rows),
        key=lambda r: datetime.fromisoformat(r.inputs["taken_at"]),
        reverse=True,
    )


def _taken_at(taken_at: datetime | None, now: datetime) -> datetime:
    if taken_at is None:
        raise InvalidInput("taken_at", "(missing)", "a date and time")
    if taken_at.tzinfo is None:
        raise InvalidInput("taken_at", taken_at.isoformat(), "a date and time with a time zone")
    if taken_at > now:
        raise InvalidInput("taken_at", taken_at.isoformat(), f"not after now ({now.isoformat()})")
    return taken_at


def _inputs(request: LabRequest, term: CtcaeTerm, taken_at: datetime) -> dict[str, Any]:
    """The lab value as entered and in the canonical unit: exact decimals as text, the
    instant in UTC. Called after grading, which has checked the value and its unit."""
    measurand, value = term.measurand, request.value
    assert measurand is not None
    assert value is not None
    unit = measurand.unit("unit", request.unit)
    inputs: dict[str, Any] = {
        "term": term.id,
        "value": str(value),
        "unit": unit.code,
        "canonical_value": str(measurand.to_canonical(value, unit)),
        "canonical_unit": measurand.canonical,
        "taken_at": taken_at.astimezone(UTC).isoformat(),
    }
    for name in ("uln", "lln", "baseline"):
        reference = getattr(request, name)
        if reference is not None:
            inputs[name] = str(reference)
    if request.symptomatic is not None:
        inputs["symptomatic"] = request.symptomatic
    return inputs
