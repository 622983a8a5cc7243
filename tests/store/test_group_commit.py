"""Group commit: units from many callers share a transaction; a failing unit fails alone."""

import asyncio
import threading
from collections import Counter
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from blina.services.audit import append_audit, audit_undone_on_error
from blina.services.audit_checks import verify_chain
from blina.store.group_commit import GroupCommit
from blina.store.tables import AuditEvent, Clinic

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _add_clinic(name: str) -> Any:
    def unit(session: Session) -> str:
        session.add(Clinic(name=name, zone="UTC", created_at=AT))
        session.flush()
        append_audit(
            session, at=AT, actor=None, action="test.clinic", subject_type="clinic", subject_id=name
        )
        return name

    return unit


def _fail(session: Session) -> str:
    session.add(Clinic(name="half-written", zone="UTC", created_at=AT))
    session.flush()
    raise ValueError("refused")


def _names(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        return set(session.execute(select(Clinic.name)).scalars())


def _held(writer: GroupCommit) -> threading.Event:
    """Keep the writer busy until the event is set, so the next units queue as one batch."""
    running = threading.Event()
    release = threading.Event()

    def hold(session: Session) -> bool:
        running.set()
        return release.wait(10)

    writer.submit(hold)
    assert running.wait(10)
    return release


def _batch(writer: GroupCommit, units: list[Any]) -> list["Future[Any]"]:
    release = _held(writer)
    futures = [writer.submit(unit) for unit in units]
    release.set()
    return futures


def test_group_commit_answers_every_unit_after_one_commit(
    sessions: sessionmaker[Session],
) -> None:
    writer = GroupCommit(sessions)
    writer.start()
    futures = _batch(writer, [_add_clinic(f"clinic {n}") for n in range(10)])

    assert [f.result(timeout=10) for f in futures] == [f"clinic {n}" for n in range(10)]
    writer.close()
    assert _names(sessions) == {f"clinic {n}" for n in range(10)}
    with sessions() as session:
        report = verify_chain(session)
    assert (report.ok, report.events) == (True, 10)


def test_group_commit_failing_unit_fails_alone_and_keeps_nothing(
    sessions: sessionmaker[Session],
) -> None:
    writer = GroupCommit(sessions)
    writer.start()
    futures = _batch(writer, [_add_clinic("first"), _fail, _add_clinic("last")])

    assert futures[0].result(timeout=10) == "first"
    with pytest.raises(ValueError, match="refused"):
        futures[1].result(timeout=10)
    assert futures[2].result(timeout=10) == "last"
    writer.close()
    assert _names(sessions) == {"first", "last"}
    with sessions() as session:
        report = verify_chain(session)
    assert (report.ok, report.events) == (True, 2)


def test_group_commit_batches_are_bounded(sessions: sessionmaker[Session]) -> None:
    seen: list[int] = []

    def unit(session: Session) -> int:
        seen.append(session.hash_key)  # unique per session, unlike id()
        return 1

    writer = GroupCommit(sessions, max_batch=4)

    writer.start()
    futures = _batch(writer, [unit] * 10)

    assert sum(f.result(timeout=10) for f in futures) == 10
    writer.close()
    assert len(set(seen)) == 3  # sessions: 4 + 4 + 2 units


def test_group_commit_close_finishes_queued_units(sessions: sessionmaker[Session]) -> None:
    writer = GroupCommit(sessions)
    writer.start()
    release = _held(writer)
    futures = [writer.submit(_add_clinic(f"queued {n}")) for n in range(3)]
    closing = threading.Thread(target=writer.close)
    closing.start()
    release.set()
    closing.join(timeout=10)

    assert all(f.done() for f in futures)
    assert _names(sessions) == {"queued 0", "queued 1", "queued 2"}


def test_audit_chain_is_whole_after_a_batch(
    sessions: sessionmaker[Session],
) -> None:
    writer = GroupCommit(sessions)
    writer.start()
    futures = _batch(writer, [_add_clinic(f"c{n}") for n in range(5)])
    for future in futures:
        future.result(timeout=10)
    writer.close()
    with sessions() as session:
        events = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        report = verify_chain(session)
    assert events == 5
    assert report.ok


def _run_batch(writer: GroupCommit, units: list[Any]) -> tuple[list[Any], int]:
    """The units awaited from one event loop as one batch: their outcomes, and how many
    times the writer woke the loop."""

    async def main() -> tuple[list[Any], int]:
        loop = asyncio.get_running_loop()
        wake_ups = 0
        wake = loop.call_soon_threadsafe

        def counted(*args: Any, **kwargs: Any) -> Any:
            nonlocal wake_ups
            wake_ups += 1
            return wake(*args, **kwargs)

        loop.call_soon_threadsafe = counted  # type: ignore[method-assign]
        release = _held(writer)
        waiting = [asyncio.ensure_future(writer.run(unit)) for unit in units]
        await asyncio.sleep(0)  # every unit is queued behind the held one
        release.set()
        outcomes = await asyncio.gather(*waiting, return_exceptions=True)
        return outcomes, wake_ups

    return asyncio.run(main())


def test_group_commit_answers_a_loop_once_per_batch(sessions: sessionmaker[Session]) -> None:
    writer = GroupCommit(sessions)
    writer.start()
    outcomes, wake_ups = _run_batch(writer, [_add_clinic(f"awaited {n}") for n in range(8)])
    writer.close()

    assert outcomes == [f"awaited {n}" for n in range(8)]
    assert wake_ups == 1
    assert _names(sessions) == {f"awaited {n}" for n in range(8)}


def test_group_commit_awaited_failing_unit_fails_alone(sessions: sessionmaker[Session]) -> None:
    writer = GroupCommit(sessions)
    writer.start()
    outcomes, _ = _run_batch(writer, [_add_clinic("before"), _fail, _add_clinic("after")])
    writer.close()

    assert outcomes[0] == "before"
    assert isinstance(outcomes[1], ValueError)
    assert outcomes[2] == "after"
    assert _names(sessions) == {"before", "after"}


def test_group_commit_skips_a_unit_whose_caller_gave_up(sessions: sessionmaker[Session]) -> None:
    writer = GroupCommit(sessions)
    writer.start()

    async def main() -> None:
        release = _held(writer)
        gone = asyncio.ensure_future(writer.run(_add_clinic("abandoned")))
        kept = asyncio.ensure_future(writer.run(_add_clinic("kept")))
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.sleep(0)
        release.set()
        assert await kept == "kept"

    asyncio.run(main())
    writer.close()
    assert _names(sessions) == {"kept"}


def test_group_commit_outlives_a_closed_loop(sessions: sessionmaker[Session]) -> None:
    writer = GroupCommit(sessions)
    writer.start()
    release = _held(writer)
    loop = asyncio.new_event_loop()
    orphan = writer.run(_add_clinic("orphan"))
    waiting = loop.create_task(orphan)
    loop.run_until_complete(asyncio.sleep(0))  # queued; then its loop closes, still waiting
    loop.close()
    later = writer.submit(_add_clinic("later"))
    release.set()

    assert later.result(timeout=10) == "later"
    writer.close()
    assert _names(sessions) == {"orphan", "later"}  # stored, though nobody heard the answer
    assert not waiting.done()


def _counted(runs: "Counter[str]", name: str, unit: Any) -> Any:
    def counting(session: Session) -> Any:
        runs[name] += 1
        return unit(session)

    return counting


def test_a_failing_unit_never_replays_the_others(sessions: sessionmaker[Session]) -> None:
    """Each unit runs once: the failing one is rolled back to its savepoint, the batch
    goes on and commits once."""
    runs: Counter[str] = Counter()
    writer = GroupCommit(sessions)
    writer.start()
    futures = _batch(
        writer,
        [
            _counted(runs, "first", _add_clinic("first")),
            _counted(runs, "failing", _fail),
            _counted(runs, "last", _add_clinic("last")),
        ],
    )

    assert futures[0].result(timeout=10) == "first"
    with pytest.raises(ValueError, match="refused"):
        futures[1].result(timeout=10)
    assert futures[2].result(timeout=10) == "last"
    writer.close()
    assert runs == {"first": 1, "failing": 1, "last": 1}
    assert _names(sessions) == {"first", "last"}


def _append_then_fail(session: Session) -> str:
    session.add(Clinic(name="half-written", zone="UTC", created_at=AT))
    session.flush()
    append_audit(
        session, at=AT, actor=None, action="test.clinic", subject_type="clinic", subject_id="x"
    )
    raise ValueError("refused")


@pytest.mark.parametrize("failing_first", [True, False])
def test_the_audit_events_of_a_failing_unit_are_undone_with_it(
    sessions: sessionmaker[Session], failing_first: bool
) -> None:
    units = [_add_clinic("a"), _add_clinic("b")]
    units.insert(0 if failing_first else 1, _append_then_fail)
    writer = GroupCommit(sessions, guard=audit_undone_on_error)
    writer.start()
    futures = _batch(writer, units)
    outcomes = [f.exception(timeout=10) or f.result() for f in futures]
    writer.close()

    assert [o for o in outcomes if isinstance(o, str)] == ["a", "b"]
    assert _names(sessions) == {"a", "b"}
    with sessions() as session:
        subjects = session.execute(select(AuditEvent.subject_id).order_by(AuditEvent.seq))
        assert list(subjects.scalars()) == ["a", "b"]
        report = verify_chain(session)
    assert (report.ok, report.events) == (True, 2)


def test_only_a_failing_commit_runs_the_units_of_its_batch_again_each_alone(
    sessions: sessionmaker[Session],
) -> None:
    runs: Counter[str] = Counter()
    failed: list[bool] = []

    def refuse_the_first_commit(session: Session) -> None:
        if not failed and not session.in_nested_transaction():  # the batch's own commit
            failed.append(True)
            raise RuntimeError("the disk is full")

    def trap(session: Session) -> str:
        event.listen(session, "before_commit", refuse_the_first_commit)
        return "trap"

    writer = GroupCommit(sessions)
    writer.start()
    futures = _batch(
        writer,
        [
            _counted(runs, "a", _add_clinic("a")),
            _counted(runs, "trap", trap),
            _counted(runs, "b", _add_clinic("b")),
        ],
    )

    assert [f.result(timeout=10) for f in futures] == ["a", "trap", "b"]
    writer.close()
    assert runs == {"a": 2, "trap": 2, "b": 2}
    assert _names(sessions) == {"a", "b"}
