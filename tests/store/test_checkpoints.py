"""SQLite's log is checkpointed by a thread of its own, never inside a commit."""

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from blina.store.checkpoints import WalCheckpoints
from blina.store.session import make_engine, make_session_factory, transaction

PAGE = 4096


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[Engine, Path]]:
    path = tmp_path / "log.sqlite3"
    engine = make_engine(f"sqlite+pysqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT)")
    engine.dispose()  # the connections opened from now on are the ones the tests use
    yield engine, path
    engine.dispose()


def _write_pages(engine: Engine, pages: int) -> None:
    """More than ``pages`` pages, in one commit."""
    with engine.begin() as connection:
        for _ in range(pages):
            connection.exec_driver_sql("INSERT INTO note (body) VALUES (?)", ("x" * PAGE,))


def _size(path: Path) -> int:
    return path.stat().st_size


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the checkpoint thread did not run"
        time.sleep(0.01)


def test_without_the_thread_a_commit_past_the_threshold_checkpoints_itself(
    database: tuple[Engine, Path],
) -> None:
    # What the thread takes over: SQLite's default, a commit past 1,000 pages copying
    # the log back into the database file.
    engine, path = database
    before = _size(path)
    _write_pages(engine, 1200)
    assert _size(path) > before + 1000 * PAGE


def test_commits_never_checkpoint_and_the_thread_does_after_its_interval(
    database: tuple[Engine, Path],
) -> None:
    engine, path = database
    checkpoints = WalCheckpoints(engine, interval=1.0)
    checkpoints.start()
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        before = _size(path)
        _write_pages(engine, 1200)
        _write_pages(engine, 10)
        assert _size(path) == before  # the commits left it all in the log
        _wait_for(lambda: checkpoints.runs == 1)  # one checkpoint for both commits
        assert _size(path) > before + 1000 * PAGE
    finally:
        checkpoints.close()


def test_an_idle_database_is_never_checkpointed(database: tuple[Engine, Path]) -> None:
    engine, _ = database
    checkpoints = WalCheckpoints(engine, interval=0.01)
    checkpoints.start()
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT count(*) FROM note").scalar()
        time.sleep(0.2)
        assert checkpoints.runs == 0
    finally:
        checkpoints.close()


def test_close_stops_the_thread_and_checkpoints_what_is_left(
    database: tuple[Engine, Path],
) -> None:
    engine, path = database
    checkpoints = WalCheckpoints(engine, interval=60)
    checkpoints.start()
    before = _size(path)
    _write_pages(engine, 300)
    checkpoints.close()  # at once, not after the interval
    assert _size(path) > before + 250 * PAGE
    assert checkpoints.runs == 0
    checkpoints.close()  # a second time: nothing left to do


def test_under_steady_writes_the_log_starts_over(database: tuple[Engine, Path]) -> None:
    # A writer that never pauses: passive checkpoints alone never let the log start over
    # (without the catch-up, about 9,400 pages were left in it here).
    engine, _ = database
    sessions = make_session_factory(engine)
    checkpoints = WalCheckpoints(engine, interval=0.02, catch_up=100)
    checkpoints.start()
    try:
        for _ in range(3000):
            with transaction(sessions) as session:
                session.execute(
                    text("INSERT INTO note (body) VALUES (:body)"), {"body": "x" * PAGE}
                )
        logged = _log_pages(engine)
        runs = checkpoints.runs
    finally:
        checkpoints.close()
    assert runs > 0
    assert logged < 1000  # of the 6,000 or so pages written


def _log_pages(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()[1])


class _ClearedLate(threading.Event):
    """A wake-up whose clearing waits until a stop was asked: the thread clears it after
    ``close`` set it, the narrow window that once left the thread waiting for ever."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self._stop = stop

    def clear(self) -> None:
        self._stop.wait(5)
        super().clear()


def test_close_returns_when_it_wakes_the_thread_just_before_the_thread_clears_the_wake_up(
    database: tuple[Engine, Path],
) -> None:
    engine, _ = database
    checkpoints = WalCheckpoints(engine, interval=0.01)
    checkpoints._due = _ClearedLate(checkpoints._stop)  # the race's window, forced
    checkpoints.start()
    _write_pages(engine, 1)  # the thread wakes, waits its interval, then clears late
    time.sleep(0.1)
    closing = threading.Thread(target=checkpoints.close, daemon=True)
    closing.start()
    closing.join(10)
    assert not closing.is_alive(), "close() waits for a thread that waits for ever"
