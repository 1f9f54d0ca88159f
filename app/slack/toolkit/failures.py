"""How a failed step of due work failed in Slack or on the way: worth another try later (transient), and whether
it may have taken effect anyway (unsure). The clock (app/duework/attempt.py) retries and recovers by this answer;
an integration's failure (IntegrationUnavailable) it reads itself."""

from __future__ import annotations

import asyncio

import aiohttp
import httpx
from slack_sdk.errors import SlackApiError, SlackClientError

from app.duework.attempt import Problem

# Slack answers these when the trouble is on its side or momentary: worth another try later.
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                              "request_timeout", "team_added_to_org"})


def classify(error: BaseException) -> Problem | None:
    """How a failed step failed; None for errors that are bugs, not outages."""
    if isinstance(error, SlackApiError):
        status = error.response.status_code
        code = str(error.response.get("error") or status)
        return Problem(code, transient=status == 429 or status >= 500 or code in TRANSIENT_ERRORS,
                       unsure=status >= 500)
    if isinstance(error, (SlackClientError, aiohttp.ClientError, httpx.HTTPError, OSError, asyncio.TimeoutError)):
        # The request may have reached Slack (or an integration) before the connection broke.
        return Problem(type(error).__name__, transient=True, unsure=True)
    return None
