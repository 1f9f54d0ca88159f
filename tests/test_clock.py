"""The plan's clock: update reminders, acknowledgement, escalation and paging, driven by the
injected clock and explicit sweeps (the same code APScheduler runs every few seconds)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.duework.models import DueWork, WorkKind
from app.incidents import service
from app.incidents.models import Incident
from app.sandbox.fakeslack import FakeSlack
from app.sandbox.fakeslack.state import Message
from tests.conftest import People
from tests.support import ManualClock, SlackDriver, eventually, is_reminder, settled

pytestmark = pytest.mark.both_databases


async def declare(slack: SlackDriver, fake: FakeSlack, people: People, text: str, *, user: str | None = None,
                  number: int = 1) -> str:
    """Declare from #general and return the new incident channel's id once it is fully set up."""
    await slack.command(f"declare {text}", user=user or people.alice, channel=people.general)

    async def ready() -> str | None:
        async with slack.runtime.db.transaction() as session:
            incidents = list(await session.scalars(select(Incident).where(Incident.kickoff_ts.is_not(None))
                                                   .order_by(Incident.id)))
        if len(incidents) < number:
            return None
        channel = incidents[number - 1].channel_id
        return channel if channel and fake.channels[channel].pins else None

    channel = await eventually(ready)
    await settled(slack.runtime)
    return channel


def reminders(fake: FakeSlack, channel: str) -> list[Message]:
    """The live update reminders: one superseded, answered or closed keeps its metadata but loses its buttons."""
    return [m for m in fake.messages_in(channel)
            if is_reminder(m) and any(block["type"] == "actions" for block in m.blocks or [])]


async def tick(slack: SlackDriver, clock: ManualClock, **delta: float) -> int:
    clock.advance(**delta)
    return await slack.runtime.sweeper.sweep_all()


