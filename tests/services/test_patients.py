"""Patients: registered by the clinic's staff with a code of the clinic's own, audited; a
list and a read within the actor's reach."""

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.errors import InvalidInput
from blina.services.errors import NotFound, PermissionDenied
from blina.services.patients import create_patient, get_patient, list_patients
from blina.store.session import read_only, transaction
from tests.clinic_factories import NOW, World, audited


@pytest.mark.parametrize("who", ["physician", "nurse", "admin"])
def test_staff_register_a_patient_trimmed_and_audited(
    sessions: sessionmaker[Session], world: World, who: str
) -> None:
    with transaction(sessions) as session:
        patient = create_patient(
            session, actor=getattr(world, who), now=NOW, code=" P3 ", display_name=" Robin "
        )
        created = patient.id

    with read_only(sessions) as session:
        found = get_patient(session, actor=world.nurse, patient_id=created)
        event = audited(session, "patient.create")[-1]
    assert (found.code, found.display_name, found.clinic_id) == ("P3", "Robin", world.clinic_id)
    assert (event.subject_id, event.after) == (
        str(created),
        {"code": "P3", "display_name": "Robin"},
    )


@pytest.mark.parametrize("who", ["pharmacist", "family"])
def test_others_do_not_register_patients(
    sessions: sessionmaker[Session], world: World, who: str
) -> None:
    with transaction(sessions) as session, pytest.raises(PermissionDenied):
        create_patient(session, actor=getattr(world, who), now=NOW, code="P3", display_name="R")


@pytest.mark.parametrize(
    ("code", "name", "field"),
    [
        ("  ", "Robin", "code"),
        ("x" * 65, "Robin", "code"),
        ("P1", "Robin", "code"),  # taken in this clinic
        ("P3", " ", "display_name"),
        ("P3", "x" * 201, "display_name"),
    ],
)
def test_a_bad_or_taken_code_or_name_is_refused_naming_it(
    sessions: sessionmaker[Session], world: World, code: str, name: str, field: str
) -> None:
    with transaction(sessions) as session, pytest.raises(InvalidInput) as refused:
        create_patient(session, actor=world.nurse, now=NOW, code=code, display_name=name)

    assert refused.value.field == field


def test_another_clinic_s_code_is_free_here(sessions: sessionmaker[Session], world: World) -> None:
    with transaction(sessions) as session:
        # clinic B has a "P1" too (the world's outsider patient)
        create_patient(session, actor=world.outsider, now=NOW, code="P2", display_name="Lou")


def test_staff_list_their_clinic_a_page_at_a_time(
    sessions: sessionmaker[Session], world: World
) -> None:
    with read_only(sessions) as session:
        every = list_patients(session, actor=world.pharmacist)
        first = list_patients(session, actor=world.pharmacist, limit=1)
        rest = list_patients(session, actor=world.pharmacist, after=first[-1].id)

    assert [p.id for p in every] == [world.patient, world.other_patient]
    assert [p.id for p in first + rest] == [world.patient, world.other_patient]


def test_a_family_lists_and_reads_its_own_patient_only(
    sessions: sessionmaker[Session], world: World
) -> None:
    with read_only(sessions) as session:
        assert [p.id for p in list_patients(session, actor=world.family)] == [world.patient]
        assert get_patient(session, actor=world.family, patient_id=world.patient).code == "P1"
        with pytest.raises(NotFound):
            get_patient(session, actor=world.family, patient_id=world.other_patient)
        with pytest.raises(NotFound):
            get_patient(session, actor=world.physician, patient_id=world.outsider_patient)
