"""Patients: registered by the clinic's staff with a code of the clinic's own, audited; a
list and a read within the actor's reach."""

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.errors import InvalidInput
from blina.services.errors import NotFound, PermissionDenied
from blina.services.patients import (
    create_patient,
    get_patient,
    list_patients,
    patient_record,
    set_patient_phone,
)
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
        {"code": "P3", "display_name": "Robin", "phone": None},
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


# --- the number to call back (issue 18) ----------------------------------------------------


def test_a_patient_registered_with_a_number_keeps_it_trimmed_and_audited(
    sessions: sessionmaker[Session], world: World
) -> None:
    with transaction(sessions) as session:
        created = create_patient(
            session, actor=world.nurse, now=NOW, code="P3", display_name="R", phone=" +1 555 0103 "
        ).id
    with read_only(sessions) as session:
        found = patient_record(session, actor=world.family, patient_id=world.patient)
        event = audited(session, "patient.create")[-1]
        assert get_patient(session, actor=world.nurse, patient_id=created).phone == "+1 555 0103"
    assert found.phone is None  # registered without one
    assert event.after == {"code": "P3", "display_name": "R", "phone": "+1 555 0103"}


def test_a_refused_number_names_the_field_and_registers_no_one(
    sessions: sessionmaker[Session], world: World
) -> None:
    with transaction(sessions) as session, pytest.raises(InvalidInput) as refused:
        create_patient(session, actor=world.nurse, now=NOW, code="P3", display_name="R", phone="1")
    assert refused.value.field == "phone"
    with read_only(sessions) as session:
        assert "P3" not in {p.code for p in list_patients(session, actor=world.nurse)}


@pytest.mark.parametrize("who", ["physician", "nurse"])
def test_the_care_team_changes_the_number_audited_before_and_after(
    sessions: sessionmaker[Session], world: World, who: str
) -> None:
    actor = getattr(world, who)
    with transaction(sessions) as session:
        first = set_patient_phone(
            session, actor=actor, now=NOW, patient_id=world.patient, phone="+1 555 0101"
        )
        again = set_patient_phone(
            session, actor=actor, now=NOW, patient_id=world.patient, phone=" +1 555 0101"
        )
        cleared = set_patient_phone(
            session, actor=actor, now=NOW, patient_id=world.patient, phone="  "
        )
    with read_only(sessions) as session:
        events = audited(session, "patient.phone")
    assert (first.phone, again.phone, cleared.phone) == ("+1 555 0101", "+1 555 0101", None)
    assert [(e.before, e.after) for e in events] == [
        ({"phone": None}, {"phone": "+1 555 0101"}),
        ({"phone": "+1 555 0101"}, {"phone": None}),
    ], "the same number again records nothing"
    assert {e.subject_id for e in events} == {str(world.patient)}


@pytest.mark.parametrize(
    ("who", "patient", "refusal"),
    [
        ("pharmacist", "patient", PermissionDenied),
        ("admin", "patient", PermissionDenied),
        ("family", "patient", PermissionDenied),
        ("outsider", "patient", NotFound),
        ("nurse", "outsider_patient", NotFound),
    ],
)
def test_no_one_else_changes_the_number(
    sessions: sessionmaker[Session], world: World, who: str, patient: str, refusal: type[Exception]
) -> None:
    with transaction(sessions) as session, pytest.raises(refusal):
        set_patient_phone(
            session,
            actor=getattr(world, who),
            now=NOW,
            patient_id=getattr(world, patient),
            phone="+1 555 0199",
        )
