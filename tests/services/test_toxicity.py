"""Gradings recorded on a course: stored with their criteria and what the label says to do
about them on this course now, audited; read back by whoever may see the patient."""

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.modifications import ActionKind, AdverseReaction
from blina.domain.toxicity import Grading
from blina.domain.toxicity.crs import CrsFindings, Hypotension, OxygenSupport
from blina.knowledge import Knowledge
from blina.services.errors import NotFound, PermissionDenied
from blina.services.gradings import grade_crs_findings
from blina.services.toxicity import (
    action_for,
    action_to_dict,
    list_assessments,
    record_assessment,
)
from blina.store.session import read_only, transaction
from tests.clinic_factories import NOW, World, add_course, audited

INPUTS = {"temperature_c": Decimal("39.4"), "hypotension": "one-vasopressor", "oxygen": "none"}


@pytest.fixture
def course(sessions: sessionmaker[Session], world: World, knowledge: Knowledge) -> int:
    """P1's course, its first 9 mcg/day bag running since 09:00."""
    with transaction(sessions) as session:
        return add_course(session, world, knowledge)


def _crs(knowledge: Knowledge, hypotension: Hypotension, temperature: str = "39.4") -> Grading:
    findings = CrsFindings(Decimal(temperature), hypotension, OxygenSupport.NONE)
    return grade_crs_findings(findings, knowledge)[0]


def test_a_grade_3_crs_is_stored_with_the_label_s_interruption_and_audited(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    grading = _crs(knowledge, Hypotension.ONE_VASOPRESSOR)

    with transaction(sessions) as session:
        row = record_assessment(
            session,
            actor=world.nurse,
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            reaction=AdverseReaction.CRS,
            grading=grading,
            inputs=INPUTS,
        )
        assessment = row.id

    with read_only(sessions) as session:
        [stored] = list_assessments(session, actor=world.physician, course_id=course)
        [event] = audited(session, "toxicity.grade")
    assert (stored.id, stored.grade, stored.assessed_by) == (assessment, 3, world.nurse.user_id)
    # JSON numbers, the digits as entered
    assert stored.inputs == {
        "temperature_c": 39.4,
        "hypotension": "one-vasopressor",
        "oxygen": "none",
    }
    assert stored.decision["grading"]["grade"] == 3
    action = stored.decision["action"]
    assert (action["kind"], action["reaction"], action["grade"]) == ("interrupt", "crs", 3)
    assert event.after == {
        "assessment": assessment,
        "scale": grading.scale,
        "grade": 3,
        "action": "interrupt",
    }


def test_a_grade_3_crs_is_stored_with_the_label_s_corticosteroid_and_restart_dose(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    """Moved down from the API's tests (test_flows): fever, one vasopressor and low-flow
    oxygen."""
    findings = CrsFindings(Decimal("39.5"), Hypotension.ONE_VASOPRESSOR, OxygenSupport.LOW_FLOW)
    grading = grade_crs_findings(findings, knowledge)[0]

    with transaction(sessions) as session:
        row = record_assessment(
            session,
            actor=world.nurse,
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            reaction=AdverseReaction.CRS,
            grading=grading,
            inputs={},
        )

    assert row.grade == 3
    action = row.decision["action"]
    assert action["kind"] == "interrupt"
    assert action["corticosteroid_dose_mg"] == 8
    assert action["restart_dose_mcg_per_day"] == 9


def test_a_grade_0_has_no_action_to_take(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    grading = _crs(knowledge, Hypotension.NONE, temperature="37.0")

    with transaction(sessions) as session:
        row = record_assessment(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            reaction=AdverseReaction.CRS,
            grading=grading,
            inputs={},
        )
        assert (row.grade, row.decision["action"]) == (0, None)

    with read_only(sessions) as session:
        assert audited(session, "toxicity.grade")[0].after["action"] is None


def test_action_for_says_what_to_do_and_stores_nothing(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    with read_only(sessions) as session:
        action = action_for(
            session,
            actor=world.nurse,
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            reaction=AdverseReaction.CRS,
            grading=_crs(knowledge, Hypotension.ONE_VASOPRESSOR),
        )
        assert list_assessments(session, actor=world.nurse, course_id=course) == []

    assert action is not None
    assert action.kind is ActionKind.INTERRUPT
    as_dict = action_to_dict(action)
    assert (as_dict["kind"], as_dict["reaction"], as_dict["grade"]) == ("interrupt", "crs", 3)
    assert as_dict["restart_dose_mcg_per_day"] == 9
    assert as_dict["source"] == action.source


@pytest.mark.parametrize("who", ["pharmacist", "admin", "family"])
def test_only_a_nurse_or_physician_grades(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int, who: str
) -> None:
    grading = _crs(knowledge, Hypotension.ONE_VASOPRESSOR)
    with transaction(sessions) as session:
        for call in (record_assessment, action_for):
            arguments = {"inputs": {}} if call is record_assessment else {}
            with pytest.raises(PermissionDenied):
                call(
                    session,
                    actor=getattr(world, who),
                    now=NOW,
                    knowledge=knowledge,
                    course_id=course,
                    reaction=AdverseReaction.CRS,
                    grading=grading,
                    **arguments,
                )


def test_another_clinic_s_course_is_not_found(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    with transaction(sessions) as session, pytest.raises(NotFound):
        record_assessment(
            session,
            actor=world.outsider,
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            reaction=AdverseReaction.CRS,
            grading=_crs(knowledge, Hypotension.FLUIDS),
            inputs={},
        )


def test_a_family_reads_its_own_course_s_gradings_only(
    sessions: sessionmaker[Session], world: World, course: int
) -> None:
    with read_only(sessions) as session:
        assert list_assessments(session, actor=world.family, course_id=course) == []
        with pytest.raises(NotFound):
            list_assessments(session, actor=world.other_family, course_id=course)
