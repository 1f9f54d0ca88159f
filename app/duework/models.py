"""A piece of work the clock owes an incident."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, str_enum


class WorkKind(enum.StrEnum):
    UPDATE_REMINDER = "update_reminder"
    ACK_DEADLINE = "ack_deadline"  # response time up: keyed "" for the roles' pages, or by a service for its page
    ESCALATION = "escalation"
    PAGE = "page"
    PAGE_RESOLVE = "page_resolve"
    COMPLIANCE_DEADLINE = "compliance"
    REVIEW_DUE = "review_due"
    ACTION_ITEM_DUE = "action_due"
    SETUP = "setup"  # the incident's channel, kickoff, announcement...: a declaration always completes
    STATUSPAGE_PUBLISH = "statuspage"  # an approved status-page update, published to Statuspage.io
    ROLE_DUTIES = "role_duties"  # a new role holder invited to the channel and sent the role's duties
    ARCHIVE = "archive"  # a resolved incident's channel: the notice the day before, then the archiving
    BOOKMARK = "bookmark"  # a bookmark in the incident channel (the published review)
    TRACKER_FILE = "tracker_file"  # an action item, filed in Jira or GitHub Issues (keyed by item number)
    TRACKER_CLOSE = "tracker_close"  # an item done in Slack, closed in the tracker (keyed by item number)
    TRACKER_UPDATE = "tracker_update"  # an item edited in Slack, its issue edited to match (keyed by item number)
    TRACKER_SYNC = "tracker_sync"  # recurring while the incident has open filed items: closed there, done here
    MEETING_REMINDER = "meeting_reminder"  # the post-mortem meeting's attendees, reminded (keyed by the offset)
    STATUSPAGE_COMPONENTS = "components"  # resolved: its services' Statuspage.io components operational again
    SERVICE_OWNERS = "service_owners"  # a service named after setup: its owning team invited (keyed by service)
    SERVICE_PAGE = "service_page"  # a service named: its on-call paged, once per incident (keyed by service)
    PAGES_SHOWN = "pages_shown"  # a page sent, or acknowledged in PagerDuty: the kickoff redrawn to show it


class DueWork(Base):
    __tablename__ = "due_work"
    __table_args__ = (
        # What a sweep reads: pending rows by due time. Grows with pending work, not with history.
        Index("ix_due_work_pending", "due_at", postgresql_where=text("done_at IS NULL"),
              sqlite_where=text("done_at IS NULL")),
        # At most one pending row per incident, kind and key: re-planning moves it, never duplicates it.
        Index("ux_due_work_pending_key", "incident_id", "kind", "key", unique=True,
              postgresql_where=text("done_at IS NULL"), sqlite_where=text("done_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[WorkKind] = mapped_column(
        str_enum(WorkKind))
    key: Mapped[str] = mapped_column(String(40), default="")
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    done_by: Mapped[str | None] = mapped_column(String(64))  # the worker that did it (recurring: last did it)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The lease: a worker that claimed the row holds it until then; a worker that died gives it back by
    # letting the lease run out. Cleared when the attempt's outcome is written.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    # An earlier attempt was claimed and never settled: it may have reached Slack without being recorded.
    unsure: Mapped[bool] = mapped_column(default=False)
    # What earlier attempts already did, step by step ({"post reminder": {"ts": ...}}), so a retry
    # repeats only the part that failed; and each failure, so it is reported once.
    steps: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_error: Mapped[str | None] = mapped_column(Text)
    # What the work needs beyond the incident (who to tell when a declaration's channel is ready, ...).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    @property
    def is_recurring(self) -> bool:
        """Work that comes round again while the incident is open."""
        return self.kind in (WorkKind.UPDATE_REMINDER, WorkKind.TRACKER_SYNC)

    @property
    def never_gives_up(self) -> bool:
        """Work that is retried until it is done (or the incident resolved), however long Slack fails."""
        return self.kind in (WorkKind.UPDATE_REMINDER, WorkKind.SETUP, WorkKind.TRACKER_FILE, WorkKind.TRACKER_CLOSE,
                             WorkKind.TRACKER_UPDATE, WorkKind.TRACKER_SYNC,  # a tracker outage never loses an item
                             WorkKind.SERVICE_OWNERS,  # waits for the channel
                             WorkKind.PAGES_SHOWN)  # waits for the kickoff
