"""POST /alerts/<source>: the senders' webhooks.

Verify first, fail closed (app/webhooks/signed.py): a request that does not prove its sender is answered
401 before its body is parsed, and a verifier that raises is a refusal too. Then, from a genuine sender:
not JSON 415 (every sender here sends application/json), not readable or not the sender's payload 400,
dated outside the window 401 (a replay). A delivery already taken is answered 200 and does nothing: every
sender stops retrying on a 2xx, and PagerDuty retries anything else. A sender is retried by its tool on a
5xx, so only a failure to store is one. Every refusal is one bounded log line (app/ops/refusals.py), never
the body.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from app.alerts.receiver import AlertReceiver, Fate
from app.alerts.sources import BadPayload, Source
from app.ops.refusals import refuse
from app.webhooks.deliveries import BadDelivery, NotFresh
from app.webhooks.signed import signed_json

ALERTS_PREFIX = "/alerts/"
ALERTS_ROUTE = ALERTS_PREFIX + "{source}"


def add_alert_routes(app: web.Application, receiver: AlertReceiver, sources: Mapping[str, Source]) -> None:
    async def receive(request: web.Request) -> web.Response:
        signed = await signed_json(request, sources.get(request.match_info["source"]))
        if isinstance(signed, web.Response):
            return signed
        source = signed.sender
        try:
            delivery = source.delivery(signed.payload, request.headers, signed.body)
            if delivery is not None:
                delivery.check_fresh(receiver.rules.deliveries, receiver.clock.now())
            alerts = source.alerts(signed.payload, request.headers)
        except (BadPayload, BadDelivery) as error:
            return refuse(request, f"{source.name}: {error}", status=400, body_length=len(signed.body))
        except NotFresh:
            return refuse(request, f"{source.name}: dated outside the delivery window", body_length=len(signed.body))
        received = await receiver.receive(alerts, delivery)
        answer: dict[str, object] = {
            fate.value: sorted({r.incident_id for r in received if r.fate is fate and r.incident_id is not None})
            for fate in (Fate.DECLARED, Fate.ADDED)
        } | {"ignored": sum(1 for r in received if r.fate is Fate.IGNORED)}
        if any(r.fate is Fate.ALREADY_RECEIVED for r in received):
            answer["already_received"] = True
        return web.json_response(answer)

    app.router.add_post(ALERTS_ROUTE, receive)
