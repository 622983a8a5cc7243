"""What the care team reads of an alert: the card of an open one (the patient's name and
age, the check-ins behind it, who sent each) and the list of acknowledged ones (who took
it, when, what was done), a page at a time."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.course_state import CoursePhase
from blina.domain.errors import InvalidInput
from blina.knowledge import Knowledge
from blina.services.accounts import set_own_phone
from blina.services.actors import Actor
from blina.services.alert_cards import (
    CARD_CHECK_INS,
    CallBack,
    GatheredCheckIn,
    call_back,
    open_alert_cards,
)
from blina.services.alerts import (
    WHAT_WAS_DONE_MAX,
    acknowledge_alert,
    acknowledged_alerts,
    list_alerts,
)
from blina.services.courses import current_view, current_views, end_course, list_courses
from blina.services.errors import PermissionDenied
from blina.services.patients import set_patient_phone
from blina.services.reports import CheckInRequest, submit_report
from blina.store.session import read_only, transaction
from tests.clinic_factories import NOW, World, add_course, adult_course, audited, child_course

FEVER_AND_CONFUSION = CheckInRequest(
    symptoms={"fever": None, "confusion": 2}, temperature=Decimal("39.2"), note="very sleepy"
)
SEIZURE = CheckInRequest(symptoms={"seizure": None})
CALM = CheckInRequest(symptoms={}, temperature=Decimal("37.0"))


def _check_in(
    sessions: sessionmaker[Session],
    knowledge: Knowledge,
    sender: Actor,
    check_in: CheckInRequest,
    at: datetime,
    patient: int | None = None,
) -> tuple[int, int | None]:
    """The report's id and its alert's."""
    with transaction(sessions) as session:
        sent = submit_report(
            session,
            actor=sender,
            now=at,
            knowledge=knowledge,
            patient_id=patient if patient is not None else sender.patient_id or 0,
            idempotency_key=f"{sender.username}-{at.isoformat()}",
            check_in=check_in,
        )
    return sent.id, sent.alert_id


def _acknowledge(
    sessions: sessionmaker[Session], actor: Actor, alert_id: int, at: datetime, done: str | None
) -> None:
    with transaction(sessions) as session:
        acknowledge_alert(
            session,
            actor=actor,
            now=at,
            alert_id=alert_id,
            outcome="advice-given",
            what_was_done=done,
        )


def test_a_card_says_who_reported_what_when_and_the_patient_s_name_and_age(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        add_course(session, world, knowledge, request=child_course())
    first, alert = _check_in(
        sessions, knowledge, world.family, FEVER_AND_CONFUSION, NOW - timedelta(minutes=30)
    )
    calm, _ = _check_in(sessions, knowledge, world.family, CALM, NOW - timedelta(minutes=20))
    # the nurse on the phone records one for the patient: staff may send a check-in too
    newest, joined = _check_in(
        sessions, knowledge, world.nurse, SEIZURE, NOW - timedelta(minutes=5), world.patient
    )
    assert alert is not None
    assert joined == alert

    with read_only(sessions) as session:
        [card] = open_alert_cards(session, actor=world.pharmacist, now=NOW, knowledge=knowledge)

    assert (card.alert.id, card.alert.patient_code, card.alert.patient_name) == (
        alert,
        "P1",
        "Alex",
    )
    assert card.alert.level == "emergency"
    assert card.alert.check_ins == 2  # the two alerting ones
    assert card.age_years == Decimal(6)
    assert card.course_start == child_course().start
    assert [c.id for c in card.check_ins] == [newest, calm, first]
    assert [c.alerted for c in card.check_ins] == [True, False, True]
    assert [(c.reporter_name, c.reporter_role) for c in card.check_ins] == [
        ("nurse", "nurse"),
        ("family", "caregiver"),
        ("family", "caregiver"),
    ]
    oldest = card.check_ins[-1]
    assert oldest.submitted_at == NOW - timedelta(minutes=30)
    assert oldest.report["temperature"] == "39.2"
    assert oldest.report["note"] == "very sleepy"
    assert oldest.report["symptoms"] == {"fever": None, "confusion": 2}
    fired = {t for rule in oldest.report["triage"]["rules"] for t in rule["triggers"]}
    assert "confusion" in fired


def test_a_card_shows_the_newest_check_ins_only_and_a_patient_without_a_course_no_age(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    sent = [
        _check_in(
            sessions, knowledge, world.family, FEVER_AND_CONFUSION, NOW - timedelta(minutes=m)
        )[0]
        for m in range(CARD_CHECK_INS + 3, 0, -1)
    ]
    with read_only(sessions) as session:
        [card] = open_alert_cards(session, actor=world.nurse, now=NOW, knowledge=knowledge)
    assert card.alert.check_ins == CARD_CHECK_INS + 3
    assert [c.id for c in card.check_ins] == sent[::-1][:CARD_CHECK_INS]
    assert (card.age_years, card.course_start) == (None, None)


def test_cards_follow_the_open_list_and_stay_in_the_clinic(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    _check_in(sessions, knowledge, world.family, FEVER_AND_CONFUSION, NOW - timedelta(hours=1))
    _check_in(sessions, knowledge, world.other_family, SEIZURE, NOW)
    with read_only(sessions) as session:
        cards = open_alert_cards(session, actor=world.admin, now=NOW, knowledge=knowledge)
        listed = list_alerts(session, actor=world.admin)
        assert open_alert_cards(session, actor=world.outsider, now=NOW, knowledge=knowledge) == []
        with pytest.raises(PermissionDenied):
            open_alert_cards(session, actor=world.family, now=NOW, knowledge=knowledge)
    assert [c.alert for c in cards] == listed
    assert [c.alert.patient_name for c in cards] == ["Sam", "Alex"]


@pytest.mark.parametrize(
    "given",
    ["", "   ", "\n\t", "x" * (WHAT_WAS_DONE_MAX + 1)],
    ids=["empty", "spaces", "whitespace", "too-long"],
)
def test_what_was_done_is_refused_outside_its_bounds_naming_the_field(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, given: str
) -> None:
    _, alert = _check_in(sessions, knowledge, world.family, FEVER_AND_CONFUSION, NOW)
    assert alert is not None
    with pytest.raises(InvalidInput) as refused:
        _acknowledge(sessions, world.nurse, alert, NOW, given)
    assert refused.value.field == "what_was_done"
    assert f"1 to {WHAT_WAS_DONE_MAX} characters" in refused.value.allowed
    with read_only(sessions) as session:
        assert [a.id for a in list_alerts(session, actor=world.nurse)] == [alert]


def test_what_was_done_is_kept_trimmed_named_and_audited(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    _, alert = _check_in(sessions, knowledge, world.family, FEVER_AND_CONFUSION, NOW)
    assert alert is not None
    longest = "y" * WHAT_WAS_DONE_MAX
    _acknowledge(sessions, world.nurse, alert, NOW, f"  {longest}\n ")
    with read_only(sessions) as session:
        [taken] = acknowledged_alerts(session, actor=world.physician, limit=10)
        [event] = audited(session, "alert.acknowledge")
    assert taken.what_was_done == longest
    assert (taken.acknowledged_by, taken.acknowledged_by_name) == (world.nurse.user_id, "nurse")
    assert taken.acknowledged_at == NOW
    assert event.after is not None
    assert event.after["what_was_done"] == longest


def test_an_api_client_may_leave_what_was_done_unsaid(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    _, alert = _check_in(sessions, knowledge, world.family, FEVER_AND_CONFUSION, NOW)
    assert alert is not None
    _acknowledge(sessions, world.physician, alert, NOW, None)
    with read_only(sessions) as session:
        [taken] = acknowledged_alerts(session, actor=world.nurse, limit=10)
    assert (taken.what_was_done, taken.acknowledged_by_name) == (None, "physician")


def _handled(sessions: sessionmaker[Session], actor: Actor, limit: int) -> list[list[int]]:
    """Every page of the acknowledged list, walked by its cursor."""
    pages: list[list[int]] = []
    before = None
    while True:
        with read_only(sessions) as session:
            found = acknowledged_alerts(session, actor=actor, before=before, limit=limit + 1)
        pages.append([a.id for a in found[:limit]])
        if len(found) <= limit:
            return pages
        before = found[limit - 1].id


def test_the_acknowledged_list_is_newest_first_and_each_alert_once_across_pages(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    taken_at: dict[int, datetime] = {}
    for i in range(7):
        family = world.family if i % 2 else world.other_family
        _, alert = _check_in(
            sessions, knowledge, family, FEVER_AND_CONFUSION, NOW + timedelta(hours=i)
        )
        assert alert is not None
        # two pairs acknowledged at the same instant: the id breaks the tie
        at = NOW + timedelta(hours=i // 2, minutes=30)
        _acknowledge(sessions, world.nurse, alert, at, f"called back, number {i}")
        taken_at[alert] = at
    expected = sorted(taken_at, key=lambda a: (taken_at[a], a), reverse=True)

    for limit in (1, 2, 3, 7, 50):
        pages = _handled(sessions, world.admin, limit)
        walked = [a for p in pages for a in p]
        assert walked == expected, limit
        assert all(len(p) <= limit for p in pages)
    assert _handled(sessions, world.outsider, 3) == [[]]

    with read_only(sessions) as session:
        # an id that is no acknowledged alert of the clinic starts at the top
        for stranger in (10**9, max(taken_at) + 1):
            found = acknowledged_alerts(session, actor=world.nurse, before=stranger, limit=2)
            assert [a.id for a in found] == expected[:2]
        with pytest.raises(PermissionDenied):
            acknowledged_alerts(session, actor=world.family, limit=2)


# --- the number to call back, and the course now (issue 18) ---------------------------------


def _gathered(id_: int, role: str, phone: str | None, name: str = "someone") -> GatheredCheckIn:
    return GatheredCheckIn(id_, NOW, NOW, id_, name, role, {}, phone)


@pytest.mark.parametrize(
    ("check_ins", "patient_phone", "expected"),
    [
        pytest.param(
            [_gathered(1, "patient", None), _gathered(2, "caregiver", "+1 555 0111", "Maria")],
            "+1 555 0101",
            CallBack("+1 555 0111", "reporter", "Maria", "caregiver"),
            id="newest-caregiver-with-a-number",
        ),
        pytest.param(
            [_gathered(3, "patient", "+1 555 0122", "Alex"), _gathered(2, "caregiver", None)],
            None,
            CallBack("+1 555 0122", "reporter", "Alex", "patient"),
            id="newest-is-the-patient-whatever-the-order",
        ),
        pytest.param(
            [_gathered(1, "caregiver", "+1 555 0111"), _gathered(2, "caregiver", None)],
            "+1 555 0101",
            CallBack("+1 555 0101", "patient", "Alex", "patient"),
            id="newest-without-a-number-the-patient-s",
        ),
        pytest.param(
            [_gathered(1, "caregiver", "+1 555 0111"), _gathered(2, "nurse", "+1 555 0199")],
            "+1 555 0101",
            CallBack("+1 555 0101", "patient", "Alex", "patient"),
            id="a-nurse-who-entered-it-is-not-called",
        ),
        pytest.param(
            [],
            "+1 555 0101",
            CallBack("+1 555 0101", "patient", "Alex", "patient"),
            id="no-check-in-the-patient-s",
        ),
        pytest.param([_gathered(1, "caregiver", None)], None, None, id="none-on-file"),
    ],
)
def test_call_back_is_the_newest_family_reporter_s_number_else_the_patient_s(
    check_ins: list[GatheredCheckIn], patient_phone: str | None, expected: CallBack | None
) -> None:
    assert call_back(check_ins, patient_name="Alex", patient_phone=patient_phone) == expected


def test_a_card_carries_both_numbers_and_the_course_the_patient_page_shows(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        add_course(session, world, knowledge)
        set_patient_phone(
            session, actor=world.nurse, now=NOW, patient_id=world.patient, phone="+1 555 0101"
        )
        set_own_phone(session, actor=world.family, now=NOW, phone="+1 555 0111")
    _check_in(sessions, knowledge, world.family, FEVER_AND_CONFUSION, NOW)

    with read_only(sessions) as session:
        [card] = open_alert_cards(session, actor=world.nurse, now=NOW, knowledge=knowledge)
        page = current_view(
            list_courses(
                session, actor=world.nurse, now=NOW, knowledge=knowledge, patient_id=world.patient
            )
        )

    assert card.patient_phone == "+1 555 0101"
    assert [c.reporter_phone for c in card.check_ins] == ["+1 555 0111"]
    assert card.course is not None
    assert page is not None
    assert card.course.course == page.course
    assert card.course.state == page.state
    assert card.course.state.phase is CoursePhase.INFUSING
    assert card.age_years == page.course.age_years


def test_the_card_s_course_is_the_active_one_else_the_latest(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    with transaction(sessions) as session:
        first = add_course(session, world, knowledge)
        _end(session, world, knowledge, first)
        active = add_course(session, world, knowledge, request=adult_course(start=NOW.date()))
        ended = add_course(session, world, knowledge, patient=world.other_patient)
        _end(session, world, knowledge, ended)
    ids = {world.patient, world.other_patient, world.outsider_patient}

    with read_only(sessions) as session:
        views = current_views(
            session, actor=world.nurse, now=NOW, knowledge=knowledge, patient_ids=ids
        )
        family = current_views(
            session, actor=world.family, now=NOW, knowledge=knowledge, patient_ids=ids
        )
        outsider = current_views(
            session, actor=world.outsider, now=NOW, knowledge=knowledge, patient_ids=ids
        )
        assert (
            current_views(session, actor=world.nurse, now=NOW, knowledge=knowledge, patient_ids=())
            == {}
        )

    assert {p: v.course.id for p, v in views.items()} == {
        world.patient: active,
        world.other_patient: ended,
    }
    assert views[world.other_patient].state.phase is CoursePhase.CANCELLED
    assert set(family) == {world.patient}, "a family member sees their patient only"
    assert outsider == {}, "another clinic's patients are not read"


def _end(session: Session, world: World, knowledge: Knowledge, course_id: int) -> None:
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


def test_the_cards_take_as_many_queries_for_many_patients_as_for_one(
    engine: Engine, sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> None:
    """Clinic today reads every card's course, numbers and check-ins in a fixed number of
    queries: the count does not grow with the patients on the cards."""
    with transaction(sessions) as session:
        add_course(session, world, knowledge)
    _check_in(sessions, knowledge, world.family, FEVER_AND_CONFUSION, NOW)
    one_patient = _statements(engine, sessions, world, knowledge)

    with transaction(sessions) as session:
        add_course(session, world, knowledge, patient=world.other_patient)
    _check_in(sessions, knowledge, world.other_family, SEIZURE, NOW)
    _check_in(sessions, knowledge, world.family, SEIZURE, NOW + timedelta(minutes=1))
    two_patients = _statements(engine, sessions, world, knowledge)

    assert two_patients == one_patient
    # the alerts; the courses with their patients and clinic; their logs; their bags; the
    # patients' numbers; the check-ins with their reporters; their courses of another
    # therapy
    assert one_patient == 7


def _statements(
    engine: Engine, sessions: sessionmaker[Session], world: World, knowledge: Knowledge
) -> int:
    """How many SQL statements reading the open cards takes (and that they were read)."""
    executed: list[str] = []

    def count(*args: object) -> None:
        executed.append(str(args[2]))

    with read_only(sessions) as session:
        session.execute(select(1))  # the transaction's own opening, not the cards'
        event.listen(engine, "before_cursor_execute", count)
        try:
            cards = open_alert_cards(session, actor=world.nurse, now=NOW, knowledge=knowledge)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert cards
    assert all(card.course is not None for card in cards)
    return len(executed)
