"""A declaration always completes: the bot is killed (kill -9, a real process) right after Slack carried out
one step of setting up an incident and before the bot heard back, then started again. Every declaration
ends with one channel, one kickoff, one pin, one announcement, the declarer invited, nothing doubled."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from app.sandbox.fakeslack import FakeSlack
from app.sandbox.fakeslack.state import Call
from tests.conftest import People
from tests.support import SIGNING_SECRET, sign
from tests.test_processes import ROOT, environment

pytestmark = [pytest.mark.both_databases, pytest.mark.processes]

CHANNEL_PREFIX = "incident-"
# Each step of the setup, as the call Slack receives for it.
STEPS: dict[str, Callable[[Call], bool]] = {
    "create channel": lambda call: call.method == "conversations.create",
    "invite": lambda call: call.method == "conversations.invite",
    "set topic": lambda call: call.method == "conversations.setTopic",
    "post kickoff": lambda call: call.method == "chat.postMessage" and "Incident:" in str(call.args.get("text")),
    "pin kickoff": lambda call: call.method == "pins.add",
    "announce": lambda call: call.method == "chat.postMessage" and "INCIDENT DECLARED" in str(call.args.get("text")),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Bot:
    """`python -m app`, as a platform runs it."""

    def __init__(self, fake: FakeSlack, people: People, database_url: str, playbooks: Path) -> None:
        self.port = free_port()
        self.env = environment(
            SLACK_BOT_TOKEN=fake.bot_token, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=fake.api_url,
            DATABASE_URL=database_url, PORT=str(self.port), INCIDENTS_CHANNEL=people.incidents,
            PLAYBOOKS_DIR=str(playbooks), SWEEP_SECONDS="0.2", DUE_WORK_LEASE_SECONDS="2")
        self.process: subprocess.Popen[str] | None = None

    async def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # A start takes a few seconds; on a machine busy with other work it has taken more than 15.
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                try:
                    if (await http.get(f"http://127.0.0.1:{self.port}/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert self.process.poll() is None, self.process.stderr.read() if self.process.stderr else ""
                await asyncio.sleep(0.05)
        raise AssertionError("the bot did not come up within 60 s")

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


def incident_channels(fake: FakeSlack) -> list[str]:
    return [c.id for c in fake.channels.values() if c.name.startswith(CHANNEL_PREFIX)]


def set_up(fake: FakeSlack, people: People) -> bool:
    channels = incident_channels(fake)
    return bool(channels) and all(fake.channels[c].pins and people.alice in fake.channels[c].members
                                  and fake.channels[c].topic for c in channels) \
        and len([m for m in fake.messages_in(people.incidents) if "INCIDENT DECLARED" in m.text]) >= len(channels)


@pytest.mark.parametrize("step", list(STEPS))
async def test_a_declaration_killed_after_each_step_completes_once_restarted(
        step: str, fake: FakeSlack, people: People, database_url: str, playbooks_dir: Path) -> None:
    bot = Bot(fake, people, database_url, playbooks_dir)
    held = fake.hold(STEPS[step])
    try:
        await bot.start()
        await bot.declare(fake, people, "declare P1 Checkout errors | Card payments fail")
        await asyncio.wait_for(held.reached.wait(), timeout=20)
        bot.kill()  # Slack did it; the bot never heard back
        held.release.set()

        await bot.start()
        await fake.wait_for(lambda: set_up(fake, people), timeout=30)
        await asyncio.sleep(1)  # a step repeated by mistake would show by now
    finally:
        held.release.set()
        bot.stop()

    [channel] = incident_channels(fake)
    messages = fake.messages_in(channel)
    kickoffs = [m for m in messages if "Incident:" in m.text]
    assert len(kickoffs) == 1 and fake.channels[channel].pins == {kickoffs[0].ts}
    announcements = [m for m in fake.messages_in(people.incidents) if "INCIDENT DECLARED" in m.text]
    assert len(announcements) == 1 and f"<#{channel}>" in announcements[0].text
    assert people.alice in fake.channels[channel].members
    assert "Checkout errors" in fake.channels[channel].topic
    assert len(fake.calls_to("conversations.create")) == 1  # adopted after a restart, never made twice
