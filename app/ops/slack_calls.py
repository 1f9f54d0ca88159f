"""What the bot's Slack calls have been doing: counted for /metrics, the last failure kept for /ready."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter

# A failure that means no call will work until someone acts: the token is dead or Slack cannot be reached.
BLOCKING = frozenset({"invalid_auth", "account_inactive", "token_revoked", "not_authed", "unreachable"})


@dataclass(frozen=True)
class SlackFailure:
    method: str
    error: str  # Slack's error code, or "unreachable" when no answer came
    at: datetime
    monotonic: float

    @property
    def blocking(self) -> bool:
        return self.error in BLOCKING


class SlackCalls:
    """The observer PacedWebClient reports each call to (app/slack/toolkit/pacing.py)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter("slack_api_calls", "Slack Web API calls, by method", ["method"], registry=registry)
        self.errors = Counter("slack_api_errors", "Slack Web API calls that failed, by method and error",
                              ["method", "error"], registry=registry)
        self.ratelimited = Counter("slack_api_ratelimited", "429 answers from Slack, by method", ["method"],
                                   registry=registry)
        self.last_failure: SlackFailure | None = None
        self.last_success: float | None = None  # time.monotonic()

    def called(self, method: str) -> None:
        self.calls.labels(method).inc()

    def succeeded(self, method: str) -> None:
        self.last_success = time.monotonic()

    def failed(self, method: str, error: str) -> None:
        self.errors.labels(method, error).inc()
        self.last_failure = SlackFailure(method, error, datetime.now(UTC), time.monotonic())

    def was_ratelimited(self, method: str) -> None:
        self.ratelimited.labels(method).inc()

    def failing(self) -> SlackFailure | None:
        """The last failure, if it blocks everything and no call has succeeded since."""
        failure = self.last_failure
        if failure is None or not failure.blocking:
            return None
        if self.last_success is not None and self.last_success > failure.monotonic:
            return None
        return failure
