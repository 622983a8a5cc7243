"""A patient's courses and audit trail, read through the services on the demo clinic."""

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.replanning.events import Interruption
from blina.knowledge import Knowledge
from blina.services.actors import Actor, Role
from blina.services.audit_reading import events_for_patient
from blina.services.courses import events_of, latest_views, list_courses
from blina.services.errors import NotFound, PermissionDenied
from blina.store.session import read_only
from blina.store.tables import Patient, User
from tests.conftest import DEMO_NOW

NOW = DEMO_NOW  # the demo clinic's instant


@pytest.fixture
def demo(
    sessions: sessionmaker[Session], engine: Engine, demo_clinic_in: Callable[[Engine], Engine]
) -> dict[str, int]:
    """The demo clinic; patient code -> id."""
    demo_clinic_in(engine)
    with read_only(sessions) as session:
        return dict(session.execute(select(Patient.code, Patient.id)).all())


def _actor(sessions: sessionmaker[Session], username: str) -> Actor:
    with read_only(sessions) as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        return Actor(user.id, user.clinic_id, Role(user.role), user.patient_id, user.username)


def test_list_courses_gives_each_course_with_its_plan(
    sessions: sessionmaker[Session], knowledge: Knowledge, demo: dict[str, int]
) -> None:
    nurse = _actor(sessions, "nurse.kim")
    with read_only(sessions) as session:
        interrupted = list_courses(
            session, actor=nurse, now=NOW, knowledge=knowledge, patient_id=demo["P-004"]
        )
        assert interrupted
        assert all(v.patient.id == demo["P-004"] for v in interrupted)
        assert [v.course.id for v in interrupted] == sorted(v.course.id for v in interrupted)
        assert interrupted[-1].replanned is not None, "the interruption is replayed"


def test_list_courses_hides_another_patient_from_a_caregiver(
    sessions: sessionmaker[Session], knowledge: Knowledge, demo: dict[str, int]
) -> None:
    caregiver = _actor(sessions, "alex.partner")
    with read_only(sessions) as session:
        own = list_courses(
            session, actor=caregiver, now=NOW, knowledge=knowledge, patient_id=demo["P-001"]
        )
        assert [v.patient.id for v in own] == [demo["P-001"]] * len(own)
        with pytest.raises(NotFound):
            list_courses(
                session, actor=caregiver, now=NOW, knowledge=knowledge, patient_id=demo["P-002"]
            )


def test_latest_views_are_each_patient_s_last_listed_course_with_its_log(
    sessions: sessionmaker[Session], knowledge: Knowledge, demo: dict[str, int]
) -> None:
    """The batch read of Clinic today's list against the plain one, patient by patient
    (the oracle: list_courses's last course, and its log)."""
    nurse = _actor(sessions, "nurse.kim")
    with read_only(sessions) as session:
        latest = latest_views(
            session, actor=nurse, now=NOW, knowledge=knowledge, patient_ids=demo.values()
        )
        for patient_id in demo.values():
            listed = list_courses(
                session, actor=nurse, now=NOW, knowledge=knowledge, patient_id=patient_id
            )
            if not listed:
                assert patient_id not in latest
                continue
            view, events = latest[patient_id]
            assert view == listed[-1]
            assert events == events_of(session, listed[-1].course.id)
    # the demo clinic has a patient whose log ends in an interruption, the case the list
    # reads the log for
    assert any(events and isinstance(events[-1], Interruption) for _, events in latest.values())


def test_latest_views_show_a_caregiver_their_patient_alone(
    sessions: sessionmaker[Session], knowledge: Knowledge, demo: dict[str, int]
) -> None:
    caregiver = _actor(sessions, "alex.partner")
    with read_only(sessions) as session:
        seen = latest_views(
            session, actor=caregiver, now=NOW, knowledge=knowledge, patient_ids=demo.values()
        )
        none = latest_views(session, actor=caregiver, now=NOW, knowledge=knowledge, patient_ids=())
    assert none == {}
    assert set(seen) == {demo["P-001"]}


def test_latest_views_take_as_many_queries_for_many_patients_as_for_one(
    sessions: sessionmaker[Session], engine: Engine, knowledge: Knowledge, demo: dict[str, int]
) -> None:
    nurse = _actor(sessions, "nurse.kim")
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    def queries(patient_ids: list[int]) -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            with read_only(sessions) as session:
                found = latest_views(
                    session, actor=nurse, now=NOW, knowledge=knowledge, patient_ids=patient_ids
                )
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert set(found) <= set(patient_ids)
        return len(statements)

    every = sorted(demo.values())
    assert len(every) > 3
    assert queries(every) == queries(every[:1])


def test_events_for_patient_are_the_patients_own_in_order(
    sessions: sessionmaker[Session], demo: dict[str, int]
) -> None:
    doctor = _actor(sessions, "dr.lee")
    with read_only(sessions) as session:
        events = events_for_patient(session, actor=doctor, patient_id=demo["P-004"])
        others = events_for_patient(session, actor=doctor, patient_id=demo["P-001"])
    assert {"patient.create", "course.start", "course.interrupt"} <= {e.action for e in events}
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    assert not {e.seq for e in events} & {e.seq for e in others}


@pytest.mark.parametrize("username", ["nurse.kim", "pharm.ana", "alex.partner"])
def test_events_for_patient_only_for_admin_or_physician(
    sessions: sessionmaker[Session], demo: dict[str, int], username: str
) -> None:
    with read_only(sessions) as session, pytest.raises(PermissionDenied):
        events_for_patient(session, actor=_actor(sessions, username), patient_id=demo["P-001"])
