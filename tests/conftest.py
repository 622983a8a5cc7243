"""Shared fixtures and the hypothesis profiles.

``HYPOTHESIS_PROFILE=ci`` (set by ``scripts/test`` under CI) makes property tests
reproducible: derandomized, no deadline, and a reproduction blob printed on failure.
"""

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from hypothesis import settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from blina.domain.body import BodyRules
from blina.domain.regimens import Regimen
from blina.knowledge import Knowledge, load_knowledge
from blina.services import accounts
from blina.services.check_ins import WRITERS, CheckInWriter
from blina.services.clock import FixedClock
from blina.store import migrate
from blina.store.session import make_engine, make_session_factory
from blina.store.tables import AuditHead, Base

settings.register_profile("ci", deadline=None, print_blob=True, derandomize=True)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    """The shipped knowledge; read-only, so one load serves the whole session."""
    return load_knowledge()


@pytest.fixture(scope="session")
def body_rules(knowledge: Knowledge) -> BodyRules:
    return knowledge.body_rules


@pytest.fixture(scope="session")
def relapsed_refractory(knowledge: Knowledge) -> Regimen:
    return knowledge.regimen("relapsed-refractory")


@pytest.fixture(scope="session")
def mrd_positive(knowledge: Knowledge) -> Regimen:
    return knowledge.regimen("mrd-positive")


@pytest.fixture(scope="session")
def consolidation(knowledge: Knowledge) -> Regimen:
    return knowledge.regimen("consolidation")


# --- databases: SQLite always, PostgreSQL when BLINA_TEST_PG_URL names a server ----------


def _database_urls() -> list[str]:
    urls = ["sqlite"]
    if os.environ.get("BLINA_TEST_PG_URL"):
        urls.append("postgresql")
    elif os.environ.get("BLINA_REQUIRE_PG"):
        pytest.fail(
            "BLINA_REQUIRE_PG is set but BLINA_TEST_PG_URL is not: PostgreSQL did not start"
        )
    return urls


@pytest.fixture(scope="session", params=_database_urls())
def migrated_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One migrated database per engine kind for the session; tests get it emptied."""
    if request.param == "sqlite":
        url = f"sqlite+pysqlite:///{tmp_path_factory.mktemp('db') / 'blina.sqlite3'}"
    else:
        url = os.environ["BLINA_TEST_PG_URL"]
    engine = make_engine(url)
    if request.param == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def empty_database(engine: Engine) -> Engine:
    """Delete every row; the audit chain goes back to its genesis."""
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        connection.execute(AuditHead.__table__.insert().values(id=1, seq=0, last_hash="0" * 64))
    return engine


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The session's database, emptied of every row."""
    return empty_database(migrated_engine)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 12, 10, 9, 30, tzinfo=UTC))


@pytest.fixture(params=sorted(WRITERS))
def check_in_writer(
    request: pytest.FixtureRequest,
    sessions: sessionmaker[Session],
    knowledge: Knowledge,
    clock: FixedClock,
) -> Iterator[CheckInWriter]:
    """Each check-in writer in turn, running on the test's database: a test that takes it
    holds the group-commit writer to the answers of the direct one."""
    writer = WRITERS[request.param](sessions, knowledge=knowledge, clock=clock)
    writer.start()
    yield writer
    writer.close()


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing() -> Iterator[None]:
    """Argon2 at its cheapest: the tests create many users. test_accounts checks the
    production parameters separately."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        )
        yield
