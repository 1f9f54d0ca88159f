"""Events API deliveries, as Slack sends them, take effect once: retries, concurrent copies, other replicas."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import event, select

from app.inbox.models import ReceivedEvent
from app.sandbox import slack_driver
from app.sandbox.fakeslack import FakeSlack
from app.settings import PROJECT_ROOT, Settings
from app.slack.toolkit.deliveries import once_per_event
from tests.conftest import People, running_bot
from tests.support import SIGNING_SECRET, ManualClock, SlackDriver, eventually

pytestmark = pytest.mark.both_databases


# Events API payloads from slackapi/java-slack-sdk's json-logs (MIT, tests/samples/LICENSE-java-slack-sdk), vendored.
EVENT_SAMPLES = Path(__file__).resolve().parent / "samples" / "events"
DEPRECATED = {"authed_users", "authed_teams"}  # still in the older samples; Slack sends `authorizations` now


@pytest.mark.parametrize("sample", sorted(path.name for path in EVENT_SAMPLES.glob("*.json")))
async def test_the_driver_wraps_an_event_as_slack_does(fake: FakeSlack, sample: str) -> None:
    """The envelope the tests, the benchmarks and the sandbox deliver events in (app/sandbox/slack_driver.py)
    is the one around what Slack sent: its keys, each holding the same kind of value (or null)."""
    sent = json.loads((EVENT_SAMPLES / sample).read_text())
    driver = slack_driver.SlackDriver("http://127.0.0.1", fake, SIGNING_SECRET)
    try:
        envelope = driver.envelope(sent["event"])
    finally:
        await driver.close()
    assert set(sent) - DEPRECATED <= set(envelope)
    every_key = {key for path in EVENT_SAMPLES.glob("*.json") for key in json.loads(path.read_text())}
    assert set(envelope) <= every_key
    # (null or not: enterprise_id is null outside an Enterprise Grid, as in this workspace)
    assert [key for key in sent.keys() & envelope.keys() if None not in (sent[key], envelope[key])
            and type(sent[key]) is not type(envelope[key])] == []


def counting(driver: SlackDriver, seen: list[str]) -> None:
    """A listener that notes each reaction it is handed, so a test can count effects; registered as the
    app registers its event listeners (app/slack/deliveries.py)."""

    async def noted(event: dict[str, Any]) -> None:
        seen.append(event["reaction"])

    app = driver.runtime.slack_app
    app.event("reaction_added", middleware=[once_per_event(driver.runtime.slack)])(noted)
    # Ahead of the app's own catch-all for reactions (Bolt hands an event to the first listener that matches).
    app._async_listeners.insert(0, app._async_listeners.pop())


def reaction(people: People) -> dict[str, Any]:
    return {"type": "reaction_added", "user": people.alice, "reaction": "eyes", "item_user": people.bob,
            "item": {"type": "message", "channel": people.general, "ts": "1700000000.000100"}}


async def test_a_retried_event_takes_effect_once(slack: SlackDriver, people: People) -> None:
    seen: list[str] = []
    counting(slack, seen)
    envelope = slack.envelope(reaction(people), event_id="Ev0RETRIED")

    answers = [await slack.deliver(envelope),
               await slack.deliver(envelope, retry=(1, "http_timeout")),
               await slack.deliver(envelope, retry=(2, "http_error"))]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    await eventually(lambda: asyncio.sleep(0.05, result=seen))
    await asyncio.sleep(0.1)
    assert seen == ["eyes"]


async def test_copies_arriving_together_take_effect_once(slack: SlackDriver, people: People) -> None:
    seen: list[str] = []
    counting(slack, seen)
    envelope = slack.envelope(reaction(people), event_id="Ev0TOGETHER")

    answers = await asyncio.gather(*(slack.deliver(envelope, retry=(n, "http_timeout") if n else None)
                                     for n in range(4)))

    assert {answer.status_code for answer in answers} == {200}
    await eventually(lambda: asyncio.sleep(0.05, result=seen))
    await asyncio.sleep(0.1)
    assert seen == ["eyes"]


async def test_a_retry_reaching_another_replica_takes_no_effect(settings: Settings, fake: FakeSlack,
                                                                 clock: ManualClock, people: People) -> None:
    seen: list[str] = []
    async with running_bot(settings, fake, clock) as first, running_bot(settings, fake, clock) as second:
        counting(first, seen)
        counting(second, seen)
        envelope = first.envelope(reaction(people), event_id="Ev0REPLICAS")

        assert (await first.deliver(envelope)).status_code == 200
        assert (await second.deliver(envelope, retry=(1, "http_timeout"))).status_code == 200
        await eventually(lambda: asyncio.sleep(0.05, result=seen))
        await asyncio.sleep(0.1)

    assert seen == ["eyes"]


async def test_distinct_events_each_take_effect_and_day_old_ids_are_forgotten(
        slack: SlackDriver, people: People, clock: ManualClock) -> None:
    seen: list[str] = []
    counting(slack, seen)

    await slack.event(reaction(people), event_id="Ev0MONDAY")
    clock.advance(hours=25)
    await slack.event({**reaction(people), "reaction": "tada"}, event_id="Ev0TUESDAY")

    await eventually(lambda: asyncio.sleep(0.01, result=len(seen) == 2))
    async with slack.runtime.db.transaction() as session:
        remembered = set(await session.scalars(select(ReceivedEvent.event_id)))
    assert remembered == {"Ev0TUESDAY"}


async def test_day_old_ids_are_forgotten_now_and_then_not_on_every_event(
        slack: SlackDriver, people: People, clock: ManualClock) -> None:
    """Each process forgets old claims at most once an hour (app/claims.py), not with a DELETE per event: an id
    past its day may linger up to an hour longer, one within its day never goes."""
    counting(slack, [])
    deletes: list[str] = []

    def count_deletes(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM RECEIVED_EVENTS"):
            deletes.append(statement)

    async def remembered() -> set[str]:
        async with slack.runtime.db.transaction() as session:
            return set(await session.scalars(select(ReceivedEvent.event_id)))

    async def delivered(event_id: str) -> None:
        assert (await slack.event(reaction(people), event_id=event_id)).status_code == 200

    engine = slack.runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count_deletes)
    try:
        await delivered("Ev0FIRST")  # forgets (nothing yet)
        clock.advance(minutes=30)
        await delivered("Ev0SECOND")
        assert len(deletes) == 1
        clock.advance(days=1)
        await delivered("Ev0THIRD")  # an hour since: forgets FIRST; SECOND is a day old to the second, kept
        assert len(deletes) == 2 and await remembered() == {"Ev0SECOND", "Ev0THIRD"}
        clock.advance(minutes=10)
        await delivered("Ev0FOURTH")  # SECOND is past its day now, but the last forgetting was 10 minutes ago
        assert len(deletes) == 2 and await remembered() == {"Ev0SECOND", "Ev0THIRD", "Ev0FOURTH"}
        clock.advance(hours=1)
        await delivered("Ev0FIFTH")
        assert len(deletes) == 3 and await remembered() == {"Ev0THIRD", "Ev0FOURTH", "Ev0FIFTH"}
    finally:
        event.remove(engine, "before_cursor_execute", count_deletes)
    # A retry of a claim still remembered takes no effect, whichever forgetting came between.
    seen: list[str] = []
    counting(slack, seen)
    await slack.deliver(slack.envelope(reaction(people), event_id="Ev0THIRD"), retry=(1, "http_timeout"))
    await asyncio.sleep(0.1)
    assert seen == []


async def test_an_unsigned_event_is_refused(slack: SlackDriver, people: People) -> None:
    seen: list[str] = []
    counting(slack, seen)
    body = b'{"type": "event_callback", "event_id": "Ev0FORGED", "event": {"type": "reaction_added"}}'

    answer = await slack.post(body, "application/json", headers={"X-Slack-Request-Timestamp": "1",
                                                                  "X-Slack-Signature": "v0=forged"})

    assert answer.status_code == 401
    async with slack.runtime.db.transaction() as session:
        assert await session.scalar(select(ReceivedEvent.event_id)) is None


async def test_every_event_the_app_subscribes_to_is_claimed_before_its_listener_acts(
        slack: SlackDriver, people: People) -> None:
    """Each event listener carries the claim (app/slack/deliveries.py): a listener added without it would act on
    Slack's retries twice. Every bot event in manifest.yml, as its listener takes it, leaves its claim."""
    manifest = yaml.safe_load((PROJECT_ROOT / "manifest.yml").read_text())
    subscribed = manifest["settings"]["event_subscriptions"]["bot_events"]
    acted_on = {  # the events each listener is for (a reaction other than the timeline emoji is ignored unclaimed)
        "reaction_added": {**reaction(people), "reaction": slack.runtime.policy.channel.timeline.reaction},
        "reaction_removed": {**reaction(people), "type": "reaction_removed",
                             "reaction": slack.runtime.policy.channel.timeline.reaction},
        "member_joined_channel": {"type": "member_joined_channel", "user": people.bob, "channel": people.general,
                                  "channel_type": "C", "team": slack.fake.team_id},
        "app_home_opened": {"type": "app_home_opened", "user": people.bob, "channel": "D0HOME", "tab": "home"},
    }
    assert set(subscribed) == set(acted_on)
    for number, event_type in enumerate(subscribed):
        answer = await slack.event(acted_on[event_type], event_id=f"Ev0CLAIM{number}")
        assert answer.status_code == 200

    async with slack.runtime.db.transaction() as session:
        claimed = set(await session.scalars(select(ReceivedEvent.event_id)))
    assert claimed == {f"Ev0CLAIM{number}" for number in range(len(subscribed))}
