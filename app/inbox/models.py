"""What came in from Slack: a delivery already taken (its id, and when, so old ones can be forgotten), and
declarations received but perhaps not yet stored as incidents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class ReceivedEvent(Base):
    __tablename__ = "received_events"
    __table_args__ = (Index("ix_received_events_received_at", "received_at"),)

    # The primary key is the unique constraint the claim inserts under: the database picks one winner.
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime]


class ReceivedDeclaration(Base):
    """A `/incident declare` as typed, written as soon as the bot has answered "Declaring…" (the incident is
    stored after a burst of requests has been answered): a crash meanwhile loses no declaration. Settled once,
    in the transaction that stores its incident (or when the declarer is offered the look-alike instead, or
    told it cannot be declared); one left unsettled by a crash is declared by the next sweep
    (app/slack/declaring/unsettled.py)."""

    __tablename__ = "received_declarations"
    __table_args__ = (
        Index("ix_received_declarations_unsettled", "received_at", postgresql_where=text("settled_at IS NULL"),
              sqlite_where=text("settled_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime]
    declared_by: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)  # what followed /incident, without control characters
    response_url: Mapped[str | None] = mapped_column(Text)  # where the declarer is answered later
    settled_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))  # declared, looks_alike, refused
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
