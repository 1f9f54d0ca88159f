"""Alerts under a storm: those joining open incidents are written a batch at a time (one commit for the alerts
that arrived meanwhile), a batch with a copy of a delivery in it still stores the others, and an alert's
sender never waits for Slack, not even when the on-call's Slack user is due to be looked up again. The
sample payloads, signed as each sender signs them, POSTed over HTTP to the real app."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import event

from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import running_bot
from tests.support import ManualClock, SlackDriver, eventually, settled
from tests.test_alerts import alert_settings, bot, clock, incidents, sample, send, timeline  # noqa: F401 (fixtures)


def paged(incident: str) -> bytes:
    """PagerDuty's incident.triggered for another incident of the sample's service (one group: service=Checkout),
    in a delivery of its own."""
    payload = json.loads(sample("pagerduty-incident-triggered.json"))
    payload["event"]["id"] = uuid.uuid4().hex.upper()[:26]
    payload["event"]["data"].update(id=incident, title=f"Checkout latency above 5s ({incident})")
    return json.dumps(payload).encode()


@contextmanager
def commits_writing_lines(driver: SlackDriver) -> Iterator[list[int]]:
    """For each transaction the bot commits meanwhile that wrote timeline lines: its INSERTs of them (a batch's
    lines go in one)."""
    committed: list[int] = []

    def executing(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO TIMELINE_EVENTS"):
            conn.info["test_lines"] = conn.info.get("test_lines", 0) + 1

    def committing(conn: Any) -> None:
        if lines := conn.info.pop("test_lines", 0):
            committed.append(lines)

    def rolling_back(conn: Any) -> None:
        conn.info.pop("test_lines", None)

    engine = driver.runtime.db.engine.sync_engine
    listening = [("before_cursor_execute", executing), ("commit", committing), ("rollback", rolling_back)]
    for name, listener in listening:
        event.listen(engine, name, listener)
    try:
        yield committed
    finally:
        for name, listener in listening:
            event.remove(engine, name, listener)


@pytest.mark.both_databases
async def test_a_storm_joining_an_open_incident_is_written_in_a_few_transactions_each_alert_once(
        bot: SlackDriver) -> None:
    [incident] = (await send(bot, "pagerduty", sample("pagerduty-incident-triggered.json"))).json()["declared"]
    await settled(bot.runtime)  # its setup's lines written: what is written below is the storm's
    storm = 40
    with commits_writing_lines(bot) as commits:
        answers = await asyncio.gather(*(send(bot, "pagerduty", paged(f"QSTORM{n:03d}")) for n in range(storm)))

    assert {answer.status_code for answer in answers} == {200}
    assert [answer.json()["added"] for answer in answers] == [[incident]] * storm
    assert 1 <= len(commits) < storm  # a group commit: the alerts that arrived together share one transaction
    lines = await timeline(bot, incident, "alert")
    named = sorted(name for line in lines for name in re.findall(r"QSTORM\d+", line.text))
    assert named == [f"QSTORM{n:03d}" for n in range(storm)]  # each alert on the timeline once


async def test_a_copy_of_a_delivery_in_a_batch_is_answered_as_one_and_the_rest_of_the_batch_is_stored(
        bot: SlackDriver) -> None:
    first = sample("pagerduty-incident-triggered.json")
    [incident] = (await send(bot, "pagerduty", first)).json()["declared"]
    await settled(bot.runtime)
    others = [paged(f"QBATCH{n}") for n in range(4)]
    acks = bot.runtime.slack.acks
    with commits_writing_lines(bot) as commits:
        # SQLite's one writer is held here, so the alerts below queue up: the first to arrive waits in a batch of
        # its own for its turn to write, the copy and the others in the next batch.
        async with bot.runtime.db.transaction():
            sending = [asyncio.ensure_future(send(bot, "pagerduty", others[0]))]
            await eventually(lambda: _waiting(acks, 1))
            await asyncio.sleep(0.3)  # its batch is being written: waiting for the turn
            sending += [asyncio.ensure_future(send(bot, "pagerduty", body)) for body in (others[1], first, *others[2:])]
            await eventually(lambda: _waiting(acks, 5))
            await asyncio.sleep(0.3)  # all four in the next batch
        answers = [(await answer).json() for answer in sending]

    assert answers[2] == {"declared": [], "added": [], "ignored": 0, "already_received": True}
    assert [answers[n]["added"] for n in (0, 1, 3, 4)] == [[incident]] * 4
    # The batch with the copy in it was undone and its alerts written one to a transaction: one line each.
    assert commits == [1, 1, 1, 1]
    lines = [line.text for line in await timeline(bot, incident, "alert", "detected")]
    assert len(lines) == 5 and all(sum(f"QBATCH{n}" in line for line in lines) == 1 for n in range(4))


@pytest.mark.both_databases
async def test_the_sender_does_not_wait_for_slack_when_the_on_call_is_looked_up_again(
        alert_settings: Settings, fake: FakeSlack, clock: ManualClock, tmp_path: Path) -> None:
    dana = fake.add_user("dana", real_name="Dana Diaz", email="dana@example.com")
    playbooks = tmp_path / "on-call-by-e-mail"
    shutil.copytree(alert_settings.playbooks_dir, playbooks)
    roster = yaml.safe_load((playbooks / "oncall.yml").read_text())
    roster["rotation"]["primary"] = ["dana@example.com"]  # looked up in Slack by e-mail (at start-up)
    (playbooks / "oncall.yml").write_text(yaml.safe_dump(roster))
    async with running_bot(dataclasses.replace(alert_settings, playbooks_dir=playbooks), fake, clock) as driver:
        clock.advance(minutes=11)  # her Slack user is due to be asked again
        fake.latency = 2.0  # every Slack call takes two seconds from now on
        calls = len(fake.calls)
        started = time.monotonic()
        response = await send(driver, "alertmanager", sample("alertmanager-firing.json"))
        answered_in = time.monotonic() - started

        assert response.status_code == 200 and answered_in < fake.latency, f"answered in {answered_in:.2f}s"
        [incident] = await incidents(driver)
        assert incident.commander == dana  # as remembered
        await eventually(lambda: _asked(fake, calls, "users.lookupByEmail"))  # and asked again meanwhile
        fake.latency = 0.0
        await settled(driver.runtime, timeout=30)


async def _waiting(acks: Any, count: int) -> bool:
    return bool(acks.waiting == count)


async def _asked(fake: FakeSlack, since: int, method: str) -> bool:
    return any(call.method == method for call in fake.calls[since:])

