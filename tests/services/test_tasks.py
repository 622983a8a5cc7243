"""The clinic's task list for a day, read from the task index with each task's state now:
a bag change is done once its bag hangs, a premedication once recorded as given; a bag the
course no longer wants is listed as not to hang. Staff only, their clinic only."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.pharmacy.resolution import ResolvedLibrary
from blina.knowledge import Knowledge, load_knowledge
from blina.services.courses import end_course
from blina.services.errors import PermissionDenied
from blina.services.pharmacy import get_bag, hang_bag
from blina.services.premedication import record_given
from blina.services.tasks import TASK_STATES, TaskRow, clinic_today, tasks_for_day
from blina.store.session import read_only, transaction
from tests.clinic_factories import NOW, World, add_bag, add_course

TODAY = date(2026, 12, 10)
FIRST_BAG = datetime(2026, 12, 10, 8, 0, tzinfo=NOW.tzinfo)
PREMEDICATION = FIRST_BAG - timedelta(hours=1)


@pytest.fixture
def course(sessions: sessionmaker[Session], world: World, knowledge: Knowledge) -> int:
    with transaction(sessions) as session:
        return add_course(session, world, knowledge)


def _today(sessions: sessionmaker[Session], world: World, who: str = "nurse") -> list[TaskRow]:
    with read_only(sessions) as session:
        return tasks_for_day(
            session, actor=getattr(world, who), day=TODAY, now=NOW, knowledge=load_knowledge()
        )


def _of(tasks: list[TaskRow], kind: str) -> list[tuple[str, str | None]]:
    return [(task.state, task.bag_code) for task in tasks if task.kind == kind]


def test_the_first_day_lists_the_course_s_tasks_with_their_state(
    sessions: sessionmaker[Session], world: World, course: int
) -> None:
    tasks = _today(sessions, world)

    assert {task.kind for task in tasks} == {"admission", "labs", "premedication", "bag-change"}
    assert {(t.course_id, t.patient_id, t.patient_code) for t in tasks} == {
        (course, world.patient, "P1")
    }
    [bag] = [task for task in tasks if task.kind == "bag-change"]
    assert bag.at == FIRST_BAG
    assert bag.text == "Cycle 1 · bag 1 of 28 · 9 mcg/day · 24-h bag"
    # 10:30: the first bag should have hung at 09:00 and the dexamethasone an hour before
    assert _of(tasks, "bag-change") == [("overdue", None)]
    assert _of(tasks, "premedication") == [("overdue", None)]
    assert all(task.state in TASK_STATES for task in tasks)


def test_a_hung_bag_and_a_given_premedication_are_done(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    with transaction(sessions) as session:
        bag_id = add_bag(session, world, knowledge, library, course)
        code = get_bag(session, actor=world.nurse, bag_id=bag_id)[0].code
        hang_bag(
            session,
            actor=world.nurse,
            now=NOW,
            knowledge=knowledge,
            patient_id=world.patient,
            code=code,
            rate_ml_per_h=Decimal(10),
            volume_ml=Decimal(240),
        )
        record_given(
            session,
            actor=world.nurse,
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            due=PREMEDICATION,
            drug="dexamethasone",
            given_at=PREMEDICATION,
        )

    tasks = _today(sessions, world)

    assert _of(tasks, "bag-change") == [("done", code)]
    assert _of(tasks, "premedication") == [("done", None)]


def test_a_bag_waiting_for_a_course_that_ended_is_listed_not_to_hang(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    with transaction(sessions) as session:
        bag_id = add_bag(session, world, knowledge, library, course)
        code = get_bag(session, actor=world.nurse, bag_id=bag_id)[0].code
        end_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            expected_version=1,
            outcome="discontinued",
            reason="progression",
        )

    tasks = _today(sessions, world, who="pharmacist")

    [kept_off] = tasks  # an ended course has no tasks left but this one
    assert (kept_off.kind, kept_off.state, kept_off.bag_code) == (
        "do-not-hang",
        "do-not-hang",
        code,
    )
    assert kept_off.text.startswith(f"Do not hang bag {code}: ")


def test_another_clinic_sees_none_of_these_tasks(
    sessions: sessionmaker[Session], world: World, course: int
) -> None:
    assert _today(sessions, world, who="outsider") == []


@pytest.mark.parametrize("who", ["family", "other_family"])
def test_a_family_does_not_read_the_clinic_s_tasks(
    sessions: sessionmaker[Session], world: World, who: str
) -> None:
    with pytest.raises(PermissionDenied):
        _today(sessions, world, who=who)


def test_today_is_the_clinic_s_date(sessions: sessionmaker[Session], world: World) -> None:
    late = datetime(2026, 12, 10, 23, 30, tzinfo=NOW.tzinfo)  # 00:30 in Paris

    with read_only(sessions) as session:
        assert clinic_today(session, actor=world.nurse, now=NOW) == TODAY
        assert clinic_today(session, actor=world.nurse, now=late) == date(2026, 12, 11)


def test_the_day_the_inpatient_days_end_lists_the_discharge(
    sessions: sessionmaker[Session], world: World, course: int
) -> None:
    """Moved down from the API's tests (test_flows): a course starting on the 8th lists
    the discharge on the 17th, so this one, starting on the 10th, on the 19th."""
    with read_only(sessions) as session:
        tasks = tasks_for_day(
            session, actor=world.nurse, day=date(2026, 12, 19), now=NOW, knowledge=load_knowledge()
        )

    assert [(t.kind, t.patient_code) for t in tasks if t.kind == "discharge"] == [
        ("discharge", "P1")
    ]
