"""A request refused at a trust boundary: answered with a 4xx and logged in one bounded line.

The line names the method, the route's pattern (not the path that was asked for), a reason chosen by the
code that refused (never text from the request) and the body's length. Never the body, its headers, its
query or its credentials: a refused request is by definition one nobody vouched for, and logging what it
carries lets anyone write into the log, or read a leaked signature out of it.
"""

from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger("app.refused")
# Set on a refused request: its line here stands for its access-log line too (one line per refusal).
REFUSED = web.RequestKey("app_refused", bool)

MAX_REASON = 80
ANSWERS = {
    400: "bad request",
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    409: "already received",
    413: "too large",
    415: "unsupported media type",
}


def route_of(request: web.Request) -> str:
    """The pattern of the route that matched (`/alerts/{source}`), or "?" when none did."""
    info = request.match_info
    resource = info.route.resource if info.route is not None else None
    return resource.canonical if resource is not None else "?"


def refuse(request: web.Request, reason: str, *, status: int = 401, body_length: int | None = None,
           json: bool = True) -> web.Response:
    """Log one line about a refused request and answer it with `status` (a 4xx).

    `reason` is the refusing code's own words ("bad signature", "stale timestamp"): it is cut to
    MAX_REASON characters and must never carry a value taken from the request.
    """
    if not 400 <= status < 500:
        raise ValueError(f"a refusal is a 4xx, not {status}")
    length = body_length if body_length is not None else (request.content_length or 0)
    log.warning("Refused %s %s: %s (%d, body %d bytes)", request.method[:16], route_of(request),
                reason[:MAX_REASON], status, length)
    request[REFUSED] = True
    answer = ANSWERS.get(status, "refused")
    if json:
        return web.json_response({"error": answer}, status=status)
    return web.Response(status=status, text=answer)
