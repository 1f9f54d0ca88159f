"""The post-mortem meeting in Slack: asked for on resolution (a button, or `/incident meeting`), a form with
a date and a time, the invite (.ics) uploaded to the channel, and the attendees reminded by DM."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.duework.attempt import Attempt
from app.duework.sweeper import Fired
from app.incidents.errors import UsageError
from app.incidents.models import Incident, Role
from app.reviews import meetings
from app.reviews.invite import Invitee, meeting_invite
from app.reviews.service import require_resolved
from app.slack.reviews.review import Reviews
from app.slack.toolkit import interactions
from app.slack.toolkit.acting import Acting, Actor
from app.slack.toolkit.calls import run_step, run_steps
from app.slack.toolkit.deps import Deps
from app.slack.toolkit.posting import post_once
from app.slack.toolkit.review_commands import ScheduleMeeting
from app.slack.toolkit.text import SLACK_CHANNEL_LINK

MEETING_CALLBACK = "postmortem_meeting"
SCHEDULE_BUTTON = "schedule_meeting"


def read_meeting_form(values: dict[str, dict[str, Any]]) -> ScheduleMeeting:
    """The form's date and time (views.form_values); either missing goes back to the form."""
    day = interactions.text(values.get("date", {}).get("selected_date"))
    at = interactions.text(values.get("time", {}).get("selected_time"))
    problems = {block: "missing_choice" for block, value in (("date", day), ("time", at)) if not value}
    if problems:
        raise UsageError(subcommand="meeting", problems=problems)
    try:
        zone = interactions.text(values.get("time", {}).get("timezone")) or None
        return ScheduleMeeting(datetime.fromisoformat(day).date(), datetime.strptime(at, "%H:%M").time(), zone)
    except ValueError:
        raise interactions.StaleInteraction() from None


class Meetings:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)
        self.reviews = Reviews(deps)

    async def open_form(self, actor: Actor) -> None:
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            require_resolved(incident)
            meeting = await meetings.meeting_of(session, incident.id)
        view = self.deps.messages.view("views/meeting.yml.j2", incident=incident, meeting=meeting,
                                        now=self.deps.clock.now())
        view["callback_id"] = MEETING_CALLBACK
        view["private_metadata"] = incident.channel_id or ""
        await self.deps.client.views_open(trigger_id=actor.trigger_id or "", view=view)

    async def schedule(self, command: ScheduleMeeting, actor: Actor) -> None:
        """Store the meeting with its attendees, then post the invite in the channel."""
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            require_resolved(incident)
        zone = await self._zone(command.timezone, actor.user_id)
        starts_at = datetime.combine(command.day, command.at, zone).astimezone(UTC)
        invitees = await self._attendees(incident)
        now = self.deps.clock.now()
        async with self.deps.db.transaction() as session:
            incident = await self.acting.incident_here(session, actor)
            meeting = await meetings.schedule_meeting(session, incident, starts_at=starts_at, attendees=invitees,
                                                      rules=self.deps.policy.followup.meeting, by=actor.user_id,
                                                      now=now)
        context = {"incident": incident, "meeting": meeting, "actor": actor.user_id, "now": now}
        invite = meeting_invite(
            meeting, uid=f"incident-{incident.id}-postmortem@incident-coordinator",
            summary=self.deps.messages.text("meeting_invite_summary.j2", **context),
            description=self.deps.messages.text("meeting_invite.j2", **context, names=invitees),
            location=f"{SLACK_CHANNEL_LINK}{incident.channel_id}" if incident.channel_id else "Slack",
            invitees=list(invitees.values()), now=now)
        announcement = self.deps.messages.text("meeting_scheduled.j2", **context)
        if incident.channel_id is None:
            await actor.reply(self.deps.messages.render("meeting_scheduled.j2", **context))
        else:
            steps = await run_step("upload meeting invite", self.deps.client.files_upload_v2(
                channel=incident.channel_id, content=invite.decode(),
                filename=f"{incident.channel_name}-postmortem.ics",
                title=self.deps.messages.text("meeting_invite_summary.j2", **context), initial_comment=announcement))
            await self.acting.record_failures(incident, steps.failures)
            if steps.failures:
                await actor.reply(self.deps.messages.render("steps_failed.j2", incident=incident,
                                                             failures=steps.failures))
        await self.reviews.refresh(incident.id)

    async def _zone(self, given: str | None, user_id: str) -> ZoneInfo:
        """The time zone the person meant: the form's, else their Slack profile's, else UTC."""
        name = given or (await self.deps.client.users_info(user=user_id))["user"].get("tz") or "UTC"
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    async def _attendees(self, incident: Incident) -> dict[str, Invitee]:
        """The plan's attendees: IC, Technical Lead, and the channel's members (people, not bots)."""
        wanted = [user for user in (incident.commander, incident.holder(Role.TECH)) if user]
        if incident.channel_id:
            members = await self.deps.client.conversations_members(channel=incident.channel_id, limit=1000)
            wanted += [str(member) for member in members["members"]]
        steps = await run_steps({user: self.deps.client.users_info(user=user) for user in dict.fromkeys(wanted)})
        people = {}
        for user in dict.fromkeys(wanted):
            person = steps.results.get(user, {}).get("user") if user in steps.results else None
            if person is None or person.get("is_bot") or person.get("deleted") or user == "USLACKBOT":
                continue
            profile = person.get("profile") or {}
            people[user] = Invitee(name=person.get("real_name") or profile.get("real_name") or person["name"],
                                   email=profile.get("email"))
        return people


class MeetingReminders:
    """What a MEETING_REMINDER row does: a DM to each attendee, once each, unless the meeting has passed."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.acting = Acting(deps)

    async def fire(self, attempt: Attempt, incident: Incident, now: datetime) -> Fired:
        async with self.deps.db.transaction() as session:
            meeting = await meetings.meeting_of(session, incident.id)
        if meeting is None or meeting.starts_at <= now:
            return Fired(outcome="cancelled")
        message = self.deps.messages.render("meeting_reminder.j2", incident=incident, meeting=meeting, now=now)
        await asyncio.gather(*(post_once(self.deps.client, attempt, f"dm {user}", user, message)
                               for user in meeting.attendees))
        return Fired(events=[("meeting_reminder", f"Reminded {len(meeting.attendees)} attendees of the post-mortem "
                                                  f"meeting at {meeting.starts_at.strftime('%Y-%m-%d %H:%M UTC')}")])
