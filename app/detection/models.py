"""What the database remembers about each health check: shared by every replica, so a streak of
failures is counted once and its incident is declared once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class HealthCheckState(Base):
    """One row per configured check (by name), created the first time it is probed."""

    __tablename__ = "health_checks"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    last_probed_at: Mapped[datetime | None]  # also the lease that stops replicas probing twice an interval
    last_status: Mapped[str | None] = mapped_column(String(200))  # "200", "503", "timed out after 5s", ...
    open_incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))


class FailedProbe(Base):
    """A failed probe of the current streak, kept until an incident is declared (then it goes on the
    incident's timeline) or the check passes again (then it is forgotten)."""

    __tablename__ = "health_check_failures"
    __table_args__ = (Index("ix_health_check_failures_check", "check_name", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    check_name: Mapped[str] = mapped_column(ForeignKey("health_checks.name", ondelete="CASCADE"))
    at: Mapped[datetime]
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(200))
    excerpt: Mapped[str] = mapped_column(Text, default="")
