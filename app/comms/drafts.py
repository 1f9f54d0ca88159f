"""Which of the plan's communication templates fits an incident now, and the facts it is filled with."""

from __future__ import annotations

import re

from app.comms.models import Audience, Phase
from app.incidents.models import Incident, Status
from app.incidents.service import StatusUpdate

# StatusUpdate.summary(): findings, then " | Action: ..." and " | ETA: ..." when given.
_SUMMARY = re.compile(r"(?P<findings>.*?)(?: \| Action: (?P<action>.*?))?(?: \| ETA: (?P<eta>.*))?", re.DOTALL)
_STATUS_PAGE_PHASES = {
    Status.INVESTIGATING: Phase.INVESTIGATING,
    Status.IDENTIFIED: Phase.IDENTIFIED,
    Status.MONITORING: Phase.MONITORING,
    Status.RESOLVED: Phase.RESOLVED,
}


def phase_for(incident: Incident, audience: Audience) -> Phase:
    """Internal: start, update once one was posted, resolution. E-mail: notification, then resolution.
    Status page: the incident's status."""
    if audience is Audience.STATUSPAGE:
        return _STATUS_PAGE_PHASES[incident.status]
    if incident.is_resolved:
        return Phase.RESOLUTION
    if audience is Audience.EMAIL:
        return Phase.NOTIFICATION
    return Phase.UPDATE if incident.latest_update else Phase.START


def template_for(audience: Audience, phase: Phase) -> str:
    return f"comms/{audience.value}_{phase.value}.j2"


def latest_update(incident: Incident) -> StatusUpdate | None:
    """The last status update, read back from the one-line summary the incident keeps of it."""
    if not incident.latest_update:
        return None
    parts = _SUMMARY.fullmatch(incident.latest_update)
    assert parts is not None  # every part of the pattern is optional or matches anything
    status = incident.status if incident.status is not Status.RESOLVED else Status.MONITORING
    return StatusUpdate(status, parts["findings"], parts["action"] or None, parts["eta"] or None)
