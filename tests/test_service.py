"""`python -m app` as a service: it stops gracefully on SIGTERM and SIGINT, and refuses to start, in one
line, when Slack refuses its token or cannot be reached. Real processes, against the fake Slack on loopback."""

from __future__ import annotations

import asyncio
import itertools
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest
import yaml
from sqlalchemy import select

from app.db import Database
from app.duework.models import DueWork, WorkKind
from app.incidents.models import Incident, TimelineEvent
from app.main import Runtime
from app.sandbox.fakeslack import FakeSlack
from app.sandbox.fakeslack.state import Message
from app.settings import Settings
from tests.app_process import ROOT, environment, free_port, until_serving
from tests.conftest import People
from tests.support import SIGNING_SECRET, SlackDriver, is_reminder

pytestmark = [pytest.mark.both_databases, pytest.mark.processes]

STOPPED_WITHIN = 12.0  # the bot's own bound is 10 s


@dataclass
class Bot:
    process: asyncio.subprocess.Process
    url: str
    log: Path

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines()

    async def stop(self, signum: signal.Signals) -> tuple[int, float]:
        """Send the signal; the exit code and how long the process took to exit."""
        sent = time.monotonic()
        self.process.send_signal(signum)
        code = await asyncio.wait_for(self.process.wait(), timeout=30)
        return code, time.monotonic() - sent


@asynccontextmanager
async def bot_process(tmp_path: Path, name: str, **settings: str) -> AsyncIterator[Bot]:
    """`python -m app` serving on a port of its own; killed if the test leaves it running."""
    port = free_port()
    log = tmp_path / f"{name}.log"
    with log.open("w") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app", cwd=ROOT, env=environment(PORT=str(port), **settings),
            stdout=output, stderr=output)
    bot = Bot(process, f"http://127.0.0.1:{port}", log)
    try:
        yield bot
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def serving(bot: Bot) -> None:
    await until_serving(bot.url, lambda: None if bot.process.returncode is None else bot.log.read_text())


def rehearsal_playbooks(playbooks_dir: Path) -> Path:
    """The shipped playbooks with P1's update reminder every 2 seconds, so a sweep is always near."""
    table = playbooks_dir / "severities.yml"
    severities = yaml.safe_load(table.read_text())
    severities["P1"].update(update_every="2s", response_time="1h", escalate_after="1h", page=[])
    table.write_text(yaml.safe_dump(severities))
    return playbooks_dir


def reminders(fake: FakeSlack, channel: str) -> list[Message]:
    return [m for m in fake.messages_in(channel) if is_reminder(m)]


async def recorded(url: str) -> tuple[list[TimelineEvent], list[DueWork]]:
    """The incident's reminders on its timeline, and the due work still leased to some worker."""
    database = Database(url)
    try:
        async with database.transaction() as session:
            incident = await session.scalar(select(Incident))
            assert incident is not None
            events = list(await session.scalars(select(TimelineEvent).where(
                TimelineEvent.incident_id == incident.id, TimelineEvent.kind == "reminder")))
            leased = list(await session.scalars(select(DueWork).where(
                DueWork.done_at.is_(None), DueWork.claimed_by.is_not(None))))
        return events, leased
    finally:
        await database.close()


def stopped_lines(bot: Bot) -> list[str]:
    return [line for line in bot.lines() if "Stopped:" in line]


# -- stopping -------------------------------------------------------------------------------------


@pytest.mark.parametrize("first, second", [(signal.SIGTERM, signal.SIGINT), (signal.SIGINT, signal.SIGTERM)])
async def test_a_signal_during_a_sweep_stops_gracefully_and_a_restart_loses_and_repeats_nothing(
        tmp_path: Path, fake: FakeSlack, people: People, playbooks_dir: Path, first: signal.Signals,
        second: signal.Signals) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'incidents.db'}"
    env = {"SLACK_API_URL": fake.api_url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "DATABASE_URL": url, "SWEEP_SECONDS": "0.5", "INCIDENTS_CHANNEL": people.incidents,
           "PLAYBOOKS_DIR": str(rehearsal_playbooks(playbooks_dir))}

    async with bot_process(tmp_path, "first", **env) as bot:
        await serving(bot)
        slack = SlackDriver(bot.url, fake, cast(Runtime, None))
        reply = await slack.command("declare P1 Checkout errors", user=people.alice, channel=people.general)
        await slack.close()
        assert reply.status == 200, bot.log.read_text()
        channel = await fake.wait_for(lambda: next(
            (c.id for c in fake.channels.values() if c.name.startswith("incident-") and c.pins), None), timeout=15)
        await fake.wait_for(lambda: reminders(fake, channel), timeout=15)

        fake.latency = 1.5  # Slack is slow: the next sweep's reminder is still on its way when the signal comes
        posted = len(reminders(fake, channel))
        in_flight = await fake.wait_for(lambda: next(
            (c for c in fake.calls_to("chat.postMessage") if c.status == 0 and c.args.get("channel") == channel),
            None), timeout=15)
        code, took = await bot.stop(first)

        assert code == 0 and took < STOPPED_WITHIN, (code, took, bot.log.read_text())
        assert len(stopped_lines(bot)) == 1 and first.name in stopped_lines(bot)[0], bot.log.read_text()
        assert "Traceback" not in bot.log.read_text()
        assert in_flight.status == 200 and len(reminders(fake, channel)) == posted + 1  # it finished
    events, leased = await recorded(url)
    assert leased == []  # nothing is left claimed: no work waits for a lease to run out
    assert len(events) == len(reminders(fake, channel))  # every post went out once and was written down

    fake.latency = 0.0
    async with bot_process(tmp_path, "again", **env) as bot:
        await serving(bot)
        await fake.wait_for(lambda: len(reminders(fake, channel)) >= posted + 3, timeout=15)
        code, took = await bot.stop(second)

        assert code == 0 and took < STOPPED_WITHIN, (code, took, bot.log.read_text())
        assert len(stopped_lines(bot)) == 1 and second.name in stopped_lines(bot)[0], bot.log.read_text()
    events, leased = await recorded(url)
    assert leased == []
    assert len(events) == len(reminders(fake, channel))
    sent = [c.at for c in fake.calls_to("chat.postMessage")
            if c.status == 200 and WorkKind.UPDATE_REMINDER.value in str(c.args.get("metadata"))]
    assert len(sent) == len(events)
    assert all(later - earlier > 1.0 for earlier, later in itertools.pairwise(sent)), sent  # none twice in a round