async def test_p0_reminds_every_15_minutes_and_replaces_the_previous_reminder(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P0 Complete API outage")

    await tick(slack, clock, minutes=14, seconds=59)
    assert reminders(fake, channel) == []
    await tick(slack, clock, seconds=1)
    [first] = reminders(fake, channel)
    assert f"<@{people.alice}>" in first.text and "every 15 minutes" in first.text
    actions = next(b for b in first.blocks if b["type"] == "actions")["elements"]
    assert [a["action_id"] for a in actions] == ["post_update", "snooze_reminder", "snooze_reminder"]

    await tick(slack, clock, minutes=15)
    all_reminders = reminders(fake, channel)
    assert len(all_reminders) == 1  # the first one was edited to "superseded"
    assert "superseded" in fake.channels[channel].message(first.ts).text
    assert len([m for m in fake.messages_in(channel) if m.metadata]) >= 2


async def test_p1_cadence_is_30_minutes_and_an_update_restarts_it(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await tick(slack, clock, minutes=20)
    await slack.command("update identified Bad deploy | Rolling back | 10 minutes", user=people.alice,
                        channel=channel)
    await fake.wait_for(lambda: any("INCIDENT UPDATE" in m.text for m in fake.messages_in(channel)))

    await tick(slack, clock, minutes=10)  # 30 min after declaring, 10 after the update
    assert reminders(fake, channel) == []
    await tick(slack, clock, minutes=20)  # 30 min after the update
    assert len(reminders(fake, channel)) == 1


async def test_chatter_is_not_progress(slack: SlackDriver, fake: FakeSlack, people: People,
                                       clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    fake.post(fake.channels[channel], people.bob, text="looking at the dashboards")
    await tick(slack, clock, minutes=30)
    assert len(reminders(fake, channel)) == 1


async def test_raising_severity_tightens_the_cadence_at_once(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")
    await tick(slack, clock, minutes=20)
    assert reminders(fake, channel) == []
    reply = await slack.command("severity P0", user=people.alice, channel=channel)
    await fake.wait_for(lambda: any("changed the severity" in m.text for m in fake.messages_in(channel)))
    assert reply.status == 200
    await tick(slack, clock, seconds=1)  # the P0 cadence (15 min) has already run out
    assert len(reminders(fake, channel)) == 1


async def test_snooze_postpones_the_next_reminder(slack: SlackDriver, fake: FakeSlack, people: People,
                                                  clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P0 Complete API outage")
    await tick(slack, clock, minutes=15)
    [reminder] = reminders(fake, channel)

    response = await slack.press("snooze_reminder", "30", user=people.bob, channel=channel, message_ts=reminder.ts)
    assert response.status_code == 200
    await fake.wait_for(lambda: "snoozed" in fake.channels[channel].message(reminder.ts).text)

    await tick(slack, clock, minutes=29)
    assert reminders(fake, channel) == []
    await tick(slack, clock, minutes=1)
    assert len(reminders(fake, channel)) == 1


async def test_resolving_stops_every_clock(slack: SlackDriver, fake: FakeSlack, people: People,
                                           clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await tick(slack, clock, minutes=5)
    await slack.command("resolve Bad deploy | Rolled back", user=people.alice, channel=channel)
    await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel)))
    before = len(fake.calls)

    await tick(slack, clock, hours=6)
    assert reminders(fake, channel) == []
    assert fake.dms_to(people.boss) == []
    assert len(fake.calls) == before
    async with slack.runtime.db.transaction() as session:
        pending = list(await session.scalars(select(DueWork).where(DueWork.done_at.is_(None))))
    assert {work.kind for work in pending} <= {WorkKind.REVIEW_DUE}  # only the post-incident review is owed


async def test_resolving_closes_the_live_reminder_and_takes_its_buttons_away(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await tick(slack, clock, minutes=30)
    [reminder] = reminders(fake, channel)
    assert any(b["type"] == "actions" for b in reminder.blocks)

    await slack.command("resolve Bad deploy | Rolled back", user=people.alice, channel=channel)
    await fake.wait_for(lambda: any("INCIDENT RESOLVED" in m.text for m in fake.messages_in(channel)))

    closed = await eventually(lambda: _edited(fake, channel, reminder.ts))
    assert "No more update reminders: the incident is resolved" in closed.text
    assert not any(b["type"] == "actions" for b in closed.blocks or [])  # no Post update, no Snooze
    async with slack.runtime.db.transaction() as session:
        incident = await service.incident_in_channel(session, channel)
    assert incident.reminder_ts is None


async def _edited(fake: FakeSlack, channel: str, ts: str) -> Message | None:
    message = fake.channels[channel].message(ts)
    return message if message.edited else None


async def declare_with_carol_as_ic(slack: SlackDriver, fake: FakeSlack, people: People,
                                   clock: ManualClock) -> str:
    """A P0 Alice declares with Carol, the primary on-call, as its IC: Carol's page (IC and Technical Lead)
    goes out at once and waits for her answer; Alice, the declarer, was paged for nothing."""
    channel = await declare(slack, fake, people, f"P0 Complete API outage ic:<@{people.carol}|carol>")
    await tick(slack, clock, seconds=1)
    [page] = fake.dms_to(people.carol)
    assert "You are paged" in page.text
    assert fake.dms_to(people.alice) == []
    return channel


async def acknowledge_page(slack: SlackDriver, fake: FakeSlack, person: str, channel: str) -> None:
    """`person` presses Acknowledge on the page DM they were sent, and the incident channel says so."""
    [page] = [m for m in fake.dms_to(person) if "You are paged" in m.text]
    [button] = [e for b in page.blocks if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == "acknowledge"]
    await slack.press("acknowledge", button["value"], user=person, channel=page.channel, message_ts=page.ts)
    await fake.wait_for(lambda: any(f"<@{person}> acknowledged their page" in m.text
                                    for m in fake.messages_in(channel)))


def kickoff_buttons(fake: FakeSlack, channel: str, ts: str) -> list[str]:
    return [e["action_id"] for b in fake.channels[channel].message(ts).blocks if b["type"] == "actions"
            for e in b["elements"]]


async def test_unacknowledged_p0_pages_the_backup_after_15_minutes(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare_with_carol_as_ic(slack, fake, people, clock)
    await tick(slack, clock, minutes=13, seconds=59)
    assert fake.dms_to(people.bob) == []

    await tick(slack, clock, minutes=1)
    [page] = fake.dms_to(people.bob)
    assert "You are paged" in page.text and f"<#{channel}>" in page.text
    assert people.bob in fake.channels[channel].members
    # The channel is told whose page went unanswered, and who was paged instead.
    [missed] = [m for m in fake.messages_in(channel) if "Not acknowledged within" in m.text]
    assert f"<@{people.carol}>'s page (ic, tech" in missed.text and f"<@{people.bob}>" in missed.text
    async with slack.runtime.db.transaction() as session:
        incident = await session.scalar(select(Incident).where(Incident.channel_id == channel))
        assert incident is not None and not incident.is_acknowledged

    await tick(slack, clock, minutes=60)
    assert len(fake.dms_to(people.bob)) == 1


async def test_acknowledging_on_the_kickoff_means_no_backup_page(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare_with_carol_as_ic(slack, fake, people, clock)
    kickoff = fake.messages_in(channel)[0]
    assert "acknowledge" in kickoff_buttons(fake, channel, kickoff.ts)

    await slack.press("acknowledge", "1", user=people.carol, channel=channel, message_ts=kickoff.ts)
    await fake.wait_for(lambda: any(f"<@{people.carol}> acknowledged their page" in m.text
                                    for m in fake.messages_in(channel)))
    await fake.wait_for(lambda: "acknowledge" not in kickoff_buttons(fake, channel, kickoff.ts))
    async with slack.runtime.db.transaction() as session:
        incident = await session.scalar(select(Incident).where(Incident.channel_id == channel))
        assert incident is not None and incident.acknowledged_by == people.carol

    await tick(slack, clock, minutes=30)
    assert fake.dms_to(people.bob) == []
    assert not any("Not acknowledged within" in m.text for m in fake.messages_in(channel))


async def test_only_the_person_paged_can_acknowledge(slack: SlackDriver, fake: FakeSlack, people: People,
                                                     clock: ManualClock) -> None:
    channel = await declare_with_carol_as_ic(slack, fake, people, clock)
    kickoff = fake.messages_in(channel)[0]
    # Alice declared it but was not paged: her press answers nothing, and names whose answer is awaited.
    await slack.press("acknowledge", "1", user=people.alice, channel=channel, message_ts=kickoff.ts)
    await fake.wait_for(lambda: any("You were not paged" in r["payload"].get("text", "")
                                    and f"<@{people.carol}>" in r["payload"].get("text", "")
                                    for r in fake.responses))
    assert "acknowledge" in kickoff_buttons(fake, channel, kickoff.ts)
    assert not any("acknowledged" in m.text for m in fake.messages_in(channel)[1:])
    async with slack.runtime.db.transaction() as session:
        incident = await session.scalar(select(Incident).where(Incident.channel_id == channel))
        assert incident is not None and not incident.is_acknowledged
    await tick(slack, clock, minutes=15)
    assert len(fake.dms_to(people.bob)) == 1


async def test_p0_tells_management_at_declaration(slack: SlackDriver, fake: FakeSlack, people: People,
                                                  clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P0 Data breach suspected")
    await tick(slack, clock, seconds=1)
    [escalation] = fake.dms_to(people.boss)
    assert "Escalation" in escalation.text and "Data breach suspected" in escalation.text
    assert f"<#{channel}>" in escalation.text
    assert any("Escalated to management" in m.text for m in fake.messages_in(channel))


async def test_p1_escalates_after_an_hour_and_never_again(slack: SlackDriver, fake: FakeSlack, people: People,
                                                          clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await tick(slack, clock, minutes=59)
    assert fake.dms_to(people.boss) == []
    await tick(slack, clock, minutes=1)
    assert len(fake.dms_to(people.boss)) == 1
    assert "unresolved for 1 hour" in fake.dms_to(people.boss)[0].text
    await tick(slack, clock, hours=5)
    assert len(fake.dms_to(people.boss)) == 1
    async with slack.runtime.db.transaction() as session:
        incident = await session.scalar(select(Incident).where(Incident.channel_id == channel))
        assert incident is not None


async def test_p2_escalates_after_four_hours(slack: SlackDriver, fake: FakeSlack, people: People,
                                             clock: ManualClock) -> None:
    await declare(slack, fake, people, "P2 Backups failing")
    await tick(slack, clock, hours=3, minutes=59)
    assert fake.dms_to(people.boss) == []
    await tick(slack, clock, minutes=1)
    assert len(fake.dms_to(people.boss)) == 1


async def test_raising_to_p1_escalates_by_the_p1_rule_from_the_start(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P2 Backups failing")
    await tick(slack, clock, minutes=90)
    assert fake.dms_to(people.boss) == []
    await slack.command("severity P1", user=people.alice, channel=channel)
    await fake.wait_for(lambda: any("changed the severity" in m.text for m in fake.messages_in(channel)))
    await tick(slack, clock, seconds=1)
    assert len(fake.dms_to(people.boss)) == 1


async def test_p0_pages_the_roles_the_plan_names(slack: SlackDriver, fake: FakeSlack, people: People,
                                                 clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, f"P0 Complete API outage tech:<@{people.bob}|bob>")
    await tick(slack, clock, seconds=1)
    # IC is the declarer (already there); the Technical Lead is paged; Communications falls to nobody.
    assert any("You are paged" in m.text for m in fake.dms_to(people.bob))
    assert fake.dms_to(people.alice) == []
    assert channel


async def test_post_update_button_opens_a_form_that_posts_the_update(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P0 Complete API outage")
    await tick(slack, clock, minutes=15)
    [reminder] = reminders(fake, channel)

    await slack.press("post_update", "1", user=people.alice, channel=channel, message_ts=reminder.ts)
    await fake.wait_for(lambda: fake.views)
    view = fake.views[-1]["view"]
    assert view["callback_id"] == "post_status_update" and view["private_metadata"] == channel

    submission = {
        "type": "view_submission", "team": {"id": fake.team_id}, "api_app_id": "A0001",
        "user": {"id": people.alice, "name": "alice", "team_id": fake.team_id},
        "view": {**view, "id": "V1", "state": {"values": {
            "status": {"value": {"type": "static_select", "selected_option": {"value": "monitoring"}}},
            "findings": {"value": {"type": "plain_text_input", "value": "Fix deployed, error rate falling"}},
            "action": {"value": {"type": "plain_text_input", "value": None}},
            "eta": {"value": {"type": "plain_text_input", "value": "15 minutes"}},
        }}},
    }
    response = await slack.interaction(submission)
    assert response.status_code == 200
    await fake.wait_for(lambda: any("INCIDENT UPDATE" in m.text for m in fake.messages_in(channel)))
    update = next(m for m in fake.messages_in(channel) if "INCIDENT UPDATE" in m.text)
    assert "*Status:* Monitoring" in update.text and "Fix deployed" in update.text
    await tick(slack, clock, minutes=14)
    assert reminders(fake, channel) == []


async def test_oncall_shows_who_is_on_call_now_and_next(slack: SlackDriver, fake: FakeSlack,
                                                        people: People) -> None:
    reply = await slack.command("oncall", user=people.alice, channel=people.general)
    text = await reply.text()
    assert f"primary <@{people.carol}>" in text and f"backup <@{people.bob}>" in text
    assert "*Next*" in text and "<!date^" in text


async def test_a_reminder_that_cannot_be_posted_is_reported_once_and_never_given_up(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    fake.fail("chat.postMessage", error="channel_not_found", times=1000)
    await tick(slack, clock, minutes=30)
    for _ in range(6):
        await tick(slack, clock, minutes=30)
    async with slack.runtime.db.transaction() as session:
        incident = await session.scalar(select(Incident).where(Incident.channel_id == channel))
        events = [e for e in await service.timeline(session, incident)]
    failed = [e.text for e in events if e.kind == "clock_step_failed" and "update_reminder" in e.text]
    assert failed == ["update_reminder: post reminder: channel_not_found"]  # said once, not every round
    assert reminders(fake, channel) == []

    fake._failures.clear()
    await tick(slack, clock, minutes=30)  # Slack takes posts again: the clock goes on
    assert len(reminders(fake, channel)) == 1
