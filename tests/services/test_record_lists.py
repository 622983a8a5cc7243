"""The readers of a clinic's records, called directly: a patient's check-ins in the order
they came and a page at a time, a course's lab values the latest sample first, the
clinic's users for its admin; each within the actor's reach."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.knowledge import Knowledge
from blina.services.accounts import list_users
from blina.services.errors import NotFound, PermissionDenied
from blina.services.labs import LabRequest, list_lab_values, record_lab_value
from blina.services.reports import CheckInRequest, list_reports, submit_report
from blina.store.session import read_only, transaction
from tests.clinic_factories import NOW, World, add_course

CALM = CheckInRequest(symptoms={}, temperature=Decimal("37.0"))


def test_a_patient_s_check_ins_come_in_order_a_page_at_a_time(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    for minutes in (30, 20, 10):
        with transaction(sessions) as session:
            submit_report(
                session,
                actor=world.family,
                now=NOW - timedelta(minutes=minutes),
                knowledge=knowledge,
                patient_id=world.patient,
                idempotency_key=f"check-in-{minutes}",
                check_in=CALM,
            )

    with read_only(sessions) as session:
        every = list_reports(session, actor=world.nurse, patient_id=world.patient)
        first = list_reports(session, actor=world.family, patient_id=world.patient, limit=2)
        rest = list_reports(
            session, actor=world.family, patient_id=world.patient, after=first[-1].id
        )
        assert list_reports(session, actor=world.nurse, patient_id=world.other_patient) == []
        with pytest.raises(NotFound):
            list_reports(session, actor=world.other_family, patient_id=world.patient)

    assert [r.submitted_at for r in every] == [NOW - timedelta(minutes=m) for m in (30, 20, 10)]
    assert [r.id for r in first + rest] == [r.id for r in every]


def test_lab_values_come_latest_sample_first_whatever_the_order_they_were_entered(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        course = add_course(session, world, knowledge)
    for hours in (1, 3, 2):  # entered out of order: a result that came late
        request = LabRequest(
            "neutrophils",
            Decimal(800 + hours),
            lln=Decimal(1500),
            taken_at=NOW - timedelta(hours=hours),
        )
        with transaction(sessions) as session:
            record_lab_value(
                session,
                actor=world.nurse,
                now=NOW,
                knowledge=knowledge,
                course_id=course,
                request=request,
            )

    with read_only(sessions) as session:
        values = list_lab_values(session, actor=world.family, course_id=course)
        with pytest.raises(NotFound):
            list_lab_values(session, actor=world.outsider, course_id=course)

    assert [v.inputs["value"] for v in values] == ["801", "802", "803"]


def test_the_admin_lists_the_clinic_s_users_and_nobody_else_does(
    sessions: sessionmaker[Session], world: World
) -> None:
    with read_only(sessions) as session:
        users = list_users(session, actor=world.admin)
        for who in ("physician", "nurse", "family"):
            with pytest.raises(PermissionDenied):
                list_users(session, actor=getattr(world, who))

    assert [u.username for u in users] == [
        "admin",
        "physician",
        "nurse",
        "pharmacist",
        "checker",
        "family",
        "other.family",
    ]
    assert {u.clinic_id for u in users} == {world.clinic_id}
