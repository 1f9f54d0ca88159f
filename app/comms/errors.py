"""Why a communication cannot be drafted, edited or approved; each maps to a private answer."""

from __future__ import annotations

from app.incidents.errors import IncidentError


class NotAnApprover(IncidentError):
    """Only the Communications Lead or the Incident Commander may approve."""

    template = "errors/comms_not_approver.j2"


class PrivateIncidentOffStatusPage(IncidentError):
    """A private incident never reaches the status page, not even as a draft."""

    template = "errors/comms_private_incident.j2"


class DraftAlreadyApproved(IncidentError):
    template = "errors/comms_already_approved.j2"


class NotAnEditor(IncidentError):
    """Only the Communications Lead or the Incident Commander may change a draft's words, as only they approve."""

    template = "errors/comms_not_editor.j2"


class DraftChanged(IncidentError):
    """The draft was edited after the approver saw it: approving publishes only the words they were shown."""

    template = "comms/draft_changed.j2"
