"""The readers of a stored course of another therapy: the patient's course read on one day
(the family's Today, the patient page's "Now"), the clinic's task list rows of the day and
the calendar feed, all from the one plan ``active_therapy_course`` derives ("one course,
one truth")."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.therapies.model import EntryKind, TherapyPlan
from blina.domain.therapies.today import PlanPhase, clinic_entries, therapy_today
from blina.knowledge import Knowledge
from blina.services.calendar_feeds import create_feed, feed_plan
from blina.services.errors import NotFound, PermissionDenied
from blina.services.tasks import TASK_KINDS, THERAPY_TASK_KINDS, TaskRow, tasks_for_day
from blina.services.therapy_courses import (
    TherapyCourseView,
    active_therapy_course,
    active_therapy_courses,
    end_therapy_course,
    therapy_now,
)
from blina.store.session import read_only, transaction
from tests.clinic_factories import (
    NOW,
    World,
    add_course,
    add_therapy_course,
    car_t_course,
    inotuzumab_course,
)

DAY_1 = car_t_course().start  # obecabtagene's first infusion
assert DAY_1 is not None


def _car_t(sessions: sessionmaker[Session], world: World, knowledge: Knowledge) -> int:
    with transaction(sessions) as session:
        return add_therapy_course(session, world, knowledge, inputs=car_t_course())


def _plan(sessions: sessionmaker[Session], patient: int, knowledge: Knowledge) -> TherapyPlan:
    with read_only(sessions) as session:
        view = active_therapy_course(session, patient, knowledge=knowledge)
    assert view is not None
    return view.plan


def _tasks(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    day: date,
    who: str = "nurse",
) -> list[TaskRow]:
    with read_only(sessions) as session:
        return tasks_for_day(
            session, actor=getattr(world, who), day=day, now=NOW, knowledge=knowledge
        )


def _dose_days(plan: TherapyPlan) -> list[date]:
    return [d.on for d in plan.days if any(e.kind is EntryKind.DOSE for e in d.entries)]


# --- the patient's course on one day ------------------------------------------------------


def test_therapy_now_reads_the_active_course_s_plan_on_the_day(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    course = _car_t(sessions, world, knowledge)
    plan = _plan(sessions, world.patient, knowledge)
    first, second = _dose_days(plan)

    with read_only(sessions) as session:
        before = therapy_now(
            session,
            actor=world.family,
            knowledge=knowledge,
            patient_id=world.patient,
            day=first - timedelta(days=1),
        )
        on_day_1 = therapy_now(
            session, actor=world.nurse, knowledge=knowledge, patient_id=world.patient, day=first
        )

    assert before is not None
    assert on_day_1 is not None
    assert before.view.course.id == course == on_day_1.view.course.id
    assert before.view.plan == on_day_1.view.plan == plan
    assert before.today == therapy_today(plan, first - timedelta(days=1))
    assert before.today.next_dose is not None
    assert before.today.next_dose.on == first
    assert on_day_1.today.phase is PlanPhase.UNDER_WAY
    assert on_day_1.today.day is not None
    assert on_day_1.today.day.on == first
    assert on_day_1.today.next_dose is not None
    assert on_day_1.today.next_dose.on == second


def test_therapy_now_is_none_without_an_active_therapy_course(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    course = _car_t(sessions, world, knowledge)
    with transaction(sessions) as session:
        end_therapy_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            therapy_course_id=course,
            expected_version=1,
            outcome="cancelled",
            reason="entered in error",
        )
        add_course(session, world, knowledge)  # blinatumomab is not read here

    with read_only(sessions) as session:
        assert (
            therapy_now(
                session,
                actor=world.family,
                knowledge=knowledge,
                patient_id=world.patient,
                day=DAY_1,
            )
            is None
        )


@pytest.mark.parametrize("who", ["other_family", "outsider"])
def test_therapy_now_is_refused_to_who_may_not_see_the_patient(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, who: str
) -> None:
    _car_t(sessions, world, knowledge)

    with read_only(sessions) as session, pytest.raises(NotFound):
        therapy_now(
            session,
            actor=getattr(world, who),
            knowledge=knowledge,
            patient_id=world.patient,
            day=DAY_1,
        )


def test_the_restrictions_last_days_are_the_plan_s(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    """The site's stay-near and no-driving days (the current labels' periods are NOT
    RETRIEVED) reach Today as the plan's last day of each."""
    inputs = car_t_course(stay_near_days=28, no_driving_days=56)
    with transaction(sessions) as session:
        add_therapy_course(session, world, knowledge, inputs=inputs)
    plan = _plan(sessions, world.patient, knowledge)
    near = [d.on for d in plan.days if any(e.kind is EntryKind.STAY_NEAR for e in d.entries)]
    driving = [d.on for d in plan.days if any(e.kind is EntryKind.NO_DRIVING for e in d.entries)]
    assert near
    assert driving

    with read_only(sessions) as session:
        now = therapy_now(
            session,
            actor=world.family,
            knowledge=knowledge,
            patient_id=world.patient,
            day=near[0],
        )
    assert now is not None
    assert (now.today.stay_near_until, now.today.no_driving_until) == (near[-1], driving[-1])


