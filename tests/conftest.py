"""Shared fixtures, the hypothesis profiles and the quick tier.

``HYPOTHESIS_PROFILE=ci`` (set by ``scripts/test`` under CI) makes property tests
reproducible: derandomized, no deadline, and a reproduction blob printed on failure.

The quick tier, ``pytest -m "not slow"``, is the inner loop: no browser, no process
started, no PostgreSQL, no wide search. Tests are marked ``slow`` by rule at collection
(``pytest_collection_modifyitems``), not one by one, so a new test lands in the right tier
by what it does; the test command (``scripts/test``) runs both tiers. The quick tier also
searches fewer hypothesis examples (the ``quick`` profile) unless ``HYPOTHESIS_PROFILE``
names one: a test that asks for more examples itself (``@settings(max_examples=...)``, up
to the wide search the quick tier leaves out) searches the quick profile's number there,
and its own in the full tier. Likewise a sweep through the database, a test of the
services, the API or the pages parametrized into more than five cases, runs five of them
spread over its cases in the quick tier, and every one in the full tier.
"""

import inspect
import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import CodeType

import pytest
from argon2 import PasswordHasher
from hypothesis import is_hypothesis_test, settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from blina.demo import seed_demo_clinic
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
# A tenth of the default search: a property still meets a spread of cases on every run,
# and the full tier searches wide.
settings.register_profile("quick", deadline=None, max_examples=10)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# --- the quick tier -----------------------------------------------------------------------

# A test whose code, or a fixture's it uses, names one of these does what the quick tier
# leaves out.
SLOW_NAMES = {
    "subprocess": "starts a process (a server, the CLI)",
    "sync_playwright": "drives a browser",
    "run_state_machine_as_test": "a hypothesis state machine over the services",
    "schemathesis": "generated requests for every API operation",
}
# More examples than hypothesis's default (100) asked by the test itself: a wide search.
WIDE_SEARCH = 100
# The cases of a parametrized test the quick tier runs (the full tier runs every case):
# the first, the last and three spread between them.
SWEEP = 5


def pytest_configure(config: pytest.Config) -> None:
    """The quick profile for the quick tier, unless a profile is named."""
    if _quick(config):
        settings.load_profile("quick")


def _quick(config: pytest.Config) -> bool:
    """Whether this run is the quick tier with the quick profile."""
    quick_tier = "not slow" in (config.option.markexpr or "")
    return quick_tier and "HYPOTHESIS_PROFILE" not in os.environ


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    quick: list[pytest.Item] = []
    for item in items:
        why = _why_slow(item)
        if why is not None:
            item.add_marker(pytest.mark.slow(reason=why))
        else:
            quick.append(item)
            if _quick(config):
                _search_as_the_quick_profile(item)
    _sample_sweeps(quick)


def _sample_sweeps(items: list[pytest.Item]) -> None:
    """Of a test through the database parametrized into more than ``SWEEP`` cases (every
    page as every role, every field of every therapy refused on the planner page, every
    endpoint as every role), the quick tier runs ``SWEEP`` cases spread from its first to
    its last, as it searches a few hypothesis examples; the others are marked ``slow`` and
    the test command runs them all. A sweep of the domain or the knowledge (the golden
    rows, the triage vignettes) costs milliseconds a case and runs whole in both tiers."""
    cases: dict[tuple[object, ...], list[pytest.Item]] = {}
    for item in items:
        through_the_database = "migrated_engine" in getattr(item, "fixturenames", ())
        if through_the_database and getattr(item, "callspec", None) is not None:
            key = (item.path, getattr(item, "cls", None), getattr(item, "originalname", None))
            cases.setdefault(key, []).append(item)
    for sweep in cases.values():
        kept = spread(len(sweep), SWEEP)
        for index, item in enumerate(sweep):
            if index not in kept:
                reason = f"case {index + 1} of a sweep of {len(sweep)}; the quick tier runs {SWEEP}"
                item.add_marker(pytest.mark.slow(reason=reason))


def spread(count: int, keep: int) -> set[int]:
    """``keep`` indices of ``count``, evenly spaced from the first to the last (all of them
    when there are no more than ``keep``)."""
    if count <= keep:
        return set(range(count))
    if keep == 1:
        return {0}
    return {round(i * (count - 1) / (keep - 1)) for i in range(keep)}


