"""Refused requests are counted in memory and audited one event per actor, request line
and minute (issue 16, item 8)."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.services.actors import Actor
from blina.services.audit_checks import verify_chain
from blina.services.denials import DenialLog
from blina.store.session import transaction
from blina.store.tables import AuditEvent
from tests.factories import add_clinic_with_family

AT = datetime(2026, 12, 1, 9, 0, 5, tzinfo=UTC)
USERS = "GET /api/v1/users"


@dataclass
class MovingClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> MovingClock:
    """A clock the test moves on (the shared one stands still)."""
    return MovingClock(AT)


@pytest.fixture
def denials(sessions: sessionmaker[Session], clock: MovingClock) -> Iterator[DenialLog]:
    log = DenialLog(sessions, clock=clock)
    log.start()
    yield log
    log.close()


@pytest.fixture
def nurse(sessions: sessionmaker[Session]) -> Actor:
    with transaction(sessions) as session:
        return add_clinic_with_family(session, now=AT, staff_role="nurse").staff


def _denied(sessions: sessionmaker[Session]) -> list[AuditEvent]:
    with sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action == "access.denied")
        return list(session.execute(query.order_by(AuditEvent.seq)).scalars())


def test_many_refusals_in_a_minute_make_one_event_with_their_count_once_it_closed(
    sessions: sessionmaker[Session], denials: DenialLog, clock: MovingClock, nurse: Actor
) -> None:
    for second in range(50):
        denials.record(
            at=AT + timedelta(seconds=second), actor=nurse, request_line=USERS, reason="admin only"
        )

    assert denials.flush() == 0  # the minute is still open: nothing written yet
    assert _denied(sessions) == []
    clock.at = AT + timedelta(minutes=1)
    assert denials.flush() == 1

    [event] = _denied(sessions)
    assert (event.actor_id, event.clinic_id, event.subject_id) == (
        nurse.user_id,
        nurse.clinic_id,
        USERS,
    )
    assert event.at == AT
    assert event.after == {
        "count": 50,
        "last_at": (AT + timedelta(seconds=49)).isoformat(),
        "reason": "admin only",
        "request": USERS,
    }
    with sessions() as session:
        assert verify_chain(session).ok


def test_each_actor_request_line_and_minute_has_its_own_event(
    sessions: sessionmaker[Session], denials: DenialLog, clock: MovingClock, nurse: Actor
) -> None:
    later = AT + timedelta(minutes=1)
    for at, actor, line in [
        (AT, nurse, USERS),
        (AT, nurse, USERS),
        (AT, None, USERS),
        (AT, nurse, "GET /api/v1/patients/9"),
        (later, nurse, USERS),
    ]:
        denials.record(at=at, actor=actor, request_line=line, reason="no", via="web")

    clock.at = AT + timedelta(minutes=5)
    assert denials.flush() == 4

    counts = sorted(
        (e.actor_id or 0, e.subject_id, e.at.minute, e.after["count"], e.after["via"])  # type: ignore[index]
        for e in _denied(sessions)
    )
    assert counts == [
        (0, USERS, 0, 1, "web"),
        (nurse.user_id, "GET /api/v1/patients/9", 0, 1, "web"),
        (nurse.user_id, USERS, 0, 2, "web"),
        (nurse.user_id, USERS, 1, 1, "web"),
    ]


def test_what_is_held_is_written_at_shutdown(
    sessions: sessionmaker[Session], clock: MovingClock, nurse: Actor
) -> None:
    log = DenialLog(sessions, clock=clock)
    log.start()
    log.record(at=AT, actor=nurse, request_line=USERS, reason="no")

    log.close()
    log.close()  # twice: nothing more

    assert [e.after["count"] for e in _denied(sessions)] == [1]  # type: ignore[index]


def test_too_many_lines_held_are_written_before_the_minute_closes(
    sessions: sessionmaker[Session], clock: MovingClock, nurse: Actor
) -> None:
    log = DenialLog(sessions, clock=clock, max_open=3)
    log.start()
    try:
        for number in range(3):
            log.record(at=AT, actor=nurse, request_line=f"GET /p/{number}", reason="no")
        _wait_for(lambda: len(_denied(sessions)) == 3)  # the thread, at once
    finally:
        log.close()


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the denials thread did not write"
        time.sleep(0.01)
