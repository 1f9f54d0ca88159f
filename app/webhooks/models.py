"""Deliveries already taken, shared by every replica."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class WebhookDelivery(Base):
    """One row per (sender, delivery id) taken; the primary key is the unique constraint the INSERT that takes
    a delivery runs under, so the database decides which copy acts. Forgotten (by a Ledger, hourly) once older
    than the sender's `remembered_for` (playbooks/alerts.yml, playbooks/trackers.yml)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_received_at", "received_at"),)

    source: Mapped[str] = mapped_column(String(20), primary_key=True)  # sentry, pagerduty, github, jira
    delivery_id: Mapped[str] = mapped_column(String(160), primary_key=True)  # "request:<id>", "body:<sha256>", ...
    received_at: Mapped[datetime]
