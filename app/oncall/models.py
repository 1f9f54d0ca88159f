"""A page sent is a record: who was paged, on which pager, by which key, and who acknowledged it.

Acknowledgement, the backup's page and resolving the pager's alerts read these rows, never today's
playbooks/oncall.yml: a routing change during an incident must not leave an alert open in PagerDuty.
The routing key itself is a secret and is never stored, only the name of the variable that holds it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

BACKUP_ROLE = "backup"  # what the backup on-call's pages ask for
SERVICE_SCHEDULE = ""  # the recipient of a PagerDuty page naming nobody: the service's own schedule finds them


class PageRecord(Base):
    """One row per recipient of one page of an incident. Written by the due work that pages, in a transaction
    of its own just before the DM or the PagerDuty alert goes out (a crash in between leaves a record to resolve
    and to wait for, never a page nobody knows of), under a unique key, so a page tried again is recorded once."""

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("incident_id", "page_key", "recipient", name="uq_pages_recipient"),
                      Index("ix_pages_dedup_key", "dedup_key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    page_key: Mapped[str] = mapped_column(String(60))  # roles-P1, tech-P0, backup, service-api, backup-api
    roles: Mapped[str] = mapped_column(String(80))  # the roles it asked for: "ic,tech"; "" for a service's on-call
    # The catalog's service (playbooks/services.yml key) whose on-call this page is for; None: a page for roles.
    for_service: Mapped[str | None] = mapped_column(String(40))
    via: Mapped[str] = mapped_column(String(16))  # slack | pagerduty
    recipient: Mapped[str] = mapped_column(String(80))  # the Slack user paged, or SERVICE_SCHEDULE
    service: Mapped[str | None] = mapped_column(String(80))  # the PagerDuty service's name, as people know it
    routing_key_name: Mapped[str | None] = mapped_column(String(64))  # PAGERDUTY_KEY_TECH: the name, never the key
    dedup_key: Mapped[str | None] = mapped_column(String(80))  # what PagerDuty knows the alert by
    sent_at: Mapped[datetime]
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_how: Mapped[str | None] = mapped_column(String(40))  # page button, kickoff button, PagerDuty
    resolved_at: Mapped[datetime | None]

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def is_backup(self) -> bool:
        """The backup on-call's page, sent because another went unanswered."""
        return self.roles == BACKUP_ROLE

    @property
    def who(self) -> str:
        """Who the page was for, in a sentence: the person, or the service's schedule."""
        return self.recipient or f"the {self.service or 'PagerDuty'} schedule"
