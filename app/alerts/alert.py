"""One alert, whatever sent it: where from, what identifies it across repeats, and its fields."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class AlertStatus(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"
    ACKNOWLEDGED = "acknowledged"  # PagerDuty: someone acknowledged a page this bot sent (fingerprint: its dedup key)


@dataclass(frozen=True)
class Alert:
    source: str  # sentry, alertmanager, pagerduty
    fingerprint: str  # the same problem sends the same one: Alertmanager's groupKey, Sentry's issue id, ...
    status: AlertStatus
    summary: str  # one line, for the timeline and a default title
    fields: dict[str, str] = field(default_factory=dict)  # labels and fields the routing rules match on
    url: str | None = None  # where the sender shows it

    @property
    def is_resolved(self) -> bool:
        return self.status is AlertStatus.RESOLVED

    def describe(self) -> str:
        """How the alert reads on the timeline."""
        text = f"{self.source} alert {self.status.value}: {self.summary}"
        return f"{text} ({self.url})" if self.url else text
