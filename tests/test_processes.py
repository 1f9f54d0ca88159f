"""`python -m app` as a platform runs it: real processes, a release step, replicas started at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from app.db import MIGRATIONS, Database
from tests.app_process import ROOT, environment
from tests.conftest import _create_database, _drop_database

pytestmark = [pytest.mark.both_databases, pytest.mark.processes]

SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-123-456-abc", "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5"}
HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


def start(*args: str, **settings: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "app", *args], cwd=ROOT, env=environment(**settings),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=environment(**settings),
                          capture_output=True, text=True, timeout=60)


def upgrade_to(url: str, revision: str) -> None:
    def upgrade(connection: Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async def go() -> None:
        database = Database(url)
        try:
            async with database.engine.begin() as connection:
                await connection.run_sync(upgrade)
        finally:
            await database.close()

    asyncio.run(go())


def revisions(url: str) -> list[str]:
    async def go() -> list[str]:
        database = Database(url)
        try:
            async with database.transaction() as session:
                return list(await session.scalars(text("SELECT version_num FROM alembic_version")))
        finally:
            await database.close()

    return asyncio.run(go())


@pytest.fixture
def scratch_postgres(postgres_url: str | None) -> Iterator[str]:
    """A database of its own, dropped afterwards: the migrators start from nothing."""
    if postgres_url is None:
        pytest.skip("PostgreSQL is not reachable")
    name = f"incidents_migrate_{os.getpid()}"
    url = asyncio.run(_create_database(name))
    try:
        yield url
    finally:
        asyncio.run(_drop_database(name))


def migrate_four_at_once(url: str) -> list[subprocess.CompletedProcess[str]]:
    processes = [start("migrate", DATABASE_URL=url) for _ in range(4)]
    finished = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        finished.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return finished


# -- the release step -----------------------------------------------------------------------------


def test_migrate_needs_only_the_database_url_and_logs_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'incidents.db'}"

    first, again = run("migrate", DATABASE_URL=url), run("migrate", DATABASE_URL=url)

    assert (first.returncode, again.returncode) == (0, 0), first.stderr + again.stderr
    assert [len(p.stderr.strip().splitlines()) for p in (first, again)] == [1, 1], first.stderr + again.stderr
    assert f"to revision {HEAD}" in first.stderr and "nothing to migrate" in again.stderr
    assert revisions(f"sqlite+aiosqlite:///{tmp_path / 'incidents.db'}") == [HEAD]


def test_the_procfile_migrates_before_release() -> None:
    lines = (ROOT / "Procfile").read_text().splitlines()
    assert "release: python -m app migrate" in lines and "web: python -m app" in lines


def test_four_migrators_at_once_on_a_new_postgresql_database(scratch_postgres: str) -> None:
    finished = migrate_four_at_once(scratch_postgres.replace("postgresql+asyncpg://", "postgres://"))

    assert [p.returncode for p in finished] == [0, 0, 0, 0], [p.stderr for p in finished]
    assert sum("(from empty)" in p.stderr for p in finished) == 1
    assert revisions(scratch_postgres) == [HEAD]


def test_four_migrators_at_once_on_a_postgresql_database_left_at_an_older_revision(scratch_postgres: str) -> None:
    upgrade_to(scratch_postgres, "0005")
    assert revisions(scratch_postgres) == ["0005"]

    finished = migrate_four_at_once(scratch_postgres)

    assert [p.returncode for p in finished] == [0, 0, 0, 0], [p.stderr for p in finished]
    assert sum("(from 0005)" in p.stderr for p in finished) == 1
    assert revisions(scratch_postgres) == [HEAD]


def test_an_unknown_command_says_how_to_use_it() -> None:
    finished = run("migrat")

    assert finished.returncode == 2
    assert finished.stderr.strip() == "usage: python -m app [migrate | sandbox [--port N] [--drill NAME]]"


# -- LOG_LEVEL ------------------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["debug", "Info", "WARNING"])
def test_log_level_in_any_case(tmp_path: Path, level: str) -> None:
    finished = run("migrate", DATABASE_URL=f"sqlite:///{tmp_path / 'incidents.db'}", LOG_LEVEL=level)

    assert finished.returncode == 0, finished.stderr
    assert "Traceback" not in finished.stderr
    assert ("DEBUG" in finished.stderr) == (level == "debug")


@pytest.mark.parametrize("args", [(), ("migrate",)])
def test_a_bad_log_level_stops_start_up_in_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    finished = run(*args, DATABASE_URL=f"sqlite:///{tmp_path / 'incidents.db'}", LOG_LEVEL="loud", **SLACK_ENV)

    assert finished.returncode == 2
    [line] = finished.stderr.strip().splitlines()
    assert "LOG_LEVEL" in line and "'loud'" in line and "DEBUG, INFO, WARNING, ERROR, CRITICAL" in line


# -- an unreachable database ----------------------------------------------------------------------


@pytest.mark.parametrize("args", [(), ("migrate",)])
def test_an_unreachable_database_stops_start_up_in_one_line(args: tuple[str, ...]) -> None:
    finished = run(*args, DATABASE_URL="postgres://postgres@127.0.0.1:9/incidents?connect_timeout=3",
                   LOG_LEVEL="debug", **SLACK_ENV)

    assert finished.returncode == 2, finished.stderr
    assert "Traceback" not in finished.stderr
    [line] = [line for line in finished.stderr.splitlines() if not line[:4].isdigit()]  # log lines start with a date
    assert "127.0.0.1:9" in line and "'incidents'" in line and "connection refused" in line


def test_a_database_that_does_not_exist_is_named(postgres_url: str | None) -> None:
    if postgres_url is None:
        pytest.skip("PostgreSQL is not reachable")
    url = postgres_url.rsplit("/", 1)[0] + "/no_such_database_here"

    finished = run("migrate", DATABASE_URL=url)

    assert finished.returncode == 2
    [line] = finished.stderr.strip().splitlines()
    assert "'no_such_database_here'" in line and "does not exist" in line
