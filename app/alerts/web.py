"""POST /alerts/<source>: the senders' webhooks. A request that does not prove its sender is answered
401 before anything is read or stored; a sender is retried by its tool on a 5xx, so a failure to store
is one."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from aiohttp import web

from app.alerts.receiver import AlertReceiver, Fate
from app.alerts.sources import BadPayload, Source

log = logging.getLogger(__name__)
ALERTS_ROUTE = "/alerts/{source}"


def add_alert_routes(app: web.Application, receiver: AlertReceiver, sources: Mapping[str, Source]) -> None:
    async def receive(request: web.Request) -> web.Response:
        name = request.match_info["source"]
        source = sources.get(name)
        body = await request.read()
        if source is None or not source.authentic(request.headers, body):
            # An unconfigured source looks the same as a wrong secret: nothing to learn by probing.
            log.warning("Alert to /alerts/%s refused: not signed or authorised as configured", name)
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            alerts = source.alerts(json.loads(body), request.headers)
        except (ValueError, BadPayload) as error:
            log.warning("Alert to /alerts/%s refused: %s", name, error)
            return web.json_response({"error": f"not a {name} payload: {error}"}, status=400)
        received = await receiver.receive(alerts)
        return web.json_response({
            fate.value: sorted({r.incident_id for r in received if r.fate is fate and r.incident_id is not None})
            for fate in (Fate.DECLARED, Fate.ADDED)
        } | {"ignored": sum(1 for r in received if r.fate is Fate.IGNORED)})

    app.router.add_post(ALERTS_ROUTE, receive)
