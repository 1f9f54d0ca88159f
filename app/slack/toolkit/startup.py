"""Before serving: is the bot token good and is Slack there? One auth.test says both. Over Socket Mode, is the
app token good? One apps.connections.open says so (slack-sdk's own connect loop would retry a refused app token
forever, a traceback at a time).

A network that is still coming up (a container started before its sidecar) gets a few tries, quietly (DEBUG):
the outcome is the one line that matters. A token Slack refuses gets none, since asking again will not change
the answer.
"""

from __future__ import annotations

import asyncio
import logging
import os

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)
TRIES = 3
PAUSE = 1.5  # seconds between tries
TIMEOUT = 10  # seconds for each try
REFUSED_TOKEN = {
    "invalid_auth": "Slack does not recognise it",
    "not_authed": "Slack received no token",
    "account_inactive": "the app was uninstalled or its workspace deactivated",
    "token_revoked": "it was revoked",
    "token_expired": "it expired",
}


class SlackUnusable(Exception):
    """Slack refused the bot token or could not be reached; the message says which and what to do."""


async def check_slack(token: str, api_url: str, *, tries: int = TRIES, pause: float = PAUSE) -> str:
    """The bot's user id, from auth.test; SlackUnusable when the token is refused or Slack cannot be reached."""
    # No retry handlers of slack-sdk's own: the tries here are the only ones, and say nothing at INFO.
    client = AsyncWebClient(token=token, base_url=api_url, timeout=TIMEOUT, retry_handlers=[])
    problem = ""
    for attempt in range(1, tries + 1):
        try:
            identity = await client.auth_test()
            log.info("Slack knows this bot as %s in %s", identity.get("user"), identity.get("team"))
            return str(identity.get("user_id"))
        except SlackApiError as error:
            code = str(error.response.get("error") or "")
            if code in REFUSED_TOKEN:
                raise SlackUnusable(f"SLACK_BOT_TOKEN is invalid: Slack answered {code} "
                                    f"({REFUSED_TOKEN[code]}); reinstall the app and copy the new Bot User "
                                    "OAuth Token") from None
            problem = f"Slack answered {code or f'HTTP {error.response.status_code}'}"
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            problem = _unreachable(error)
        if attempt < tries:
            log.debug("Slack is not answering yet (%s); trying again in %g s", problem, pause)
            await asyncio.sleep(pause)
    raise SlackUnusable(f"Slack is unreachable at {api_url}: {problem} ({tries} tries); check the network, "
                        "the proxy settings and SLACK_API_URL")


APP_TOKEN_REFUSED = {
    **REFUSED_TOKEN,
    "not_allowed_token_type": "it is not an app-level token",
    "missing_scope": "it lacks the connections:write scope",
}


async def check_app_token(token: str, api_url: str) -> None:
    """SlackUnusable unless Slack lets this app-level token open a Socket Mode connection (apps.connections.open,
    scope connections:write). Asked once, after check_slack found Slack reachable: the URL it gives expires unused."""
    client = AsyncWebClient(base_url=api_url, timeout=TIMEOUT, retry_handlers=[])
    try:
        await client.apps_connections_open(app_token=token)
    except SlackApiError as error:
        code = str(error.response.get("error") or f"HTTP {error.response.status_code}")
        why = f" ({APP_TOKEN_REFUSED[code]})" if code in APP_TOKEN_REFUSED else ""
        raise SlackUnusable(f"SLACK_APP_TOKEN is invalid: Slack answered {code}{why}; copy the App-Level Token "
                            "with the connections:write scope from Basic Information → App-Level Tokens") from None
    except (TimeoutError, aiohttp.ClientError, OSError) as error:
        raise SlackUnusable(f"Slack is unreachable at {api_url}: {_unreachable(error)}; check the network, "
                            "the proxy settings and SLACK_API_URL") from None


def _unreachable(error: BaseException) -> str:
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return "its name does not resolve (DNS)"
    if isinstance(error, aiohttp.ClientConnectorError):
        errno = error.os_error.errno
        # asyncio words a refusal "Connect call failed (host, port)"; the errno says what it was.
        reason = os.strerror(errno) if errno and errno > 0 else str(error.os_error)
        return f"cannot connect ({reason.lower()})"
    if isinstance(error, asyncio.TimeoutError):
        return f"no answer within {TIMEOUT} s"
    return " ".join(str(error).split()) or type(error).__name__
