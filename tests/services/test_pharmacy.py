"""A bag's way through the service, from the bench to the pump: prepared for a slot of the
course's current plan by one pharmacist, verified by another, dispensed, hung after the
hang checks (any mismatch a hard stop that stores nothing), removed, or voided or
discarded with a reason; every step audited."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.course_state import BagStatus
from blina.domain.errors import InvalidInput
from blina.domain.pharmacy.resolution import ResolvedLibrary
from blina.knowledge import Knowledge
from blina.services.courses import record_event
from blina.services.errors import Conflict, NotFound, PermissionDenied
from blina.services.pharmacy import (
    HardStop,
    dispense_bag,
    end_bag,
    get_bag,
    hang_bag,
    hang_by,
    list_bags,
    prepare_course_bag,
    remove_bag,
    verify_bag,
)
from blina.store.session import read_only, transaction
from tests.clinic_factories import NOW, World, add_bag, add_course, audited

# The first bag of the default course: 9 mcg/day over 24 h at 10 mL/h, 240 mL to infuse.
RATE, VOLUME = Decimal(10), Decimal(240)
FIRST = datetime(2026, 12, 10, 8, 0, tzinfo=NOW.tzinfo)  # 09:00 in Paris


@pytest.fixture
def course(sessions: sessionmaker[Session], world: World, knowledge: Knowledge) -> int:
    """P1's course; its first slot began at 09:00 and has no bag yet."""
    with transaction(sessions) as session:
        return add_course(session, world, knowledge)


def _prepare(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
    bag_start: datetime | None = None,
) -> int:
    with transaction(sessions) as session:
        return add_bag(
            session, world, knowledge, library, course, bag_start=bag_start, verified=False
        )


def _hang(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    code: str,
    *,
    rate: Decimal = RATE,
    patient: int | None = None,
    now: datetime = NOW,
) -> BagStatus:
    with transaction(sessions) as session:
        row = hang_bag(
            session,
            actor=world.nurse,
            now=now,
            knowledge=knowledge,
            patient_id=world.patient if patient is None else patient,
            code=code,
            rate_ml_per_h=rate,
            volume_ml=VOLUME,
        )
        return BagStatus(row.status)


def _bag(sessions: sessionmaker[Session], world: World, bag_id: int) -> tuple[str, BagStatus]:
    with read_only(sessions) as session:
        row, _ = get_bag(session, actor=world.nurse, bag_id=bag_id)
        return row.code, BagStatus(row.status)


