"""One alert, whatever sent it: where from, what identifies it across repeats, and its fields."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field

LINK = re.compile(r"https?://[^\s<>|\x00-\x1f\x7f]+", re.IGNORECASE)
MAX_LINK = 2000


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
    url: str | None = None  # where the sender shows it (http or https only: see link())
    severity: str | None = None  # the sender's own word for how bad: Sentry's level, Alertmanager's severity
    # label, PagerDuty's urgency

    @property
    def is_resolved(self) -> bool:
        return self.status is AlertStatus.RESOLVED


def link(value: str | None) -> str | None:
    """A sender's URL, if it is one a message may link to: http(s), no spaces, nothing that ends a Slack link."""
    if not value or len(value) > MAX_LINK or not LINK.fullmatch(value):
        return None
    return value
