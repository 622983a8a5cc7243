"""Courses through the service: started by a physician (one active course per patient, a
past start only when confirmed), read with their plan and state, changed at the version
read, their log of interruptions and restarts replayed through the label's rules, ended
without deleting anything; the clinic's task index follows each change."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.course_state import CoursePhase
from blina.domain.errors import InvalidInput
from blina.knowledge import Knowledge
from blina.services.courses import (
    current_view,
    end_course,
    get_course,
    list_courses,
    record_event,
    start_course,
    update_course,
)
from blina.services.errors import Conflict, NotFound, PermissionDenied
from blina.store.session import read_only, transaction
from blina.store.tables import CourseTask
from tests.clinic_factories import NOW, World, add_course, adult_course, audited, child_course

INTERRUPT = {
    "kind": "interrupt",
    "at": (NOW - timedelta(minutes=30)).isoformat(),
    "cause": "crs",
    "grade": 3,
}


@pytest.fixture
def course(sessions: sessionmaker[Session], world: World, knowledge: Knowledge) -> int:
    """P1's course, its first 9 mcg/day bag running since 09:00."""
    with transaction(sessions) as session:
        return add_course(session, world, knowledge)


def _tasks(session: Session, course_id: int) -> int:
    query = select(func.count()).select_from(CourseTask).where(CourseTask.course_id == course_id)
    return int(session.execute(query).scalar_one())


def _event(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    course_id: int,
    event: dict[str, Any],
    version: int = 1,
) -> Any:
    with transaction(sessions) as session:
        return record_event(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            course_id=course_id,
            expected_version=version,
            event=event,
        )


def test_a_started_course_is_infusing_has_its_tasks_and_is_audited(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        view = start_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            patient_id=world.patient,
            request=adult_course(),
        )
        course_id = view.course.id

    assert (view.course.status, view.course.version, view.course.backdated) == ("active", 1, False)
    assert view.plan.dose_basis == "fixed"
    assert (view.state.phase, view.state.dose) == (CoursePhase.INFUSING, view.plan.bags[0].dose)
    with read_only(sessions) as session:
        assert _tasks(session, course_id) >= len(view.plan.bags)
        [event] = audited(session, "course.start")
    assert (event.after["status"], event.after["backdated"]) == ("active", False)


def test_a_child_s_course_is_dosed_per_m2(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        view = start_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            patient_id=world.patient,
            request=child_course(),
        )

    assert view.plan.dose_basis != "fixed"
    assert view.plan.body.bsa is not None


