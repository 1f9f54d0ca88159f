"""Where the app gets the time from.

Everything inside is timezone-aware UTC. The clock is passed in, so tests, benchmarks and
rehearsals can move time forward without sleeping: `ManualClock` is the one they move by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """Time that moves only when told to (`advance`): the tests' clock, and the benchmarks' that replay hours
    of reminders in seconds."""

    def __init__(self, now: datetime) -> None:
        self._now = utc(now)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        """Move on by `timedelta(**delta)` (minutes=5, say) and return the new now."""
        self._now += timedelta(**delta)
        return self._now


def utc(moment: datetime) -> datetime:
    """The same instant as an aware UTC datetime (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
