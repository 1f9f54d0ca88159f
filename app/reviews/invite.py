"""The post-mortem meeting as a calendar invite (.ics, RFC 5545), made with the icalendar library.

The UID is the incident's, so a calendar that imported the first invite updates the same event when the
meeting is moved (SEQUENCE counts the moves). Times are written in UTC; calendars show local time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from icalendar import Calendar, Event, vCalAddress, vText

from app.reviews.models import PostmortemMeeting

PRODUCT = "-//incident-coordinator//post-mortem meeting//EN"


@dataclass(frozen=True)
class Invitee:
    name: str
    email: str | None  # only those Slack shows an e-mail for become ATTENDEE lines


def meeting_invite(meeting: PostmortemMeeting, *, uid: str, summary: str, description: str, location: str,
                   invitees: list[Invitee], now: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("sequence", meeting.sequence)
    event.add("summary", summary)
    event.add("description", description)
    event.add("location", location)
    for invitee in invitees:
        if invitee.email:
            attendee = vCalAddress(f"mailto:{invitee.email}")
            attendee.params["cn"] = vText(invitee.name)
            attendee.params["role"] = vText("REQ-PARTICIPANT")
            event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    return calendar.to_ical()
