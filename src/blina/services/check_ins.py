"""Check-ins from phones, written through one seam: ``CheckInWriter``.

A check-in posted with a token is signed in (``accounts.authenticate``), checked against
the patient (``access.require_patient``, inside ``reports.submit_report``), triaged,
stored and audited, in that order: nothing is written for a check-in refused. Two
writers do it, with the same answers:

- ``DirectWriter``: one ordinary transaction per check-in, on a worker thread. The
  reference: the tests run every check-in test against it and the other.
- ``GroupCommitWriter``: the API's. One writer thread, one transaction for every
  check-in waiting (``store.group_commit``), each check-in in a savepoint of its own, so
  one refused or failing never rolls back or replays the others; prepared statements run
  on the driver there only (``store.prepared``). docs/design/service.md has its figures.

A writer runs from ``start()`` to ``close()`` (the app's lifespan); ``close()`` writes
the check-ins already queued first.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from anyio import to_thread
from sqlalchemy.orm import Session, sessionmaker

from blina.knowledge import Knowledge
from blina.services.accounts import authenticate
from blina.services.actors import Actor
from blina.services.audit import audit_undone_on_error
from blina.services.clock import Clock
from blina.services.reports import CheckInRequest, SubmittedReport, submit_report
from blina.store.group_commit import GroupCommit
from blina.store.session import transaction

__all__ = ["WRITERS", "CheckInWriter", "DirectWriter", "GroupCommitWriter", "PostedCheckIn"]


@dataclass(frozen=True, slots=True)
class PostedCheckIn:
    """A check-in as posted: the sender's token, the patient, the Idempotency-Key and the
    check-in. ``signed_in`` is told the sender once the token is checked, before the
    check-in is (the API keeps it for the audit of a refusal)."""

    token: str
    patient_id: int
    idempotency_key: str
    check_in: CheckInRequest
    signed_in: Callable[[Actor], None] | None = None


class CheckInWriter(Protocol):
    """Stores posted check-ins: ``write`` answers the stored report (or raises the
    refusal: not signed in, not the sender's patient, bad input, over the hourly limit)."""

    def start(self) -> None: ...

    def close(self) -> None: ...

    async def write(self, posted: PostedCheckIn) -> SubmittedReport: ...


class _Writing:
    """What both writers share: the knowledge and the clock a check-in is triaged with."""

    def __init__(self, knowledge: Knowledge, clock: Clock) -> None:
        self._knowledge = knowledge
        self._clock = clock

    def _store(self, session: Session, posted: PostedCheckIn) -> SubmittedReport:
        """Sign in, then check, triage and store, in ``session``'s transaction."""
        now = self._clock.now()
        actor = authenticate(session, now=now, token=posted.token)
        if posted.signed_in is not None:
            posted.signed_in(actor)
        return submit_report(
            session,
            actor=actor,
            now=now,
            knowledge=self._knowledge,
            patient_id=posted.patient_id,
            idempotency_key=posted.idempotency_key,
            check_in=posted.check_in,
        )


class DirectWriter(_Writing):
    """One ordinary transaction per check-in, on a worker thread."""

    def __init__(
        self, sessions: sessionmaker[Session], *, knowledge: Knowledge, clock: Clock
    ) -> None:
        super().__init__(knowledge, clock)
        self._sessions = sessions

    def start(self) -> None:
        """Nothing to start: each check-in takes a worker thread of its own."""

    def close(self) -> None:
        """Nothing to stop: a check-in under way is awaited by its request."""

    async def write(self, posted: PostedCheckIn) -> SubmittedReport:
        return await to_thread.run_sync(self._write, posted)

    def _write(self, posted: PostedCheckIn) -> SubmittedReport:
        with transaction(self._sessions) as session:
            return self._store(session, posted)


class GroupCommitWriter(_Writing):
    """The check-ins waiting, written in one transaction by one thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        knowledge: Knowledge,
        clock: Clock,
        max_batch: int = 64,
    ) -> None:
        super().__init__(knowledge, clock)
        self._group = GroupCommit(sessions, max_batch=max_batch, guard=audit_undone_on_error)

    def start(self) -> None:
        self._group.start()

    def close(self) -> None:
        self._group.close()

    async def write(self, posted: PostedCheckIn) -> SubmittedReport:
        return await self._group.run(lambda session: self._store(session, posted))


# The writers by name (``create_app(check_in_writer=...)``): the group-commit writer
# serves; the direct one is the reference the tests hold it to.
WRITERS: dict[str, type[DirectWriter] | type[GroupCommitWriter]] = {
    "group-commit": GroupCommitWriter,
    "direct": DirectWriter,
}
