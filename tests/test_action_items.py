"""Action items: added, changed, started and finished in the incident's channel, listed privately,
numbered per incident, and their owners reminded by DM the day before they are due (once, and not
when done)."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import select

from app.duework.models import DueWork, WorkKind
from app.incidents import service
from app.incidents.models import Incident
from app.reviews.models import ActionItem, ActionStatus, Priority
from app.sandbox.fakeslack import FakeSlack
from app.sandbox.fakeslack.state import Message
from tests.conftest import People
from tests.support import START, ManualClock, Reply, SlackDriver, eventually
from tests.test_clock import tick
from tests.test_review import declare, published, resolve, review_link


async def incident_in(slack: SlackDriver, channel: str) -> Incident:
    async with slack.runtime.db.transaction() as session:
        incident = await session.scalar(select(Incident).where(Incident.channel_id == channel))
        assert incident is not None
        return incident


async def items_of(slack: SlackDriver, channel: str) -> list[ActionItem]:
    incident = await incident_in(slack, channel)
    async with slack.runtime.db.transaction() as session:
        return list(await session.scalars(select(ActionItem).where(ActionItem.incident_id == incident.id)
                                          .order_by(ActionItem.number)))


async def timeline_texts(slack: SlackDriver, channel: str, kind: str) -> list[str]:
    incident = await incident_in(slack, channel)
    async with slack.runtime.db.transaction() as session:
        return [e.text for e in await service.timeline(session, incident) if e.kind == kind]


async def answer(reply: Reply) -> str:
    """What the person sees privately: the acknowledgement for a mistyped command, else the response."""
    return reply.ack_text or await reply.text()


def posts(fake: FakeSlack, channel: str, words: str) -> list[Message]:
    return [m for m in fake.messages_in(channel) if words in m.text]


def item_reminders(fake: FakeSlack, user: str) -> list[Message]:
    return [m for m in fake.dms_to(user) if "Your action item" in m.text]


async def test_an_added_item_is_posted_stored_timed_and_listed(slack: SlackDriver, fake: FakeSlack,
                                                              people: People) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")

    await slack.command(f"action add Add pool monitoring owner:<@{people.bob}|bob> priority:p1 due:2026-12-01",
                        user=people.alice, channel=channel)
    await fake.wait_for(lambda: posts(fake, channel, "added action item"))
    await slack.command("action add Update the runbook", user=people.bob, channel=channel)
    await fake.wait_for(lambda: len(posts(fake, channel, "added action item")) == 2)

    first, second = posts(fake, channel, "added action item")
    assert f"<@{people.alice}> added action item *#1*" in first.text
    assert f"Add pool monitoring — <@{people.bob}> · P1 · due 2026-12-01" in first.text
    assert f"<@{people.bob}> will be reminded <!date^" in first.text
    assert "Update the runbook — unassigned · no priority · no due date" in second.text
    assert "will be reminded" not in second.text
    one, two = await items_of(slack, channel)
    assert (one.number, one.text, one.owner, one.priority, one.due_on, one.status, one.created_by) == (
        1, "Add pool monitoring", people.bob, Priority.P1, date(2026, 12, 1), ActionStatus.OPEN, people.alice)
    assert (two.number, two.owner, two.priority, two.due_on) == (2, None, None, None)
    assert await timeline_texts(slack, channel, "action_item_added") == [
        f"Action item added: #1 Add pool monitoring (owner {people.bob}, P1, due 2026-12-01)",
        "Action item added: #2 Update the runbook"]

    listing = await (await slack.command("actions", user=people.carol, channel=channel)).response()
    assert listing["response_type"] == "ephemeral"
    assert "(2 open of 2)" in listing["text"]
    assert f":clipboard: *#1* Add pool monitoring — <@{people.bob}> · P1 · due 2026-12-01" in listing["text"]


async def test_start_and_done_change_the_status_and_done_twice_is_refused(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await slack.command("action add Add pool monitoring", user=people.alice, channel=channel)
    await fake.wait_for(lambda: posts(fake, channel, "added action item"))

    await slack.command("action start 1", user=people.bob, channel=channel)
    await fake.wait_for(lambda: posts(fake, channel, "started on action item"))
    assert (await items_of(slack, channel))[0].status is ActionStatus.IN_PROGRESS
    await slack.command("action done #1", user=people.bob, channel=channel)
    await fake.wait_for(lambda: posts(fake, channel, "finished action item"))

    [item] = await items_of(slack, channel)
    assert item.status is ActionStatus.DONE and item.done_by == people.bob
    assert await timeline_texts(slack, channel, "action_item_done") == ["Action item #1 done: Add pool monitoring"]
    listing = await (await slack.command("actions", user=people.carol, channel=channel)).text()
    assert ":white_check_mark: *#1* Add pool monitoring" in listing and "(0 open of 1)" in listing

    before = len(fake.messages_in(channel))
    again = await answer(await slack.command("action done 1", user=people.alice, channel=channel))
    assert "is already done" in again and f"<@{people.bob}> finished it" in again
    missing = await answer(await slack.command("action done 7", user=people.alice, channel=channel))
    assert "no action item #7" in missing and "#1 to #1" in missing
    assert len(fake.messages_in(channel)) == before


@pytest.mark.parametrize("typed, says", [
    ("action add Fix it due:2026-13-45", "`2026-13-45` is not a date"),
    ("action add Fix it due:tomorrow", "`tomorrow` is not a date: give the due date as year-month-day"),
    ("action add Fix it due:2026-11-24", "`2026-11-24` has already passed"),
    ("action add Fix it priority:P7", "`P7` is not a priority: use `priority:P0`"),
    ("action add Fix it owner:bob", "`bob` is not a person: give the owner with @"),
    ("action add Fix it owner:<@U999NOPE|x>", "I can't find `U999NOPE`"),
    ("action add Fix it owner:<@{gone}|gone>", "can't own an action item: that account is deactivated"),
    ("action add priority:P1", "Say what needs doing"),
    ("action done two", "`two` is not an action item number"),
    ("action finish 1", "`finish` is not something to do with an action item"),
    ("action edit 1", "Say what to change"),
    ("action", "`(nothing)` is not something to do with an action item"),
])
async def test_a_mistyped_item_is_answered_privately_with_what_to_type(
        slack: SlackDriver, fake: FakeSlack, people: People, typed: str, says: str) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    before = len(fake.messages_in(channel))

    text = await answer(await slack.command(typed.format(gone=people.gone), user=people.alice, channel=channel))

    assert says in text
    assert "Usage: `/incident action add <text> [owner:@someone] [priority:P0-P3] [due:YYYY-MM-DD]`" in text
    assert await items_of(slack, channel) == []
    assert len(fake.messages_in(channel)) == before


async def test_the_owner_is_reminded_once_at_nine_utc_the_day_before_and_not_for_a_done_item(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")
    await slack.command(f"action add Rebuild the index nightly owner:<@{people.bob}|bob> due:2026-11-28",
                        user=people.alice, channel=channel)
    await fake.wait_for(lambda: posts(fake, channel, "added action item"))
    await slack.command(f"action add Add a search latency alert owner:<@{people.carol}|carol> due:2026-11-28",
                        user=people.alice, channel=channel)
    await fake.wait_for(lambda: len(posts(fake, channel, "added action item")) == 2)
    await slack.command("action done 2", user=people.carol, channel=channel)
    await fake.wait_for(lambda: posts(fake, channel, "finished action item"))

    day_before_at_nine = START.replace(day=27, hour=9, minute=0)
    await tick(slack, clock, seconds=(day_before_at_nine - START).total_seconds() - 60)
    assert item_reminders(fake, people.bob) == []
    await tick(slack, clock, minutes=1)
    [reminder] = item_reminders(fake, people.bob)
    assert "*#1* Rebuild the index nightly" in reminder.text and f"<#{channel}>" in reminder.text
    assert "`/incident action done 1`" in reminder.text

    await tick(slack, clock, days=3)
    assert len(item_reminders(fake, people.bob)) == 1
    assert item_reminders(fake, people.carol) == []
    assert await timeline_texts(slack, channel, "action_item_reminded") == [
        f"Reminded {people.bob} that action item #1 is due 2026-11-28"]
    incident = await incident_in(slack, channel)
    async with slack.runtime.db.transaction() as session:
        rows = await session.scalars(select(DueWork).where(DueWork.incident_id == incident.id,
                                                           DueWork.kind == WorkKind.ACTION_ITEM_DUE))
        assert sorted((r.key, r.outcome) for r in rows) == [("1", "done"), ("2", "cancelled")]


async def test_changing_the_due_date_and_owner_moves_the_reminder(slack: SlackDriver, fake: FakeSlack,
                                                                  people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")
    await slack.command(f"action add Rebuild the index nightly owner:<@{people.bob}|bob> due:2026-11-28",
                        user=people.alice, channel=channel)
    await fake.wait_for(lambda: posts(fake, channel, "added action item"))

    await slack.command(f"action edit 1 owner:<@{people.carol}|carol> due:2026-12-05", user=people.alice,
                        channel=channel)
    await fake.wait_for(lambda: posts(fake, channel, "changed action item"))
    assert f"<@{people.carol}> · no priority · due 2026-12-05" in posts(fake, channel, "changed action item")[0].text

    await tick(slack, clock, days=5)  # past 27 November
    assert item_reminders(fake, people.bob) == [] and item_reminders(fake, people.carol) == []
    await tick(slack, clock, days=5)  # past 4 December, 09:00
    assert len(item_reminders(fake, people.carol)) == 1
    assert (await items_of(slack, channel))[0].text == "Rebuild the index nightly"


async def test_items_are_numbered_within_their_incident(slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    first = await declare(slack, fake, people, "P2 Search is slow")
    second = await declare(slack, fake, people, "P2 Uploads fail", number=2)
    for channel, count in ((first, 1), (second, 1), (first, 2)):
        await slack.command("action add Write it down", user=people.alice, channel=channel)
        await fake.wait_for(lambda: len(posts(fake, channel, "added action item")) == count)

    assert [i.number for i in await items_of(slack, first)] == [1, 2]
    assert [i.number for i in await items_of(slack, second)] == [1]


async def test_items_added_at_the_same_time_get_distinct_numbers(slack: SlackDriver, fake: FakeSlack,
                                                                 people: People) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")

    await asyncio.gather(*(slack.command(f"action add Step {n}", user=people.alice, channel=channel)
                           for n in range(4)))
    await fake.wait_for(lambda: len(posts(fake, channel, "added action item")) == 4)

    items = await items_of(slack, channel)
    assert [i.number for i in items] == [1, 2, 3, 4]
    assert sorted(i.text for i in items) == [f"Step {n}" for n in range(4)]


async def test_items_changed_after_the_review_is_published_show_in_the_served_review(
        slack: SlackDriver, fake: FakeSlack, people: People) -> None:
    channel = await declare(slack, fake, people, "P2 Search is slow")
    await resolve(slack, fake, people, channel)
    uploaded = await published(slack, fake, people, channel)
    assert "No action items were recorded" in uploaded

    await slack.command(f"action add Rebuild the index nightly owner:<@{people.bob}|bob> priority:P2 due:2026-12-01",
                        user=people.alice, channel=channel)
    await fake.wait_for(lambda: posts(fake, channel, "added action item"))

    row = "| #1 Rebuild the index nightly | Bob Brown | P2 | 2026-12-01 | 📋 |"

    async def served_with_the_item() -> bool:
        return row in (await slack.http.get(review_link(fake, channel))).text

    await eventually(served_with_the_item)
    assert len(fake.files) == 1 and row not in uploaded  # the upload is a snapshot; the served review follows
