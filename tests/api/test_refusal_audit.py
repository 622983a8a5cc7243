"""A refusal (403) is answered without waiting for the audit trail, and a flood of them
is audited as one event with its count (issue 16, item 8)."""

import threading

from sqlalchemy import select
from tests.api.conftest import World

from blina.store.session import transaction
from blina.store.tables import AuditEvent, AuditHead

REFUSALS = 40


def test_refusals_are_answered_while_the_trail_is_locked_then_audited_as_one_event(
    world: World,
) -> None:
    state = world.client.app.state.blina  # type: ignore[attr-defined]
    state.denials.flush(everything=True)  # what earlier tests left counted
    answers: list[int] = []

    def refused() -> None:
        for _ in range(REFUSALS):
            response = world.client.get("/api/v1/users", headers=world.as_("nurse_a"))
            answers.append(response.status_code)

    # Every audit append waits for this transaction: the head row is locked (and on
    # SQLite the one writer is this one). The refusals must not.
    with transaction(state.sessions) as session:
        session.execute(select(AuditHead).with_for_update()).scalar_one()
        client = threading.Thread(target=refused)
        client.start()
        client.join(60)
        assert not client.is_alive(), "a refusal waited for the audit trail"
    assert answers == [403] * REFUSALS

    state.denials.flush(everything=True)
    with state.sessions() as session:
        events = list(
            session.execute(
                select(AuditEvent).where(
                    AuditEvent.action == "access.denied",
                    AuditEvent.subject_id == "GET /api/v1/users",
                )
            ).scalars()
        )
    assert [(event.after or {})["count"] for event in events][-1:] == [REFUSALS]
