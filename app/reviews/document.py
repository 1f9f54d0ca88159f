"""What goes into the review document, assembled from the incident, its timeline, the team's answers
and the action items. The words are in messages/review.md.j2; this only gathers and orders."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.catalog.services import Catalog
from app.clock import utc
from app.incidents.models import Incident, TimelineEvent
from app.reviews.models import ActionItem, PostIncidentReview, PostmortemMeeting

USER_ID = re.compile(r"\b[UW](?=[A-Z]*[0-9])[A-Z0-9]{8,}\b")  # Slack user ids, not words like WORKAROUND
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    kind: str
    text: str
    who: str | None
    link: str | None = None  # a message put on the timeline from the channel: its permalink


@dataclass(frozen=True)
class AffectedRow:
    """A service the incident affected: named when, and down from then until the resolution."""

    key: str
    name: str  # the catalog's name, or the key of a service no longer in it
    named_at: datetime
    downtime: timedelta


@dataclass(frozen=True)
class ReviewDocument:
    incident: Incident
    review: PostIncidentReview
    commander: str
    duration: timedelta
    timeline: list[TimelineRow]
    time_format: str  # HH:MM, with the date when the timeline spans days
    went_well: list[str]
    could_improve: list[str]
    lessons_learned: list[str]
    action_items: list[ActionItem]
    owners: dict[int, str]  # item number -> owner's name
    written_by: str
    generated_at: datetime
    meeting: PostmortemMeeting | None = None  # the post-mortem meeting, once scheduled
    meeting_attendees: tuple[str, ...] = ()  # their names
    services: tuple[AffectedRow, ...] = ()  # the services it affected, in the order they were named

    @property
    def open_items(self) -> list[ActionItem]:
        return [item for item in self.action_items if not item.is_done]


def people_in(incident: Incident, events: Iterable[TimelineEvent], items: Iterable[ActionItem],
              meeting: PostmortemMeeting | None = None) -> set[str]:
    """Every Slack user the document names, so their names can be looked up once."""
    people = {incident.declared_by, *incident.role_holders().values(), *(meeting.attendees if meeting else [])}
    for event in events:
        people.update(filter(None, [event.actor, *USER_ID.findall(event.text)]))
    people.update(item.owner for item in items if item.owner)
    return people


def points(text: str) -> list[str]:
    """A free-text answer as list items: one per line, bullets and numbers the writer typed removed."""
    return [BULLET.sub("", line).strip() for line in text.splitlines() if BULLET.sub("", line).strip()]


def review_document(incident: Incident, review: PostIncidentReview, events: list[TimelineEvent],
                    items: list[ActionItem], *, names: Mapping[str, str], by: str, now: datetime,
                    meeting: PostmortemMeeting | None = None, catalog: Catalog | None = None) -> ReviewDocument:
    assert incident.resolved_at is not None

    def name(user_id: str | None) -> str:
        return names.get(user_id, f"@{user_id}") if user_id else ""

    def readable(text: str) -> str:
        return USER_ID.sub(lambda match: name(match.group(0)), text)

    days = {utc(event.at).date() for event in events}
    return ReviewDocument(
        incident=incident,
        review=review,
        commander=name(incident.commander or incident.declared_by),
        duration=incident.resolved_at - incident.started_at,
        timeline=[TimelineRow(utc(e.at), e.kind, readable(e.text), name(e.actor) or None, e.link) for e in events],
        time_format="%H:%M" if len(days) <= 1 else "%Y-%m-%d %H:%M",
        went_well=points(review.went_well),
        could_improve=points(review.could_improve),
        lessons_learned=points(review.lessons_learned),
        action_items=items,
        owners={item.number: name(item.owner) for item in items if item.owner},
        written_by=name(by),
        generated_at=now,
        meeting=meeting,
        meeting_attendees=tuple(name(user) for user in (meeting.attendees if meeting else [])),
        services=affected_rows(incident, catalog),
    )


def affected_rows(incident: Incident, catalog: Catalog | None) -> tuple[AffectedRow, ...]:
    """Each affected service's downtime: from when it was named to the resolution."""
    assert incident.resolved_at is not None
    rows = []
    for named in incident.services:
        service = catalog.get(named.service) if catalog is not None else None
        rows.append(AffectedRow(named.service, service.name if service else named.service, utc(named.named_at),
                                max(incident.resolved_at - named.named_at, timedelta(0))))
    return tuple(rows)
