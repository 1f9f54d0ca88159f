"""An outage is said once: when it starts, once a minute while it lasts, and when it ends.

A database or Slack that goes away makes every sweep, every heartbeat and every piece of due work fail
the same way, every few seconds, on every replica. Logging each failure (with its traceback) buries the
one fact an operator needs. Here each thing that can fail (`what`: "the database", "due work page") is
one line when it first fails (what, where, why: no traceback), at most one summary line a minute while
it keeps failing, and one line when it works again, saying how long it was gone. Time is the app's
clock, so a test moves it instead of waiting a minute.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from app.clock import Clock, SystemClock

log = logging.getLogger(__name__)
SUMMARY_EVERY = 60.0  # seconds between two "still failing" lines about the same thing


@dataclass
class _Down:
    since: datetime
    said_at: datetime
    failures: int = 1  # since the last line said about it
    total: int = 1


class Outages:
    """What is failing now, per process."""

    def __init__(self, clock: Clock | None = None, *, summary_every: float = SUMMARY_EVERY) -> None:
        self.summary_every = summary_every
        self.clock = clock or SystemClock()
        self._down: dict[str, _Down] = {}

    def is_down(self, what: str) -> bool:
        return what in self._down

    def failed(self, what: str, where: str, why: str) -> bool:
        """`what` failed (at `where`, because `why`); True if this is the first failure, which was logged."""
        now = self.clock.now()
        down = self._down.get(what)
        if down is None:
            self._down[what] = _Down(since=now, said_at=now)
            log.warning("%s is failing (%s): %s", _capital(what), where, why)
            return True
        down.failures += 1
        down.total += 1
        if (now - down.said_at).total_seconds() >= self.summary_every:
            log.warning("%s still failing after %.0f s (%s): %s; %s failure(s) in the last %.0f s",
                        _capital(what), (now - down.since).total_seconds(), where, why, down.failures,
                        (now - down.said_at).total_seconds())
            down.said_at, down.failures = now, 0
        return False

    def recovered(self, what: str) -> float | None:
        """`what` works again: one line if it had failed, saying for how long. Returns that, or None."""
        down = self._down.pop(what, None)
        if down is None:
            return None
        gone = (self.clock.now() - down.since).total_seconds()
        log.warning("%s is back after %.1f s (%s failure(s) meanwhile)", _capital(what), gone, down.total)
        return gone


def _capital(what: str) -> str:
    return what[:1].upper() + what[1:]
