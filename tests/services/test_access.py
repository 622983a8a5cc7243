"""Who may see what, as every service asks it (``blina.services.access``): staff see their
clinic's patients, a patient or caregiver their own; a record the actor may not know
exists is not found, never forbidden; a role that may not act is refused by name."""

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.knowledge import Knowledge
from blina.services.access import course_for, patient_for, require_patient, require_role
from blina.services.actors import Role
from blina.services.errors import NotFound, PermissionDenied
from blina.store.session import read_only, transaction
from tests.clinic_factories import World, add_course


def test_a_role_that_may_act_passes_and_another_is_refused_naming_who_may(
    world: World,
) -> None:
    require_role(world.nurse, Role.NURSE, Role.PHYSICIAN, doing="grade")

    with pytest.raises(PermissionDenied, match="only a nurse or physician may grade"):
        require_role(world.pharmacist, Role.NURSE, Role.PHYSICIAN, doing="grade")


@pytest.mark.parametrize("who", ["admin", "physician", "nurse", "pharmacist"])
def test_staff_see_every_patient_of_their_clinic(
    sessions: sessionmaker[Session], world: World, who: str
) -> None:
    with read_only(sessions) as session:
        seen = [
            patient_for(session, getattr(world, who), patient).id
            for patient in (world.patient, world.other_patient)
        ]

    assert seen == [world.patient, world.other_patient]


def test_a_caregiver_sees_their_own_patient_only(
    sessions: sessionmaker[Session], world: World
) -> None:
    with read_only(sessions) as session:
        assert patient_for(session, world.family, world.patient).code == "P1"
        with pytest.raises(NotFound, match=f"patient {world.other_patient} not found"):
            patient_for(session, world.family, world.other_patient)


def test_another_clinic_s_patient_and_no_patient_at_all_are_not_found_alike(
    sessions: sessionmaker[Session], world: World
) -> None:
    with read_only(sessions) as session:
        with pytest.raises(NotFound) as theirs:
            patient_for(session, world.physician, world.outsider_patient)
        with pytest.raises(NotFound) as nobody:
            patient_for(session, world.physician, 999_999)

    assert str(theirs.value) == f"patient {world.outsider_patient} not found"
    assert str(nobody.value) == "patient 999999 not found"


def test_require_patient_is_the_rule_without_a_read(world: World) -> None:
    require_patient(world.nurse, world.patient, world.clinic_id)
    require_patient(world.family, world.patient, world.clinic_id)

    for actor, patient, clinic in (
        (world.nurse, world.patient, None),  # no such patient
        (world.nurse, world.outsider_patient, world.outsider_clinic_id),
        (world.family, world.other_patient, world.clinic_id),
    ):
        with pytest.raises(NotFound):
            require_patient(actor, patient, clinic)


def test_a_course_is_found_with_its_patient_by_whoever_may_see_the_patient(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        course_id = add_course(session, world, knowledge)

    with read_only(sessions) as session:
        course, patient = course_for(session, world.family, course_id)
        assert (course.id, patient.id) == (course_id, world.patient)
        for stranger in (world.other_family, world.outsider):
            with pytest.raises(NotFound, match=f"course {course_id} not found"):
                course_for(session, stranger, course_id)
        with pytest.raises(NotFound, match="course 999999 not found"):
            course_for(session, world.nurse, 999_999)