def _search_as_the_quick_profile(item: pytest.Item) -> None:
    """A property test asking for more examples than the quick profile searches as many as
    the profile (hypothesis reads these settings when the test runs)."""
    test = getattr(item, "obj", None)
    wanted = getattr(test, "_hypothesis_internal_use_settings", None)
    quick = settings.get_profile("quick").max_examples
    if is_hypothesis_test(test) and wanted is not None and wanted.max_examples > quick:
        test._hypothesis_internal_use_settings = settings(wanted, max_examples=quick)  # type: ignore[union-attr]


def _why_slow(item: pytest.Item) -> str | None:
    """Why the quick tier leaves ``item`` out, or None when it keeps it."""
    if item.get_closest_marker("e2e") is not None:
        return "a browser against a running server"
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("migrated_engine") == "postgresql":
        return "on PostgreSQL"
    names = set().union(*(_names(code) for code in _codes(item)))
    named = SLOW_NAMES.keys() & names
    if named:
        return SLOW_NAMES[min(named)]
    test = getattr(item, "obj", None)
    wanted = getattr(test, "_hypothesis_internal_use_settings", None)
    if is_hypothesis_test(test) and wanted is not None and wanted.max_examples > WIDE_SEARCH:
        return f"a hypothesis search of {wanted.max_examples} examples"
    searches = is_hypothesis_test(test) or "given" in names
    if searches and "migrated_engine" in getattr(item, "fixturenames", ()):
        return "a hypothesis search through the database"
    return None


def _codes(item: pytest.Item) -> list[CodeType]:
    """The code of the test function, of the functions of its module it calls (and they
    call), and of every fixture it uses."""
    found: list[CodeType] = []
    function = getattr(item, "function", None)
    if function is not None:
        module = getattr(inspect.getmodule(function), "__dict__", {})
        pending = [inspect.unwrap(function).__code__]
        while pending:
            code = pending.pop()
            if code in found:
                continue
            found.append(code)
            for name in _names(code):
                helper = module.get(name)
                if inspect.isfunction(helper) and helper.__module__ == function.__module__:
                    pending.append(inspect.unwrap(helper).__code__)
    info = getattr(item, "_fixtureinfo", None)
    for definitions in {} if info is None else info.name2fixturedefs.values():
        for definition in definitions:
            code = getattr(definition.func, "__code__", None)
            if code is not None:
                found.append(code)
    return found


def _names(code: CodeType) -> set[str]:
    """The global and attribute names a function's code uses, nested functions included."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, CodeType):
            names |= _names(const)
    return names


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


DEMO_NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="session")
def demo_clinic_in(
    tmp_path_factory: pytest.TempPathFactory, knowledge: Knowledge
) -> Iterator[Callable[[Engine], Engine]]:
    """Puts the demo clinic, seeded at ``DEMO_NOW``, in a database, in place of its rows.

    Seeding costs about 1.3 s, and some forty test modules start from the demo clinic. On
    SQLite it is seeded once a test process, into a file of its own, and copied page by page
    into the database that asks (SQLite's backup API: milliseconds; the copy also bumps the
    schema cookie, so the engine's other connections read the schema again). PostgreSQL is
    emptied and seeded each time."""
    templates: list[sqlite3.Connection] = []

    def put(engine: Engine) -> Engine:
        if engine.dialect.name != "sqlite":
            seed_demo_clinic(
                make_session_factory(empty_database(engine)), now=DEMO_NOW, knowledge=knowledge
            )
            return engine
        if not templates:
            path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
            seeded = make_engine(f"sqlite+pysqlite:///{path}")
            migrate.upgrade(seeded)
            seed_demo_clinic(make_session_factory(seeded), now=DEMO_NOW, knowledge=knowledge)
            seeded.dispose()
            templates.append(sqlite3.connect(path))
        raw = engine.raw_connection()
        try:
            templates[0].backup(raw.driver_connection)  # type: ignore[arg-type]
        finally:
            raw.close()
        return engine

    yield put
    for template in templates:
        template.close()


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
