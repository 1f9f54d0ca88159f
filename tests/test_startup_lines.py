"""`python -m app` and `python -m app sandbox` refuse to start in one line, exit 2, never a traceback: a port
taken, Slack out of reach (without retry chatter), an app token Slack refuses. A signal while Socket Mode is
still connecting stops the bot. Real processes, against the fake Slack on loopback."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.sandbox.fakeslack import FakeSlack
from app.slack.toolkit.startup import check_slack
from tests.app_process import ROOT, environment, free_port
from tests.support import SIGNING_SECRET

pytestmark = pytest.mark.processes


@dataclass
class Run:
    process: asyncio.subprocess.Process
    stderr: Path

    def lines(self) -> list[str]:
        return self.stderr.read_text().splitlines()

    def problem(self) -> str:
        """The one line saying why it did not start; every other line is a log line (they start with a date) of
        what went well before, never retry chatter nor a traceback."""
        lines = self.lines()
        [line] = [line for line in lines if not line[:4].isdigit()]
        assert "Traceback" not in self.stderr.read_text()
        assert not [line for line in lines if "slack_sdk" in line or "trying again" in line], "\n".join(lines)
        return line


@asynccontextmanager
async def python_m_app(tmp_path: Path, *args: str, **settings: str) -> AsyncIterator[Run]:
    stderr = tmp_path / "stderr.log"
    with stderr.open("w") as errors:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "app", *args, cwd=ROOT,
                                                       env=environment(**settings), stdout=asyncio.subprocess.DEVNULL,
                                                       stderr=errors)
    try:
        yield Run(process, stderr)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def exit_code(run: Run, timeout: float = 30) -> int:
    return await asyncio.wait_for(run.process.wait(), timeout=timeout)


def bot_settings(tmp_path: Path, fake: FakeSlack, playbooks_dir: Path, **more: str) -> dict[str, str]:
    return {"SLACK_API_URL": fake.api_url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'incidents.db'}", "PLAYBOOKS_DIR": str(playbooks_dir),
            "PORT": str(free_port()), **more}


# -- the port -------------------------------------------------------------------------------------


async def test_the_bot_on_a_port_in_use_says_so_in_one_line(tmp_path: Path, fake: FakeSlack,
                                                            playbooks_dir: Path) -> None:
    with closing(socket.create_server(("0.0.0.0", 0))) as listening:
        port = listening.getsockname()[1]
        async with python_m_app(tmp_path, **bot_settings(tmp_path, fake, playbooks_dir, PORT=str(port))) as run:
            code = await exit_code(run)

    assert code == 2
    assert run.problem() == f"Cannot start: PORT {port} is in use by another program; stop it or choose another port"


async def test_the_sandbox_on_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    with closing(socket.create_server(("127.0.0.1", 0))) as listening:
        port = listening.getsockname()[1]
        async with python_m_app(tmp_path, "sandbox", "--port", str(port)) as run:
            code = await exit_code(run)

    assert code == 2
    assert run.lines() == [f"Cannot start: port {port} is in use by another program; choose another with --port N"]


# -- Slack out of reach ---------------------------------------------------------------------------


async def test_an_unreachable_slack_is_one_line_without_retry_chatter(tmp_path: Path, fake: FakeSlack,
                                                                     playbooks_dir: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}/api/"
    async with python_m_app(tmp_path, **bot_settings(tmp_path, fake, playbooks_dir, SLACK_API_URL=closed)) as run:
        code = await exit_code(run)

    assert code == 2
    assert run.problem().startswith(f"Cannot start: Slack is unreachable at {closed}: cannot connect")
    assert [line for line in run.lines() if " INFO app.db: " not in line] == [run.problem()]


async def test_the_pause_between_tries_is_said_as_it_is(caplog: pytest.LogCaptureFixture) -> None:
    closed = f"http://127.0.0.1:{free_port()}/api/"
    caplog.set_level(logging.DEBUG, logger="app.slack.toolkit.startup")

    with pytest.raises(Exception, match="3 tries"):
        await check_slack("xoxb-test", closed, pause=1.5)

    said = [r.getMessage() for r in caplog.records if r.name == "app.slack.toolkit.startup"]
    assert len(said) == 2
    assert all(r.levelno == logging.DEBUG for r in caplog.records if r.name == "app.slack.toolkit.startup")
    assert all(line.endswith("trying again in 1.5 s") for line in said), said
    assert not [r for r in caplog.records if r.name.startswith("slack_sdk") and r.levelno >= logging.INFO]


# -- Socket Mode ----------------------------------------------------------------------------------


@pytest.mark.parametrize("app_token, answered", [
    ("xapp-1-A0001-someone-else", "invalid_auth"),
])
async def test_an_app_token_slack_refuses_stops_start_up_in_one_line(tmp_path: Path, fake: FakeSlack,
                                                                     playbooks_dir: Path, app_token: str,
                                                                     answered: str) -> None:
    started = time.monotonic()
    async with python_m_app(tmp_path, **bot_settings(tmp_path, fake, playbooks_dir,
                                                     SLACK_APP_TOKEN=app_token)) as run:
        code = await exit_code(run)

    assert code == 2 and time.monotonic() - started < 20
    assert run.problem().startswith(f"Cannot start: SLACK_APP_TOKEN is invalid: Slack answered {answered}")
    assert len(fake.calls_to("apps.connections.open")) == 1


async def test_a_revoked_app_stops_start_up_naming_the_bot_token_first(tmp_path: Path, fake: FakeSlack,
                                                                       playbooks_dir: Path) -> None:
    fake.revoke()
    async with python_m_app(tmp_path, **bot_settings(tmp_path, fake, playbooks_dir,
                                                     SLACK_APP_TOKEN=fake.app_token)) as run:
        code = await exit_code(run)

    assert code == 2 and run.problem().startswith("Cannot start: SLACK_BOT_TOKEN is invalid")
    assert fake.calls_to("apps.connections.open") == []


async def test_sigterm_while_socket_mode_is_connecting_stops_the_bot(tmp_path: Path, fake: FakeSlack,
                                                                     playbooks_dir: Path) -> None:
    # The fake accepts the app token but serves no socket: slack-sdk keeps trying to connect, as it does
    # while Slack's socket is out of reach.
    async with python_m_app(tmp_path, **bot_settings(tmp_path, fake, playbooks_dir,
                                                     SLACK_APP_TOKEN=fake.app_token)) as run:
        await fake.wait_for(lambda: len(fake.calls_to("apps.connections.open")) >= 2, timeout=30)
        sent = time.monotonic()
        run.process.send_signal(signal.SIGTERM)
        code = await exit_code(run, timeout=30)
        took = time.monotonic() - sent

    assert code == 0 and took < 5, (code, took, run.stderr.read_text())
    assert [line for line in run.lines() if "Stopped: SIGTERM" in line], run.stderr.read_text()
