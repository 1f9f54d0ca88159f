"""The post-mortem meeting (the plan's Phase 4.1): on resolution the IC is asked to schedule it (a button on
the resolution message opening a form with a date and a time, or `/incident meeting YYYY-MM-DD HH:MM`), in
their own time zone; it is stored in UTC with its attendees (IC, Technical Lead, the channel's members), an
.ics invite is uploaded to the channel, each attendee is reminded by DM a day and an hour before, and the
review document shows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import Calendar
from sqlalchemy import select

from app.duework.models import DueWork, WorkKind
from app.reviews.models import PostmortemMeeting
from app.sandbox.fakeslack import FakeSlack
from tests.conftest import People
from tests.support import ManualClock, SlackDriver, eventually
from tests.test_action_items import answer, incident_in
from tests.test_clock import tick
from tests.test_kickoff_buttons import submit
from tests.test_review import declare, published, resolve


def resolution(fake: FakeSlack, channel: str) -> Any:
    return next(m for m in fake.messages_in(channel) if "INCIDENT RESOLVED" in m.text)


def invites(fake: FakeSlack) -> list[dict[str, Any]]:
    return [f for f in fake.files if f["filename"].endswith(".ics")]


def picked(day: str | None, at: str | None) -> dict[str, dict[str, Any]]:
    return {"date": {"value": {"type": "datepicker", "selected_date": day}},
            "time": {"value": {"type": "timepicker", "selected_time": at}}}


async def meeting_of(slack: SlackDriver, channel: str) -> PostmortemMeeting | None:
    incident = await incident_in(slack, channel)
    async with slack.runtime.db.transaction() as session:
        return await session.scalar(select(PostmortemMeeting).where(PostmortemMeeting.incident_id == incident.id))


async def reminders_due(slack: SlackDriver) -> list[datetime]:
    async with slack.runtime.db.transaction() as session:
        rows = await session.scalars(select(DueWork).where(DueWork.kind == WorkKind.MEETING_REMINDER,
                                                           DueWork.done_at.is_(None)).order_by(DueWork.due_at))
        return [row.due_at for row in rows]


def meeting_dms(fake: FakeSlack, user: str) -> list[Any]:
    return [m for m in fake.dms_to(user) if "post-mortem meeting" in m.text]


async def test_the_ic_schedules_it_from_the_resolution_message_in_their_time_zone(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, f"P1 Checkout errors tech:<@{people.bob}|bob>")
    await resolve(slack, fake, people, channel)
    message = resolution(fake, channel)
    assert f"<@{people.alice}>, please schedule the post-mortem meeting" in message.text
    [button] = [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == "schedule_meeting"

    await slack.press("schedule_meeting", button["value"], user=people.alice, channel=channel, message_ts=message.ts)
    view = (await fake.wait_for(lambda: fake.views))[-1]["view"]
    assert [b["element"]["type"] for b in view["blocks"] if b["type"] == "input"] == ["datepicker", "timepicker"]

    # A form without a time goes back with the field marked.
    refused = await submit(slack, fake, people.alice, view, picked("2026-11-27", None))
    assert refused["response_action"] == "errors" and list(refused["errors"]) == ["time"]
    # Alice is in Europe/Paris: 10:00 there on 27 November is 09:00 UTC.
    await submit(slack, fake, people.alice, view, picked("2026-11-27", "10:00"))
    [invite] = await fake.wait_for(lambda: invites(fake))

    meeting = await meeting_of(slack, channel)
    assert meeting is not None
    assert (meeting.starts_at, meeting.ends_at) == (datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
                                                    datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    members = [m for m in fake.channels[channel].members if m != fake.bot_user_id]
    assert meeting.attendees[:2] == [people.alice, people.bob] and set(meeting.attendees) == {*members, people.bob}

    event = Calendar.from_ical(invite["content"]).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert event.decoded("dtend") == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert str(event["summary"]) == "Post-mortem: Checkout errors (P1)"
    assert "Timeline review" in str(event["description"]) and "Bob Brown" in str(event["description"])
    assert invite["channel_id"] == channel
    comment = invite["initial_comment"]
    assert "scheduled the post-mortem meeting" in comment and f"<!date^{int(meeting.starts_at.timestamp())}^" in comment
    assert f"<@{people.bob}>" in comment

    assert await reminders_due(slack) == [datetime(2026, 11, 26, 9, 0, tzinfo=UTC),
                                          datetime(2026, 11, 27, 8, 0, tzinfo=UTC)]
    document = await published(slack, fake, people, channel, count=2)  # the invite was the first file
    assert "- Post-mortem meeting: 2026-11-27 09:00 UTC (1 hour) with Alice Adams, Bob Brown" in document


async def test_attendees_are_reminded_a_day_and_an_hour_before_once_each(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, f"P1 Checkout errors tech:<@{people.bob}|bob>")
    await resolve(slack, fake, people, channel)
    # Bob is in America/New_York: 10:00 there on 27 November is 15:00 UTC.
    await slack.command("meeting 2026-11-27 10:00", user=people.bob, channel=channel)
    await fake.wait_for(lambda: invites(fake))
    meeting = await meeting_of(slack, channel)
    assert meeting is not None and meeting.starts_at == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)

    await tick(slack, clock, hours=24, minutes=29)  # 2026-11-26 14:59
    assert meeting_dms(fake, people.bob) == []
    await tick(slack, clock, minutes=1)  # a day before
    for person in meeting.attendees:
        [dm] = meeting_dms(fake, person)
        assert "starts <!date^" in dm.text and "in 1 day" in dm.text
    await tick(slack, clock, hours=1)
    await tick(slack, clock, hours=22)  # an hour before
    assert [len(meeting_dms(fake, person)) for person in meeting.attendees] == [2] * len(meeting.attendees)
    assert "in 1 hour" in meeting_dms(fake, people.alice)[-1].text
    await tick(slack, clock, hours=3)
    assert [len(meeting_dms(fake, person)) for person in meeting.attendees] == [2] * len(meeting.attendees)


async def test_moving_it_moves_the_reminders_and_updates_the_invite(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    await resolve(slack, fake, people, channel)
    await slack.command("meeting 2026-11-27 10:00", user=people.alice, channel=channel)
    await fake.wait_for(lambda: len(invites(fake)) == 1)
    # Moved to 40 minutes from now: the day-before reminder is dropped, the hour-before one is already past.
    soon = clock.now() + timedelta(minutes=40)
    paris = soon.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    await slack.command(f"meeting {paris:%Y-%m-%d %H:%M}", user=people.alice, channel=channel)
    [_, moved] = await fake.wait_for(lambda: len(invites(fake)) == 2 and invites(fake))

    meeting = await meeting_of(slack, channel)
    assert meeting is not None and meeting.sequence == 1 and meeting.starts_at == soon.replace(second=0, microsecond=0)
    event = Calendar.from_ical(moved["content"]).walk("VEVENT")[0]
    assert event["uid"] == Calendar.from_ical(invites(fake)[0]["content"]).walk("VEVENT")[0]["uid"]
    assert event["sequence"] == 1 and "moved the post-mortem meeting" in moved["initial_comment"]
    assert await reminders_due(slack) == []


async def test_bad_times_and_open_incidents_are_answered_privately(
        slack: SlackDriver, fake: FakeSlack, people: People, clock: ManualClock) -> None:
    channel = await declare(slack, fake, people, "P1 Checkout errors")
    not_yet = await answer(await slack.command("meeting 2026-11-27 10:00", user=people.alice, channel=channel))
    assert "is not resolved yet" in not_yet
    await resolve(slack, fake, people, channel)

    typo = await answer(await slack.command("meeting tomorrow at ten", user=people.alice, channel=channel))
    assert "`tomorrow at ten` is not a date and time" in typo and "/incident meeting 2026-12-03 15:00" in typo
    impossible = await answer(await slack.command("meeting 2026-02-30 10:00", user=people.alice, channel=channel))
    assert "is not a date and time" in impossible
    past = await answer(await slack.command("meeting 2026-11-24 10:00", user=people.alice, channel=channel))
    assert "has already passed" in past
    assert invites(fake) == [] and await meeting_of(slack, channel) is None

    await slack.command("meeting", user=people.alice, channel=channel, trigger_id="meeting-trigger")
    await eventually(lambda: _opened(fake, "meeting-trigger"))


async def _opened(fake: FakeSlack, trigger_id: str) -> bool:
    return any(v["trigger_id"] == trigger_id for v in fake.views)