def test_active_therapy_courses_are_the_clinic_s_active_ones(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        car_t = add_therapy_course(session, world, knowledge, inputs=car_t_course())
        other = add_therapy_course(session, world, knowledge, patient=world.other_patient)
    with read_only(sessions) as session:
        found = active_therapy_courses(session, world.clinic_id, knowledge=knowledge)
        elsewhere = active_therapy_courses(session, world.outsider_clinic_id, knowledge=knowledge)

    assert [(v.course.id, v.patient.code) for v in found] == [(car_t, "P1"), (other, "P2")]
    assert elsewhere == []
    with read_only(sessions) as session:
        assert found[0] == active_therapy_course(session, world.patient, knowledge=knowledge)


# --- the clinic's task list ----------------------------------------------------------------


def test_the_task_list_lists_a_therapy_course_s_rows_of_the_day(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    course = _car_t(sessions, world, knowledge)
    plan = _plan(sessions, world.patient, knowledge)
    for day in plan.days:
        rows = [t for t in _tasks(sessions, world, knowledge, day.on) if t.therapy_course_id]
        expected = clinic_entries(day)
        assert [(t.kind, t.params and t.params["what"]) for t in rows] == [
            ("therapy-" + e.kind.value, e.what) for e in expected
        ], day.label
        for row, entry in zip(rows, expected, strict=True):
            assert (row.day, row.at, row.state) == (day.on, None, "due")
            assert (row.course_id, row.therapy_course_id) == (None, course)
            assert (row.patient_id, row.patient_code, row.therapy) == (
                world.patient,
                "P1",
                "obecabtagene",
            )
            assert row.kind in THERAPY_TASK_KINDS
            assert row.kind in TASK_KINDS
            assert day.label in row.text
            assert entry.text in row.text
            if entry.dose is not None:
                assert f"{entry.dose} {entry.unit}" in row.text


def test_the_cell_infusion_day_lists_the_dose_and_its_premedication(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    _car_t(sessions, world, knowledge)

    kinds = {t.kind for t in _tasks(sessions, world, knowledge, DAY_1) if t.therapy_course_id}
    assert {"therapy-dose", "therapy-premedication"} <= kinds


def test_a_day_without_a_planned_entry_has_no_therapy_row_and_blinatumomab_rows_stay(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        add_course(session, world, knowledge, patient=world.other_patient)
    _car_t(sessions, world, knowledge)
    plan = _plan(sessions, world.patient, knowledge)
    planned = {d.on for d in plan.days}
    quiet = next(
        plan.days[0].on + timedelta(days=n)
        for n in range(60)
        if plan.days[0].on + timedelta(days=n) not in planned
    )

    assert [t for t in _tasks(sessions, world, knowledge, quiet) if t.therapy_course_id] == []
    today = _tasks(sessions, world, knowledge, NOW.date())
    assert {t.therapy for t in today if t.course_id is not None} == {"blinatumomab"}
    assert all(t.therapy_course_id is None for t in today if t.course_id is not None)


def test_an_ended_therapy_course_leaves_the_task_list(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    course = _car_t(sessions, world, knowledge)
    with transaction(sessions) as session:
        end_therapy_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            therapy_course_id=course,
            expected_version=1,
            outcome="discontinued",
            reason="progression",
        )

    assert [t for t in _tasks(sessions, world, knowledge, DAY_1) if t.therapy_course_id] == []


def test_another_clinic_does_not_see_the_rows_and_the_family_may_not_read_them(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    _car_t(sessions, world, knowledge)

    assert _tasks(sessions, world, knowledge, DAY_1, who="outsider") == []
    with pytest.raises(PermissionDenied):
        _tasks(sessions, world, knowledge, DAY_1, who="family")


# --- the calendar feed ----------------------------------------------------------------------


def test_the_feed_of_a_patient_on_another_therapy_is_that_course(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        add_therapy_course(session, world, knowledge, inputs=inotuzumab_course())
        token = create_feed(session, actor=world.family, now=NOW, patient_id=world.patient).token

    with read_only(sessions) as session:
        found = feed_plan(session, token=token, now=NOW, knowledge=knowledge)
        active = active_therapy_course(session, world.patient, knowledge=knowledge)

    assert isinstance(found, TherapyCourseView)
    assert found == active
    assert found.plan.therapy == "inotuzumab"
    assert Decimal(0) < sum(
        (e.dose or Decimal(0))
        for d in found.plan.days
        for e in d.entries
        if e.kind is EntryKind.DOSE
    )