async def test_a_signal_with_nothing_in_flight_stops_at_once(tmp_path: Path, fake: FakeSlack, people: People,
                                                             playbooks_dir: Path) -> None:
    env = {"SLACK_API_URL": fake.api_url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'incidents.db'}", "PLAYBOOKS_DIR": str(playbooks_dir)}
    async with bot_process(tmp_path, "idle", **env) as bot:
        await serving(bot)
        code, took = await bot.stop(signal.SIGTERM)

    assert code == 0 and took < 3, (code, took, bot.log.read_text())
    assert len(stopped_lines(bot)) == 1


# -- starting -------------------------------------------------------------------------------------


async def finished(bot: Bot, timeout: float = 30) -> int:
    return await asyncio.wait_for(bot.process.wait(), timeout=timeout)


def problem_line(bot: Bot) -> str:
    """The line that says why it did not start (log lines start with a date)."""
    [line] = [line for line in bot.lines() if not line[:4].isdigit()]
    return line


async def test_a_revoked_token_stops_start_up_in_one_line(tmp_path: Path, fake: FakeSlack,
                                                         playbooks_dir: Path) -> None:
    fake.revoke()
    async with bot_process(tmp_path, "revoked", SLACK_API_URL=fake.api_url, SLACK_BOT_TOKEN="xoxb-test",
                           SLACK_SIGNING_SECRET=SIGNING_SECRET, PLAYBOOKS_DIR=str(playbooks_dir),
                           DATABASE_URL=f"sqlite:///{tmp_path / 'incidents.db'}") as bot:
        code = await finished(bot)

    assert code == 2 and "Traceback" not in bot.log.read_text()
    line = problem_line(bot)
    assert line.startswith("Cannot start: SLACK_BOT_TOKEN is invalid") and "account_inactive" in line
    assert len(fake.calls_to("auth.test")) == 1  # a refused token is not asked about again


async def test_a_wrong_token_stops_start_up_in_one_line(tmp_path: Path, fake: FakeSlack, playbooks_dir: Path) -> None:
    async with bot_process(tmp_path, "wrong", SLACK_API_URL=fake.api_url, SLACK_BOT_TOKEN="xoxb-someone-else",
                           SLACK_SIGNING_SECRET=SIGNING_SECRET, PLAYBOOKS_DIR=str(playbooks_dir),
                           DATABASE_URL=f"sqlite:///{tmp_path / 'incidents.db'}") as bot:
        code = await finished(bot)

    assert code == 2 and "invalid_auth" in problem_line(bot)


async def test_an_unreachable_slack_is_tried_a_few_times_then_named_in_one_line(tmp_path: Path,
                                                                               playbooks_dir: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/api/"
    started = time.monotonic()
    async with bot_process(tmp_path, "unreachable", SLACK_API_URL=closed, SLACK_BOT_TOKEN="xoxb-test",
                           SLACK_SIGNING_SECRET=SIGNING_SECRET, PLAYBOOKS_DIR=str(playbooks_dir),
                           DATABASE_URL=f"sqlite:///{tmp_path / 'incidents.db'}") as bot:
        code = await finished(bot)

    assert code == 2 and "Traceback" not in bot.log.read_text()
    line = problem_line(bot)
    assert line.startswith(f"Cannot start: Slack is unreachable at {closed}") and "connection refused" in line
    assert 2.5 < time.monotonic() - started < 30  # three tries, 1.5 s apart


def test_socket_mode_needs_the_app_token_and_the_bot_token_only() -> None:
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xapp-1-A1-abc"})

    assert settings.slack_app_token == "xapp-1-A1-abc" and settings.slack_signing_secret == ""


# -- the container --------------------------------------------------------------------------------
# Images cannot be built on the development machines: these check the files follow the README's steps.


def test_the_dockerfile_installs_and_runs_as_the_readme_says_as_a_user_without_privileges() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]

    assert "FROM python:3.11-slim" in lines
    assert any("python3 -m venv" in line and "pip install -e ." in line for line in lines)
    assert "USER bot" in lines
    assert lines.index("USER bot") > max(i for i, line in enumerate(lines) if "pip install" in line)
    assert lines[-1] == 'CMD ["python", "-m", "app"]'


def test_compose_migrates_first_then_runs_two_replicas_on_one_postgresql() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]

    assert services["migrate"]["command"] == ["python", "-m", "app", "migrate"]
    replicas = [s for name, s in services.items() if name.startswith("bot-")]
    assert len(replicas) == 2
    for replica in replicas:
        assert replica["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert "@postgres:5432/" in replica["environment"]["DATABASE_URL"]
