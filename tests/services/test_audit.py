"""The audit hash chain: intact after writes, broken by any change to history."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from blina.services.audit import _jsonable, append_audit
from blina.services.audit_checks import verify_chain, verify_clinic_trail
from blina.store.session import transaction
from blina.store.tables import AuditCheckpoint, AuditEvent, AuditHead, Clinic
from tests.factories import add_clinic_with_family

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _write(sessions: sessionmaker[Session], count: int) -> None:
    for index in range(count):
        with transaction(sessions) as session:
            append_audit(
                session,
                at=AT,
                actor=None,
                action="test.write",
                subject_type="thing",
                subject_id=index,
                after={"n": index, "dose": "28.50"},
            )


def _verify(sessions: sessionmaker[Session]) -> tuple[bool, int, int | None]:
    with sessions() as session:
        report = verify_chain(session)
    return report.ok, report.events, report.first_bad_seq


def test_verify_chain_after_writes_is_intact(sessions: sessionmaker[Session]) -> None:
    _write(sessions, 5)

    assert _verify(sessions) == (True, 5, None)


def test_verify_chain_rolled_back_write_leaves_no_gap(sessions: sessionmaker[Session]) -> None:
    _write(sessions, 2)

    def failing_write() -> None:
        with transaction(sessions) as session:
            append_audit(session, at=AT, actor=None, action="x", subject_type="t", subject_id=1)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_write()
    _write(sessions, 1)

    assert _verify(sessions) == (True, 3, None)


@pytest.mark.parametrize(
    ("tamper", "bad_seq"),
    [
        (update(AuditEvent).where(AuditEvent.seq == 3).values(after={"n": 99, "dose": "28.50"}), 3),
        (update(AuditEvent).where(AuditEvent.seq == 2).values(action="test.other"), 2),
        (
            update(AuditEvent)
            .where(AuditEvent.seq == 4)
            .values(at=datetime(2026, 12, 2, tzinfo=UTC)),
            4,
        ),
        (delete(AuditEvent).where(AuditEvent.seq == 2), 3),
        (delete(AuditEvent).where(AuditEvent.seq == 5), None),
    ],
    ids=["change-content", "change-action", "change-time", "remove-middle", "remove-newest"],
)
def test_verify_chain_changed_history_is_detected(
    sessions: sessionmaker[Session], tamper: object, bad_seq: int | None
) -> None:
    _write(sessions, 5)
    with transaction(sessions) as session:
        session.execute(tamper)  # type: ignore[call-overload]

    ok, _, first_bad = _verify(sessions)

    assert ok is False
    assert first_bad == bad_seq


def test_append_audit_links_each_event_to_the_previous(sessions: sessionmaker[Session]) -> None:
    _write(sessions, 3)
    with sessions() as session:
        events = list(session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars())
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == "0" * 64
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash


def test_events_appended_are_read_back_in_the_same_transaction(
    sessions: sessionmaker[Session],
) -> None:
    _write(sessions, 1)
    with transaction(sessions) as session:
        for index in range(3):
            append_audit(session, at=AT, actor=None, action="x", subject_type="t", subject_id=index)
        report = verify_chain(session)

    assert (report.ok, report.events) == (True, 4)
    assert _verify(sessions) == (True, 4, None)


@pytest.mark.parametrize(
    "after",
    [
        {"b": 1, "a": "x", "c": None, "d": True},
        {"dose": Decimal("28.50"), "at": datetime(2026, 12, 1, tzinfo=UTC)},
        {"nested": {"z": 1, "a": [1, 2]}, "n": 2},
        {1: "int key"},
    ],
    ids=["plain", "decimal-and-date", "nested", "int-key"],
)
def test_what_is_stored_is_the_json_round_trip(
    sessions: sessionmaker[Session], after: dict[object, object]
) -> None:
    with transaction(sessions) as session:
        append_audit(
            session, at=AT, actor=None, action="x", subject_type="t", subject_id=1, after=after
        )  # type: ignore[arg-type]
    with sessions() as session:
        stored = session.execute(select(AuditEvent.after)).scalar_one()

    assert stored == json.loads(json.dumps(after, default=str, sort_keys=True))
    assert list(stored) == sorted(stored)
    assert _verify(sessions) == (True, 1, None)


_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=12)


@given(
    value=st.dictionaries(st.text(max_size=8), _SCALARS, max_size=6)
    | st.dictionaries(
        st.text(max_size=8),
        _SCALARS | st.decimals(allow_nan=False) | st.dates() | st.lists(_SCALARS, max_size=3),
        max_size=6,
    )
)
def test_event_content_is_the_json_round_trip_of_what_was_given(value: dict[str, object]) -> None:
    # What is hashed and stored: keys sorted, decimals and dates as text, as JSON reads it
    # back; a flat dict of plain values skips the round trip and must give the same.
    expected = json.loads(json.dumps(value, default=str, sort_keys=True))
    content = _jsonable(value)

    assert content == expected
    assert list(content) == list(expected)
    assert json.dumps(content) == json.dumps(expected)


# --- a clinic's trail, verified from its checkpoint ----------------------------------------


def _clinic_events(sessions: sessionmaker[Session], clinic_id: int, count: int) -> None:
    with transaction(sessions) as session:
        for index in range(count):
            append_audit(
                session,
                at=AT,
                actor=None,
                action="test.write",
                subject_type="thing",
                subject_id=index,
                clinic_id=clinic_id,
            )


def test_a_clinic_s_trail_is_verified_from_its_checkpoint_and_reads_only_what_is_newer(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        admin = add_clinic_with_family(session, now=AT, staff_role="admin").staff
        other = Clinic(name="other", zone="UTC", created_at=AT)
        session.add(other)
        session.flush()
        other_id = other.id
    _clinic_events(sessions, admin.clinic_id, 5)
    _clinic_events(sessions, other_id, 3)
    with sessions() as session:
        own = session.execute(
            select(func.count()).where(AuditEvent.clinic_id == admin.clinic_id)
        ).scalar_one()

    first = verify_clinic_trail(sessions, actor=admin)
    again = verify_clinic_trail(sessions, actor=admin)
    _clinic_events(sessions, other_id, 4)
    _clinic_events(sessions, admin.clinic_id, 2)
    _clinic_events(sessions, other_id, 1)
    later = verify_clinic_trail(sessions, actor=admin)

    assert [(r.ok, r.events) for r in (first, again, later)] == [(True, own), (True, 0), (True, 2)]
    with sessions() as session:
        newest = session.execute(
            select(func.max(AuditEvent.seq)).where(AuditEvent.clinic_id == admin.clinic_id)
        ).scalar_one()
        kept = session.execute(select(AuditCheckpoint)).scalar_one()
    assert (kept.clinic_id, kept.seq) == (admin.clinic_id, newest)


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (
            lambda seq: update(AuditEvent).where(AuditEvent.seq == seq).values(action="x"),
            "its content does not match its hash",
        ),
        (
            lambda seq: delete(AuditEvent).where(AuditEvent.seq == seq - 1),
            "is missing",
        ),
        (
            lambda seq: update(AuditEvent).where(AuditEvent.seq == seq + 1).values(prev_hash="0"),
            "its hash is not the one the next event links to",
        ),
    ],
    ids=["own-event-changed", "event-before-removed", "link-after-changed"],
)
def test_a_clinic_s_trail_shows_a_change_after_its_checkpoint(
    sessions: sessionmaker[Session], tamper: Any, problem: str
) -> None:
    with transaction(sessions) as session:
        admin = add_clinic_with_family(session, now=AT, staff_role="admin").staff
    assert verify_clinic_trail(sessions, actor=admin).ok
    _write(sessions, 1)  # of no clinic
    _clinic_events(sessions, admin.clinic_id, 1)
    _write(sessions, 1)
    with sessions() as session:
        seq = session.execute(
            select(func.max(AuditEvent.seq)).where(AuditEvent.clinic_id == admin.clinic_id)
        ).scalar_one()
    with transaction(sessions) as session:
        session.execute(tamper(seq))

    report = verify_clinic_trail(sessions, actor=admin)

    assert not report.ok
    assert problem in report.problem
    assert verify_clinic_trail(sessions, actor=admin).ok is False  # never moved past it


def test_verify_chain_an_event_left_beyond_a_head_moved_back_is_detected(
    sessions: sessionmaker[Session],
) -> None:
    _write(sessions, 5)
    fourth = select(AuditEvent.hash).where(AuditEvent.seq == 4).scalar_subquery()
    with transaction(sessions) as session:
        session.execute(update(AuditHead).values(seq=4, last_hash=fourth))

    with sessions() as session:
        report = verify_chain(session)

    assert (report.ok, report.first_bad_seq, report.problem) == (
        False,
        None,
        "event 5 lies beyond the chain's head (the head was moved back)",
    )
