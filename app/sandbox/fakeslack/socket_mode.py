"""apps.connections.open: the one Web API method that takes the app-level token, not the bot token.

As Slack answers it: the app token (`xapp-`, scope `connections:write`) as a Bearer header; no token
`not_authed`, a bot or user token `not_allowed_token_type`, any other token `invalid_auth`, the app
uninstalled `account_inactive`. The fake serves no WebSocket: the URL it gives cannot be connected to,
so a client that gets it keeps trying to connect, as it does when Slack's socket is out of reach.
"""

from __future__ import annotations

from typing import Any

METHOD = "apps.connections.open"
SCOPE = "connections:write"


def open_connection(*, app_token: str, token: str | None, revoked: bool, base_url: str,
                    ) -> tuple[int, dict[str, Any], dict[str, str]]:
    if not token:
        return 200, {"ok": False, "error": "not_authed"}, {}
    if token.startswith(("xoxb-", "xoxp-")):
        return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
    if token != app_token:
        return 200, {"ok": False, "error": "invalid_auth"}, {}
    if revoked:
        return 200, {"ok": False, "error": "account_inactive"}, {}
    host = base_url.removeprefix("http://").removeprefix("https://")
    return 200, {"ok": True, "url": f"ws://{host}/socket-mode-is-not-served"}, {}
