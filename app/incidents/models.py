"""An incident, the people holding its roles, and the timeline of what happened."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, str_enum
from app.oncall.models import PageRecord


class Severity(enum.StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"


class Status(enum.StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class Role(enum.StrEnum):
    IC = "ic"
    TECH = "tech"
    COMMS = "comms"
    SECURITY = "security"



class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_open", "resolved_at", "started_at"),
                      Index("ix_incidents_alert_started", "alert_source", "started_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity))
    status: Mapped[Status] = mapped_column(str_enum(Status))
    impact: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str | None] = mapped_column(String(40))  # the playbook's key: outage, data-breach, ...
    is_private: Mapped[bool] = mapped_column(default=False)
    declared_by: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    last_update_at: Mapped[datetime]
    latest_update: Mapped[str | None] = mapped_column(Text)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    reopened_by: Mapped[str | None] = mapped_column(String(32))  # the last to reopen it, if anyone did
    root_cause: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)

    channel_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    channel_name: Mapped[str | None] = mapped_column(String(80), unique=True)  # decided before Slack is asked
    kickoff_ts: Mapped[str | None] = mapped_column(String(32))
    announcement_channel_id: Mapped[str | None] = mapped_column(String(32))
    announcement_ts: Mapped[str | None] = mapped_column(String(32))
    reminder_ts: Mapped[str | None] = mapped_column(String(32))
    checklist_ts: Mapped[str | None] = mapped_column(String(32))
    # Declared from an alert: its sender, its link there, and the sender's own severity or urgency (the kickoff's).
    alert_source: Mapped[str | None] = mapped_column(String(20))
    alert_link: Mapped[str | None] = mapped_column(Text)
    alert_severity: Mapped[str | None] = mapped_column(String(60))

    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="incident", lazy="selectin", cascade="all, delete-orphan"
    )
    # The services it affects (playbooks/services.yml), by key, in the order they were named.
    services: Mapped[list[AffectedService]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="(AffectedService.named_at, AffectedService.service)"
    )
    # Each page sent for it (app/oncall/models.py): the kickoff shows who acknowledged which, and when.
    pages: Mapped[list[PageRecord]] = relationship(lazy="selectin", viewonly=True,
                                                   order_by="(PageRecord.sent_at, PageRecord.id)")
    events: Mapped[list[TimelineEvent]] = relationship(
        back_populates="incident",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="(TimelineEvent.at, TimelineEvent.id)",
    )

    @property
    def is_resolved(self) -> bool:
        return self.status is Status.RESOLVED

    def holder(self, role: Role) -> str | None:
        return next((r.user_id for r in self.roles if r.role is role), None)

    @property
    def is_acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    @property
    def commander(self) -> str | None:
        return self.holder(Role.IC)

    def role_holders(self) -> dict[Role, str]:
        return {r.role: r.user_id for r in self.roles}

    @property
    def service_keys(self) -> list[str]:
        return [s.service for s in self.services]


class AffectedService(Base):
    """A service of the catalog an incident affects. The key is stored as text, not a reference: a service
    removed from playbooks/services.yml stays named on the incidents that named it."""

    __tablename__ = "incident_services"
    __table_args__ = (Index("ix_incident_services_service", "service"),)

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    service: Mapped[str] = mapped_column(String(40), primary_key=True)
    named_at: Mapped[datetime]
    named_by: Mapped[str | None] = mapped_column(String(32))  # the bot, for an alert or a health check


class RoleAssignment(Base):
    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("incident_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    user_id: Mapped[str] = mapped_column(String(32))
    assigned_at: Mapped[datetime]

    incident: Mapped[Incident] = relationship(back_populates="roles")


class TimelineEvent(Base):
    """One line of the incident's timeline: who did what, when (UTC)."""

    __tablename__ = "timeline_events"
    __table_args__ = (Index("ix_timeline_incident_at", "incident_id", "at"),
                      # A message from the channel is on the timeline once, however many people pin it.
                      UniqueConstraint("incident_id", "source_ts", name="uq_timeline_source"))

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text, default="")
    source_ts: Mapped[str | None] = mapped_column(String(32))  # the channel message this line was taken from
    link: Mapped[str | None] = mapped_column(Text)  # that message's permalink

    incident: Mapped[Incident] = relationship(back_populates="events")


class ChecklistItem(Base):
    """One step of the incident's playbook that someone can tick off."""

    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("incident_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    position: Mapped[int]
    section: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(32))

    @property
    def is_done(self) -> bool:
        return self.done_at is not None
