"""What people type for the review and action items: `/incident review`, `/incident actions` and
`/incident action add|edit|start|done ...`. Pure functions; errors name what to type instead."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from app.reviews.action_items import ActionItemFields
from app.reviews.errors import ActionItemUsage, MeetingUsage
from app.reviews.models import Priority
from app.reviews.service import ReviewAnswers
from app.slack.toolkit.mentions import MENTION

OPTION = re.compile(r"(?<!\S)(owner|priority|due):\s*(<@[^>]*>|\S+)", re.IGNORECASE)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_ACTION = 500


@dataclass(frozen=True)
class OpenReview:
    pass


@dataclass(frozen=True)
class SubmitReview:
    answers: ReviewAnswers
    seen: datetime | None = None  # when the answers the form showed were given (None: the first review)


@dataclass(frozen=True)
class ListActionItems:
    pass


@dataclass(frozen=True)
class AddActionItem:
    fields: ActionItemFields


@dataclass(frozen=True)
class EditActionItem:
    number: int
    fields: ActionItemFields


@dataclass(frozen=True)
class StartActionItem:
    number: int


@dataclass(frozen=True)
class CompleteActionItem:
    number: int


@dataclass(frozen=True)
class OpenMeetingForm:
    pass


@dataclass(frozen=True)
class ScheduleMeeting:
    """The post-mortem meeting at this date and time of day, in the time zone of whoever chose it."""

    day: date
    at: time
    timezone: str | None = None  # a form's timepicker may say; otherwise the person's Slack time zone


MeetingCommand = OpenMeetingForm | ScheduleMeeting
MEETING_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})\s+(\d{1,2}:\d{2})")


def parse_meeting(rest: str) -> MeetingCommand:
    """`/incident meeting` (a form) or `/incident meeting 2026-12-03 15:00`."""
    if not rest.strip():
        return OpenMeetingForm()
    found = MEETING_TIME.fullmatch(rest.strip())
    try:
        if not found:
            raise ValueError(rest)
        return ScheduleMeeting(date.fromisoformat(found.group(1)), time.fromisoformat(found.group(2).zfill(5)))
    except ValueError:
        raise MeetingUsage(subcommand="meeting", problem="bad_time", given=rest.strip()) from None


ActionItemCommand = ListActionItems | AddActionItem | EditActionItem | StartActionItem | CompleteActionItem


def parse_action(rest: str) -> ActionItemCommand:
    verb, _, tail = rest.partition(" ")
    tail = tail.strip()
    match verb.lower():
        case "add":
            fields = parse_fields(tail)
            if not fields.text:
                raise ActionItemUsage(subcommand="action", problem="missing_text")
            return AddActionItem(fields)
        case "edit":
            number, _, changes = tail.partition(" ")
            fields = parse_fields(changes)
            if fields == ActionItemFields():
                raise ActionItemUsage(subcommand="action", problem="nothing_to_change")
            return EditActionItem(parse_number(number), fields)
        case "start":
            return StartActionItem(parse_number(tail))
        case "done":
            return CompleteActionItem(parse_number(tail))
        case "list" if not tail:
            return ListActionItems()
        case _:
            raise ActionItemUsage(subcommand="action", problem="bad_verb", given=verb)


def parse_number(text: str) -> int:
    number = text.strip().removeprefix("#")
    if not number.isdigit() or int(number) < 1:
        raise ActionItemUsage(subcommand="action", problem="bad_number", given=text.strip())
    return int(number)


def parse_fields(text: str) -> ActionItemFields:
    """`<text> owner:@x priority:P1 due:2026-12-01`, options anywhere and each optional."""
    options = {name.lower(): value for name, value in OPTION.findall(text)}
    words = " ".join(OPTION.sub(" ", text).split())
    if len(words) > MAX_ACTION:
        raise ActionItemUsage(subcommand="action", problem="too_long", limit=MAX_ACTION)
    return ActionItemFields(
        text=words or None,
        owner=_owner(options["owner"]) if "owner" in options else None,
        priority=_priority(options["priority"]) if "priority" in options else None,
        due_on=_due(options["due"]) if "due" in options else None,
    )


def _owner(value: str) -> str:
    match = MENTION.fullmatch(value)
    if not match:
        raise ActionItemUsage(subcommand="action", problem="bad_owner", given=value)
    return match.group(1)


def _priority(value: str) -> Priority:
    if value.upper() not in Priority.__members__:
        raise ActionItemUsage(subcommand="action", problem="bad_priority", given=value)
    return Priority(value.upper())


def _due(value: str) -> date:
    try:
        if not ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ActionItemUsage(subcommand="action", problem="bad_date", given=value) from None
