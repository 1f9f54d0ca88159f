"""POST /trackers/<name>: the tracker's webhook. Unsigned (or for a tracker not configured): 401, nothing
read. A finished issue marks its action item done through the `Finisher` (the Slack side shows it)."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from app.trackers.webhooks import BadPayload, Webhook

log = logging.getLogger(__name__)
TRACKERS_ROUTE = "/trackers/{name}"

Finisher = Callable[[str, str], Awaitable[bool]]  # (tracker, key) -> an item was marked done


def add_tracker_routes(app: web.Application, webhook: Webhook | None, finish: Finisher) -> None:
    async def receive(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        if webhook is None or webhook.name != name or not webhook.authentic(request.headers, body):
            log.warning("Tracker webhook to /trackers/%s refused: not signed as configured", name)
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            keys = webhook.finished(json.loads(body), request.headers)
        except (ValueError, BadPayload) as error:
            return web.json_response({"error": f"not a {name} payload: {error}"}, status=400)
        done = [key for key in keys if await finish(name, key)]
        return web.json_response({"done": done})

    app.router.add_post(TRACKERS_ROUTE, receive)
