"""Gradings at the bedside: CRS and ICANS (ASTCT), recorded on a course with the label's
action, or computed without storing anything (calculators)."""

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from blina.api.deps import ActorDep, ReadDep, StateDep, TxDep
from blina.api.schemas import BoundedDecimal, BoundedInteger
from blina.domain.modifications import AdverseReaction
from blina.domain.toxicity import Grading
from blina.domain.toxicity.crs import CrsFindings, Hypotension, OxygenSupport
from blina.domain.toxicity.icans import CerebralEdema, Consciousness, IcansFindings, Seizure
from blina.interop.json.grading import grading_to_dict
from blina.interop.json.values import to_json_ready
from blina.knowledge import Knowledge
from blina.services import toxicity
from blina.services.gradings import grade_crs_findings, grade_icans_findings
from blina.services.records import AssessmentRecord
from blina.services.storage import RecordId

router = APIRouter(tags=["toxicity"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CrsIn(_In):
    scale: Literal["crs"] = "crs"
    temperature_c: BoundedDecimal
    fever_masked: bool = False
    crs_diagnosed: bool = False
    hypotension: Hypotension = Hypotension.NONE
    oxygen: OxygenSupport = OxygenSupport.NONE
    oxygen_flow_l_per_min: BoundedDecimal | None = None


class IcansIn(_In):
    scale: Literal["icans"] = "icans"
    age_years: BoundedDecimal
    consciousness: Consciousness
    ice_score: BoundedInteger | None = None
    capd_score: BoundedInteger | None = None
    developmental_delay: bool = False
    seizure: Seizure = Seizure.NONE
    motor_weakness: bool = False
    cerebral_edema: CerebralEdema = CerebralEdema.NONE


class AssessmentCreate(_In):
    findings: CrsIn | IcansIn = Field(discriminator="scale")


class AssessmentPublic(BaseModel):
    id: int
    course_id: int
    scale: str
    grade: int
    inputs: dict[str, Any]
    decision: dict[str, Any]
    assessed_by: int


def _grade(findings: CrsIn | IcansIn, knowledge: Knowledge) -> tuple[Grading, AdverseReaction]:
    if isinstance(findings, CrsIn):
        crs = CrsFindings(
            temperature_c=findings.temperature_c,
            hypotension=findings.hypotension,
            oxygen=findings.oxygen,
            fever_masked=findings.fever_masked,
            crs_diagnosed=findings.crs_diagnosed,
            oxygen_flow_l_per_min=findings.oxygen_flow_l_per_min,
        )
        return grade_crs_findings(crs, knowledge)
    icans = IcansFindings(
        age_years=findings.age_years,
        consciousness=findings.consciousness,
        ice_score=findings.ice_score,
        capd_score=findings.capd_score,
        developmental_delay=findings.developmental_delay,
        seizure=findings.seizure,
        motor_weakness=findings.motor_weakness,
        cerebral_edema=findings.cerebral_edema,
    )
    return grade_icans_findings(icans, knowledge)


@router.post("/courses/{course_id}/assessments", status_code=201)
def record(
    course_id: RecordId, body: AssessmentCreate, session: TxDep, state: StateDep, actor: ActorDep
) -> AssessmentPublic:
    """Grade CRS or ICANS and store it with the label's action for this course."""
    grading, reaction = _grade(body.findings, state.knowledge)
    row = toxicity.record_assessment(
        session,
        actor=actor,
        now=state.clock.now(),
        knowledge=state.knowledge,
        course_id=course_id,
        reaction=reaction,
        grading=grading,
        inputs=body.findings.model_dump(mode="python"),
    )
    return AssessmentPublic.model_validate(row, from_attributes=True)


@router.get("/courses/{course_id}/assessments")
def list_assessments(
    course_id: RecordId, session: ReadDep, actor: ActorDep
) -> list[AssessmentPublic]:
    rows: list[AssessmentRecord] = toxicity.list_assessments(
        session, actor=actor, course_id=course_id
    )
    return [AssessmentPublic.model_validate(row, from_attributes=True) for row in rows]


@router.post("/calc/grade")
def grade(body: AssessmentCreate, state: StateDep, actor: ActorDep) -> dict[str, Any]:
    """Grade CRS or ICANS as `blina grade` does; nothing is stored."""
    grading, _ = _grade(body.findings, state.knowledge)
    result: dict[str, Any] = to_json_ready(grading_to_dict(grading))
    return result
