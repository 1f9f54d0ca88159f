"""POST /alerts/<source>: the senders' webhooks.

Verify first, fail closed: a request that does not prove its sender is answered 401 before its body is
read, and a verifier that raises is a refusal too. Then, from a genuine sender: not JSON 415 (every sender
here sends application/json), not readable or not the sender's payload 400, dated outside the window 401
(a replay). A delivery already taken is answered 200 and does nothing: every sender stops retrying on a
2xx, and PagerDuty retries anything else. A sender is retried by its tool on a 5xx, so only a failure to
store is one. Every refusal is one bounded log line (app/ops/refusals.py), never the body.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from app.alerts.receiver import AlertReceiver, Fate
from app.alerts.sources import BadPayload, Source
from app.ops.refusals import refuse
from app.webhooks.deliveries import BadDelivery, NotFresh, NotJson, is_json, json_body

ALERTS_ROUTE = "/alerts/{source}"


def _authentic(source: Source | None, request: web.Request, body: bytes) -> bool:
    if source is None:
        return False  # an unconfigured source looks the same as a wrong secret: nothing to learn by probing
    try:
        return source.authentic(request.headers, body)
    except Exception:  # noqa: BLE001 - a verifier that raises has verified nothing: a refusal, not a 500
        return False


def add_alert_routes(app: web.Application, receiver: AlertReceiver, sources: Mapping[str, Source]) -> None:
    async def receive(request: web.Request) -> web.Response:
        source = sources.get(request.match_info["source"])
        body = await request.read()
        if source is None or not _authentic(source, request, body):
            return refuse(request, "not signed or authorised as configured", body_length=len(body))
        if not is_json(request.content_type):
            return refuse(request, "not application/json", status=415, body_length=len(body))
        try:
            payload = json_body(body)
            delivery = source.delivery(payload, request.headers, body)
            if delivery is not None:
                delivery.check_fresh(receiver.rules.deliveries, receiver.clock.now())
            alerts = source.alerts(payload, request.headers)
        except NotJson:
            return refuse(request, f"{source.name}: not JSON", status=400, body_length=len(body))
        except (BadPayload, BadDelivery) as error:
            return refuse(request, f"{source.name}: {error}", status=400, body_length=len(body))
        except NotFresh:
            return refuse(request, f"{source.name}: dated outside the delivery window", body_length=len(body))
        received = await receiver.receive(alerts, delivery)
        answer: dict[str, object] = {
            fate.value: sorted({r.incident_id for r in received if r.fate is fate and r.incident_id is not None})
            for fate in (Fate.DECLARED, Fate.ADDED)
        } | {"ignored": sum(1 for r in received if r.fate is Fate.IGNORED)}
        if any(r.fate is Fate.ALREADY_RECEIVED for r in received):
            answer["already_received"] = True
        return web.json_response(answer)

    app.router.add_post(ALERTS_ROUTE, receive)
