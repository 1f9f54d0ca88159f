"""What can go wrong with reviews and action items; each maps to a clear private answer."""

from __future__ import annotations

from app.incidents.errors import IncidentError, UsageError


class ReviewNotYet(IncidentError):
    """The review comes after the incident is resolved."""

    template = "errors/review_not_yet.j2"


class NoSuchActionItem(IncidentError):
    template = "errors/no_such_action_item.j2"


class ActionItemAlreadyDone(IncidentError):
    template = "errors/action_item_already_done.j2"


class ActionItemUsage(UsageError):
    """An action item was typed wrongly (bad owner, priority or date); `problem` says which."""

    template = "errors/action_usage.j2"


class MeetingUsage(UsageError):
    """The post-mortem meeting's time was typed wrongly or has passed; `problem` says which."""

    template = "errors/meeting_usage.j2"
