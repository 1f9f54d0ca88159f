"""Tidying up: a resolved incident's channel is archived `archive_after` (7d) after resolution, never while
its review is unpublished, with a notice the day before; `/incident reopen` brings it back with the clock
restarted, once however many press at once. Bookmarks: the status page and the plan at setup, the review
once published."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app.duework.models import DueWork, WorkKind
from app.incidents.models import Incident, Status, TimelineEvent
from app.sandbox.fakeslack import FakeSlack
from app.settings import Settings
from tests.conftest import People
from tests.support import ManualClock, SlackDriver, settled
from tests.test_clock import reminders, tick
from tests.test_fake_slack import slack_error
from tests.test_races import at_once
from tests.test_review import declare, published, resolve

PUBLIC_URL = "https://incidents.example.com"
PLAN_URL = "https://wiki.example.com/incident-response-plan"


@pytest.fixture
def playbooks_dir(playbooks_dir: Path) -> Path:
    rules = yaml.safe_load((playbooks_dir / "channel.yml").read_text())
    rules["bookmarks"]["plan_url"] = PLAN_URL
    (playbooks_dir / "channel.yml").write_text(yaml.safe_dump(rules))
    return playbooks_dir


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, public_url=PUBLIC_URL)


async def incident_of(slack: SlackDriver, channel: str) -> Incident:
    async with slack.runtime.db.transaction() as session:
        incident = await session.scalar(select(Incident).where(Incident.channel_id == channel))
        assert incident is not None
        return incident


async def timeline(slack: SlackDriver, incident_id: int, kind: str) -> list[TimelineEvent]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(TimelineEvent).where(
            TimelineEvent.incident_id == incident_id, TimelineEvent.kind == kind)))


def notices(fake: FakeSlack, channel: str) -> list[str]:
    return [m.text for m in fake.messages_in(channel) if "will be archived" in m.text]


async def test_the_channel_is_bookmarked_and_archived_a_week_after_once_the_review_is_out(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await fake.wait_for(lambda: len(fake.channels[channel].bookmarks) == 2)
    assert {(b["title"], b["link"]) for b in fake.channels[channel].bookmarks} == {
        ("Status page", f"{PUBLIC_URL}/status"), ("Incident Response Plan", PLAN_URL)}
    await resolve(slack, fake, people, channel)

    # The review is late: a week goes by and the channel stays, without a word.
    await tick(slack, clock, days=8)
    assert not fake.channels[channel].is_archived and notices(fake, channel) == []

    await published(slack, fake, people, channel)
    [review] = await fake.wait_for(lambda: [b for b in fake.channels[channel].bookmarks
                                            if b["title"] == "Post-incident review"])
    assert review["link"].startswith(f"{PUBLIC_URL}/incidents/") and "sig=" in review["link"]
    await published(slack, fake, people, channel, count=2)  # published again: no second bookmark, no second plan
    await asyncio.sleep(0.1)
    assert len(fake.channels[channel].bookmarks) == 3

    # Published after the week: the notice now, the archiving a day later.
    await tick(slack, clock, seconds=1)
    [notice] = notices(fake, channel)
    assert f"/incident reopen {(await incident_of(slack, channel)).id}" in notice and "<!date^" in notice
    await tick(slack, clock, hours=23, minutes=59)
    assert not fake.channels[channel].is_archived
    await tick(slack, clock, minutes=1)
    assert fake.channels[channel].is_archived
    await tick(slack, clock, days=30)
    assert len(notices(fake, channel)) == 1 and len(fake.calls_to("conversations.archive")) == 1
    assert len(await timeline(slack, (await incident_of(slack, channel)).id, "channel_archived")) == 1


async def test_a_review_published_in_time_archives_seven_days_after_resolution(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await resolve(slack, fake, people, channel)
    await published(slack, fake, people, channel)

    await tick(slack, clock, days=5, hours=23)
    assert notices(fake, channel) == []
    await tick(slack, clock, hours=1)
    assert len(notices(fake, channel)) == 1 and not fake.channels[channel].is_archived
    await tick(slack, clock, days=1)
    assert fake.channels[channel].is_archived


async def test_a_channel_archived_by_hand_counts_as_archived(slack: SlackDriver, fake: FakeSlack, people: People,
                                                            clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await resolve(slack, fake, people, channel)
    await published(slack, fake, people, channel)
    await tick(slack, clock, days=6)
    fake.channels[channel].is_archived = True  # someone archived it in Slack: already_archived next

    await tick(slack, clock, days=1)

    incident = await incident_of(slack, channel)
    assert len(await timeline(slack, incident.id, "channel_archived")) == 1
    async with slack.runtime.db.transaction() as session:
        work = list(await session.scalars(select(DueWork).where(DueWork.incident_id == incident.id,
                                                                DueWork.kind == WorkKind.ARCHIVE)))
    assert {w.outcome for w in work} == {"done"}


@pytest.mark.both_databases
async def test_reopen_after_archiving_continues_in_a_new_channel_restarts_the_clock_and_has_one_winner(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await resolve(slack, fake, people, channel)
    await published(slack, fake, people, channel)
    await tick(slack, clock, days=6)
    await tick(slack, clock, days=1)
    assert fake.channels[channel].is_archived
    incident = await incident_of(slack, channel)
    archived_name = fake.channels[channel].name

    # An archived channel takes no commands: two people reopen it by number from #general, at once.
    replies = await at_once(
        slack.command(f"reopen {incident.id}", user=people.alice, channel=people.general),
        slack.command(f"reopen #{incident.id}", user=people.bob, channel=people.general))

    # Slack lets no bot unarchive a channel: the incident continues in a new one, set up like a declaration's.
    await fake.wait_for(lambda: (c := fake.channel_by_name(f"{archived_name}-2")) is not None and c.pins)
    await settled(slack.runtime)
    new = fake.channel_by_name(f"{archived_name}-2")
    assert new is not None and fake.channels[channel].is_archived
    assert fake.calls_to("conversations.unarchive") == []
    assert len(fake.calls_to("conversations.create")) == 2  # the declaration's, and this one: nothing doubled
    [event] = await timeline(slack, incident.id, "reopened")
    [loser] = await fake.wait_for(lambda: [r for r in replies if r.ack_text == "" and any(
        "nothing to reopen" in x.get("text", "") for x in r.responses())])  # its answer may come after the channel
    assert f"<@{event.actor}> reopened it" in await loser.text()
    [moved] = await timeline(slack, incident.id, "channel_replaced")
    assert f"#{archived_name} is archived" in moved.text and f"#{new.name}" in moved.text
    reopened = await incident_of(slack, new.id)
    assert reopened.id == incident.id and reopened.status is Status.INVESTIGATING and reopened.resolved_at is None
    assert reopened.kickoff_ts in new.pins

    # The clock restarts from the reopening, in the new channel: a P1 reminder 30 minutes later.
    await tick(slack, clock, minutes=29)
    assert reminders(fake, new.id) == []
    await tick(slack, clock, minutes=1)
    assert len(reminders(fake, new.id)) == 1
    await tick(slack, clock, days=8)
    assert not new.is_archived

    # Resolved again, with its review already out: the new channel is archived a week after this resolution.
    await slack.command("resolve Config again | Reverted", user=people.alice, channel=new.id)
    await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(new.id)))
    await tick(slack, clock, days=6)
    assert not new.is_archived and len(notices(fake, new.id)) == 1
    await tick(slack, clock, days=1)
    assert new.is_archived


async def test_reopen_before_archiving_stays_in_the_channel_and_cancels_the_archiving(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await resolve(slack, fake, people, channel)
    await published(slack, fake, people, channel)
    await tick(slack, clock, days=6)
    assert len(notices(fake, channel)) == 1

    reply = await slack.command("reopen", user=people.alice, channel=channel)
    assert reply.status == 200
    await fake.wait_for(lambda: any("INCIDENT REOPENED" in m.text for m in fake.messages_in(channel)))
    await tick(slack, clock, days=2)
    assert not fake.channels[channel].is_archived
    assert len(fake.calls_to("conversations.create")) == 1

    # #incidents' one announcement says it was reopened, and still does after the next change redraws it.
    await slack.command("update identified Bad deploy | Rolling back", user=people.alice, channel=channel)
    await fake.wait_for(lambda: any("INCIDENT UPDATE" in m.text for m in fake.messages_in(channel)))
    await settled(slack.runtime)
    [announcement] = [m for m in fake.messages_in(people.incidents) if "INCIDENT" in m.text]
    assert f"*INCIDENT REOPENED* by <@{people.alice}>" in announcement.text
    assert "INCIDENT DECLARED" not in announcement.text


async def test_reopening_an_open_incident_says_so(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")

    reply = await slack.command("reopen", user=people.alice, channel=channel)

    assert "nothing to reopen" in await reply.text()
    assert fake.calls_to("conversations.unarchive") == []


async def test_a_private_incident_bookmarks_neither_status_page_nor_review(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "private P1 Leaked keys")
    await resolve(slack, fake, people, channel)
    await published(slack, fake, people, channel)

    await asyncio.sleep(0.1)
    assert [b["title"] for b in fake.channels[channel].bookmarks] == ["Incident Response Plan"]


async def test_the_fake_refuses_to_archive_general_or_twice_and_to_unarchive_an_open_channel(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    client = slack.runtime.client
    fake.channels[people.general].is_general = True
    fake.channels[people.general].members.add(fake.bot_user_id)
    channel = fake.add_channel("incident-old", members=[fake.bot_user_id])

    assert await slack_error(client.conversations_archive(channel=people.general)) == "cant_archive_general"
    assert await slack_error(client.conversations_unarchive(channel=channel)) == "not_archived"
    await client.conversations_archive(channel=channel)
    assert await slack_error(client.conversations_archive(channel=channel)) == "already_archived"
    assert await slack_error(client.bookmarks_add(channel_id=channel, title="x", type="link",
                                            link="https://example.com")) == "is_archived"


async def test_reopening_an_archived_incident_tells_who_reopened_it_who_the_ic_is_and_updates_the_announcement(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    incident = await incident_of(slack, channel)
    [announcement] = [m for m in fake.messages_in(people.incidents) if "INCIDENT" in m.text]
    await resolve(slack, fake, people, channel)
    await published(slack, fake, people, channel)
    await tick(slack, clock, days=6)
    await tick(slack, clock, days=1)
    assert fake.channels[channel].is_archived
    archived_name = fake.channels[channel].name

    reply = await slack.command(f"reopen {incident.id}", user=people.bob, channel=people.general)
    await fake.wait_for(lambda: (c := fake.channel_by_name(f"{archived_name}-2")) is not None and c.pins)
    await settled(slack.runtime)
    new = fake.channel_by_name(f"{archived_name}-2")
    assert new is not None

    # Bob reopened it; Alice, who declared it, is still its Incident Commander.
    told = await fake.wait_for(lambda: [r["text"] for r in reply.responses()
                                        if "continues in" in r.get("text", "")])
    assert told == [f":repeat: Reopened *P1 – High*: Checkout errors. Its channel was archived, so it continues in "
                    f"<#{new.id}>.\n<@{people.alice}> is the Incident Commander."]
    assert not any("Declared" in r.get("text", "") or "You are the Incident Commander"
                   in r.get("text", "") for r in reply.responses())
    # #incidents keeps one announcement of this incident, now saying it was reopened and where it continues.
    announcements = [m for m in fake.messages_in(people.incidents) if "INCIDENT" in m.text]
    assert [m.ts for m in announcements] == [announcement.ts]
    assert f"*INCIDENT REOPENED* by <@{people.bob}>" in announcements[0].text
    assert f"<#{new.id}>" in announcements[0].text and "INCIDENT DECLARED" not in announcements[0].text
