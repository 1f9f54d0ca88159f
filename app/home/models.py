"""Someone who opened the Home tab, and when they last did."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class HomeViewer(Base):
    __tablename__ = "home_viewers"
    __table_args__ = (Index("ix_home_viewers_opened_at", "opened_at"),)

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    opened_at: Mapped[datetime]