def _verified(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> str:
    with transaction(sessions) as session:
        bag_id = add_bag(session, world, knowledge, library, course)
    return _bag(sessions, world, bag_id)[0]


# --- preparing --------------------------------------------------------------------------


def test_the_next_bag_is_the_current_plan_s_first_slot_without_one(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    bag_id = _prepare(sessions, world, knowledge, library, course)

    with read_only(sessions) as session:
        row, patient = get_bag(session, actor=world.pharmacist, bag_id=bag_id)
        [event] = audited(session, "bag.prepare")
    assert patient.id == world.patient
    assert (row.status, row.slot_start, row.dose_mcg_per_day) == ("prepared", FIRST, 9)
    assert len(row.code) == 8
    assert row.recipe["slot"]["number"] == 1
    assert row.prepared_by == world.pharmacist.user_id
    assert (event.after["code"], event.after["overrides"]) == (row.code, {})


def test_a_prepared_bag_carries_its_recipe_for_the_slot(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    """Moved down from the API's tests (test_flows): a 24-h bag of 9 mcg/day runs at
    10 mL/h, 240 mL to infuse, its volumes adding up."""
    bag_id = _prepare(sessions, world, knowledge, library, course)

    with read_only(sessions) as session:
        recipe = get_bag(session, actor=world.pharmacist, bag_id=bag_id)[0].recipe
    assert recipe["bag_start"] == FIRST.isoformat()
    assert recipe["prescription"]["dose_mcg_per_day"] == 9
    assert recipe["rate_ml_per_h"] == 10
    assert recipe["infuse_ml"] == 240
    assert recipe["total_ml"] == recipe["saline_ml"] + recipe["stabilizer_ml"] + recipe["drug_ml"]


def test_a_slot_gets_one_bag_and_a_start_the_plan_lacks_is_bad_input(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    _prepare(sessions, world, knowledge, library, course, bag_start=FIRST)

    with pytest.raises(Conflict, match="already has bag"):
        _prepare(sessions, world, knowledge, library, course, bag_start=FIRST)
    with pytest.raises(InvalidInput) as refused:
        _prepare(sessions, world, knowledge, library, course, bag_start=FIRST + timedelta(hours=3))
    assert refused.value.field == "bag_start"
    assert "(next: 2026-12-11T08:00:00+00:00" in refused.value.allowed


def test_no_bag_is_prepared_while_the_infusion_is_interrupted(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    with transaction(sessions) as session:
        record_event(
            session,
            actor=world.physician,
            now=NOW,
            knowledge=knowledge,
            course_id=course,
            expected_version=1,
            event={"kind": "interrupt", "at": NOW.isoformat(), "cause": "crs", "grade": 3},
        )

    with pytest.raises(Conflict, match="no restart is recorded"):
        _prepare(sessions, world, knowledge, library, course)


@pytest.mark.parametrize("who", ["nurse", "physician", "family"])
def test_only_a_pharmacist_prepares(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
    who: str,
) -> None:
    with transaction(sessions) as session, pytest.raises(PermissionDenied):
        prepare_course_bag(
            session,
            actor=getattr(world, who),
            now=NOW,
            knowledge=knowledge,
            library=library,
            course_id=course,
            bag_start=None,
            override_reasons={},
        )


def test_a_course_the_pharmacist_may_not_see_is_not_found(
    sessions: sessionmaker[Session], world: World, knowledge: Knowledge, library: ResolvedLibrary
) -> None:
    with transaction(sessions) as session:
        theirs = add_course(
            session, world, knowledge, patient=world.outsider_patient, as_=world.outsider
        )

    with pytest.raises(NotFound, match=f"course {theirs} not found"):
        _prepare(sessions, world, knowledge, library, theirs)


# --- verifying and dispensing ------------------------------------------------------------


def test_a_second_pharmacist_verifies_never_the_one_who_prepared(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    bag_id = _prepare(sessions, world, knowledge, library, course)

    with (
        transaction(sessions) as session,
        pytest.raises(PermissionDenied, match="never by the one who prepared it"),
    ):
        verify_bag(session, actor=world.pharmacist, now=NOW, knowledge=knowledge, bag_id=bag_id)
    with transaction(sessions) as session:
        row = verify_bag(session, actor=world.checker, now=NOW, knowledge=knowledge, bag_id=bag_id)
        assert (row.status, row.verified_by) == ("verified", world.checker.user_id)
    with transaction(sessions) as session, pytest.raises(Conflict, match="already verified"):
        verify_bag(session, actor=world.checker, now=NOW, knowledge=knowledge, bag_id=bag_id)


def test_a_verified_bag_is_dispensed_to_the_ward_or_home_only(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    bag_id = _prepare(sessions, world, knowledge, library, course)
    with transaction(sessions) as session, pytest.raises(Conflict, match="only a verified bag"):
        dispense_bag(
            session, actor=world.checker, now=NOW, knowledge=knowledge, bag_id=bag_id, to="ward"
        )
    with transaction(sessions) as session:
        verify_bag(session, actor=world.checker, now=NOW, knowledge=knowledge, bag_id=bag_id)
        with pytest.raises(InvalidInput) as refused:
            dispense_bag(
                session, actor=world.checker, now=NOW, knowledge=knowledge, bag_id=bag_id, to="car"
            )
        assert refused.value.field == "to"

    with transaction(sessions) as session:
        row = dispense_bag(
            session, actor=world.checker, now=NOW, knowledge=knowledge, bag_id=bag_id, to="home"
        )
        assert (row.status, row.dispensed_to) == ("dispensed", "home")
    with read_only(sessions) as session:
        [event] = audited(session, "bag.dispense")
    assert (event.before, event.after["status"], event.after["to"]) == (
        {"status": "verified"},
        "dispensed",
        "home",
    )


# --- at the pump ---------------------------------------------------------------------------


def test_a_verified_bag_is_hung_with_its_own_pump_program(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    code = _verified(sessions, world, knowledge, library, course)

    assert _hang(sessions, world, knowledge, code.lower()) is BagStatus.HUNG

    with read_only(sessions) as session:
        [event] = audited(session, "bag.hang")
    assert event.after == {
        "status": "hung",
        "code": code,
        "rate_ml_per_h": "10",
        "volume_ml": "240",
    }


@pytest.mark.parametrize("rate", [Decimal(100), Decimal(5)])
def test_a_pump_rate_that_is_not_the_bag_s_is_a_hard_stop_and_nothing_changes(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
    rate: Decimal,
) -> None:
    code = _verified(sessions, world, knowledge, library, course)

    with pytest.raises(HardStop) as stopped:
        _hang(sessions, world, knowledge, code, rate=rate)

    assert f"{rate} mL/h" in str(stopped.value)
    assert all(reason["code"] == "hang-check" for reason in stopped.value.reasons)
    with read_only(sessions) as session:
        assert audited(session, "bag.hang") == []
        assert [
            BagStatus(b.status) for b in list_bags(session, actor=world.nurse, course_id=course)
        ] == [BagStatus.VERIFIED]


def test_another_patient_s_bag_and_an_unverified_one_are_hard_stops(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    code = _verified(sessions, world, knowledge, library, course)
    with pytest.raises(HardStop, match="not this patient's"):
        _hang(sessions, world, knowledge, code, patient=world.other_patient)

    second = _prepare(sessions, world, knowledge, library, course)  # tomorrow's, unverified
    with pytest.raises(HardStop):
        _hang(sessions, world, knowledge, _bag(sessions, world, second)[0])


@pytest.mark.parametrize(
    ("code", "error"), [("", InvalidInput), ("ZZZZZZZZ", NotFound), ("x" * 17, InvalidInput)]
)
def test_a_code_no_bag_has_is_refused(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    course: int,
    code: str,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        _hang(sessions, world, knowledge, code)


@pytest.mark.parametrize(
    "rate", [Decimal(0), Decimal(-1), Decimal(1001), Decimal("Infinity"), Decimal("NaN")]
)
def test_a_pump_program_out_of_bounds_is_bad_input(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
    rate: Decimal,
) -> None:
    code = _verified(sessions, world, knowledge, library, course)

    with pytest.raises(InvalidInput) as refused:
        _hang(sessions, world, knowledge, code, rate=rate)

    assert refused.value.field == "rate_ml_per_h"


def test_hanging_the_next_bag_removes_the_one_on_the_pump(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    with transaction(sessions) as session:
        first = add_bag(session, world, knowledge, library, course)
        second = add_bag(session, world, knowledge, library, course)
    _hang(sessions, world, knowledge, _bag(sessions, world, first)[0])

    # the first bag was hung at NOW, 90 min after its time: the next one is due a day later
    tomorrow = NOW + timedelta(days=1) - timedelta(minutes=30)
    _hang(sessions, world, knowledge, _bag(sessions, world, second)[0], now=tomorrow)

    assert _bag(sessions, world, first)[1] is BagStatus.REMOVED
    assert _bag(sessions, world, second)[1] is BagStatus.HUNG
    with read_only(sessions) as session:
        [removal] = audited(session, "bag.remove")
    assert removal.after["by"] == _bag(sessions, world, second)[0]


def test_only_a_hung_bag_is_removed_and_what_is_left_is_recorded(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    with transaction(sessions) as session:
        bag_id = add_bag(session, world, knowledge, library, course)
    with transaction(sessions) as session, pytest.raises(Conflict, match="only a hung bag"):
        remove_bag(session, actor=world.nurse, now=NOW, bag_id=bag_id, volume_left_ml=None)
    _hang(sessions, world, knowledge, _bag(sessions, world, bag_id)[0])
    with transaction(sessions) as session, pytest.raises(InvalidInput):
        remove_bag(session, actor=world.nurse, now=NOW, bag_id=bag_id, volume_left_ml=Decimal(-1))
    with transaction(sessions) as session, pytest.raises(PermissionDenied):
        remove_bag(session, actor=world.pharmacist, now=NOW, bag_id=bag_id, volume_left_ml=None)

    with transaction(sessions) as session:
        row = remove_bag(
            session, actor=world.nurse, now=NOW, bag_id=bag_id, volume_left_ml=Decimal(0)
        )
        assert (row.status, row.volume_left_ml) == ("removed", 0)


# --- voided or discarded -------------------------------------------------------------------


def test_a_voided_bag_frees_its_slot_for_a_new_one(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    first = _prepare(sessions, world, knowledge, library, course, bag_start=FIRST)
    with transaction(sessions) as session:
        row = end_bag(
            session, actor=world.checker, now=NOW, bag_id=first, outcome="voided", reason=" torn "
        )
        assert (row.status, row.ended_reason) == ("voided", "torn")

    again = _prepare(sessions, world, knowledge, library, course, bag_start=FIRST)

    assert again != first
    with read_only(sessions) as session:
        assert [e.after["reason"] for e in audited(session, "bag.void")] == ["torn"]


@pytest.mark.parametrize(
    ("who", "outcome", "reason", "error"),
    [
        ("nurse", "voided", "torn", PermissionDenied),  # the pharmacy voids
        ("family", "discarded", "torn", PermissionDenied),
        ("nurse", "lost", "torn", InvalidInput),
        ("nurse", "discarded", "  ", InvalidInput),
        ("nurse", "discarded", "x" * 2001, InvalidInput),
        ("outsider", "discarded", "torn", NotFound),
    ],
)
def test_an_end_by_the_wrong_person_or_without_a_reason_is_refused(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
    who: str,
    outcome: str,
    reason: str,
    error: type[Exception],
) -> None:
    bag_id = _prepare(sessions, world, knowledge, library, course)

    with transaction(sessions) as session, pytest.raises(error):
        end_bag(
            session,
            actor=getattr(world, who),
            now=NOW,
            bag_id=bag_id,
            outcome=outcome,
            reason=reason,
        )

    assert _bag(sessions, world, bag_id)[1] is BagStatus.PREPARED


def test_a_hung_bag_is_not_discarded(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    with transaction(sessions) as session:
        bag_id = add_bag(session, world, knowledge, library, course)
    _hang(sessions, world, knowledge, _bag(sessions, world, bag_id)[0])

    with transaction(sessions) as session, pytest.raises(Conflict, match="not yet hung"):
        end_bag(session, actor=world.nurse, now=NOW, bag_id=bag_id, outcome="discarded", reason="x")


# --- reading --------------------------------------------------------------------------------


def test_the_clinic_s_staff_read_the_bags_and_the_family_does_not(
    sessions: sessionmaker[Session],
    world: World,
    knowledge: Knowledge,
    library: ResolvedLibrary,
    course: int,
) -> None:
    first = _prepare(sessions, world, knowledge, library, course)
    second = _prepare(sessions, world, knowledge, library, course)

    with read_only(sessions) as session:
        assert [b.id for b in list_bags(session, actor=world.admin, course_id=course)] == [
            first,
            second,
        ]
        with pytest.raises(PermissionDenied):
            list_bags(session, actor=world.family, course_id=course)
        with pytest.raises(PermissionDenied):
            get_bag(session, actor=world.family, bag_id=first)
        with pytest.raises(NotFound):
            list_bags(session, actor=world.outsider, course_id=course)
        with pytest.raises(NotFound, match=f"bag {first} not found"):
            get_bag(session, actor=world.outsider, bag_id=first)


def test_hang_by_reads_the_refrigerated_limit_first() -> None:
    prepared = NOW

    def recipe(**limits: dict[str, object]) -> dict[str, object]:
        return {"expiry": {"prepared-bag": limits}}

    fridge = {"hours": 192, "includes_infusion": False, "start_within_hours": None}
    room = {"hours": 48, "includes_infusion": True, "start_within_hours": 24}
    assert hang_by(recipe(refrigerated=fridge, **{"room-temperature": room}), prepared) == (
        prepared + timedelta(hours=192)
    )
    assert hang_by(recipe(**{"room-temperature": room}), prepared) == prepared + timedelta(hours=24)
    # a limit that includes the infusion and says nothing of when to start gives no time
    assert (
        hang_by(recipe(**{"room-temperature": {"hours": 48, "includes_infusion": True}}), prepared)
        is None
    )
    assert hang_by({}, prepared) is None
