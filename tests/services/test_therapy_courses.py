"""Courses of the therapies beside blinatumomab through the service: started by a
physician (one active treatment per patient, whatever its therapy), read with the plan
derived from their inputs, changed as what happens is recorded at the version read, ended
without deleting anything; every write in the audit trail."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.errors import InvalidInput
from blina.domain.therapies.cycle_doses import Response
from blina.knowledge import Knowledge
from blina.services.audit_key import AuditKey, use_audit_key
from blina.services.audit_reading import events_for_patient
from blina.services.courses import end_course, update_course
from blina.services.errors import Conflict, NotFound, PermissionDenied
from blina.services.sealed_rows import verify_rows
from blina.services.therapy_catalog import warnings_boxed_first
from blina.services.therapy_courses import (
    TherapyCourseView,
    active_therapy_course,
    change_therapy_course,
    current_therapy_view,
    end_therapy_course,
    get_therapy_course,
    list_therapy_courses,
    start_therapy_course,
)
from blina.services.therapy_planning import plan_therapy
from blina.store.session import read_only, transaction
from blina.store.tables import TherapyCourse, table_of
from tests.clinic_factories import (
    NOW,
    World,
    add_course,
    add_therapy_course,
    add_world,
    adult_course,
    audited,
    car_t_course,
    inotuzumab_course,
)


def _change(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    course_id: int,
    version: int = 1,
    **changes: Any,
) -> TherapyCourseView:
    with transaction(sessions) as session:
        return change_therapy_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            therapy_course_id=course_id,
            expected_version=version,
            changes=changes,
        )


def _end(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    course_id: int,
    outcome: str = "discontinued",
    reason: str = "progression",
    version: int = 1,
) -> TherapyCourseView:
    with transaction(sessions) as session:
        return end_therapy_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            therapy_course_id=course_id,
            expected_version=version,
            outcome=outcome,
            reason=reason,
        )


def test_a_started_inotuzumab_course_is_stored_planned_and_audited(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        view = start_therapy_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            patient_id=world.patient,
            inputs=inotuzumab_course(),
        )

    assert view.course.status == "active"
    assert view.course.version == 1
    assert view.course.prescribed_by == world.physician.user_id
    assert view.name == "Inotuzumab ozogamicin (BESPONSA)"
    assert view.inputs == inotuzumab_course()
    # the plan is the planner's for the stored inputs, boxed warnings first
    planned = plan_therapy(knowledge, inotuzumab_course())
    assert view.plan.days == planned.days
    assert set(view.plan.warnings) == set(planned.warnings)
    assert [d.label for d in view.plan.days] == ["C1 D1", "C1 D8", "C1 D15"]
    with read_only(sessions) as session:
        [event] = audited(session, "therapy_course.start")
        assert event.subject_type == "therapy_course"
        assert event.subject_id == str(view.course.id)
        assert event.actor_id == world.physician.user_id
        assert event.after is not None
        assert event.after["inputs"]["therapy"] == "inotuzumab"
        assert event.after["inputs"]["bsa_m2"] == "1.72"
        assert event.after["status"] == "active"


def test_a_car_t_course_is_planned_around_its_infusion(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        course_id = add_therapy_course(session, world, knowledge, inputs=car_t_course())
    with read_only(sessions) as session:
        view = get_therapy_course(
            session, actor=world.nurse, knowledge=knowledge, therapy_course_id=course_id
        )

    assert view.course.therapy == "obecabtagene"
    assert date(2026, 12, 14) in {d.on for d in view.plan.days}
    assert view.plan.gaps  # what the sources lack is carried with the plan


def test_an_input_the_planner_refuses_stores_nothing(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with pytest.raises(InvalidInput) as refused, transaction(sessions) as session:
        add_therapy_course(session, world, knowledge, inputs=inotuzumab_course(transplant=None))

    assert refused.value.field == "transplant"
    with read_only(sessions) as session:
        assert session.execute(select(TherapyCourse)).first() is None
        assert audited(session, "therapy_course.start") == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"therapy": "blinatumomab"}, "therapy"),
        ({"therapy": "unknown-drug"}, "therapy"),
        ({"marrow_blasts_percent": Decimal(12)}, "marrow_blasts_percent"),
        ({"bridging": "x" * 201}, "inputs.bridging"),
        ({"first_cycle_days": 2**31}, "inputs.first_cycle_days"),
    ],
)
def test_a_start_with_inputs_out_of_bounds_is_refused_by_field(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    changes: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(InvalidInput) as refused, transaction(sessions) as session:
        add_therapy_course(session, world, knowledge, inputs=inotuzumab_course(**changes))

    assert refused.value.field == field


def test_only_a_physician_starts_changes_and_ends(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        course_id = add_therapy_course(session, world, knowledge)
    for actor in (world.nurse, world.pharmacist, world.admin, world.family):
        with pytest.raises(PermissionDenied), transaction(sessions) as session:
            start_therapy_course(
                session,
                actor=actor,
                now=NOW,
                knowledge=knowledge,
                patient_id=world.other_patient,
                inputs=inotuzumab_course(),
            )
        with pytest.raises(PermissionDenied), transaction(sessions) as session:
            change_therapy_course(
                session,
                actor=actor,
                now=NOW,
                knowledge=knowledge,
                therapy_course_id=course_id,
                expected_version=1,
                changes={"responses": (Response.CR,)},
            )
        with pytest.raises(PermissionDenied), transaction(sessions) as session:
            end_therapy_course(
                session,
                actor=actor,
                now=NOW,
                knowledge=knowledge,
                therapy_course_id=course_id,
                expected_version=1,
                outcome="completed",
                reason="",
            )


def test_staff_and_the_patients_family_read_others_are_told_nothing(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        course_id = add_therapy_course(session, world, knowledge)
    with read_only(sessions) as session:
        for actor in (world.physician, world.nurse, world.pharmacist, world.admin, world.family):
            view = get_therapy_course(
                session, actor=actor, knowledge=knowledge, therapy_course_id=course_id
            )
            assert view.course.id == course_id
            [listed] = list_therapy_courses(
                session, actor=actor, knowledge=knowledge, patient_id=world.patient
            )
            assert listed.course.id == course_id
        for actor in (world.other_family, world.outsider):
            with pytest.raises(NotFound, match=f"therapy course {course_id} not found"):
                get_therapy_course(
                    session, actor=actor, knowledge=knowledge, therapy_course_id=course_id
                )
            with pytest.raises(NotFound):
                list_therapy_courses(
                    session, actor=actor, knowledge=knowledge, patient_id=world.patient
                )
        with pytest.raises(NotFound, match="therapy course 999999 not found"):
            get_therapy_course(
                session, actor=world.physician, knowledge=knowledge, therapy_course_id=999999
            )


def test_a_second_therapy_course_is_refused_naming_the_active_one(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        first = add_therapy_course(session, world, knowledge)

    with (
        pytest.raises(Conflict, match=f"active course of inotuzumab \\(therapy course {first}\\)"),
        transaction(sessions) as session,
    ):
        add_therapy_course(session, world, knowledge, inputs=car_t_course())

    # another patient is another matter
    with transaction(sessions) as session:
        add_therapy_course(session, world, knowledge, patient=world.other_patient)


def test_a_therapy_course_is_refused_beside_an_active_blinatumomab_course(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        course_id = add_course(session, world, knowledge)

    with (
        pytest.raises(Conflict, match=f"already has an active course \\(course {course_id}\\)"),
        transaction(sessions) as session,
    ):
        add_therapy_course(session, world, knowledge)

    with transaction(sessions) as session:
        end_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            course_id=course_id,
            expected_version=1,
            outcome="cancelled",
            reason="entered in error",
        )
        add_therapy_course(session, world, knowledge)


def test_a_blinatumomab_course_is_refused_beside_an_active_therapy_course(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        first = add_therapy_course(session, world, knowledge)

    with (
        pytest.raises(Conflict, match=f"therapy course {first}"),
        transaction(sessions) as session,
    ):
        add_course(session, world, knowledge)

    _end(sessions, world, knowledge, first)
    with transaction(sessions) as session:
        add_course(session, world, knowledge)


def test_a_blinatumomab_course_is_not_made_active_again_beside_a_therapy_course(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        course_id = add_course(session, world, knowledge, request=adult_course())
        end_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            course_id=course_id,
            expected_version=1,
            outcome="completed",
            reason="",
        )
        add_therapy_course(session, world, knowledge)

    with pytest.raises(Conflict, match="therapy course"), transaction(sessions) as session:
        update_course(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            course_id=course_id,
            expected_version=2,
            status="active",
        )


def test_a_recorded_response_replans_the_next_cycle_and_is_audited(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        course_id = add_therapy_course(session, world, knowledge)

    view = _change(
        sessions,
        world,
        knowledge,
        course_id,
        responses=(Response.CR,),
        dose_dates={(1, 8): date(2026, 12, 18)},
    )

    assert view.course.version == 2
    assert view.inputs.responses == (Response.CR,)
    expected = plan_therapy(
        knowledge,
        inotuzumab_course(responses=(Response.CR,), dose_dates={(1, 8): date(2026, 12, 18)}),
    )
    assert view.plan.days == expected.days
    assert any(d.label.startswith("C2") for d in view.plan.days)  # the next cycle is planned
    with read_only(sessions) as session:
        stored = get_therapy_course(
            session, actor=world.physician, knowledge=knowledge, therapy_course_id=course_id
        )
        assert stored.plan.days == expected.days  # re-planned from the stored inputs
        [event] = audited(session, "therapy_course.update")
        assert event.before is not None
        assert event.after is not None
        assert event.before["version"] == 1
        assert "responses" not in event.before["inputs"]
        assert event.after["inputs"]["responses"] == ["cr"]
        assert event.after["inputs"]["dose_dates"] == {"C1D8": "2026-12-18"}
        assert event.after["changed"] == ["dose_dates", "responses"]
        assert event.after["version"] == 2


def test_car_t_events_are_recorded_and_a_none_clears_an_input(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        course_id = add_therapy_course(session, world, knowledge, inputs=car_t_course())

    view = _change(
        sessions,
        world,
        knowledge,
        course_id,
        product_ready_on=date(2026, 12, 8),
        first_dose_crs_grade=1,
        first_dose_icans_grade=0,
        stay_near_days=28,
        no_driving_days=56,
    )
    assert view.inputs.first_dose_crs_grade == 1
    assert view.inputs.stay_near_days == 28
    assert view.plan == _planned(knowledge, view)

    view = _change(
        sessions,
        world,
        knowledge,
        course_id,
        version=2,
        first_dose_crs_grade=None,
        first_dose_icans_grade=None,
        second_dose_withheld=None,
    )
    assert view.inputs.first_dose_crs_grade is None
    assert view.inputs.second_dose_withheld is False
    assert view.course.version == 3


def _planned(knowledge: Knowledge, view: TherapyCourseView) -> Any:
    plan = plan_therapy(knowledge, view.inputs)
    return replace(plan, warnings=warnings_boxed_first(plan))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({}, "changes"),
        ({"therapy": "tisagenlecleucel"}, "therapy"),
        ({"dose": Decimal(1)}, "dose"),
        ({"transplant": None}, "transplant"),
        ({"stay_near_days": 3}, "stay_near_days"),
        ({"responses": (Response.CR,) * 13}, "inputs.responses"),
    ],
)
def test_a_change_the_planner_or_the_bounds_refuse_changes_nothing(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    changes: dict[str, Any],
    field: str,
) -> None:
    with transaction(sessions) as session:
        course_id = add_therapy_course(session, world, knowledge)

    with pytest.raises(InvalidInput) as refused:
        _change(sessions, world, knowledge, course_id, **changes)

    assert refused.value.field == field
    with read_only(sessions) as session:
        view = get_therapy_course(
            session, actor=world.physician, knowledge=knowledge, therapy_course_id=course_id
        )
        assert view.course.version == 1
        assert view.inputs == inotuzumab_course()
        assert audited(session, "therapy_course.update") == []


def test_a_change_at_a_stale_version_is_a_conflict(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        course_id = add_therapy_course(session, world, knowledge)
    _change(sessions, world, knowledge, course_id, responses=(Response.CR,))

    with pytest.raises(Conflict, match="version 2, not 1"):
        _change(sessions, world, knowledge, course_id, version=1, mrd_negative=True)
    with pytest.raises(Conflict, match="version 2, not 1"):
        _end(sessions, world, knowledge, course_id, version=1)


def test_ending_keeps_the_course_and_closes_it_to_changes(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        course_id = add_therapy_course(session, world, knowledge, inputs=car_t_course())

    view = _end(sessions, world, knowledge, course_id, reason=" product not released ")

    assert view.course.status == "discontinued"
    assert view.course.ended_reason == "product not released"
    assert view.course.version == 2
    assert view.plan.days  # the plan stays readable
    with pytest.raises(Conflict, match="is discontinued"):
        _change(sessions, world, knowledge, course_id, version=2, stay_near_days=28)
    with pytest.raises(Conflict, match="already discontinued"):
        _end(sessions, world, knowledge, course_id, version=2)
    with read_only(sessions) as session:
        [event] = audited(session, "therapy_course.end.discontinued")
        assert event.before is not None
        assert event.after is not None
        assert event.before["status"] == "active"
        assert event.after["status"] == "discontinued"
        assert event.after["reason"] == "product not released"
        assert active_therapy_course(session, world.patient, knowledge=knowledge) is None


@pytest.mark.parametrize(
    ("outcome", "reason", "field"),
    [
        ("stopped", "why", "outcome"),
        ("discontinued", "  ", "reason"),
        ("cancelled", "", "reason"),
        ("completed", "x" * 2001, "reason"),
    ],
)
def test_an_end_without_its_outcome_or_reason_is_refused(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    outcome: str,
    reason: str,
    field: str,
) -> None:
    with transaction(sessions) as session:
        course_id = add_therapy_course(session, world, knowledge)

    with pytest.raises(InvalidInput) as refused:
        _end(sessions, world, knowledge, course_id, outcome=outcome, reason=reason)

    assert refused.value.field == field


def test_a_completed_course_needs_no_reason(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        course_id = add_therapy_course(session, world, knowledge)

    view = _end(sessions, world, knowledge, course_id, outcome="completed", reason="")

    assert view.course.status == "completed"
    assert view.course.ended_reason is None


def test_active_therapy_course_is_the_patients_active_one_with_its_plan(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with read_only(sessions) as session:
        assert active_therapy_course(session, world.patient, knowledge=knowledge) is None
    with transaction(sessions) as session:
        ended = add_therapy_course(session, world, knowledge)
    _end(sessions, world, knowledge, ended, outcome="completed", reason="")
    with transaction(sessions) as session:
        active = add_therapy_course(session, world, knowledge, inputs=car_t_course())
        add_therapy_course(session, world, knowledge, patient=world.other_patient)

    with read_only(sessions) as session:
        view = active_therapy_course(session, world.patient, knowledge=knowledge)
        views = list_therapy_courses(
            session, actor=world.physician, knowledge=knowledge, patient_id=world.patient
        )

    assert view is not None
    assert view.course.id == active
    assert view.patient.id == world.patient
    assert view.plan.therapy == "obecabtagene"
    assert [v.course.id for v in views] == [ended, active]
    shown = current_therapy_view(views)
    assert shown is not None
    assert shown.course.id == active


def test_current_therapy_view_is_the_latest_when_none_is_active(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    assert current_therapy_view([]) is None
    with transaction(sessions) as session:
        first = add_therapy_course(session, world, knowledge)
    _end(sessions, world, knowledge, first, outcome="completed", reason="")
    with transaction(sessions) as session:
        second = add_therapy_course(session, world, knowledge, now=NOW + timedelta(days=1))
    _end(sessions, world, knowledge, second, outcome="cancelled", reason="entered in error")

    with read_only(sessions) as session:
        views = list_therapy_courses(
            session, actor=world.family, knowledge=knowledge, patient_id=world.patient
        )

    shown = current_therapy_view(views)
    assert shown is not None
    assert shown.course.id == second


def test_a_therapy_course_is_sealed_and_a_direct_edit_of_its_inputs_is_named(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path, knowledge: Knowledge
) -> None:
    key = AuditKey(b"a test audit key, 32 bytes long!", tmp_path / "audit-head.log")
    keyed = use_audit_key(sessions, key)
    with transaction(keyed) as session:
        world = add_world(session)
        course_id = add_therapy_course(session, world, knowledge, inputs=car_t_course())
    _change(keyed, world, knowledge, course_id, stay_near_days=28)
    _end(keyed, world, knowledge, course_id, version=2)
    with read_only(keyed) as session:
        assert verify_rows(session, key, every_row_signed=True).changed == []

    table = table_of(TherapyCourse)
    with engine.begin() as connection:
        connection.execute(
            update(table).where(table.c.id == course_id).values(inputs={"therapy": "obecabtagene"})
        )

    with read_only(keyed) as session:
        changed = verify_rows(session, key, every_row_signed=True).changed
    assert [(c.table, c.row_id) for c in changed] == [("therapy_course", course_id)]


def test_the_patients_audit_trail_holds_its_therapy_courses(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        course_id = add_therapy_course(session, world, knowledge)
        add_therapy_course(session, world, knowledge, patient=world.other_patient)
    _end(sessions, world, knowledge, course_id, outcome="completed", reason="")

    with read_only(sessions) as session:
        trail = events_for_patient(session, actor=world.physician, patient_id=world.patient)

    about = [(e.action, e.subject_id) for e in trail if e.subject_type == "therapy_course"]
    assert about == [
        ("therapy_course.start", str(course_id)),
        ("therapy_course.end.completed", str(course_id)),
    ]
