"""A sample review and action items, so every review template is checked at start-up."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from app.incidents.models import Incident, TimelineEvent
from app.reviews.document import review_document
from app.reviews.followup import Followup
from app.reviews.invite import Invitee
from app.reviews.models import ActionItem, ActionStatus, PostIncidentReview, PostmortemMeeting, Priority
from app.reviews.service import review_due_at


def review_samples(incident: Incident, followup: Followup) -> dict[str, Any]:
    assert incident.resolved_at is not None
    review = PostIncidentReview(
        id=1, incident_id=incident.id, users_affected="100% of API users", failed_requests="~2,700 (estimated)",
        revenue_impact="$500 (estimated)", went_well="Monitoring detected the issue immediately\nIC responded fast",
        could_improve="Load testing should have caught this", lessons_learned="Monitor all resource pools",
        answered_by="U0SAMPLE1", answered_at=incident.resolved_at)
    items = [
        ActionItem(id=1, incident_id=incident.id, number=1, text="Increase connection pool to 50", owner="U0SAMPLE2",
                   priority=Priority.P0, due_on=None, status=ActionStatus.DONE, created_by="U0SAMPLE1",
                   created_at=incident.resolved_at, done_by="U0SAMPLE2", done_at=incident.resolved_at),
        ActionItem(id=2, incident_id=incident.id, number=2, text="Implement connection pool monitoring",
                   owner="U0SAMPLE2", priority=Priority.P1, due_on=date(2025, 10, 27),
                   status=ActionStatus.IN_PROGRESS, created_by="U0SAMPLE1", created_at=incident.resolved_at,
                   tracker="jira", tracker_key="OPS-12", tracker_url="https://example.atlassian.net/browse/OPS-12"),
        ActionItem(id=3, incident_id=incident.id, number=3, text="Add load test | high connection usage", owner=None,
                   priority=None, due_on=None, status=ActionStatus.OPEN, created_by="U0SAMPLE1",
                   created_at=incident.resolved_at),
    ]
    events = [TimelineEvent(id=1, incident_id=incident.id, at=incident.started_at, actor="U0SAMPLE1",
                            kind="declared", text="Declared P0: Complete API Outage (ic=U0SAMPLE1)"),
              TimelineEvent(id=2, incident_id=incident.id, at=incident.resolved_at, actor="U0SAMPLE1",
                            kind="resolved", text="Resolved. Root cause: pool exhaustion. Resolution: bigger pool")]
    meeting = PostmortemMeeting(id=1, incident_id=incident.id, starts_at=incident.resolved_at + timedelta(days=1),
                                ends_at=incident.resolved_at + timedelta(days=1, hours=1),
                                attendees=["U0SAMPLE1", "U0SAMPLE2"], scheduled_by="U0SAMPLE1",
                                scheduled_at=incident.resolved_at, sequence=0)
    return {
        "meeting": meeting,
        "names": {"U0SAMPLE1": Invitee("Alice Adams", "alice@example.com"), "U0SAMPLE2": Invitee("Bob Brown", None)},
        "doc": review_document(incident, review, events, items, names={"U0SAMPLE1": "Alice Adams"}, by="U0SAMPLE1",
                               now=incident.resolved_at + timedelta(hours=20), meeting=meeting),
        "review": review,
        "review_due_at": review_due_at(incident, followup.review),
        "review_overdue": False,
        "review_url": f"https://incidents.example.com/incidents/{incident.id}/review.md?expires=1767225600&sig=ab12",
        "public_url_set": True,
        "action_items": items,
        "action_item": items[1],
        "change": "added",
        "tracker": "Jira",
        "reminder_at": incident.resolved_at + timedelta(days=2),
    }
