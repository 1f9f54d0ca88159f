"""Paging people. One interface (`Pager`), two ways: Slack (the default) and PagerDuty's Events API v2; which
pages whom is chosen by app/oncall/connect.py. PagerDuty failing raises IntegrationUnavailable (app/integrations)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Protocol

import httpx

from app.duework.attempt import Attempt
from app.integrations.http import call
from app.oncall.models import SERVICE_SCHEDULE
from app.oncall.pages import Sent

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
PAGERDUTY_SEVERITY = {"P0": "critical", "P1": "error", "P2": "warning", "P3": "info"}
DEDUP_KEY = re.compile(r"^incident-\d+(-[a-z0-9_-]+)?$")  # a service key (services.yml) may hold "_"
DEFAULT = "roles"  # the page of the roles that have no pager of their own


def is_our_dedup_key(key: str) -> bool:
    """A PagerDuty incident this bot opened by paging (its webhook is not news about a new problem)."""
    return bool(DEDUP_KEY.match(key))


@dataclass(frozen=True)
class Page:
    incident_id: int
    severity: str
    title: str
    summary: str
    reason: str
    people: tuple[str, ...]
    channel_id: str | None
    key: str = "roles"  # which page of the incident: each one that must reach someone new is its own alert
    channel_link: str | None = None  # where the incident is handled, for the pager's alert to link back to
    roles: tuple[str, ...] = ()  # the roles this page asks for


# Writes a page down before it goes out (app/oncall/pages.py): a crash between the two leaves a record to resolve.
RecordPage = Callable[[Sent], Awaitable[None]]


class Pager(Protocol):
    @property
    def reaches_service(self) -> bool:
        """A pager that reaches a service with its own schedule (PagerDuty) pages it even when nobody is named
        here."""
        ...

    @property
    def routing_key_name(self) -> str | None:
        """The variable holding its key, recorded with each page (never the key)."""
        ...

    async def trigger(self, page: Page, attempt: Attempt, record: RecordPage) -> str:
        """Page the people, as steps of the due work that pages: first `record` what the page will reach, then
        send it. Returns what to write on the timeline."""
        ...

    async def resolve(self, incident_id: int, title: str, attempt: Attempt,
                      dedup_keys: tuple[str, ...]) -> str | None:
        """Tell the paging system the incident is over (if it keeps state): the pages recorded as sent."""
        ...


class PagerDutyPager:
    """Events API v2: one alert per page of an incident (its own dedup key, so PagerDuty notifies anew
    rather than folding it into the open alert), each linking to the incident's channel; all resolved
    when the incident is."""

    reaches_service = True

    def __init__(self, http: httpx.AsyncClient, routing_key: str, *, url: str = PAGERDUTY_EVENTS_URL,
                 source: str = "incident-coordinator", service: str | None = None,
                 routing_key_name: str | None = None) -> None:
        self.http = http
        self.routing_key = routing_key
        self.routing_key_name = routing_key_name
        self.url = url
        self.source = source
        self.service = service  # its name as people know it (playbooks/oncall.yml), for the timeline

    @staticmethod
    def dedup_key(incident_id: int, key: str) -> str:
        return f"incident-{incident_id}-{key.lower()}"

    async def trigger(self, page: Page, attempt: Attempt, record: RecordPage) -> str:
        dedup_key = self.dedup_key(page.incident_id, page.key)
        await record(Sent(page_key=page.key, roles=page.roles, via="pagerduty",
                          recipients=page.people or (SERVICE_SCHEDULE,), service=self.service,
                          routing_key_name=self.routing_key_name, dedup_key=dedup_key))
        links = [{"href": page.channel_link, "text": "Incident channel in Slack"}] if page.channel_link else []
        await attempt.once(f"pagerduty trigger {dedup_key}", lambda: self._send({
            "routing_key": self.routing_key,
            "event_action": "trigger",
            "dedup_key": dedup_key,
            "links": links,
            "payload": {
                "summary": f"[{page.severity}] {page.title}"[:1024],
                "source": self.source,
                "severity": PAGERDUTY_SEVERITY.get(page.severity, "error"),
                "custom_details": {"reason": page.reason, "summary": page.summary, "people": list(page.people),
                                   "roles": list(page.roles), "slack_channel": page.channel_id},
            },
        }))
        service = f" on {self.service}" if self.service else ""
        if any(failure.step == f"pagerduty trigger {dedup_key}" for failure in attempt.failures):
            return f"PagerDuty alert {dedup_key}{service} not triggered ({page.reason})"
        return f"PagerDuty alert {dedup_key}{service} triggered ({page.reason})"

    async def resolve(self, incident_id: int, title: str, attempt: Attempt,
                      dedup_keys: tuple[str, ...]) -> str | None:
        for dedup_key in dedup_keys:
            await attempt.once(f"pagerduty resolve {dedup_key}", partial(self._send, {
                "routing_key": self.routing_key, "event_action": "resolve", "dedup_key": dedup_key}))
        return f"PagerDuty alerts {', '.join(dedup_keys)}{f' on {self.service}' if self.service else ''} resolved"

    async def _send(self, event: dict[str, object]) -> bool:
        await call(self.http, "POST", self.url, json=event, timeout=10)
        return True


class Pagers:
    """Which pager pages each role: its own (playbooks/oncall.yml `paging`, the plan's Appendix A) or the default."""

    def __init__(self, default: Pager, own: Mapping[str, Pager] | None = None,
                 by_key_name: Callable[[str], Pager | None] | None = None) -> None:
        self.default = default
        self.own = dict(own or {})
        # A page is resolved with the key it was sent with, found by the name recorded with it, even after
        # playbooks/oncall.yml stopped routing any role through it.
        self._by_key_name = by_key_name

    def for_key_name(self, name: str | None) -> Pager | None:
        """The pager holding the routing key by this name (None: a Slack page), or None if none does now."""
        for pager in (self.default, *self.own.values()):
            if pager.routing_key_name == name:
                return pager
        return self._by_key_name(name) if name and self._by_key_name else None

    def route(self, role: str) -> tuple[str, Pager]:
        """The page a role goes out on (its own, named after it, or the shared default one) and its pager."""
        if role in self.own:
            return role, self.own[role]
        return DEFAULT, self.default
