"""Values kept for a session's transaction, and built again for the next one."""

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from blina.store.session import once_per_transaction


def test_a_value_is_built_once_per_transaction(sessions: sessionmaker[Session]) -> None:
    builds: list[int] = []

    def build(session: Session) -> int:
        session.execute(select(1))  # begins the transaction, as a query would
        builds.append(len(builds))
        return len(builds)

    with sessions() as session:
        with session.begin():
            first = once_per_transaction(session, "k", build)
            again = once_per_transaction(session, "k", build)
            other = once_per_transaction(session, ("k", 2), build)
        with session.begin():
            next_one = once_per_transaction(session, "k", build)
    assert (first, again, other, next_one) == (1, 1, 2, 3)


def test_a_value_built_outside_any_transaction_is_not_kept(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session:
        assert once_per_transaction(session, "k", lambda _: "a") == "a"
        assert once_per_transaction(session, "k", lambda _: "b") == "b"
