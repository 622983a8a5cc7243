"""Finding a clinic's patients by name or code, a page at a time (services.patient_search)."""

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.errors import InvalidInput
from blina.services.errors import PermissionDenied
from blina.services.patient_search import SEARCH_MAX, find_patients, matches, search_text
from blina.services.patients import create_patient
from blina.store.session import read_only, transaction
from tests.clinic_factories import NOW, World


def _codes(sessions: sessionmaker[Session], world: World, text: str = "") -> list[str]:
    with read_only(sessions) as session:
        found = find_patients(session, actor=world.nurse, text=text, limit=50)
    return [patient.code for patient in found]


def test_the_empty_search_lists_the_clinic_s_patients_by_id_and_none_of_another_clinic(
    sessions: sessionmaker[Session], world: World
) -> None:
    assert _codes(sessions, world) == ["P1", "P2"]


@pytest.mark.parametrize(
    ("text", "codes"),
    [("p2", ["P2"]), ("ALEX", ["P1"]), ("  sa  ", ["P2"]), ("p", ["P1", "P2"]), ("zz", [])],
)
def test_a_search_finds_a_code_or_name_ignoring_case_and_outer_spaces(
    sessions: sessionmaker[Session], world: World, text: str, codes: list[str]
) -> None:
    assert _codes(sessions, world, text=text) == codes


def test_percent_and_underscore_are_searched_as_typed_not_as_wildcards(
    sessions: sessionmaker[Session], world: World
) -> None:
    with transaction(sessions) as session:
        create_patient(session, actor=world.nurse, now=NOW, code="P_3", display_name="Ro 100%")
    assert _codes(sessions, world, text="_") == ["P_3"]
    assert _codes(sessions, world, text="%") == ["P_3"]


def test_pages_follow_the_last_id_of_the_page_before(
    sessions: sessionmaker[Session], world: World
) -> None:
    with read_only(sessions) as session:
        first = find_patients(session, actor=world.nurse, limit=1)
        second = find_patients(session, actor=world.nurse, after=first[-1].id, limit=1)
        third = find_patients(session, actor=world.nurse, after=second[-1].id, limit=1)
    assert [p.code for p in (*first, *second)] == ["P1", "P2"]
    assert third == []


def test_the_family_may_not_search_the_clinic(
    sessions: sessionmaker[Session], world: World
) -> None:
    with read_only(sessions) as session, pytest.raises(PermissionDenied):
        find_patients(session, actor=world.family, limit=10)


def test_a_search_longer_than_any_name_is_refused_naming_the_field_and_its_bound() -> None:
    assert search_text(f"   {'a' * SEARCH_MAX}\t ") == "a" * SEARCH_MAX  # spaces do not count
    assert search_text("Ana   María ") == "Ana María"
    with pytest.raises(InvalidInput) as refused:
        search_text("a" * (SEARCH_MAX + 1))
    assert refused.value.field == "q"
    assert f"at most {SEARCH_MAX} characters" in str(refused.value)


def test_matches_is_the_same_search_for_lists_built_in_memory() -> None:
    assert matches("", "anything")
    assert matches("ali", "P-001", "Alice")
    assert matches("maría", "MARÍA")
    assert not matches("bob", "P-001", "Alice")
