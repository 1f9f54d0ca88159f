"""The post-incident review people fill in, and the action items that come out of an incident."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, str_enum


class Priority(enum.StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"



class PostIncidentReview(Base):
    """What the team answered in the review form, and the document generated from it."""

    __tablename__ = "post_incident_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), unique=True)
    users_affected: Mapped[str] = mapped_column(Text, default="")
    failed_requests: Mapped[str] = mapped_column(Text, default="")
    revenue_impact: Mapped[str | None] = mapped_column(Text)
    went_well: Mapped[str] = mapped_column(Text, default="")
    could_improve: Mapped[str] = mapped_column(Text, default="")
    lessons_learned: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[str] = mapped_column(String(32))
    answered_at: Mapped[datetime]
    document: Mapped[str | None] = mapped_column(Text)  # the Markdown, as published
    filename: Mapped[str | None] = mapped_column(String(120))
    published_by: Mapped[str | None] = mapped_column(String(32))
    published_at: Mapped[datetime | None]

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class ActionItem(Base):
    """Something to do so the incident does not happen again; numbered 1, 2, 3... within its incident."""

    __tablename__ = "action_items"
    __table_args__ = (UniqueConstraint("incident_id", "number"),
                      Index("ix_action_items_tracker_key", "tracker", "tracker_key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[Priority | None] = mapped_column(str_enum(Priority))
    due_on: Mapped[date | None]
    status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    done_by: Mapped[str | None] = mapped_column(String(32))
    done_at: Mapped[datetime | None]
    # Where the item is tracked outside Slack (playbooks/trackers.yml), once it is filed there.
    tracker: Mapped[str | None] = mapped_column(String(20))  # "jira" or "github"
    tracker_key: Mapped[str | None] = mapped_column(String(120))  # OPS-12, acme/incidents#42
    tracker_url: Mapped[str | None] = mapped_column(Text)

    @property
    def is_done(self) -> bool:
        return self.status is ActionStatus.DONE


class PostmortemMeeting(Base):
    """The plan's post-mortem meeting (Phase 4.1): when, and who was invited. One per incident; moved, not
    duplicated, when rescheduled (`sequence` counts the changes, as the .ics invite does)."""

    __tablename__ = "postmortem_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), unique=True)
    starts_at: Mapped[datetime]  # UTC
    ends_at: Mapped[datetime]
    attendees: Mapped[list[Any]] = mapped_column(JSON, default=list)  # Slack user ids
    scheduled_by: Mapped[str] = mapped_column(String(32))
    scheduled_at: Mapped[datetime]
    sequence: Mapped[int] = mapped_column(default=0)
