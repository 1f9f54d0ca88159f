"""From playbooks/status_page.yml and the environment to the hosted status page approved updates are also
published to (or none: then only the bot's own /status): the status-page selector."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import httpx

from app.comms.status_page import StatusPageRules
from app.integrations.environment import optional, secret
from app.statuspage.config import StatuspageIoSettings
from app.statuspage.hosted import HostedStatusPage
from app.statuspage.statuspage_io import StatuspageIo


def connect(rules: StatusPageRules, path: Path, http: httpx.AsyncClient,
            environ: Mapping[str, str]) -> HostedStatusPage | None:
    """Statuspage.io when the file has a `statuspage_io:` section (the variables it names must be set), or, with
    none, when either of its default variables is set (both must be: STATUSPAGE_PAGE_ID and STATUSPAGE_API_KEY,
    as deployments set them before the section existed)."""
    settings = rules.statuspage_io
    if settings is None:
        settings = StatuspageIoSettings()
        if optional(settings.page_id_env, environ) is None and optional(settings.api_key_env, environ) is None:
            return None
    return StatuspageIo(http, api_key=secret(path, "statuspage_io.api_key_env", settings.api_key_env, environ),
                        page_id=secret(path, "statuspage_io.page_id_env", settings.page_id_env, environ),
                        api_url=settings.api_url)
