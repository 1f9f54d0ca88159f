"""How an integration's failure is told: one error for every tracker, status page and pager, read by the clock
(app/duework/attempt.py) to decide whether to try again later."""

from __future__ import annotations


class IntegrationUnavailable(Exception):
    """The service did not do what was asked; the message says why, for the timeline."""

    def __init__(self, message: str, *, transient: bool = True, unsure: bool = False) -> None:
        super().__init__(message)
        self.transient = transient  # down, throttling or unreachable: try again later
        self.unsure = unsure  # the connection broke after the request left: it may have taken effect
