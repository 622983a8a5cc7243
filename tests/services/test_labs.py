"""Lab values recorded with their units (issue 15, item 10): the value as entered and its
unit, the same value in the canonical unit, the grade of the converted value; a value
with no unit is in the term's canonical unit, as before."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.errors import InvalidInput
from blina.knowledge import Knowledge
from blina.services.accounts import to_actor
from blina.services.actors import Actor
from blina.services.labs import LabRequest, grade_lab, lab_units, record_lab_value
from blina.store.session import read_only, transaction
from blina.store.tables import AuditEvent, Course, Patient, ToxicityAssessment, User
from tests.conftest import DEMO_NOW

NOW = DEMO_NOW  # the demo clinic's instant
TAKEN = NOW - timedelta(hours=2)


@dataclass(frozen=True)
class Ward:
    sessions: sessionmaker[Session]
    nurse: Actor
    course: int


@pytest.fixture
def ward(
    sessions: sessionmaker[Session], engine: Engine, demo_clinic_in: Callable[[Engine], Engine]
) -> Ward:
    demo_clinic_in(engine)
    with read_only(sessions) as session:
        nurse = session.execute(select(User).where(User.username == "nurse.kim")).scalar_one()
        course = session.execute(
            select(Course.id)
            .join(Patient, Course.patient_id == Patient.id)
            .where(Patient.code == "P-002")
            .order_by(Course.id.desc())
            .limit(1)
        ).scalar_one()
        return Ward(sessions, to_actor(nurse), course)


def _record(ward: Ward, knowledge: Knowledge, request: LabRequest) -> ToxicityAssessment:
    with transaction(ward.sessions) as session:
        row = record_lab_value(
            session,
            actor=ward.nurse,
            now=NOW,
            knowledge=knowledge,
            course_id=ward.course,
            request=request,
        )
        session.expunge(row)
    return row


def test_a_value_in_g_per_l_is_stored_as_entered_and_in_g_per_dl(
    ward: Ward, knowledge: Knowledge
) -> None:
    request = LabRequest(
        "hemoglobin", Decimal("75"), unit="g/L", lln=Decimal("120"), taken_at=TAKEN
    )

    row = _record(ward, knowledge, request)

    assert row.grade == 3
    assert row.inputs == {
        "term": "hemoglobin",
        "value": "75",
        "unit": "g/L",
        "canonical_value": "7.5",
        "canonical_unit": "g/dL",
        "lln": "120",
        "taken_at": TAKEN.isoformat(),
    }
    with read_only(ward.sessions) as session:
        audit = session.execute(
            select(AuditEvent).where(AuditEvent.action == "lab.record")
        ).scalar_one()
    assert (audit.after["value"], audit.after["unit"], audit.after["grade"]) == ("75", "g/L", 3)


def test_a_value_without_a_unit_is_in_the_term_s_unit_as_before(
    ward: Ward, knowledge: Knowledge
) -> None:
    request = LabRequest("neutrophils", Decimal("800"), lln=Decimal("1500"), taken_at=TAKEN)

    row = _record(ward, knowledge, request)

    assert row.grade == 3
    assert (row.inputs["value"], row.inputs["unit"]) == ("800", "cells/mm3")
    assert (row.inputs["canonical_value"], row.inputs["canonical_unit"]) == ("800", "cells/mm3")


def test_an_alias_is_stored_by_the_unit_s_code(ward: Ward, knowledge: Knowledge) -> None:
    request = LabRequest(
        "platelets", Decimal("20"), unit="10^3/uL", lln=Decimal("150"), taken_at=TAKEN
    )

    row = _record(ward, knowledge, request)

    assert row.grade == 4
    assert (row.inputs["unit"], row.inputs["canonical_value"]) == ("10^9/L", "20000")


def test_an_implausible_value_is_refused_and_nothing_is_stored(
    ward: Ward, knowledge: Knowledge
) -> None:
    request = LabRequest("hemoglobin", Decimal("75"), lln=Decimal("12"), taken_at=TAKEN)

    with pytest.raises(InvalidInput, match="did you mean 75 g/L"):
        _record(ward, knowledge, request)

    with read_only(ward.sessions) as session:
        stored = session.execute(
            select(ToxicityAssessment).where(ToxicityAssessment.course_id == ward.course)
        ).all()
    assert [row for row in stored if row[0].scale == "ctcae-lab"] == []


def test_grade_lab_passes_the_unit(knowledge: Knowledge) -> None:
    request = LabRequest("hyperkalemia", Decimal("6.1"), unit="mEq/L", uln=Decimal("5.0"))

    assert grade_lab(request, knowledge).grade == 3


def test_lab_units_lists_a_term_s_units_canonical_first(knowledge: Knowledge) -> None:
    criteria = knowledge.toxicity.ctcae

    assert lab_units(criteria, "hemoglobin") == ("g/dL", "g/L")
    assert lab_units(criteria, "hypocalcemia") == ("mmol/L", "mg/dL")
    assert lab_units(criteria, "alt") == ("U/L",)
    for not_a_lab_term in ("seizure", "febrile-neutropenia", "nothing", ""):
        assert lab_units(criteria, not_a_lab_term) == ()
