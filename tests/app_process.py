"""`python -m app` as a platform runs it, for the tests that start real processes: its environment, a port of
its own, waiting until it serves, and a bot that is started, sent a declaration, killed with SIGKILL and
started again."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import httpx

from app.sandbox.fakeslack import FakeSlack
from tests.conftest import People
from tests.support import SIGNING_SECRET, sign

ROOT = Path(__file__).resolve().parent.parent
# A start takes a second or two; on a machine busy with other work it has taken more than 15.
STARTING_WITHIN = 60.0


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without the bot's own settings, then `settings`."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("SLACK_") and name not in ("DATABASE_URL", "LOG_LEVEL", "PORT", "INCIDENTS_CHANNEL")}
    return {**env, **settings}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until_serving(url: str, exited: Callable[[], str | None], within: float = STARTING_WITHIN) -> None:
    """Poll `url`/health until it answers 200. `exited` says why the process is gone (its output), or None
    while it runs: a process that exits fails the test with what it said, at once."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=url, timeout=2) as http:
        while time.monotonic() < deadline:
            gone = exited()
            assert gone is None, f"`python -m app` exited before serving:\n{gone}"
            try:
                if (await http.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"`python -m app` was not serving {within:.0f} s after it started")


class Bot:
    """`python -m app`, as a platform runs it, against the fake Slack: sweeping every half second (an idle bot
    sweeping more often only burns the CPU the other tests need), with a 2 s lease (a kill -9 leaves work leased
    that long) unless the test says otherwise."""

    starting_within = STARTING_WITHIN

    def __init__(self, fake: FakeSlack, people: People, database_url: str, playbooks: Path, **settings: str) -> None:
        self.port = free_port()
        self.env = environment(**{
            "SLACK_BOT_TOKEN": fake.bot_token, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake.api_url,
            "DATABASE_URL": database_url, "PORT": str(self.port), "INCIDENTS_CHANNEL": people.incidents,
            "PLAYBOOKS_DIR": str(playbooks), "SWEEP_SECONDS": "0.5", "DUE_WORK_LEASE_SECONDS": "2", **settings})
        self.process: subprocess.Popen[str] | None = None
        # What its starts write to stderr, appended: a file, as a pipe nobody reads fills up and stops the bot.
        self.log = tempfile.TemporaryFile("a+")  # noqa: SIM115 (closed by stop())

    async def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=self.log, text=True)
        await until_serving(f"http://127.0.0.1:{self.port}", self._exited, within=self.starting_within)

    def _exited(self) -> str | None:
        assert self.process is not None
        return None if self.process.poll() is None else self.said()

    def said(self) -> str:
        """Everything its starts wrote to stderr."""
        self.log.seek(0)
        return self.log.read()

    async def declare(self, fake: FakeSlack, people: People, text: str) -> None:
        form = {"team_id": fake.team_id, "channel_id": people.general, "channel_name": "general",
                "user_id": people.alice, "user_name": "alice", "command": "/incident", "text": text,
                "api_app_id": "A0001", "response_url": fake.new_response_url(), "trigger_id": "1.2.3"}
        body = urlencode(form).encode()
        async with httpx.AsyncClient() as http:
            answer = await http.post(f"http://127.0.0.1:{self.port}/slack/events", content=body,
                                     headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)})
        assert answer.status_code == 200

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()
