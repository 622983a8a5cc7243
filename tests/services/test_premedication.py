"""Premedication recorded as given: only a dose of the course's current plan, at a time
near its own and not in the future, once; the dose is the plan's; audited."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.errors import InvalidInput
from blina.knowledge import Knowledge
from blina.services.errors import Conflict, NotFound, PermissionDenied
from blina.services.premedication import GIVEN_WINDOW, list_given, record_given
from blina.store.session import read_only, transaction
from tests.clinic_factories import NOW, World, add_course, audited

# The default course's first premedication: dexamethasone at 08:00 in Paris, an hour
# before the first bag.
DUE = datetime(2026, 12, 10, 7, 0, tzinfo=NOW.tzinfo)
DRUG = "dexamethasone"


@pytest.fixture
def course(sessions: sessionmaker[Session], world: World, knowledge: Knowledge) -> int:
    with transaction(sessions) as session:
        return add_course(session, world, knowledge)


def _give(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    course: int,
    *,
    who: str = "nurse",
    due: datetime = DUE,
    drug: str = DRUG,
    given_at: datetime = DUE + timedelta(minutes=5),
) -> str:
    with transaction(sessions) as session:
        row = record_given(
            session,
            actor=getattr(world, who),
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            due=due,
            drug=drug,
            given_at=given_at,
        )
        return row.dose


def test_a_planned_dose_is_recorded_with_the_plan_s_dose_and_audited(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    dose = _give(sessions, world, knowledge, course, who="physician")

    assert dose.startswith("20 mg IV")
    with read_only(sessions) as session:
        [given] = list_given(session, actor=world.family, course_id=course)
        [event] = audited(session, "premedication.given")
    assert (given.drug, given.due, given.given_by) == (DRUG, DUE, world.physician.user_id)
    assert event.after["given_at"] == (DUE + timedelta(minutes=5)).isoformat()


def test_a_dose_is_recorded_once(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    _give(sessions, world, knowledge, course)

    with pytest.raises(Conflict, match="already recorded as given"):
        _give(sessions, world, knowledge, course)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"given_at": DUE.replace(tzinfo=None)}, "given_at"),  # no offset
        ({"given_at": NOW + timedelta(minutes=1)}, "given_at"),  # in the future
        ({"given_at": DUE - GIVEN_WINDOW - timedelta(minutes=1)}, "given_at"),  # a slip
        ({"due": DUE + timedelta(hours=1)}, "due"),  # no dose then
        ({"drug": "paracetamol"}, "due"),  # not the plan's drug
    ],
)
def test_a_dose_the_plan_lacks_or_a_time_far_from_it_is_refused(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    course: int,
    changes: dict[str, object],
    field: str,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        _give(sessions, world, knowledge, course, **changes)

    assert refused.value.field == field
    with read_only(sessions) as session:
        assert list_given(session, actor=world.nurse, course_id=course) == []


@pytest.mark.parametrize(
    ("who", "error"),
    [("pharmacist", PermissionDenied), ("family", PermissionDenied), ("outsider", NotFound)],
)
def test_a_nurse_or_physician_of_the_clinic_records_it(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    course: int,
    who: str,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        _give(sessions, world, knowledge, course, who=who)


def test_another_family_does_not_read_the_course_s_doses(
    sessions: sessionmaker[Session], world: World, course: int
) -> None:
    with read_only(sessions) as session, pytest.raises(NotFound):
        list_given(session, actor=world.other_family, course_id=course)
