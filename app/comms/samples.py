"""Sample communications for checking the comms and status-page templates at start-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.comms.models import Audience, CommsDraft, DraftStatus, Phase
from app.comms.status_page import PublicStatus, PublishedUpdate
from app.incidents.models import Incident


def sample_comms(incident: Incident) -> dict[str, Any]:
    drafted = incident.started_at + timedelta(minutes=5)
    draft = CommsDraft(
        id=7, incident_id=incident.id, audience=Audience.EMAIL, phase=Phase.NOTIFICATION,
        subject="Service Disruption - AgentGuard API: Complete API Outage",
        body="Dear AgentGuard Customer,\n\nWe are currently experiencing a service disruption.",
        status=DraftStatus.APPROVED, created_by="U0SAMPLE1", created_at=drafted, approved_by="U0SAMPLE1",
        approved_at=drafted + timedelta(minutes=2), edited_by="U0SAMPLE2", edited_at=drafted + timedelta(minutes=1),
        message_ts="1.3", statuspage_incident_id=None,
    )
    update = PublishedUpdate(incident.id, incident.title, incident.severity.value, Phase.IDENTIFIED,
                             incident.started_at, "We have identified the issue.", drafted)
    resolved = PublishedUpdate(41, "Search is slow", "P2", Phase.RESOLVED, incident.started_at - timedelta(hours=3),
                               "The incident has been resolved.", incident.started_at - timedelta(hours=1))
    return {"draft": draft, "status_page": PublicStatus([update], [resolved], generated_at=drafted)}
