"""A drafted communication (internal message, customer e-mail, status-page update) and its approval."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, str_enum

MAX_SUBJECT = 250


class Audience(enum.StrEnum):
    """Who a communication is for: the plan has one set of templates for each."""

    INTERNAL = "internal"
    EMAIL = "email"
    STATUSPAGE = "statuspage"


class Phase(enum.StrEnum):
    """Which of the audience's templates fits where the incident is."""

    START = "start"  # internal
    UPDATE = "update"  # internal
    RESOLUTION = "resolution"  # internal and e-mail
    NOTIFICATION = "notification"  # e-mail
    INVESTIGATING = "investigating"  # status page, by incident status
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class DraftStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class CommsDraft(Base):
    __tablename__ = "comms_drafts"
    __table_args__ = (Index("ix_comms_drafts_incident", "incident_id", "channel", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    audience: Mapped[Audience] = mapped_column("channel", str_enum(Audience))  # internal, email or statuspage
    phase: Mapped[Phase] = mapped_column(str_enum(Phase))
    subject: Mapped[str | None] = mapped_column(String(MAX_SUBJECT))  # e-mails only
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DraftStatus] = mapped_column(str_enum(DraftStatus), default=DraftStatus.DRAFT)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    approved_by: Mapped[str | None] = mapped_column(String(32))
    approved_at: Mapped[datetime | None]
    edited_by: Mapped[str | None] = mapped_column(String(32))
    edited_at: Mapped[datetime | None]
    message_ts: Mapped[str | None] = mapped_column(String(32))  # the draft as posted in the incident channel
    # Set on each status-page update published to Statuspage.io: the id of the incident there.
    statuspage_incident_id: Mapped[str | None] = mapped_column(String(64))

    @property
    def is_approved(self) -> bool:
        return self.status is DraftStatus.APPROVED

    @property
    def version(self) -> str:
        """Which words the draft holds, as its Approve button carries them: its last edit's time ("" as
        drafted). Each edit moves it on (service.edit_draft), so a version names exactly one text."""
        return self.edited_at.isoformat() if self.edited_at else ""
