"""Running an incident from its channel: updates, status, severity, roles, notes and resolution,
plus channel naming and what happens when Slack fails."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app.incidents.models import Incident, Role, Severity, Status, TimelineEvent
from app.sandbox.fakeslack import Channel, FakeSlack, Message
from tests.conftest import People
from tests.support import START, ManualClock, Reply, SlackDriver, settled

PLAYBOOKS = Path(__file__).resolve().parent.parent / "playbooks"
CHANNEL = "incident-20261125-1430"
TITLE = "Checkout errors above 5%"
SUBCOMMANDS = ("declare", "update", "status", "list", "severity", "role", "note", "resolve")


# -- helpers --------------------------------------------------------------------------------------


async def stored_incident(slack: SlackDriver, channel_id: str) -> Incident | None:
    async with slack.runtime.db.transaction() as session:
        return await session.scalar(select(Incident).where(Incident.channel_id == channel_id))


async def all_incidents(slack: SlackDriver) -> list[Incident]:
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(Incident).order_by(Incident.id)))


async def timeline(slack: SlackDriver, incident_id: int) -> list[TimelineEvent]:
    async with slack.runtime.db.transaction() as session:
        query = select(TimelineEvent).where(TimelineEvent.incident_id == incident_id).order_by(TimelineEvent.id)
        return list(await session.scalars(query))


async def declare(slack: SlackDriver, fake: FakeSlack, people: People,
                  text: str = f"P1 {TITLE} | EU customers cannot pay", *, name: str = CHANNEL) -> tuple[Channel, Reply]:
    """Declare from #general and wait until the declaration is complete: channel, pinned kickoff,
    announcement, and the incident's Slack references stored (so commands can edit them in place)."""
    reply = await slack.command(f"declare {text}", user=people.alice, channel=people.general)
    assert reply.status == 200
    await fake.wait_for(lambda: (c := fake.channel_by_name(name)) is not None and c.pins)
    channel = fake.channel_by_name(name)
    assert channel is not None

    async def ready() -> bool:
        incident = await stored_incident(slack, channel.id)
        return incident is not None and bool(incident.kickoff_ts) and bool(incident.announcement_ts)

    await fake.wait_for(ready)
    await settled(slack.runtime)
    return channel, reply


def kickoff_of(channel: Channel) -> Message:
    [ts] = channel.pins
    message = channel.message(ts)
    assert message is not None
    return message


def announcement_of(fake: FakeSlack, people: People, channel: Channel) -> Message:
    [message] = [m for m in fake.messages_in(people.incidents) if f"<#{channel.id}>" in m.text]
    return message


def blocks_text(message: Message) -> str:
    return json.dumps(message.blocks)


# -- update ---------------------------------------------------------------------------------------


@pytest.mark.both_databases
@pytest.mark.parametrize("severity, cadence", [("P1", "30 minutes"), ("P0", "15 minutes")])
async def test_update_posts_the_plan_template_and_edits_the_summaries_in_place(
        slack: SlackDriver, fake: FakeSlack, people: People, severity: str, cadence: str) -> None:
    channel, _ = await declare(slack, fake, people, f"{severity} {TITLE} | EU customers cannot pay")
    kickoff = kickoff_of(channel)
    announcement = announcement_of(fake, people, channel)
    assert "Investigating" in channel.topic

    reply = await slack.command("update identified Database connection pool exhausted"
                                " | Increasing pool size and restarting | 15 minutes",
                                user=people.alice, channel=channel.id)

    assert reply.status == 200
    await fake.wait_for(lambda: len(fake.messages_in(channel.id)) == 2 and kickoff.edited and announcement.edited
                        and "Identified" in channel.topic)
    first, update = fake.messages_in(channel.id)
    assert first is kickoff and channel.pins == {kickoff.ts}
    for line in ("INCIDENT UPDATE", "*Status:* Identified", "*Findings:* Database connection pool exhausted",
                 "*Action:* Increasing pool size and restarting", "*ETA:* 15 minutes",
                 f"Next update in {cadence} or when resolved."):
        assert line in update.text
    assert update.blocks and "INCIDENT UPDATE" in blocks_text(update)

    # The pinned kickoff is the living summary: edited, not re-posted.
    assert "*Status:* Investigating" in kickoff.history[0][0]
    assert "*Status:* Identified" in kickoff.text and "*Status:* Identified" in blocks_text(kickoff)
    assert "Database connection pool exhausted" in kickoff.text
    assert f"Incident: {TITLE}" in kickoff.text

    # One announcement per incident, kept current.
    assert fake.messages_in(people.incidents) == [announcement]
    assert "*Status:* Identified" in announcement.text
    assert channel.topic.startswith(f"{severity} | Identified")
    assert fake.calls_to("chat.update") and all(c.status == 200 for c in fake.calls_to("chat.update"))

    incident = await stored_incident(slack, channel.id)
    assert incident is not None and incident.status is Status.IDENTIFIED
    assert "Database connection pool exhausted" in (incident.latest_update or "")
    assert "status_update" in [e.kind for e in await timeline(slack, incident.id)]


