"""The suite runs on SQLite and on PostgreSQL, against the fake Slack, through signed HTTP."""

from __future__ import annotations

import asyncio
import os
import shutil
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from app.main import start_runtime
from app.settings import PROJECT_ROOT, Settings
from tests.fakeslack import FakeSlack
from tests.support import SIGNING_SECRET, ManualClock, SlackDriver, serve

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


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    name = f"incidents_test_{os.getpid()}"
    try:
        url = asyncio.run(_create_database(name))
    except (OSError, SQLAlchemyError) as error:
        if os.environ.get("CI"):
            raise
        warnings.warn(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}", stacklevel=1)
        yield None
        return
    yield url
    asyncio.run(_drop_database(name))


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                       postgres_url: str | None) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'incidents.db'}"
        return
    if postgres_url is None:
        pytest.skip("PostgreSQL is not reachable")
    engine = create_async_engine(postgres_url, connect_args={"timeout": 5})
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    except OSError as error:
        raise AssertionError(f"PostgreSQL test database unusable: {error}") from error
    finally:
        await engine.dispose()
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
    """The shipped playbooks, with an on-call roster of the test workspace's people."""
    directory = tmp_path / "playbooks"
    shutil.copytree(PROJECT_ROOT / "playbooks", directory)
    roster = yaml.safe_load((directory / "oncall.yml").read_text())
    roster["rotation"]["primary"] = [people.carol]
    roster["rotation"]["backup"] = [people.bob]
    (directory / "oncall.yml").write_text(yaml.safe_dump(roster))
    # Most tests declare look-alike incidents on purpose; tests/test_duplicates.py turns the check back on.
    declaring = yaml.safe_load((directory / "declaring.yml").read_text())
    declaring["duplicates"]["similarity"] = 1.0
    (directory / "declaring.yml").write_text(yaml.safe_dump(declaring))
    return directory


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(fake: FakeSlack, people: People, database_url: str, playbooks_dir: Path) -> Settings:
    return Settings(slack_bot_token="xoxb-test", slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.api_url,
                    database_url=database_url, incidents_channel=people.incidents, playbooks_dir=playbooks_dir)


@asynccontextmanager
async def running_bot(settings: Settings, fake: FakeSlack, clock: ManualClock,
                      http_transport: httpx.AsyncBaseTransport | None = None) -> AsyncIterator[SlackDriver]:
    """The real app, served over HTTP on loopback, as one replica."""
    runtime = await start_runtime(settings, clock=clock, http_transport=http_transport)
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
