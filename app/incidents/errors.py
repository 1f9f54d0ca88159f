"""What can go wrong when people act on incidents; each maps to a clear private answer."""

from __future__ import annotations


class IncidentError(Exception):
    """Something a person asked for cannot be done; `template` names the message that explains it."""

    template = "errors/generic.j2"

    def __init__(self, **details: object) -> None:
        super().__init__(details)
        self.details = details


class UsageError(IncidentError):
    """The command was typed wrongly; `subcommand` says which usage to show."""

    template = "errors/usage.j2"


class NotAnIncidentChannel(IncidentError):
    template = "errors/not_incident_channel.j2"


class NoSuchIncident(IncidentError):
    template = "errors/no_such_incident.j2"


class IncidentResolved(IncidentError):
    template = "errors/already_resolved.j2"


class UnknownUser(IncidentError):
    template = "errors/unknown_user.j2"


class NoChange(IncidentError):
    template = "errors/no_change.j2"


class AlreadyDone(IncidentError):
    """Someone else made this change first (two presses at once, or a button on an old message):
    `what` says which change, `by` and `at` who made it and when."""

    template = "errors/already_done.j2"


class NotPaged(IncidentError):
    """Acknowledging is the person paged saying they have it: `pages` are those still waiting."""

    template = "errors/not_paged.j2"