# -- status and list ------------------------------------------------------------------------------


async def test_status_answers_privately_with_the_incident_state(slack: SlackDriver, fake: FakeSlack,
                                                                people: People) -> None:
    channel, _ = await declare(slack, fake, people)

    reply = await slack.command("status", user=people.bob, channel=channel.id)

    answer = await reply.response()
    assert answer.get("response_type") == "ephemeral"
    for line in (f"P1 – High:* {TITLE}", "*Status:* Investigating", "*Impact:* EU customers cannot pay",
                 f"*Incident Commander:* <@{people.alice}>", "*Technical Lead:* unassigned"):
        assert line in answer["text"]
    assert len(fake.messages_in(channel.id)) == 1


async def test_list_shows_open_incidents_newest_first_and_leaves_out_resolved_ones(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    older, _ = await declare(slack, fake, people, "P2 Slow search")
    clock.advance(minutes=10)
    newer, _ = await declare(slack, fake, people, "P1 Checkout down", name="incident-20261125-1440")

    listed = await (await slack.command("list", user=people.carol, channel=people.general)).response()

    assert listed.get("response_type") == "ephemeral"
    text = listed["text"]
    assert "Slow search" in text and "Checkout down" in text
    assert f"<#{newer.id}>" in text and f"<#{older.id}>" in text
    assert text.index(f"<#{newer.id}>") < text.index(f"<#{older.id}>")

    resolving = await slack.command("resolve Bad index | Rebuilt the index", user=people.alice, channel=older.id)
    await fake.wait_for(lambda: "Resolved" in older.topic)
    assert resolving.status == 200
    text = await (await slack.command("list", user=people.carol, channel=people.general)).text()
    assert f"<#{newer.id}>" in text and "Checkout down" in text
    assert f"<#{older.id}>" not in text and "Slow search" not in text


# -- severity -------------------------------------------------------------------------------------


async def test_severity_change_is_announced_and_the_summaries_follow(slack: SlackDriver, fake: FakeSlack,
                                                                      people: People) -> None:
    channel, _ = await declare(slack, fake, people)
    kickoff = kickoff_of(channel)
    announcement = announcement_of(fake, people, channel)

    await slack.command("severity P0", user=people.alice, channel=channel.id)

    await fake.wait_for(lambda: len(fake.messages_in(channel.id)) == 2 and kickoff.edited and announcement.edited
                        and channel.topic.startswith("P0"))
    post = fake.messages_in(channel.id)[1]
    assert "from *P1* to *P0 – Critical*" in post.text and f"<@{people.alice}>" in post.text
    assert "every 15 minutes" in post.text
    assert "*Severity:* P0 – Critical" in kickoff.text
    assert "*Severity:* P0 – Critical" in announcement.text
    assert fake.messages_in(people.incidents) == [announcement]
    incident = await stored_incident(slack, channel.id)
    assert incident is not None and incident.severity is Severity.P0


async def test_same_severity_again_is_answered_privately_and_changes_nothing(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel, _ = await declare(slack, fake, people)

    text = await (await slack.command("severity P1", user=people.alice, channel=channel.id)).text()

    assert "already P1" in text
    assert len(fake.messages_in(channel.id)) == 1
    assert not kickoff_of(channel).edited
    incident = await stored_incident(slack, channel.id)
    assert incident is not None and incident.severity is Severity.P1
    assert "severity_changed" not in [e.kind for e in await timeline(slack, incident.id)]


async def test_bad_severity_gets_the_usage(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel, _ = await declare(slack, fake, people)

    reply = await slack.command("severity P9", user=people.alice, channel=channel.id)

    assert reply.status == 200
    assert "`P9` is not a severity" in reply.ack_text
    assert "/incident severity <P0|P1|P2|P3>" in reply.ack_text
    assert len(fake.messages_in(channel.id)) == 1
    incident = await stored_incident(slack, channel.id)
    assert incident is not None and incident.severity is Severity.P1


# -- roles ----------------------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_role_invites_the_person_tells_them_their_duties_and_updates_the_kickoff(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel, _ = await declare(slack, fake, people)
    kickoff = kickoff_of(channel)
    assert people.bob not in channel.members

    await slack.command(f"role tech <@{people.bob}|bob>", user=people.alice, channel=channel.id)

    await fake.wait_for(lambda: people.bob in channel.members and fake.dms_to(people.bob) and kickoff.edited
                        and len(fake.messages_in(channel.id)) == 2)
    post = fake.messages_in(channel.id)[1]
    assert f"<@{people.bob}> is now *Technical Lead*" in post.text and f"<@{people.alice}>" in post.text
    assert f"*Technical Lead:* <@{people.bob}>" in kickoff.text

    [duties] = fake.dms_to(people.bob)
    tech = yaml.safe_load((PLAYBOOKS / "roles.yml").read_text())["tech"]
    assert tech["name"] in duties.text and f"<#{channel.id}>" in duties.text
    for duty in tech["duties"]:
        assert duty in duties.text

    incident = await stored_incident(slack, channel.id)
    assert incident is not None and incident.role_holders() == {Role.IC: people.alice, Role.TECH: people.bob}


@pytest.mark.parametrize("who, expected", [
    ("gone", "deactivated"),
    ("<@U999NOPE|x>", "I can't find `U999NOPE`"),
])
async def test_role_for_someone_who_cannot_hold_it_is_refused_privately(
        slack: SlackDriver, fake: FakeSlack, people: People, who: str, expected: str) -> None:
    channel, _ = await declare(slack, fake, people)
    mention = f"<@{people.gone}|gone>" if who == "gone" else who
    invites = len(fake.calls_to("conversations.invite"))
    members = set(channel.members)

    reply = await slack.command(f"role tech {mention}", user=people.alice, channel=channel.id)
    text = await reply.text()

    assert expected in text and "tech role" in text
    assert reply.status == 200
    assert len(fake.calls_to("conversations.invite")) == invites
    assert channel.members == members
    assert len(fake.messages_in(channel.id)) == 1 and not kickoff_of(channel).edited
    incident = await stored_incident(slack, channel.id)
    assert incident is not None and incident.role_holders() == {Role.IC: people.alice}
    assert "role_assigned" not in [e.kind for e in await timeline(slack, incident.id)]


async def test_giving_a_role_to_its_holder_changes_nothing(slack: SlackDriver, fake: FakeSlack,
                                                           people: People) -> None:
    channel, _ = await declare(slack, fake, people)

    text = await (await slack.command(f"role ic <@{people.alice}|alice>", user=people.alice,
                                      channel=channel.id)).text()

    assert f"<@{people.alice}> already holds the ic role" in text
    assert len(fake.messages_in(channel.id)) == 1 and not kickoff_of(channel).edited
    incident = await stored_incident(slack, channel.id)
    assert incident is not None and incident.role_holders() == {Role.IC: people.alice}


# -- notes ----------------------------------------------------------------------------------------


async def test_note_goes_on_the_timeline_quietly(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel, _ = await declare(slack, fake, people)

    answer = await (await slack.command("note Rolled back deploy 1234", user=people.bob,
                                        channel=channel.id)).response()

    assert answer.get("response_type") == "ephemeral"
    assert "Rolled back deploy 1234" in answer["text"] and TITLE in answer["text"]
    assert len(fake.messages_in(channel.id)) == 1
    incident = await stored_incident(slack, channel.id)
    assert incident is not None
    [note] = [e for e in await timeline(slack, incident.id) if e.kind == "note"]
    assert note.text == "Rolled back deploy 1234" and note.actor == people.bob
    assert note.at == START


# -- resolving ------------------------------------------------------------------------------------


@pytest.mark.both_databases
async def test_resolve_posts_the_resolution_with_its_duration(slack: SlackDriver, fake: FakeSlack, people: People,
                                                             clock: ManualClock) -> None:
    channel, _ = await declare(slack, fake, people)
    kickoff = kickoff_of(channel)
    announcement = announcement_of(fake, people, channel)
    clock.advance(minutes=45)

    await slack.command("resolve Database connection pool exhaustion | Increased pool size from 10 to 50 connections",
                        user=people.alice, channel=channel.id)

    await fake.wait_for(lambda: len(fake.messages_in(channel.id)) == 2 and kickoff.edited and announcement.edited
                        and "Resolved" in channel.topic)
    resolved = fake.messages_in(channel.id)[1]
    for line in (f"INCIDENT RESOLVED: {TITLE}", "The incident has been resolved. All services are operating normally.",
                 "*Duration:* 45 minutes", "*Root Cause:* Database connection pool exhaustion",
                 "*Resolution:* Increased pool size from 10 to 50 connections",
                 "Post-mortem will be published within 48 hours."):
        assert line in resolved.text
    assert "*Status:* Resolved" in kickoff.text and "45 minutes" in kickoff.text
    assert "INCIDENT RESOLVED" in announcement.text and "*Status:* Resolved" in announcement.text
    assert fake.messages_in(people.incidents) == [announcement]
    assert channel.topic.startswith("P1 | Resolved")

    incident = await stored_incident(slack, channel.id)
    assert incident is not None and incident.status is Status.RESOLVED
    assert incident.resolved_at == clock.now()


@pytest.mark.parametrize("again", ["resolve Another cause | Another fix", "update monitoring Looks fine"])
async def test_a_resolved_incident_cannot_be_changed(slack: SlackDriver, fake: FakeSlack, people: People,
                                                     clock: ManualClock, again: str) -> None:
    channel, _ = await declare(slack, fake, people)
    await slack.command("resolve Bad config | Reverted it", user=people.alice, channel=channel.id)
    await fake.wait_for(lambda: len(fake.messages_in(channel.id)) == 2 and "Resolved" in channel.topic)
    kickoff = kickoff_of(channel)
    await fake.wait_for(lambda: "*Status:* Resolved" in kickoff.text)
    edits = len(kickoff.history)
    clock.advance(minutes=5)

    reply = await slack.command(again, user=people.alice, channel=channel.id)
    text = await reply.text()

    assert f"*{TITLE}* was resolved" in text and "can't be changed" in text
    assert reply.status == 200
    assert len(fake.messages_in(channel.id)) == 2
    assert len(kickoff.history) == edits
    incident = await stored_incident(slack, channel.id)
    assert incident is not None and incident.status is Status.RESOLVED
    assert (incident.root_cause, incident.resolution) == ("Bad config", "Reverted it")
    assert incident.resolved_at == START


# -- help and the wrong channel -------------------------------------------------------------------


@pytest.mark.parametrize("text", ["help", "", "   "])
async def test_help_lists_every_subcommand(slack: SlackDriver, fake: FakeSlack, people: People, text: str) -> None:
    reply = await slack.command(text, user=people.alice, channel=people.general)

    answer = await reply.response()
    assert reply.status == 200
    assert answer.get("response_type") == "ephemeral"
    for name in SUBCOMMANDS:
        assert f"`/incident {name}" in answer["text"], name
    assert fake.messages_in(people.general) == []


@pytest.mark.parametrize("command", [
    "status", "update investigating Still looking", "severity P0", "role tech <@{bob}|bob>",
    "note Something happened", "resolve Bad deploy | Rolled back",
])
async def test_incident_commands_elsewhere_point_to_the_incident_channels(
        slack: SlackDriver, fake: FakeSlack, people: People, command: str) -> None:
    channel, _ = await declare(slack, fake, people)
    events = len(await timeline(slack, (await all_incidents(slack))[0].id))

    answer = await (await slack.command(command.format(bob=people.bob), user=people.bob,
                                        channel=people.general)).response()

    assert answer.get("response_type") == "ephemeral"
    assert "works inside an incident's channel" in answer["text"]
    assert f"<#{channel.id}>" in answer["text"] and TITLE in answer["text"]
    assert len(fake.messages_in(channel.id)) == 1 and fake.messages_in(people.general) == []
    [incident] = await all_incidents(slack)
    assert incident.status is Status.INVESTIGATING and incident.severity is Severity.P1
    assert len(await timeline(slack, incident.id)) == events


async def test_the_channel_takes_commands_as_soon_as_people_are_in_it(slack: SlackDriver, fake: FakeSlack,
                                                                      people: People) -> None:
    fake.latency = 0.2  # a slow Slack widens the window between the invitation and the last step

    await slack.command(f"declare P1 {TITLE}", user=people.alice, channel=people.general)
    await fake.wait_for(lambda: (c := fake.channel_by_name(CHANNEL)) is not None and people.alice in c.members)
    channel = fake.channel_by_name(CHANNEL)
    assert channel is not None
    reply = await slack.command("note First responder on it", user=people.alice, channel=channel.id)
    await fake.wait_for(lambda: channel.pins)
    await fake.wait_for(lambda: stored_incident(slack, channel.id))
    fake.latency = 0

    assert "Added to the timeline" in await reply.text()


# -- channel names and titles ---------------------------------------------------------------------


async def test_two_declarations_in_the_same_minute_get_distinct_channels(slack: SlackDriver, fake: FakeSlack,
                                                                         people: People) -> None:
    first, second = await asyncio.gather(
        slack.command("declare P1 Checkout down", user=people.alice, channel=people.general),
        slack.command("declare P2 Search slow", user=people.bob, channel=people.general),
    )
    assert first.status == second.status == 200

    await fake.wait_for(lambda: all((c := fake.channel_by_name(n)) is not None and c.pins
                                    for n in (CHANNEL, f"{CHANNEL}-2")))
    kickoffs = {kickoff_of(c).text for c in fake.channels.values() if c.name.startswith(CHANNEL)}
    assert sum("Incident: Checkout down" in k for k in kickoffs) == 1
    assert sum("Incident: Search slow" in k for k in kickoffs) == 1
    await fake.wait_for(lambda: len(fake.messages_in(people.incidents)) == 2)

    async def both_stored() -> bool:
        return sorted(i.channel_name or "" for i in await all_incidents(slack)) == [CHANNEL, f"{CHANNEL}-2"]

    await fake.wait_for(both_stored)


async def test_a_name_held_by_an_archived_channel_is_skipped(slack: SlackDriver, fake: FakeSlack,
                                                             people: People) -> None:
    archived = fake.add_channel(CHANNEL, is_archived=True)

    channel, _ = await declare(slack, fake, people, name=f"{CHANNEL}-2")

    assert fake.channels[archived].is_archived and fake.messages_in(archived) == []
    assert f"Incident: {TITLE}" in kickoff_of(channel).text
    incident = await stored_incident(slack, channel.id)
    assert incident is not None and incident.channel_name == f"{CHANNEL}-2"


async def test_a_long_title_keeps_the_channel_name_short(slack: SlackDriver, fake: FakeSlack,
                                                         people: People) -> None:
    title = "Checkout API Returns 503 For All EU Customers After Deploy 4521 Rollout"[:70]
    assert len(title) == 70

    channel, _ = await declare(slack, fake, people, f"P1 {title}")

    assert channel.name == CHANNEL and channel.name == channel.name.lower() and len(channel.name) <= 80
    assert f"Incident: {title}" in kickoff_of(channel).text
    assert title in announcement_of(fake, people, channel).text
    incident = await stored_incident(slack, channel.id)
    assert incident is not None and incident.title == title


async def test_mentions_in_a_title_are_shown_as_words_so_nobody_is_pinged(slack: SlackDriver, fake: FakeSlack,
                                                                          people: People) -> None:
    channel, reply = await declare(slack, fake, people,
                                   f"P1 <!channel> checkout &amp; refunds down, ask <@{people.bob}|bob>")

    kickoff = kickoff_of(channel)
    announcement = announcement_of(fake, people, channel)
    for message in (kickoff, announcement):
        assert "@channel checkout &amp; refunds down, ask @bob" in message.text  # shown: "... & refunds ..."
        for shown in (message.text, blocks_text(message)):
            assert "<!channel>" not in shown and f"<@{people.bob}" not in shown
    assert "<!channel>" not in reply.ack_text and "<!channel>" not in channel.topic
    assert "<!channel>" not in await reply.text()


# -- when Slack fails -----------------------------------------------------------------------------


async def test_rate_limited_channel_creation_is_retried(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    fake.fail("conversations.create", status=429, retry_after=1)

    await slack.command(f"declare P1 {TITLE}", user=people.alice, channel=people.general)

    await fake.wait_for(lambda: (c := fake.channel_by_name(CHANNEL)) is not None and c.pins, timeout=10)
    assert [c.status for c in fake.calls_to("conversations.create")] == [429, 200]
    channel = fake.channel_by_name(CHANNEL)
    assert channel is not None and people.alice in channel.members
    assert f"Incident: {TITLE}" in kickoff_of(channel).text


async def test_a_channel_slack_refuses_loses_nothing_and_is_made_once_slack_allows_it(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    fake.fail("conversations.create", error="restricted_action", times=1)

    reply = await slack.command(f"declare P1 {TITLE}", user=people.alice, channel=people.general)

    await fake.wait_for(lambda: any("restricted_action" in r.get("text", "") for r in reply.responses()))
    [told] = reply.responses()
    assert told.get("response_type") == "ephemeral" and TITLE in told["text"]
    assert "no need to declare again" in told["text"] and "/incident update 1 " in told["text"]
    assert fake.channel_by_name(CHANNEL) is None
    [incident] = await all_incidents(slack)
    assert incident.title == TITLE and incident.channel_id is None and incident.status is Status.INVESTIGATING
    assert incident.channel_name == CHANNEL  # decided, and kept for when Slack allows it
    await settled(slack.runtime)
    events = await timeline(slack, incident.id)
    # Alice declared it and is its IC: she acknowledged it by declaring (issue 20).
    assert [e.kind for e in events] == ["declared", "acknowledged", "clock_step_failed"]
    assert "restricted_action" in events[2].text
    announcement = fake.messages_in(people.incidents)[-1]
    assert TITLE in announcement.text and "being set up" in announcement.text

    clock.advance(seconds=30)  # the setup comes round again by itself
    await slack.runtime.sweeper.sweep_all()
    channel = fake.channel_by_name(CHANNEL)
    assert channel is not None and channel.pins and people.alice in channel.members
    assert f"<#{channel.id}>" in announcement.text and announcement.edited  # the same announcement, linked
    assert f"<#{channel.id}>" in (await reply.response(2))["text"]
    assert len(fake.messages_in(people.incidents)) == 1


async def test_a_pin_that_keeps_failing_is_recorded_retried_and_the_incident_carries_on(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    fake.fail("pins.add", status=500, times=5)

    reply = await slack.command(f"declare P1 {TITLE}", user=people.alice, channel=people.general)

    await fake.wait_for(lambda: any("pin kickoff" in r.get("text", "") for r in reply.responses()), timeout=10)
    channel = fake.channel_by_name(CHANNEL)
    assert channel is not None and channel.pins == set()
    pins = fake.calls_to("pins.add")
    assert len(pins) >= 2 and all(c.status == 500 for c in pins)  # retried by slack-sdk, then left for later
    await settled(slack.runtime)
    [incident] = await all_incidents(slack)
    [failure] = [e for e in await timeline(slack, incident.id) if e.kind == "clock_step_failed"]
    assert "pin kickoff" in failure.text
    [kickoff] = fake.messages_in(channel.id)
    assert incident.kickoff_ts == kickoff.ts

    await slack.command("update monitoring Error rate back under 1%", user=people.alice, channel=channel.id)

    await fake.wait_for(lambda: len(fake.messages_in(channel.id)) == 2 and kickoff.edited
                        and "Monitoring" in channel.topic)
    assert "*Status:* Monitoring" in kickoff.text and "Error rate back under 1%" in kickoff.text

    clock.advance(seconds=30)  # only the pin comes round again
    await slack.runtime.sweeper.sweep_all()
    assert channel.pins == {kickoff.ts} and len(fake.messages_in(channel.id)) == 2
