"""What the bot asks of a status page hosted elsewhere (Statuspage.io): publish an approved update, and set the
affected components. One that fails raises IntegrationUnavailable (app/integrations)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class HostedStatusPage(Protocol):
    label: str  # "Statuspage.io", as people read it on the timeline

    async def publish(self, incident_id: str | None, *, name: str, status: str, body: str,
                      components: Mapping[str, str] | None = None) -> str:
        """Create the incident there with its first update (`incident_id` None), or update it; returns its id
        there. `components` ({component id: its state}) are the components it affects."""
        ...

    async def set_components(self, incident_id: str, components: Mapping[str, str]) -> str:
        """Set the incident's components (resolved: operational again) and nothing else of it."""
        ...
