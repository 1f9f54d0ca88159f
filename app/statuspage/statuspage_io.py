"""Publishing approved status-page updates to Statuspage.io over its REST API (v1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from app.integrations.errors import IntegrationUnavailable
from app.integrations.http import call
from app.statuspage.config import DEFAULT_API_URL


class StatuspageIo:
    label = "Statuspage.io"

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
        incidents = f"{self.api_url}/pages/{self.page_id}/incidents"
        method, url = ("POST", incidents) if incident_id is None else ("PATCH", f"{incidents}/{incident_id}")
        response = await call(self.http, method, url, json={"incident": incident}, headers=self.headers)
        try:
            return str(response.json()["id"])
        except (ValueError, KeyError, TypeError) as error:
            raise IntegrationUnavailable("unexpected answer (no incident id)", transient=False) from error
