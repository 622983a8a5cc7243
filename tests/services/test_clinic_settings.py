"""The clinic's numbers a family is shown with a check-in's answer, set by the admin:
each one checked as the page will dial it, kept trimmed, and the change audited."""

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.errors import InvalidInput
from blina.knowledge import Knowledge
from blina.services.clinic_settings import ClinicNumbers, clinic_numbers, set_clinic_numbers
from blina.services.errors import PermissionDenied
from blina.services.reports import CheckInRequest, list_reports, submit_report
from blina.store.session import read_only, transaction
from tests.clinic_factories import NOW, World, audited

PARIS = ClinicNumbers(phone=" +33 1 23 45 67 89 ", emergency_number="112", crisis_line="3114")


def test_the_admin_sets_the_numbers_trimmed_and_the_change_is_audited(
    sessions: sessionmaker[Session], world: World
) -> None:
    with transaction(sessions) as session:
        kept = set_clinic_numbers(session, actor=world.admin, now=NOW, numbers=PARIS)

    assert kept == ClinicNumbers("+33 1 23 45 67 89", "112", "3114")
    with read_only(sessions) as session:
        assert clinic_numbers(session, actor=world.nurse) == kept
        [event] = audited(session, "clinic.numbers")
    assert event.subject_id == str(world.clinic_id)
    assert event.before == {"phone": "", "emergency_number": "", "crisis_line": ""}
    assert event.after == {
        "phone": "+33 1 23 45 67 89",
        "emergency_number": "112",
        "crisis_line": "3114",
    }


def test_a_check_in_s_answer_shows_the_numbers_as_they_were_when_it_was_sent(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    """Moved down from the API's tests (test_clinic_numbers)."""
    with transaction(sessions) as session:
        set_clinic_numbers(session, actor=world.admin, now=NOW, numbers=PARIS)
    with transaction(sessions) as session:
        answer = submit_report(
            session,
            actor=world.family,
            now=NOW,
            knowledge=knowledge,
            patient_id=world.patient,
            idempotency_key="numbers-1",
            check_in=CheckInRequest(symptoms={"seizure": None}),
        )
    with transaction(sessions) as session:
        set_clinic_numbers(session, actor=world.admin, now=NOW, numbers=ClinicNumbers("", "", ""))

    expected = {"care_team_phone": "+33 1 23 45 67 89", "emergency_number": "112"}
    assert answer.report["contacts"] == {**expected, "crisis_line": "3114"}
    with read_only(sessions) as session:
        [kept] = list_reports(session, actor=world.nurse, patient_id=world.patient)
    assert kept.report["contacts"] == answer.report["contacts"]


def test_a_clinic_sees_its_own_numbers_only(sessions: sessionmaker[Session], world: World) -> None:
    with transaction(sessions) as session:
        set_clinic_numbers(session, actor=world.admin, now=NOW, numbers=PARIS)

    with read_only(sessions) as session:
        assert clinic_numbers(session, actor=world.outsider) == ClinicNumbers("", "", "")


def test_empty_numbers_are_allowed(sessions: sessionmaker[Session], world: World) -> None:
    with transaction(sessions) as session:
        kept = set_clinic_numbers(
            session, actor=world.admin, now=NOW, numbers=ClinicNumbers("  ", "", "")
        )

    assert kept == ClinicNumbers("", "", "")


@pytest.mark.parametrize(
    ("numbers", "field"),
    [
        (ClinicNumbers("call the ward", "112", ""), "phone"),
        (ClinicNumbers("", "+", ""), "emergency_number"),
        (ClinicNumbers("", "call 112", ""), "emergency_number"),
        (ClinicNumbers("+33 1 23\n45", "", ""), "phone"),
        (ClinicNumbers("", "1" * 33, ""), "emergency_number"),
        (ClinicNumbers("", "", "31-14 ext. 2"), "crisis_line"),
        (ClinicNumbers("", "", "٣١١٤"), "crisis_line"),  # digits, but not ASCII ones
    ],
)
def test_a_number_that_cannot_be_dialled_is_refused_naming_its_field(
    sessions: sessionmaker[Session], world: World, numbers: ClinicNumbers, field: str
) -> None:
    with transaction(sessions) as session, pytest.raises(InvalidInput) as refused:
        set_clinic_numbers(session, actor=world.admin, now=NOW, numbers=numbers)

    assert refused.value.field == field
    assert "a number to dial" in refused.value.allowed
    with read_only(sessions) as session:
        assert audited(session, "clinic.numbers") == []


@pytest.mark.parametrize("who", ["physician", "nurse", "pharmacist", "family"])
def test_only_the_admin_sets_the_numbers(
    sessions: sessionmaker[Session], world: World, who: str
) -> None:
    with transaction(sessions) as session, pytest.raises(PermissionDenied):
        set_clinic_numbers(session, actor=getattr(world, who), now=NOW, numbers=PARIS)


def test_a_family_does_not_read_the_settings_through_the_staff_s_door(
    sessions: sessionmaker[Session], world: World
) -> None:
    with read_only(sessions) as session, pytest.raises(PermissionDenied):
        clinic_numbers(session, actor=world.family)