def test_a_past_start_is_refused_unless_confirmed_then_recorded_as_backdated(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    past = adult_course(start=date(2026, 12, 3))
    with transaction(sessions) as session, pytest.raises(InvalidInput) as refused:
        add_course(session, world, knowledge, request=past)
    assert (refused.value.field, refused.value.value) == ("start", "2026-12-03")

    with transaction(sessions) as session:
        course_id = add_course(
            session,
            world,
            knowledge,
            request=adult_course(start=date(2026, 12, 3), confirm_past_start=True),
        )
    with read_only(sessions) as session:
        view = get_course(
            session, actor=world.nurse, now=NOW, knowledge=knowledge, course_id=course_id
        )
        assert view.course.backdated
        assert audited(session, "course.start")[0].after["backdated"] is True


def test_a_second_active_course_is_refused(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    with (
        transaction(sessions) as session,
        pytest.raises(Conflict, match="already has an active course"),
    ):
        add_course(session, world, knowledge)


def test_a_prescription_the_plan_refuses_writes_nothing(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session, pytest.raises(InvalidInput):
        add_course(session, world, knowledge, request=adult_course(weight_kg=Decimal(0)))

    with read_only(sessions) as session:
        assert (
            list_courses(
                session, actor=world.nurse, now=NOW, knowledge=knowledge, patient_id=world.patient
            )
            == []
        )


@pytest.mark.parametrize("who", ["nurse", "pharmacist", "admin", "family"])
def test_only_a_physician_prescribes(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, who: str
) -> None:
    with transaction(sessions) as session, pytest.raises(PermissionDenied):
        start_course(
            session,
            actor=getattr(world, who),
            now=NOW,
            knowledge=knowledge,
            patient_id=world.patient,
            request=adult_course(),
        )


def test_another_clinic_s_physician_finds_neither_patient_nor_course(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    with transaction(sessions) as session:
        with pytest.raises(NotFound):
            start_course(
                session,
                actor=world.outsider,
                now=NOW,
                knowledge=knowledge,
                patient_id=world.patient,
                request=adult_course(),
            )
        with pytest.raises(NotFound):
            get_course(
                session, actor=world.outsider, now=NOW, knowledge=knowledge, course_id=course
            )
        with pytest.raises(NotFound):
            get_course(
                session, actor=world.other_family, now=NOW, knowledge=knowledge, course_id=course
            )


def test_an_interruption_stops_the_infusion_and_moves_the_version(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    view = _event(sessions, world, knowledge, course, INTERRUPT)

    assert view.state.phase is CoursePhase.INTERRUPTED
    assert view.course.version == 2
    assert view.replanned is not None
    with read_only(sessions) as session:
        [event] = audited(session, "course.interrupt")
    assert event.after["event"]["cause"] == "crs"


def test_a_restart_after_the_interruption_resumes_the_infusion(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    _event(sessions, world, knowledge, course, INTERRUPT)
    restart = {"kind": "restart", "at": (NOW - timedelta(minutes=5)).isoformat()}

    view = _event(sessions, world, knowledge, course, restart, version=2)

    assert view.state.phase is CoursePhase.INFUSING
    assert view.course.version == 3


@pytest.mark.parametrize(
    ("event", "version", "error"),
    [
        (INTERRUPT, 2, Conflict),  # not the version read
        ({**INTERRUPT, "at": (NOW + timedelta(minutes=1)).isoformat()}, 1, InvalidInput),
        ({"kind": "restart", "at": NOW.isoformat()}, 1, InvalidInput),  # nothing to restart
        ({**INTERRUPT, "kind": "pause"}, 1, InvalidInput),
    ],
)
def test_an_event_the_log_refuses_changes_nothing(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    course: int,
    event: dict[str, Any],
    version: int,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        _event(sessions, world, knowledge, course, event, version=version)

    with read_only(sessions) as session:
        view = get_course(
            session, actor=world.nurse, now=NOW, knowledge=knowledge, course_id=course
        )
    assert (view.course.version, view.state.phase) == (1, CoursePhase.INFUSING)


def test_only_a_physician_records_an_event(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    with transaction(sessions) as session, pytest.raises(PermissionDenied):
        record_event(
            session,
            actor=world.nurse,
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            expected_version=1,
            event=INTERRUPT,
        )


def test_a_change_at_the_version_read_replans_and_one_at_an_older_version_is_refused(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    with transaction(sessions) as session:
        view = update_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            expected_version=1,
            bag_hours=48,
        )
    assert (view.course.bag_hours, view.course.version) == (48, 2)
    assert view.plan.bags[0].end - view.plan.bags[0].start == timedelta(hours=48)

    with (
        transaction(sessions) as session,
        pytest.raises(Conflict, match="changed since it was read"),
    ):
        update_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            expected_version=1,
            bag_hours=24,
        )
    with read_only(sessions) as session:
        [event] = audited(session, "course.update")
    assert (event.before["bag_hours"], event.after["bag_hours"]) == (24, 48)


@pytest.mark.parametrize(
    ("outcome", "reason", "field"),
    [
        ("paused", "", "outcome"),
        ("discontinued", " ", "reason"),
        ("cancelled", "", "reason"),
        ("completed", "x" * 2001, "reason"),
    ],
)
def test_an_end_without_its_reason_is_refused(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    course: int,
    outcome: str,
    reason: str,
    field: str,
) -> None:
    with transaction(sessions) as session, pytest.raises(InvalidInput) as refused:
        end_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            expected_version=1,
            outcome=outcome,
            reason=reason,
        )

    assert refused.value.field == field


def test_a_discontinued_course_keeps_its_record_and_closes_its_log_and_tasks(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    with transaction(sessions) as session:
        view = end_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            expected_version=1,
            outcome="discontinued",
            reason="progression",
        )
    assert (view.course.status, view.course.ended_reason) == ("discontinued", "progression")
    assert view.state.phase is CoursePhase.DISCONTINUED

    with transaction(sessions) as session:
        assert _tasks(session, course) == 0
        with pytest.raises(Conflict, match="already discontinued"):
            end_course(
                session,
                actor=world.physician,
                now=NOW,
                knowledge=knowledge,
                course_id=course,
                expected_version=view.course.version,
                outcome="completed",
                reason="",
            )
        with pytest.raises(Conflict, match="its log is closed"):
            record_event(
                session,
                actor=world.physician,
                now=NOW,
                knowledge=knowledge,
                course_id=course,
                expected_version=view.course.version,
                event=INTERRUPT,
            )
    with read_only(sessions) as session:
        [event] = audited(session, "course.end.discontinued")
    assert event.after["reason"] == "progression"


def test_a_new_course_may_start_once_the_last_one_ended_and_pages_show_the_active_one(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, course: int
) -> None:
    with transaction(sessions) as session:
        end_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            expected_version=1,
            outcome="cancelled",
            reason="entered for the wrong patient",
        )
    with read_only(sessions) as session:
        ended = list_courses(
            session, actor=world.family, now=NOW, knowledge=knowledge, patient_id=world.patient
        )
    assert current_view(ended) is ended[-1]

    with transaction(sessions) as session:
        second = add_course(
            session, world, knowledge, request=adult_course(start=date(2026, 12, 11))
        )
    with read_only(sessions) as session:
        views = list_courses(
            session, actor=world.family, now=NOW, knowledge=knowledge, patient_id=world.patient
        )

    assert [v.course.id for v in views] == [course, second]
    assert [v.course.status for v in views] == ["cancelled", "active"]
    chosen = current_view(views)
    assert chosen is not None
    assert chosen.course.id == second
    assert current_view([]) is None


# --- moved down from the API's tests (tests/api/test_flows.py) -------------------------------


def test_a_course_read_back_carries_its_plan_stepping_up_from_9_to_28_mcg_a_day(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    request = adult_course(start=date(2026, 12, 8), cycles=2, confirm_past_start=True)
    with transaction(sessions) as session:
        course_id = add_course(session, world, knowledge, request=request)

    with read_only(sessions) as session:
        view = get_course(
            session, actor=world.nurse, now=NOW, knowledge=knowledge, course_id=course_id
        )

    assert view.course.regimen_id == "relapsed-refractory"
    assert view.course.weight_kg == 70
    assert view.plan.days[0].date == date(2026, 12, 8)
    assert view.plan.days[0].dose.value == 9
    assert view.plan.days[7].dose.value == 28
    assert view.plan.zone.key == "Europe/Paris"
    assert len(view.plan.cycles) == 2


def test_an_interruption_and_a_restart_replan_the_course_through_the_label(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    request = adult_course(start=date(2026, 12, 1), confirm_past_start=True)
    with transaction(sessions) as session:
        course_id = add_course(session, world, knowledge, request=request)
    interrupt = {"at": "2026-12-09T10:00:00Z", "kind": "interrupt", "cause": "crs", "grade": 3}
    restart = {"at": "2026-12-10T09:00:00Z", "kind": "restart", "dose_mcg_per_day": 9}

    _event(sessions, world, knowledge, course_id, interrupt)
    view = _event(sessions, world, knowledge, course_id, restart, version=2)

    assert view.replanned is not None
    actions = [str(d.action) for d in view.replanned.decisions]
    assert actions[:2] == ["interrupt", "continue-cycle"]
    assert "premedicate" in actions
    assert "restart" in actions
    days = {d.date: d for d in view.replanned.plan.days}
    assert days[date(2026, 12, 10)].dose.value == 9
    assert str(view.replanned.status) == "active"
    with read_only(sessions) as session:
        again = get_course(
            session, actor=world.physician, now=NOW, knowledge=knowledge, course_id=course_id
        )
    assert again.replanned is not None
    assert again.replanned.decisions == view.replanned.decisions
