"""Paging people. One interface, two ways: Slack (the default) and PagerDuty's Events API v2."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
PAGERDUTY_SEVERITY = {"P0": "critical", "P1": "error", "P2": "warning", "P3": "info"}


@dataclass(frozen=True)
class Page:
    incident_id: int
    severity: str
    title: str
    summary: str
    reason: str
    people: tuple[str, ...]
    channel_id: str | None


class Pager(Protocol):
    async def trigger(self, page: Page) -> str:
        """Page the people; returns what to write on the timeline."""
        ...

    async def resolve(self, incident_id: int, title: str) -> str | None:
        """Tell the paging system the incident is over (if it keeps state)."""
        ...


class PagerDutyError(Exception):
    pass


class PagerDutyPager:
    """Events API v2: one alert per incident (dedup key), resolved when the incident is."""

    def __init__(self, http: httpx.AsyncClient, routing_key: str, *, url: str = PAGERDUTY_EVENTS_URL,
                 source: str = "incident-coordinator") -> None:
        self.http = http
        self.routing_key = routing_key
        self.url = url
        self.source = source

    @staticmethod
    def dedup_key(incident_id: int) -> str:
        return f"incident-{incident_id}"

    async def trigger(self, page: Page) -> str:
        await self._send({
            "routing_key": self.routing_key,
            "event_action": "trigger",
            "dedup_key": self.dedup_key(page.incident_id),
            "payload": {
                "summary": f"[{page.severity}] {page.title}"[:1024],
                "source": self.source,
                "severity": PAGERDUTY_SEVERITY.get(page.severity, "error"),
                "custom_details": {"reason": page.reason, "summary": page.summary, "people": list(page.people),
                                   "slack_channel": page.channel_id},
            },
        })
        return f"PagerDuty alert {self.dedup_key(page.incident_id)} triggered ({page.reason})"

    async def resolve(self, incident_id: int, title: str) -> str | None:
        await self._send({"routing_key": self.routing_key, "event_action": "resolve",
                          "dedup_key": self.dedup_key(incident_id)})
        return f"PagerDuty alert {self.dedup_key(incident_id)} resolved"

    async def _send(self, event: dict[str, object]) -> None:
        response = await self.http.post(self.url, json=event, timeout=10)
        if response.status_code >= 400:
            raise PagerDutyError(f"PagerDuty answered {response.status_code}: {response.text[:200]}")
