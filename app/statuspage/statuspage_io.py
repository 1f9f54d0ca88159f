"""Publishing approved status-page updates to Statuspage.io over its REST API (v1)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx

log = logging.getLogger(__name__)
DEFAULT_API_URL = "https://api.statuspage.io/v1"


class StatuspageUnavailable(Exception):
    """Statuspage.io did not take the update; the message says why, for the timeline."""

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient  # down, throttling or unreachable: try again later


class StatuspageIo:
    def __init__(self, http: httpx.AsyncClient, *, api_key: str, page_id: str,
                 api_url: str = DEFAULT_API_URL) -> None:
        self.http = http
        self.page_id = page_id
        self.api_url = api_url.rstrip("/")
        self.headers = {"Authorization": f"OAuth {api_key}"}

    async def publish(self, incident_id: str | None, *, name: str, status: str, body: str,
                      components: Mapping[str, str] | None = None) -> str:
        """Create the incident on the page with its first update, then update it; returns its id there.
        `components` ({component id: its status}) are the affected components: the API takes them as
        `components` (the status each is set to: operational, degraded_performance, partial_outage,
        major_outage...) and `component_ids` (the components the incident names)."""
        incident: dict[str, Any] = {"name": name, "status": status, "body": body}
        if components:
            incident.update(components=dict(components), component_ids=list(components))
        return await self._send(incident_id, incident)

    async def set_components(self, incident_id: str, components: Mapping[str, str]) -> str:
        """Set the incident's components (resolved: operational again) and nothing else of it."""
        return await self._send(incident_id, {"components": dict(components), "component_ids": list(components)})

    async def _send(self, incident_id: str | None, incident: dict[str, Any]) -> str:
        fields = {"incident": incident}
        incidents = f"{self.api_url}/pages/{self.page_id}/incidents"
        try:
            if incident_id is None:
                response = await self.http.post(incidents, json=fields, headers=self.headers)
            else:
                response = await self.http.patch(f"{incidents}/{incident_id}", json=fields, headers=self.headers)
        except httpx.HTTPError as error:
            raise StatuspageUnavailable(f"{type(error).__name__}: {error}") from error
        if not response.is_success:
            log.warning("Statuspage.io answered %s: %s", response.status_code, response.text[:500])
            raise StatuspageUnavailable(f"HTTP {response.status_code}",
                                        transient=response.status_code == 429 or response.status_code >= 500)
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError, TypeError) as error:
            raise StatuspageUnavailable("unexpected answer (no incident id)", transient=False) from error


def configured(api_key: str | None, page_id: str | None, api_url: str, http: httpx.AsyncClient) -> StatuspageIo | None:
    """Statuspage.io when both its API key and page id are set; otherwise only the bot's own page."""
    if not api_key or not page_id:
        return None
    return StatuspageIo(http, api_key=api_key, page_id=page_id, api_url=api_url)
