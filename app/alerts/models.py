"""Which open incident an alert's fingerprint belongs to, shared by every replica."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class AlertClaim(Base):
    """One row per (source, fingerprint) with an open incident; the primary key is the unique constraint
    that lets only one replica's declaration commit. Once the incident is resolved, the next alert with
    that fingerprint removes the row and declares anew."""

    __tablename__ = "alert_claims"
    __table_args__ = (Index("ix_alert_claims_incident", "incident_id"),)

    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(300), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    claimed_at: Mapped[datetime]


class AlertGroup(Base):
    """The incident a group of alerts joins: one row per (grouping rule, the values of its `group_by` fields),
    and one for the storm (rule STORM, key ""). The primary key lets one replica's declaration of a group
    commit; a row whose incident is resolved, or whose last alert is older than the window, is replaced by
    the next declaration. `opened_at` is when its incident was declared; `last_at` its latest alert."""

    __tablename__ = "alert_groups"
    __table_args__ = (Index("ix_alert_groups_incident", "incident_id"),)

    rule: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    opened_at: Mapped[datetime]
    last_at: Mapped[datetime]
