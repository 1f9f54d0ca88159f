"""The suite runs on SQLite and on PostgreSQL, against the fake Slack, through signed HTTP."""

from __future__ import annotations

import asyncio
import compileall
import os
import shutil
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import Database
from app.main import start_runtime
from app.sandbox.fakeslack import FakeSlack
from app.settings import PROJECT_ROOT, Settings
from tests.support import SIGNING_SECRET, START, ManualClock, SlackDriver, serve

pytest_plugins = ["tests.browser"]

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def _create_database(name: str) -> str:
    """A database of this run's own, so parallel runs (and benchmarks) never drop each other's tables."""
    engine = create_async_engine(POSTGRES_URL, connect_args={"timeout": 5}, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


async def _drop_database(name: str) -> None:
    engine = create_async_engine(POSTGRES_URL, connect_args={"timeout": 5}, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # once, in the process that starts the workers
        # The suite starts `python -m app` some eighty times; with the app compiled once here, none of them
        # compiles it again (PYTHONDONTWRITEBYTECODE, if set, stops a process writing what it compiled, not
        # reading what is there). __pycache__ is git-ignored.
        compileall.compile_dir(PROJECT_ROOT / "app", quiet=1)
    config.addinivalue_line("markers", "both_databases: run on PostgreSQL as well as SQLite (concurrency, "
                                       "claims, dialect-specific SQL, and a representative end-to-end set)")
    # The slow kinds, all run by the README's test command (and CI); `-m "not processes and not browser"` leaves
    # them out of a quick run while working.
    config.addinivalue_line("markers", "processes: starts real processes (python -m app, replicas, kill -9)")
    config.addinivalue_line("markers", "browser: drives a real Chromium (marked by using the chromium fixture)")
    config.addinivalue_line("markers", "fuzz: a Hypothesis property over generated input (marked by being one)")


# Modules whose tests all read one expensive run, made by a module-scoped fixture: all of a module's tests go to
# one worker, so the run is made once. (xdist's own `--dist loadgroup` does not group under pytest 9.)
SHARED_RUNS = ("tests/test_declaration_recovery.py",)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's `load` distribution, one test at a time to whichever worker is free, except that a module in
    SHARED_RUNS goes to one worker whole (and first, being the largest unit)."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedRunsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in SHARED_RUNS else nodeid

    return SharedRunsTogether(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "chromium" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.fuzz)
    items.sort(key=longest_first)


def longest_first(item: pytest.Item) -> int:
    """The order workers are handed tests: the shared runs, then the slow kinds (processes, browsers, fuzzing),
    then the rest, each in collection order (the sort is stable). Started last, a minute-long test would run
    alone at the end while the other workers sit idle; started first, the short ones fill in around it."""
    if item.nodeid.split("::", 1)[0] in SHARED_RUNS:
        return 0
    if any(item.get_closest_marker(kind) for kind in ("processes", "browser", "fuzz")):
        return 1
    return 2


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that needs a database gets SQLite, and PostgreSQL too when it is marked `both_databases`;
    a test that names its own with ``@pytest.mark.parametrize("database_url", [...], indirect=True)`` keeps it."""
    if "database_url" not in metafunc.fixturenames:
        return
    if any("database_url" in str(marker.args[0]) for marker in metafunc.definition.iter_markers("parametrize")):
        return
    both = metafunc.definition.get_closest_marker("both_databases") is not None
    metafunc.parametrize("database_url", ["sqlite", "postgresql"] if both else ["sqlite"], indirect=True)


async def _migrate(url: str) -> None:
    database = Database(url)
    try:
        await database.migrate()
    finally:
        await database.close()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once per test process; each test starts from a copy of it."""
    path = tmp_path_factory.mktemp("migrated") / "incidents.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """This test process's own PostgreSQL database, migrated once; each test starts from its tables emptied."""
    name = f"incidents_test_{os.getpid()}"
    try:
        url = asyncio.run(_create_database(name))
    except (OSError, SQLAlchemyError) as error:
        if os.environ.get("CI"):
            raise
        warnings.warn(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}", stacklevel=1)
        yield None
        return
    asyncio.run(_migrate(url))
    yield url
    asyncio.run(_drop_database(name))


async def _empty_tables(url: str) -> None:
    """Every table emptied and every id restarted; the schema stays migrated."""
    engine = create_async_engine(url, connect_args={"timeout": 5})
    try:
        async with engine.begin() as connection:
            # This test process's database: any other connection to it is one an earlier test left behind
            # (a replica it killed, a runtime a failing test never closed), maybe mid-transaction and holding
            # locks that TRUNCATE would wait on for ever.
            await connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            await connection.execute(text("SET LOCAL lock_timeout = '30s'"))
            tables = list(await connection.scalars(text(
                "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'")))
            if tables:
                await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    except OSError as error:
        raise AssertionError(f"PostgreSQL test database unusable: {error}") from error
    finally:
        await engine.dispose()


@pytest.fixture
async def database_url(request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path,
                       postgres_url: str | None) -> AsyncIterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "incidents.db"
        shutil.copyfile(migrated_sqlite, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    if postgres_url is None:
        pytest.skip("PostgreSQL is not reachable")
    await _empty_tables(postgres_url)
    yield postgres_url


@dataclass
class People:
    alice: str
    bob: str
    carol: str
    gone: str
    incidents: str
    general: str
    boss: str


@pytest.fixture
def fake_plan() -> str:
    """The fake workspace's Slack plan. A module that must work on both overrides it, e.g.
    ``@pytest.fixture(params=["free", "paid"]) def fake_plan(request): return request.param``,
    or a test parametrizes it: ``@pytest.mark.parametrize("fake_plan", ["free"])``."""
    return "paid"


@pytest.fixture
def fake_scopes() -> tuple[str, ...] | None:
    """The bot token's scopes: None means the ones manifest.yml asks for, which is what the app gets."""
    return None


@pytest.fixture
async def fake(fake_plan: str, fake_scopes: tuple[str, ...] | None) -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(bot_token="xoxb-test", plan=fake_plan, scopes=fake_scopes)
    await slack.start()
    yield slack
    await slack.stop()
    assert slack.violations == [], "calls Slack's API would reject"


@pytest.fixture
def people(fake: FakeSlack) -> People:
    return add_people(fake)


def add_people(fake: FakeSlack) -> People:
    """The test workspace's people and channels."""
    alice = fake.add_user("alice", real_name="Alice Adams", tz="Europe/Paris")
    bob = fake.add_user("bob", real_name="Bob Brown", tz="America/New_York")
    carol = fake.add_user("carol", real_name="Carol Chen", tz="Asia/Tokyo")
    gone = fake.add_user("gone", real_name="Former Colleague", deleted=True)
    incidents = fake.add_channel("incidents", members=[alice, bob, carol, fake.bot_user_id])
    general = fake.add_channel("general", members=[alice, bob, carol])
    boss = fake.add_user("boss", real_name="Dana Director", tz="Europe/London")
    fake.add_usergroup("management", users=[boss])
    return People(alice, bob, carol, gone, incidents, general, boss)


@pytest.fixture
def playbooks_dir(tmp_path: Path, people: People) -> Path:
    return write_playbooks(tmp_path / "playbooks", people)


def write_playbooks(directory: Path, people: People) -> Path:
    """The shipped playbooks, with an on-call roster of the test workspace's people."""
    shutil.copytree(PROJECT_ROOT / "playbooks", directory, copy_function=shutil.copyfile)
    for name, changed in _test_playbooks(people.carol, people.bob).items():
        (directory / name).write_text(changed)
    return directory


@cache
def _test_playbooks(primary: str, backup: str) -> dict[str, str]:
    """What the tests change in the shipped playbooks, by file (the same for every test with the same people)."""
    roster = yaml.safe_load((PROJECT_ROOT / "playbooks" / "oncall.yml").read_text())
    roster["rotation"]["primary"] = [primary]
    roster["rotation"]["backup"] = [backup]
    # Most tests declare look-alike incidents on purpose; tests/test_duplicates.py turns the check back on.
    declaring = yaml.safe_load((PROJECT_ROOT / "playbooks" / "declaring.yml").read_text())
    declaring["duplicates"]["similarity"] = 1.0
    return {"oncall.yml": yaml.safe_dump(roster), "declaring.yml": yaml.safe_dump(declaring)}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings(fake: FakeSlack, people: People, database_url: str, playbooks_dir: Path) -> Settings:
    return Settings(slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.api_url,
                    database_url=database_url, incidents_channel=people.incidents, playbooks_dir=playbooks_dir)


# The fake Slack limits no rate unless a test turns its limits on (fake.rate_limits), so the bot keeps within
# Slack's limits this many times faster: a post a second per channel would make most tests wait, not work.
PACING_SPEED = 100.0


@asynccontextmanager
async def running_bot(settings: Settings, fake: FakeSlack, clock: ManualClock,
                      http_transport: httpx.AsyncBaseTransport | None = None,
                      pacing_speed: float = PACING_SPEED) -> AsyncIterator[SlackDriver]:
    """The real app, served over HTTP on loopback, as one replica."""
    runtime = await start_runtime(settings, clock=clock, http_transport=http_transport, pacing_speed=pacing_speed)
    runner, url = await serve(runtime.web_app)
    driver = SlackDriver(url, fake, runtime)
    try:
        yield driver
    finally:
        await driver.close()
        await runner.cleanup()
        await runtime.close()


@pytest.fixture
async def slack(settings: Settings, fake: FakeSlack, clock: ManualClock) -> AsyncIterator[SlackDriver]:
    async with running_bot(settings, fake, clock) as driver:
        yield driver
