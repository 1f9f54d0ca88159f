"""One request to an integration's API, its failure told the one way (IntegrationUnavailable)."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from app.integrations.errors import IntegrationUnavailable

log = logging.getLogger(__name__)


async def call(http: httpx.AsyncClient, method: str, url: str, what: str = "", **kwargs: Any) -> httpx.Response:
    """The answer to one request; an outage, throttling or refusal is IntegrationUnavailable saying which (after
    `what`, when given). Only a connection never made is sure not to have taken effect. The refusal is logged by
    method, host and status only: a vendor's answer may echo what was sent (an incident's title), and logs hold no
    bodies."""
    said = f"{what}: " if what else ""
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        raise IntegrationUnavailable(f"{said}{type(error).__name__}",
                                     unsure=not isinstance(error, httpx.ConnectError)) from error
    if not response.is_success:
        log.warning("%s %s answered HTTP %s", method, response.request.url.host, response.status_code)
        throttled = response.status_code == 429 or (
            response.status_code == 403 and response.headers.get("x-ratelimit-remaining") == "0")
        raise IntegrationUnavailable(f"{said}HTTP {response.status_code}",
                                     transient=throttled or response.status_code >= 500)
    return response
