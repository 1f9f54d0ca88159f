"""How the clock tries again work that failed (playbooks/retries.yml)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, model_validator

from app.policy_files import PositiveDuration, StrictModel


class Retries(StrictModel):
    """playbooks/retries.yml. Recurring work (update reminders) and a declaration's setup never give up."""

    attempts: int = Field(8, ge=1, strict=True)  # tries of one-off work before it is reported as failed
    first_backoff: PositiveDuration = timedelta(seconds=30)  # the wait after the first failure, doubled each time
    longest_backoff: PositiveDuration = timedelta(minutes=15)  # never longer than this

    @model_validator(mode="after")
    def _longest_last(self) -> Retries:
        if self.longest_backoff < self.first_backoff:
            raise ValueError("longest_backoff must not be shorter than first_backoff")
        return self

    def backoff(self, attempts: int, cap: timedelta | None) -> timedelta:
        """first_backoff, twice that, ... after the attempts so far, never longer than longest_backoff or cap."""
        delay = min(self.first_backoff * 2 ** min(max(attempts - 1, 0), 32), self.longest_backoff)
        return min(delay, cap) if cap else delay
