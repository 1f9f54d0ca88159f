"""A piece of work the clock owes an incident."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, str_enum


class WorkKind(enum.StrEnum):
    UPDATE_REMINDER = "update_reminder"
    ACK_DEADLINE = "ack_deadline"
    ESCALATION = "escalation"
    PAGE = "page"
    PAGE_RESOLVE = "page_resolve"
    COMPLIANCE_DEADLINE = "compliance"
    REVIEW_DUE = "review_due"
    ACTION_ITEM_DUE = "action_due"


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
    done_by: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
