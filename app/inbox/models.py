"""A delivery already taken: its id, and when, so old ones can be forgotten."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class ReceivedEvent(Base):
    __tablename__ = "received_events"
    __table_args__ = (Index("ix_received_events_received_at", "received_at"),)

    # The primary key is the unique constraint the claim inserts under: the database picks one winner.
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime]
